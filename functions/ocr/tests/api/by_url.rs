//! Documents by URL: `POST /v1/ocr` with `{"url": ...}` fetches the document
//! under the SSRF guard and sends it down the upload's path. A document past
//! the upload limit (and Lambda's 6 MB payload) is recognised as a job; every
//! private-address trick is refused with a problem that names no address;
//! fetch failures are 4xx/502/504 problems.

use std::sync::Arc;
use std::time::Duration;

use folio_testing::samples::{self, PageKind};
use serde_json::json;
use shared::jobs::{Registry, Shutdown, Worker};
use shared::ocr::job::{KIND, OcrJob};
use shared::ocr::service::OcrService;

use super::peer;
use super::*;

const MIB: usize = 1024 * 1024;

pub async fn tick(app: &TestApp) -> shared::jobs::TickSummary {
    let state = &app.state;
    let registry = Registry::new()
        .register(
            KIND,
            Arc::new(OcrJob::new(OcrService::new(state), Duration::from_secs(40))),
        )
        .register(
            shared::webhooks::KIND,
            Arc::new(shared::webhooks::WebhookJob::new(&state.config.fetch)),
        );
    let worker = Worker::new(state, registry);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    worker.tick(deadline, &Shutdown::new()).await.expect("tick")
}

async fn post_url(app: &TestApp, token: &str, body: serde_json::Value) -> TestResponse {
    app.post_json("/v1/ocr", Some(token), &body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_30_mb_pdf_by_url_is_recognised_as_a_job_past_the_upload_limit() {
    let text = samples::paragraph(51);
    let small = samples::pdf(&[
        (text.clone(), PageKind::Scanned { dpi: 150 }),
        (samples::paragraph(52), PageKind::Text),
    ])
    .expect("pdf");
    let big = peer::padded(&small, 30 * MIB);
    assert!(big.len() >= 30 * MIB);
    let server = peer::start(big.clone(), 0).await;
    let app = app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("FETCH_MAX_BYTES", &(40 * MIB).to_string()),
        ("RATE_LIMIT_OCR_PER_MIN", "1000"),
    ])
    .await;
    let owner = app.token("owner");
    // The same bytes as an upload are over OCR_MAX_BYTES (20 MiB).
    post_raw(&app, "", Some(&owner), big, "application/pdf")
        .await
        .assert_problem(413, "too-large");
    // mode=sync cannot take a document past the upload limit.
    post_url(
        &app,
        &owner,
        json!({"url": server.url("/doc.pdf"), "mode": "sync"}),
    )
    .await
    .assert_problem(422, "too-large-for-sync");

    // By URL, through redirects, with the options in the body: a job.
    let r = post_url(
        &app,
        &owner,
        json!({"url": server.url("/hop/3"), "mode": "auto", "dpi": 300, "rotate_pages": false}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let status_url = r.json["status_url"]
        .as_str()
        .expect("status url")
        .to_owned();
    let summary = tick(&app).await;
    assert_eq!(summary.succeeded, 1, "{summary:?}");
    let done = app.get(&status_url, Some(&owner)).await;
    assert_eq!(done.json["status"], "succeeded", "{}", done.json);
    let result = &done.json["result"];
    assert_eq!(result["page_count"], 2);
    assert_eq!(result["pages"][0]["source"], "ocr");
    let recognised = result["pages"][0]["text"].as_str().expect("text");
    let cer = shared::ocr::cer::cer(&text, recognised);
    assert!(cer < 0.02, "character error rate {cer}");

    // Streamed without a length, the limit still holds while reading.
    let app_small = super::app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("FETCH_MAX_BYTES", &(10 * MIB).to_string()),
    ])
    .await;
    let owner = app_small.token("owner");
    for path in ["/doc.pdf", "/chunked.pdf"] {
        post_url(&app_small, &owner, json!({"url": server.url(path)}))
            .await
            .assert_problem(413, "too-large");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn private_address_tricks_are_refused_without_naming_the_address() {
    let app = app(&[("RATE_LIMIT_OCR_PER_MIN", "1000")]).await;
    let owner = app.token("owner");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_owned();
    let mut urls: Vec<String> = [
        "https://127.0.0.1/x.pdf",
        "https://2130706433/x.pdf",
        "https://0x7f000001/x.pdf",
        "https://0177.0.0.1/x.pdf",
        "https://0x7f.1/x.pdf",
        "https://127.1/x.pdf",
        "https://[::1]/x.pdf",
        "https://[::ffff:127.0.0.1]/x.pdf",
        "https://[::ffff:7f00:1]/x.pdf",
        "https://[64:ff9b::7f00:1]/x.pdf",
        "https://[2002:7f00:1::]/x.pdf",
        "https://[fd00::1]/x.pdf",
        "https://[fe80::1]/x.pdf",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:169.254.169.254]/latest/meta-data/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://localhost/x.pdf",
        "https://10.0.0.1/x.pdf",
        "https://172.16.5.4/x.pdf",
        "https://192.168.0.1/x.pdf",
        "https://100.64.0.1/x.pdf",
        "https://0.0.0.0/x.pdf",
        "https://255.255.255.255/x.pdf",
        "https://224.0.0.1/x.pdf",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // A name whose DNS answer is this machine (loopback or its own
    // private address).
    urls.push(format!("https://{hostname}/x.pdf"));
    for url in &urls {
        let r = post_url(&app, &owner, json!({"url": url})).await;
        r.assert_problem(422, "url-refused");
        let detail = r.json["detail"].as_str().expect("detail");
        assert!(detail.starts_with("refused:"), "{url}: {detail}");
        for leak in ["127.", "169.254", "::1", "10.0", "fd00", "192.168"] {
            assert!(
                !detail.contains(leak),
                "{url}: the detail names {leak}: {detail}"
            );
        }
    }
    // Plain http and other schemes need FETCH_ALLOW; malformed URLs are 422.
    for url in [
        "http://example.com/x.pdf",
        "file:///etc/passwd",
        "ftp://example.com/x",
    ] {
        post_url(&app, &owner, json!({"url": url}))
            .await
            .assert_problem(422, "url-refused");
    }
    post_url(&app, &owner, json!({"url": "not a url"}))
        .await
        .assert_problem(422, "invalid-url");
    post_url(&app, &owner, json!({"uri": "https://example.com"}))
        .await
        .assert_problem(400, "bad-request");
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_rechecked_bounded_and_failures_are_502_or_504() {
    let pdf = samples::pdf(&[(samples::paragraph(53), PageKind::Text)]).expect("pdf");
    let server = peer::start(pdf, 0).await;
    let app = app(&[
        ("FETCH_ALLOW", "127.0.0.1"),
        ("FETCH_TIMEOUT_SECS", "1"),
        ("FETCH_MAX_REDIRECTS", "3"),
        ("RATE_LIMIT_OCR_PER_MIN", "1000"),
    ])
    .await;
    let owner = app.token("owner");
    // Allowed host, redirected to the metadata service: refused at the hop.
    for path in ["/to-metadata", "/to-mapped"] {
        post_url(&app, &owner, json!({"url": server.url(path)}))
            .await
            .assert_problem(422, "url-refused");
    }
    // A redirect to `localhost` (a name not in FETCH_ALLOW) is refused too.
    let port = server.base.rsplit(':').next().expect("port");
    let r = post_url(
        &app,
        &owner,
        json!({"url": format!("http://localhost:{port}/doc.pdf")}),
    )
    .await;
    r.assert_problem(422, "url-refused");
    // Three hops are allowed, four are not; a loop ends.
    let ok = post_url(&app, &owner, json!({"url": server.url("/hop/2")})).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["page_count"], 1);
    post_url(&app, &owner, json!({"url": server.url("/hop/3")}))
        .await
        .assert_problem(502, "fetch-redirects");
    post_url(&app, &owner, json!({"url": server.url("/loop")}))
        .await
        .assert_problem(502, "fetch-redirects");
    let missing = post_url(&app, &owner, json!({"url": server.url("/missing")})).await;
    missing.assert_problem(502, "fetch-status");
    assert!(
        missing.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("404")),
        "{}",
        missing.json
    );
    let started = std::time::Instant::now();
    post_url(&app, &owner, json!({"url": server.url("/slow")}))
        .await
        .assert_problem(504, "fetch-timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    post_url(
        &app,
        &owner,
        json!({"url": format!("http://127.0.0.1:{closed}/x.pdf")}),
    )
    .await
    .assert_problem(502, "fetch-connect");
    post_url(
        &app,
        &owner,
        json!({"url": "https://no-such-host.invalid/x.pdf"}),
    )
    .await
    .assert_problem(502, "fetch-dns");
}
