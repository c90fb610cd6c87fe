//! Fan-out: an async scan with more OCR pages than `OCR_FANOUT_PAGES` is
//! split into page-range parts that several ticks run side by side; the
//! parent assembles them once, in page order, to the same answer a single
//! job gives. Progress counts pages across parts, and
//! `GET /v1/ocr/jobs/{id}/events` streams the job from queued to done, with
//! Redis notices or, with Redis away, by polling Postgres.

use std::sync::Arc;
use std::time::Duration;

use folio_testing::samples::{self, PageKind};
use serde_json::Value;
use shared::jobs::{Registry, Shutdown, Worker};
use shared::ocr::fanout::{OcrPartJob, PART_KIND};
use shared::ocr::job::{KIND, OcrJob};
use shared::ocr::service::OcrService;

use super::*;

fn worker(app: &TestApp) -> Worker {
    let state = &app.state;
    let timeout = Duration::from_secs(40);
    let registry = Registry::new()
        .register(KIND, Arc::new(OcrJob::new(OcrService::new(state), timeout)))
        .register(
            PART_KIND,
            Arc::new(OcrPartJob::new(OcrService::new(state), timeout)),
        );
    Worker::new(state, registry)
}

async fn tick(worker: &Worker) -> shared::jobs::TickSummary {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    worker.tick(deadline, &Shutdown::new()).await.expect("tick")
}

/// A scan of `pages` pages, each a different paragraph, 150 dpi.
fn scan(pages: usize, seed: usize) -> Vec<u8> {
    let pages: Vec<(String, PageKind)> = (0..pages)
        .map(|i| (samples::paragraph(seed + i), PageKind::Scanned { dpi: 150 }))
        .collect();
    samples::pdf(&pages).expect("pdf")
}

async fn submit(app: &TestApp, owner: &str, pdf: Vec<u8>) -> String {
    let r = post_raw(app, "mode=async", Some(owner), pdf, "application/pdf").await;
    assert_eq!(r.status, 202, "{}", r.json);
    r.json["job_id"].as_str().expect("job id").to_owned()
}

async fn scalar(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    shared::db::query_scalar::<i64>(sql)
        .bind(id)
        .fetch_one(&app.sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Ticks (three workers side by side) until the job has finished.
async fn drain(app: &TestApp, job: &str, owner: &str) -> Value {
    let workers = [worker(app), worker(app), worker(app)];
    let mut last = Value::Null;
    for _ in 0..20 {
        let status = app.get(&format!("/v1/ocr/jobs/{job}"), Some(owner)).await;
        if matches!(status.json["status"].as_str(), Some("succeeded" | "failed")) {
            return status.json;
        }
        last = status.json;
        futures::future::join_all(workers.iter().map(tick)).await;
    }
    panic!("job {job} did not finish in 20 rounds of ticks: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_scan_fans_out_over_concurrent_ticks_and_assembles_once_to_the_single_job_answer() {
    const PAGES: usize = 5;
    let pdf = scan(PAGES, 300);

    // The reference: the same scan as one job.
    let single = app(&[("OCR_FANOUT_PAGES", "0")]).await;
    let owner = single.token("owner");
    let job = submit(&single, &owner, pdf.clone()).await;
    let reference = drain(&single, &job, &owner).await;
    assert_eq!(reference["status"], "succeeded", "{reference}");
    assert_eq!(
        scalar(
            &single,
            "SELECT count(*) FROM ocr_fanouts WHERE parent_id = $1",
            &job
        )
        .await,
        0
    );

    // One job at a time per tick, so the three ticks share the parts out.
    let app = app(&[
        ("OCR_FANOUT_PAGES", "2"),
        ("WORKER_CONCURRENCY", "1"),
        ("WORKER_BATCH_SIZE", "1"),
    ])
    .await;
    let owner = app.token("owner");
    let job = submit(&app, &owner, pdf).await;
    let done = drain(&app, &job, &owner).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (fanned, one) = (&done["result"], &reference["result"]);
    assert_eq!(fanned["page_count"], PAGES);
    assert_eq!(
        fanned["text"], one["text"],
        "the parts' text differs from one job's"
    );
    let numbers: Vec<u64> = fanned["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["page"].as_u64().expect("page number"))
        .collect();
    assert_eq!(numbers, (1..=PAGES as u64).collect::<Vec<_>>());
    for (a, b) in fanned["pages"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(one["pages"].as_array().into_iter().flatten())
    {
        assert_eq!(a["text"], b["text"]);
        assert_eq!(a["confidence"], b["confidence"]);
    }
    assert_eq!(fanned["sha256"], one["sha256"]);
    // Three parts (2+2+1), each succeeded; assembled exactly once.
    assert_eq!(
        scalar(
            &app,
            "SELECT parts_total::int8 FROM ocr_fanouts WHERE parent_id = $1",
            &job
        )
        .await,
        3
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM ocr_fanout_parts p JOIN jobs j ON j.id = p.job_id
             WHERE p.parent_id = $1 AND j.status = 'succeeded' AND j.kind = 'ocr-part'",
            &job
        )
        .await,
        3
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT assemblies::int8 FROM ocr_fanouts WHERE parent_id = $1",
            &job
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM documents WHERE id::text <> $1::text",
            &job
        )
        .await,
        1
    );
    // Progress counted across the parts, and the document is the owner's.
    assert_eq!(done["progress"]["pages_done"], PAGES, "{done}");
    let doc = app
        .get(
            &format!(
                "/v1/ocr/documents/{}",
                fanned["document_id"].as_str().expect("id")
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["text"], one["text"]);
    // The upload goes once the job has finished.
    tick(&worker(&app)).await;
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM uploads WHERE job_id = $1", &job).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_part_fails_the_document_naming_its_pages() {
    let app = app(&[("OCR_FANOUT_PAGES", "1")]).await;
    let owner = app.token("owner");
    let job = submit(&app, &owner, scan(2, 320)).await;
    let id = uuid::Uuid::parse_str(&job).expect("uuid");
    // A worker that runs only the parent: it splits, and no part runs.
    let w = Worker::new(
        &app.state,
        Registry::new().register(
            KIND,
            Arc::new(OcrJob::new(
                OcrService::new(&app.state),
                Duration::from_secs(40),
            )),
        ),
    );
    tick(&w).await;
    let running = app.get(&format!("/v1/ocr/jobs/{job}"), Some(&owner)).await;
    assert_eq!(running.json["status"], "running", "{}", running.json);
    assert_eq!(running.json["progress"]["pages_total"], 2);
    assert_eq!(running.json["progress"]["parts_total"], 2);
    // The second part dies (out of attempts); the parent's next look fails it.
    shared::db::query(
        "UPDATE jobs j SET status = 'failed', finished_at = now(), last_error = 'the engine broke'
         FROM ocr_fanout_parts p WHERE p.job_id = j.id AND p.parent_id = $1 AND p.part = 1",
    )
    .bind(id)
    .execute(&app.sql)
    .await
    .expect("kill part");
    shared::db::query("UPDATE jobs SET run_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.sql)
        .await
        .expect("wake");
    tick(&w).await;
    let failed = app.get(&format!("/v1/ocr/jobs/{job}"), Some(&owner)).await;
    assert_eq!(failed.json["status"], "failed", "{}", failed.json);
    let error = failed.json["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("pages 2-2") && error.contains("the engine broke"),
        "{error}"
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT assemblies::int8 FROM ocr_fanouts WHERE parent_id = $1",
            &job
        )
        .await,
        0
    );
}

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<String>,
    data: Value,
}

/// Serves the app on a real socket (streaming needs one).
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    format!("http://{addr}")
}

/// Reads events until the stream ends (or 120 s pass).
async fn read_events(mut response: reqwest::Response) -> Vec<Sse> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let limit = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let chunk = tokio::time::timeout_at(limit, response.chunk())
            .await
            .expect("the stream did not end in 120 s")
            .expect("chunk");
        let Some(chunk) = chunk else { break };
        buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = Sse {
                event: "message".into(),
                id: None,
                data: Value::Null,
            };
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event.event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("id:") {
                    event.id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if !data.is_empty() {
                event.data = serde_json::from_str(&data).expect("json data");
                events.push(event);
            }
        }
    }
    events
}

