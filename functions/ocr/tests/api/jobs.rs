//! Long documents become jobs: `mode=async` (or `auto` past
//! `OCR_SYNC_MAX_PAGES`) stores the upload and its job together, answers 202,
//! and a worker tick recognises it with progress; the job and the document are
//! the owner's only.

use std::sync::Arc;
use std::time::Duration;

use folio_testing::samples::{self, PageKind};
use shared::jobs::{Registry, Shutdown, Worker};
use shared::ocr::job::{KIND, OcrJob};
use shared::ocr::service::OcrService;

use super::*;

/// One tick of a worker that knows the `ocr` kind, over the test's stores.
async fn tick(app: &TestApp) -> shared::jobs::TickSummary {
    let state = &app.state;
    let registry = Registry::new().register(
        KIND,
        Arc::new(OcrJob::new(OcrService::new(state), Duration::from_secs(40))),
    );
    let worker = Worker::new(state, registry);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    worker.tick(deadline, &Shutdown::new()).await.expect("tick")
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    shared::db::query_scalar(sql)
        .fetch_one(&app.sql)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn mode_async_answers_202_and_a_tick_recognises_the_document_with_progress() {
    let app = app(&[]).await;
    let owner = app.token("owner");
    let text = samples::paragraph(41);
    let pdf = samples::pdf(&[
        (text.clone(), PageKind::Scanned { dpi: 150 }),
        (samples::paragraph(42), PageKind::Text),
    ])
    .expect("pdf");

    let r = post_raw(&app, "mode=async", Some(&owner), pdf, "application/pdf").await;
    assert_eq!(r.status, 202, "{}", r.json);
    let job_id = r.json["job_id"].as_str().expect("job id").to_owned();
    let status_url = format!("/v1/ocr/jobs/{job_id}");
    assert_eq!(r.json["status"], "queued");
    assert_eq!(r.json["status_url"], status_url.as_str());
    assert_eq!(r.headers["location"], status_url.as_str());
    // The upload and the job were committed together.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM uploads WHERE job_id IS NOT NULL"
        )
        .await,
        1
    );

    let queued = app.get(&status_url, Some(&owner)).await;
    assert_eq!(queued.json["status"], "queued");
    assert_eq!(queued.json["result"], serde_json::Value::Null);
    app.get(&status_url, Some(&app.token("intruder")))
        .await
        .assert_problem(404, "not-found");

    let summary = tick(&app).await;
    assert_eq!(summary.succeeded, 1, "{summary:?}");

    let done = app.get(&status_url, Some(&owner)).await;
    assert_eq!(done.json["status"], "succeeded", "{}", done.json);
    assert_eq!(done.json["progress"]["pages_total"], 2);
    assert_eq!(done.json["progress"]["pages_done"], 2);
    let result = &done.json["result"];
    assert_eq!(result["page_count"], 2);
    assert_eq!(result["pages"][0]["source"], "ocr");
    assert_eq!(result["pages"][1]["source"], "text_layer");
    let recognised = result["pages"][0]["text"].as_str().expect("text");
    let cer = shared::ocr::cer::cer(&text, recognised);
    assert!(cer < 0.02, "character error rate {cer}");

    // The document is the owner's, in the same shape.
    let doc_url = format!(
        "/v1/ocr/documents/{}",
        result["document_id"].as_str().expect("id")
    );
    let doc = app.get(&doc_url, Some(&owner)).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["sha256"], result["sha256"]);
    app.get(&doc_url, Some(&app.token("intruder")))
        .await
        .assert_problem(404, "not-found");

    // The next tick's maintenance drops the upload of the finished job.
    tick(&app).await;
    assert_eq!(count(&app, "SELECT count(*) FROM uploads").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn mode_auto_past_the_sync_limit_becomes_a_job_and_a_broken_upload_fails_it_for_good() {
    let app = app(&[("OCR_SYNC_MAX_PAGES", "0")]).await;
    let owner = app.token("owner");
    let image = samples::png(&scan_of(&samples::paragraph(43))).expect("png");
    let r = post_raw(&app, "", Some(&owner), image, "image/png").await;
    assert_eq!(r.status, 202, "{}", r.json);

    // A job whose upload has gone (purged, say) fails at once with a reason.
    let job_id = uuid::Uuid::parse_str(r.json["job_id"].as_str().expect("id")).expect("uuid");
    shared::db::query("DELETE FROM uploads WHERE job_id = $1")
        .bind(job_id)
        .execute(&app.sql)
        .await
        .expect("delete upload");
    let summary = tick(&app).await;
    assert_eq!(summary.dead, 1, "{summary:?}");
    let failed = app
        .get(&format!("/v1/ocr/jobs/{job_id}"), Some(&owner))
        .await;
    assert_eq!(failed.json["status"], "failed");
    assert!(
        failed.json["error"]
            .as_str()
            .is_some_and(|e| e.contains("expired")),
        "{}",
        failed.json
    );
}

#[tokio::test]
async fn the_eleventh_ocr_request_in_a_minute_is_429_and_nothing_is_read() {
    let app = app(&[]).await;
    let token = app.token("u");
    for n in 0..10 {
        // Empty bodies: cheap, refused after the limiter counted them.
        let r = post_raw(&app, "", Some(&token), Vec::new(), "application/pdf").await;
        assert_eq!(r.status.as_u16() / 100, 4, "request {n}: {}", r.json);
        assert_ne!(r.status, 429, "request {n}");
        assert_eq!(r.headers["ratelimit-limit"], "10");
    }
    let r = post_raw(&app, "", Some(&token), Vec::new(), "application/pdf").await;
    r.assert_problem(429, "rate-limited");
    assert!(r.headers.contains_key("retry-after"));
}
