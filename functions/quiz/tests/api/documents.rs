//! The `{"document_id"}` source over the `ocr` function's real tables.

use folio_testing::TestApp;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// A recognised document of `owner` with `pages` of text, stored the way the
/// `ocr` function stores one (a shared result and an owner's document row).
async fn recognised(app: &TestApp, owner: &str, pages: &[&str]) -> Uuid {
    let id = Uuid::now_v7();
    let sha256 = format!("{:064x}", id.as_u128());
    let key = format!("v1:{sha256}:pdf:test");
    let result = json!({
        "page_count": pages.len(),
        "lang": "eng",
        "pages": pages.iter().enumerate().map(|(i, text)| json!({
            "page": i + 1, "source": "text_layer", "text": text,
            "confidence": null, "width_px": null, "height_px": null
        })).collect::<Vec<_>>(),
    });
    shared::db::query(
        "INSERT INTO ocr_results (result_key, sha256, kind, lang, page_count, ocr_pages, result, work_ms) \
         VALUES ($1, $2, 'pdf', 'eng', $3, 0, $4, 1)",
    )
    .bind(&key)
    .bind(&sha256)
    .bind(pages.len() as i32)
    .bind(result)
    .execute(&app.sql)
    .await
    .expect("result");
    shared::db::query(
        "INSERT INTO documents (id, owner_id, result_key, sha256, kind, lang, page_count, cached, elapsed_ms) \
         VALUES ($1, $2, $3, $4, 'pdf', 'eng', $5, false, 1)",
    )
    .bind(id)
    .bind(owner)
    .bind(&key)
    .bind(&sha256)
    .bind(pages.len() as i32)
    .execute(&app.sql)
    .await
    .expect("document");
    id
}

#[tokio::test]
async fn a_recognised_document_makes_a_quiz_for_its_owner_only() {
    let app = app(&[]).await;
    let (half_a, half_b) =
        PHOTOSYNTHESIS.split_at(PHOTOSYNTHESIS.find("The overall reaction").expect("split"));
    let doc = recognised(&app, "owner", &[half_a, half_b]).await;
    let body = json!({"source": {"document_id": doc}, "question_count": 4});
    let r = create(&app, &app.token("owner"), body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["generator"], "extractive");
    assert_eq!(r.json["questions"].as_array().map(Vec::len), Some(4));
    let (kind, document_id): (String, Option<Uuid>) =
        shared::db::query_as("SELECT source_kind, document_id FROM quizzes WHERE id = $1::uuid")
            .bind(r.json["quiz_id"].as_str().expect("id"))
            .fetch_one(&app.sql)
            .await
            .expect("stored");
    assert_eq!((kind.as_str(), document_id), ("document", Some(doc)));

    create(&app, &app.token("intruder"), body.clone())
        .await
        .assert_problem(404, "not-found");
    let again = create(&app, &app.token("owner"), body).await;
    assert_eq!(again.json["cached"], true);

    // The stats count the owner's recognised documents and pages.
    let stats = app
        .get("/v1/quizzes/stats/weekly", Some(&app.token("owner")))
        .await;
    assert_eq!(stats.json["documents_recognised"], 1);
    assert_eq!(stats.json["pages_recognised"], 2);
}

#[tokio::test]
async fn a_missing_document_is_404() {
    let app = app(&[]).await;
    create(
        &app,
        &app.token("owner"),
        json!({"source": {"document_id": Uuid::now_v7()}}),
    )
    .await
    .assert_problem(404, "not-found");
}
