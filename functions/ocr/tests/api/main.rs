//! Integration tests of the `ocr` function: the real router (with the shared
//! middleware) driven in-process, against the real Postgres and Redis, with
//! documents made by the tests themselves and checked by character error rate
//! against their known text.

mod binary;
mod by_url;
mod cache;
mod captures;
mod documents;
mod fanout;
mod hostile;
mod jobs;
mod peer;
mod searchable;
mod sizing;
mod webhooks;

use axum::body::Body;
use folio_testing::samples;
use folio_testing::{TestApp, TestResponse};
use shared::config::Function;

pub async fn app(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn(Function::Ocr, extra, folio_ocr::router).await
}

/// `POST /v1/ocr?{query}` with `bytes` as the raw body.
pub async fn post_raw(
    app: &TestApp,
    query: &str,
    token: Option<&str>,
    bytes: Vec<u8>,
    content_type: &str,
) -> TestResponse {
    let mut request =
        http::Request::post(format!("/v1/ocr?{query}")).header("content-type", content_type);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.call(request.body(Body::from(bytes)).expect("request"))
        .await
}

/// `POST /v1/ocr?{query}` as `multipart/form-data` with the given parts.
pub async fn post_multipart(
    app: &TestApp,
    query: &str,
    token: &str,
    parts: &[(&str, &[u8])],
) -> TestResponse {
    const BOUNDARY: &str = "folio-test-boundary-7d1c";
    let mut body = Vec::new();
    for (name, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let request = http::Request::post(format!("/v1/ocr?{query}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body))
        .expect("request");
    app.call(request).await
}

/// An image of `text` as a scanner at 300 dpi would see it.
pub fn scan_of(text: &str) -> image::GrayImage {
    samples::render_text(text, 300, samples::fitted_height(text)).expect("render")
}

/// Asserts a 200 answer and returns the page texts.
#[track_caller]
pub fn page_texts(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, 200, "body: {}", response.json);
    response.json["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["text"].as_str().expect("text").to_owned())
        .collect()
}

/// The character error rate of `found` against `known`, asserted below `max`.
#[track_caller]
pub fn assert_cer_below(known: &str, found: &str, max: f64) {
    let rate = shared::ocr::cer::cer(known, found);
    assert!(
        rate < max,
        "CER {:.2}% ≥ {:.2}%\n--- known\n{known}\n--- found\n{found}",
        rate * 100.0,
        max * 100.0
    );
}
