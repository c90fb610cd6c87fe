//! The content-addressed cache (Redis, then Postgres) and owner-only documents.

use folio_testing::samples::{self, PageKind};

use super::*;

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    shared::db::query_scalar(sql)
        .fetch_one(&app.sql)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_same_bytes_a_second_time_are_answered_from_the_cache() {
    let app = app(&[]).await;
    let image = samples::png(&scan_of(&samples::paragraph(21))).expect("png");
    let first = post_raw(
        &app,
        "",
        Some(&app.token("alice")),
        image.clone(),
        "image/png",
    )
    .await;
    assert_eq!(first.json["cached"], false, "{}", first.json);
    // Another user, another resolution (which cannot change an image's result).
    let second = post_raw(&app, "dpi=150", Some(&app.token("bob")), image, "image/png").await;
    assert_eq!(second.json["cached"], true, "{}", second.json);
    assert_eq!(first.json["pages"], second.json["pages"]);
    assert_eq!(first.json["sha256"], second.json["sha256"]);
    assert_ne!(first.json["document_id"], second.json["document_id"]);
    assert_eq!(count(&app, "SELECT count(*) FROM ocr_results").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM documents").await, 2);
    let key: String = shared::db::query_scalar("SELECT result_key FROM ocr_results")
        .fetch_one(&app.sql)
        .await
        .expect("key");
    let cached = app
        .kv()
        .get(&format!("ocr:result:{key}"))
        .await
        .expect("redis");
    assert!(cached.is_some(), "the result is in redis");
}

#[tokio::test]
async fn postgres_answers_when_redis_has_lost_the_result_and_refills_it() {
    let app = app(&[]).await;
    let token = app.token("u");
    let pdf = samples::pdf(&[(samples::paragraph(22), PageKind::Text)]).expect("pdf");
    let first = post_raw(&app, "", Some(&token), pdf.clone(), "application/pdf").await;
    assert_eq!(first.status, 200);
    let key: String = shared::db::query_scalar("SELECT result_key FROM ocr_results")
        .fetch_one(&app.sql)
        .await
        .expect("key");
    let redis_key = format!("ocr:result:{key}");
    assert_eq!(app.kv().del(&[&redis_key]).await.expect("del"), 1);
    let again = post_raw(&app, "", Some(&token), pdf, "application/pdf").await;
    assert_eq!(again.json["cached"], true);
    assert_eq!(again.json["pages"], first.json["pages"]);
    assert!(app.kv().get(&redis_key).await.expect("redis").is_some());
}

#[tokio::test]
async fn options_that_change_the_result_are_cached_apart() {
    let app = app(&[]).await;
    let token = app.token("u");
    let pdf = samples::pdf(&[(samples::paragraph(23), PageKind::Text)]).expect("pdf");
    let plain = post_raw(&app, "", Some(&token), pdf.clone(), "application/pdf").await;
    let forced = post_raw(&app, "force_ocr=true", Some(&token), pdf, "application/pdf").await;
    assert_eq!(
        (plain.json["cached"].clone(), forced.json["cached"].clone()),
        (false.into(), false.into())
    );
    assert_eq!(forced.json["pages"][0]["source"], "ocr");
    assert_eq!(count(&app, "SELECT count(*) FROM ocr_results").await, 2);
}

#[tokio::test]
async fn a_document_is_shown_to_its_owner_only() {
    let app = app(&[]).await;
    let pdf = samples::pdf(&[(samples::paragraph(24), PageKind::Text)]).expect("pdf");
    let posted = post_raw(&app, "", Some(&app.token("owner")), pdf, "application/pdf").await;
    let id = posted.json["document_id"].as_str().expect("id").to_owned();
    let uri = format!("/v1/ocr/documents/{id}");
    let mine = app.get(&uri, Some(&app.token("owner"))).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json, posted.json, "the same answer as the upload's");
    app.get(&uri, Some(&app.token("someone-else")))
        .await
        .assert_problem(404, "not-found");
    let unknown = format!("/v1/ocr/documents/{}", uuid::Uuid::now_v7());
    app.get(&unknown, Some(&app.token("owner")))
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/ocr/documents/not-a-uuid", Some(&app.token("owner")))
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn mode_sync_refuses_more_ocr_pages_than_the_sync_limit_but_not_text_pages() {
    let app = app(&[("OCR_SYNC_MAX_PAGES", "1")]).await;
    let token = app.token("u");
    let scans = samples::pdf(&[
        (samples::paragraph(25), PageKind::Scanned { dpi: 100 }),
        (samples::paragraph(26), PageKind::Scanned { dpi: 100 }),
    ])
    .expect("pdf");
    post_raw(&app, "mode=sync", Some(&token), scans, "application/pdf")
        .await
        .assert_problem(422, "too-many-pages-for-sync");
    let texts: Vec<_> = (27..30)
        .map(|i| (samples::paragraph(i), PageKind::Text))
        .collect();
    let text_pdf = samples::pdf(&texts).expect("pdf");
    let r = post_raw(&app, "mode=sync", Some(&token), text_pdf, "application/pdf").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["page_count"], 3);
}
