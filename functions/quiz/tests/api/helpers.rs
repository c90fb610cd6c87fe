//! Shared set-up for the quiz tests.

use folio_testing::{TestApp, TestResponse};
use serde_json::{Value, json};
use shared::config::Function;

pub const PHOTOSYNTHESIS: &str =
    include_str!("../../../../shared/testdata/quiz/photosynthesis.txt");
pub const ROME: &str = include_str!("../../../../shared/testdata/quiz/rome.txt");

/// The quiz function with `extra` settings (no LLM unless given).
pub async fn app(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn(Function::Quiz, extra, folio_quiz::router).await
}

/// The quiz function pointed at an LLM fake, with `extra` on top.
pub async fn app_with_llm(fake: &crate::llm_fake::LlmFake, extra: &[(&str, &str)]) -> TestApp {
    let vars = fake.vars();
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    app(&all).await
}

pub async fn create(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.post_json("/v1/quizzes", Some(token), &body).await
}

pub fn text_body(text: &str, count: u32) -> Value {
    json!({"source": {"text": text}, "question_count": count, "difficulty": "medium", "language": "en"})
}

/// The stored answers of a quiz, read straight from Postgres.
///
/// Direct SQL goes through `app.sql`, not `app.db.pool`: closing the
/// latter when `TestDb` drops needs the test runtime, which is blocked then
/// (a current-thread runtime), so the test would hang.
pub async fn answers_of(app: &TestApp, quiz_id: &str) -> Vec<i64> {
    let id = uuid::Uuid::parse_str(quiz_id).expect("quiz id");
    shared::db::query_scalar::<i16>(
        "SELECT answer_index FROM quiz_questions WHERE quiz_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&app.sql)
    .await
    .expect("answers")
    .into_iter()
    .map(i64::from)
    .collect()
}

/// A counter of the quiz cache (`hit`, `miss`, `llm.calls`, `llm.saved`).
pub async fn counter(app: &TestApp, name: &str) -> i64 {
    let key = match name {
        "hit" => shared::quiz::cache::HIT,
        "miss" => shared::quiz::cache::MISS,
        "llm.calls" => shared::quiz::cache::LLM_CALLS,
        _ => shared::quiz::cache::LLM_SAVED,
    };
    app.kv()
        .get(key)
        .await
        .expect("redis")
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The body as text, for "does not contain" checks.
pub fn body_text(r: &TestResponse) -> String {
    String::from_utf8_lossy(&r.bytes).into_owned()
}
