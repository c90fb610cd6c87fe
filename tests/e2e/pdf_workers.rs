//! PDF work in worker processes (shared/src/ocr/pdfworker.rs), through the
//! real `ocr` binary: a pathological PDF holds up only its own worker and is
//! killed at `OCR_PDF_TIMEOUT`; a worker that dies, idle or busy, costs at
//! most the document it was on.

use std::time::{Duration, Instant};

use folio_e2e::{Running, children, free_port, hostile_pdf};
use folio_testing::TEST_JWT_SECRET;
use folio_testing::samples::{self, PageKind};

use crate::World;

fn token() -> String {
    shared::auth::mint_hs256(TEST_JWT_SECRET, "pdf-worker-test", Duration::from_secs(600))
        .expect("token")
}

fn kill(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// Posts a PDF that takes PDFium minutes to draw (forms nested 7 deep, 10 each).
async fn post_slow_pdf(base: String) -> (u16, serde_json::Value, Duration) {
    post(
        &base,
        "/v1/ocr?force_ocr=true",
        hostile_pdf::nested_forms(7, 10),
    )
    .await
}

async fn post(base: &str, path: &str, body: Vec<u8>) -> (u16, serde_json::Value, Duration) {
    let sent = Instant::now();
    let answer = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token())
        .timeout(Duration::from_secs(60))
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = answer.status().as_u16();
    let json = answer.json().await.unwrap_or_default();
    (status, json, sent.elapsed())
}

fn small_pdf(n: usize) -> Vec<u8> {
    let text = format!("{} worker test document {n}", samples::paragraph(n));
    samples::pdf(&[(text, PageKind::Text)]).expect("pdf")
}

fn start(world: &World, extra: &[(&str, &str)]) -> Running {
    let mut vars = vec![
        ("RATE_LIMIT_OCR_PER_MIN", "100000"),
        ("OCR_PDF_WORKERS", "2"),
    ];
    vars.extend_from_slice(extra);
    Running::start("ocr", free_port(), &world.vars(&vars), &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_pdf_holds_up_only_its_own_worker_and_is_killed_at_its_time_limit() {
    let world = World::new().await;
    let mut ocr = start(&world, &[("OCR_PDF_TIMEOUT", "2s")]);
    ocr.wait_ready().await;
    assert!(children(ocr.child.id()).is_empty(), "workers start lazily");
    let base = ocr.url("");

    let slow = tokio::spawn(post_slow_pdf(base.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..3 {
        let (status, json, took) = post(&base, "/v1/ocr", small_pdf(n)).await;
        assert_eq!(status, 200, "{json}");
        assert!(
            took < Duration::from_millis(1500),
            "a small PDF waited {took:?} behind the slow one"
        );
    }
    let (status, json, took) = slow.await.expect("task");
    assert_eq!(status, 422, "{json}");
    assert!(
        json["type"].as_str().unwrap_or("").ends_with("too-slow"),
        "{json}"
    );
    assert!(
        took < Duration::from_secs(8),
        "the time limit took {took:?}"
    );
    assert!(
        children(ocr.child.id()).len() <= 2,
        "at most OCR_PDF_WORKERS workers"
    );
    let (status, json, _) = post(&base, "/v1/ocr", small_pdf(10)).await;
    assert_eq!(status, 200, "{json}; log:\n{}", ocr.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pdf_worker_that_dies_idle_or_busy_costs_at_most_its_document() {
    let world = World::new().await;
    let mut ocr = start(&world, &[]);
    ocr.wait_ready().await;
    let base = ocr.url("");
    let pid = ocr.child.id();

    let (status, json, _) = post(&base, "/v1/ocr", small_pdf(20)).await;
    assert_eq!(status, 200, "{json}");
    let idle = children(pid);
    assert!(!idle.is_empty(), "a PDF worker process served the document");
    idle.iter().copied().for_each(kill);
    let (status, json, _) = post(&base, "/v1/ocr", small_pdf(21)).await;
    assert_eq!(status, 200, "after the idle workers died: {json}");

    let slow = tokio::spawn(post_slow_pdf(base.clone()));
    // The slow document's worker is busy rendering by now: kill it.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let busy = children(pid);
    assert!(!busy.is_empty(), "a worker is on the slow PDF");
    busy.iter().copied().for_each(kill);
    let (status, json, took) = slow.await.expect("task");
    assert_eq!(status, 422, "{json}");
    assert!(
        json["type"].as_str().unwrap_or("").ends_with("broken-pdf"),
        "{json}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (status, json, _) = post(&base, "/v1/ocr", small_pdf(22)).await;
    assert_eq!(status, 200, "after a busy worker ({busy:?}) died: {json}");
    assert!(
        ocr.child.try_wait().expect("wait").is_none(),
        "the ocr process lives"
    );
}