async fn stream_to_done(extra: &[(&str, &str)], pages: usize, seed: usize) -> Vec<Sse> {
    let app = app(extra).await;
    let base = serve(&app).await;
    let owner = app.token("owner");
    let job = submit(&app, &owner, scan(pages, seed)).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/v1/ocr/jobs/{job}/events");
    let intruder = client
        .get(&url)
        .bearer_auth(app.token("intruder"))
        .send()
        .await
        .expect("send");
    assert_eq!(intruder.status(), 404);
    let response = client
        .get(&url)
        .bearer_auth(&owner)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().ok(),
        Some("text/event-stream")
    );
    let reader = tokio::spawn(read_events(response));
    // Let the stream show the job queued before any tick.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let done = drain(&app, &job, &owner).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let events = reader.await.expect("reader");
    let last = events.last().expect("events");
    assert_eq!(last.event, "done", "{events:?}");
    assert_eq!(last.data["result"]["page_count"], pages, "{events:?}");
    assert_eq!(events[0].event, "progress");
    assert_eq!(events[0].data["status"], "queued", "{events:?}");
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sse_streams_a_fanned_out_job_from_queued_to_done_with_pages_across_parts() {
    let events = stream_to_done(&[("OCR_FANOUT_PAGES", "1")], 3, 330).await;
    let progress: Vec<i64> = events
        .iter()
        .filter(|e| e.event == "progress" && e.data["status"] == "running")
        .map(|e| e.data["progress"]["pages_done"].as_i64().unwrap_or(-1))
        .collect();
    assert!(!progress.is_empty(), "no running progress: {events:?}");
    assert!(
        progress.iter().any(|&p| p > 0),
        "no pages counted across parts: {events:?}"
    );
    assert!(
        events
            .iter()
            .filter(|e| e.event == "progress")
            .all(|e| e.id.is_some()),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sse_falls_back_to_polling_postgres_when_redis_is_away() {
    // Nothing listens on port 1: every Redis call fails at once.
    let events = stream_to_done(&[("REDIS_URL", "redis://127.0.0.1:1")], 2, 340).await;
    assert!(events.iter().any(|e| e.event == "progress"), "{events:?}");
}
