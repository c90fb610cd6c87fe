//! Reading the document from a multipart body exactly as `POST /v1/ocr` does:
//! the `file` part, at most the limit, or a 400/413 problem.
//! Input: the boundary on the first line (the rest is the body).
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use libfuzzer_sys::fuzz_target;

const MAX: usize = 4096;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (boundary, body) = data.split_at(split);
    let body = body.get(1..).unwrap_or_default().to_vec();
    let Ok(boundary) = std::str::from_utf8(boundary) else {
        return;
    };
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let Ok(request) = Request::builder()
        .method("POST")
        .uri("/v1/ocr")
        .header("content-type", content_type)
        .body(Body::from(body))
    else {
        return;
    };
    if let Ok(upload) = runtime().block_on(folio_ocr::upload::read_document(request, MAX)) {
        assert!(
            upload.bytes.len() <= MAX,
            "{} bytes passed a {MAX}-byte limit",
            upload.bytes.len()
        );
    }
});
