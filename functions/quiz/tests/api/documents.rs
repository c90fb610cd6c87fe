//! The `{"document_id"}` source over the OCR function's tables.
//!
//! TEST SCAFFOLDING: until migration 0002 (the `ocr` function's) is merged,
//! these tests create a minimal `documents` / `ocr_results` themselves when the
//! tables do not exist. Delete `ensure_ocr_tables` once 0002 lands.

use serde_json::json;
use shared::testing::TestApp;
use uuid::Uuid;

use crate::helpers::*;

async fn ensure_ocr_tables(app: &TestApp) {
    for sql in [
        "CREATE TABLE IF NOT EXISTS ocr_results (key text PRIMARY KEY, result jsonb NOT NULL)",
        "CREATE TABLE IF NOT EXISTS documents (id uuid PRIMARY KEY, owner_id text NOT NULL, sha256 text NOT NULL, \
         result_key text, created_at timestamptz NOT NULL DEFAULT now())",
    ] {
        sqlx::query(sql)
            .execute(&app.state.db)
            .await
            .expect("ocr tables");
    }
}

/// A recognised document of `owner` with `pages` of text.
async fn recognised(app: &TestApp, owner: &str, pages: &[&str]) -> Uuid {
    let id = Uuid::now_v7();
    let key = format!("ocr:{id}");
    let text = pages.join("\u{c}");
    sqlx::query("INSERT INTO ocr_results (key, result) VALUES ($1, $2)")
        .bind(&key)
        .bind(json!({"text": text, "page_count": pages.len()}))
        .execute(&app.state.db)
        .await
        .expect("result");
    sqlx::query("INSERT INTO documents (id, owner_id, sha256, result_key) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(owner)
        .bind(format!("{:064x}", 7))
        .bind(&key)
        .execute(&app.state.db)
        .await
        .expect("document");
    id
}

#[tokio::test]
async fn a_recognised_document_makes_a_quiz_for_its_owner_only() {
    let app = app(&[]).await;
    ensure_ocr_tables(&app).await;
    let (half_a, half_b) =
        PHOTOSYNTHESIS.split_at(PHOTOSYNTHESIS.find("The overall reaction").expect("split"));
    let doc = recognised(&app, "owner", &[half_a, half_b]).await;
    let body = json!({"source": {"document_id": doc}, "question_count": 4});
    let r = create(&app, &app.token("owner"), body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["generator"], "extractive");
    assert_eq!(r.json["questions"].as_array().map(Vec::len), Some(4));
    let (kind, document_id): (String, Option<Uuid>) =
        sqlx::query_as("SELECT source_kind, document_id FROM quizzes WHERE id = $1::uuid")
            .bind(r.json["quiz_id"].as_str().expect("id"))
            .fetch_one(&app.state.db)
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
async fn a_missing_document_is_404_and_one_still_recognising_is_409() {
    let app = app(&[]).await;
    let token = app.token("owner");
    // Before the OCR tables exist, no document does.
    create(
        &app,
        &token,
        json!({"source": {"document_id": Uuid::now_v7()}}),
    )
    .await
    .assert_problem(404, "not-found");
    ensure_ocr_tables(&app).await;
    create(
        &app,
        &token,
        json!({"source": {"document_id": Uuid::now_v7()}}),
    )
    .await
    .assert_problem(404, "not-found");
    let pending = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO documents (id, owner_id, sha256, result_key) VALUES ($1, 'owner', 'x', NULL)",
    )
    .bind(pending)
    .execute(&app.state.db)
    .await
    .expect("pending document");
    create(&app, &token, json!({"source": {"document_id": pending}}))
        .await
        .assert_problem(409, "conflict");
}
