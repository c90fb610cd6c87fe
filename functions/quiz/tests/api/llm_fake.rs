//! A real local HTTP server speaking the chat-completions API, started on
//! port 0 per test: it counts calls, keeps the last request, and answers as
//! the test scripts it (valid, malformed JSON, wrong counts, slow, 500, 429).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the fake says to one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A well-formed quiz of this many questions.
    Valid(usize),
    /// `content` that is not JSON.
    MalformedJson,
    /// A quiz whose questions have three choices.
    ThreeChoices(usize),
    /// A well-formed answer that arrives after this long.
    Slow(Duration, usize),
    /// This status with a body the caller must never see.
    Status(u16),
    /// 429 with `Retry-After: secs`.
    TooMany(u64),
}

/// The words every error body of the fake carries (they must not leak).
pub const PROVIDER_WORDS: &str = "provider-internal-detail-7f3a";

#[derive(Default)]
struct Inner {
    calls: AtomicUsize,
    script: Mutex<VecDeque<Reply>>,
    otherwise: Mutex<Option<Reply>>,
    last: Mutex<Option<(HeaderMap, Value)>>,
}

#[derive(Clone)]
pub struct LlmFake {
    inner: Arc<Inner>,
    pub base_url: String,
}

impl LlmFake {
    /// Starts the fake; it answers `otherwise` once the script is used up.
    pub async fn start(script: Vec<Reply>, otherwise: Reply) -> LlmFake {
        let inner = Arc::new(Inner::default());
        *inner.script.lock().expect("lock") = script.into();
        *inner.otherwise.lock().expect("lock") = Some(otherwise);
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LlmFake {
            inner,
            base_url: format!("http://{addr}/v1"),
        }
    }

    pub fn calls(&self) -> usize {
        self.inner.calls.load(Ordering::SeqCst)
    }

    /// The headers and body of the last call.
    pub fn last_request(&self) -> Option<(HeaderMap, Value)> {
        self.inner.last.lock().expect("lock").clone()
    }

    /// Settings that point the quiz function at this fake.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("LLM_BASE_URL", self.base_url.clone()),
            ("LLM_API_KEY", "test-llm-key".to_owned()),
            ("LLM_MODEL", "fake-model".to_owned()),
            ("LLM_TIMEOUT_SECS", "2".to_owned()),
            ("LLM_MAX_RETRIES", "2".to_owned()),
        ]
    }
}

async fn answer(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    inner.calls.fetch_add(1, Ordering::SeqCst);
    *inner.last.lock().expect("lock") = Some((headers, body));
    let reply = {
        let next = inner.script.lock().expect("lock").pop_front();
        next.or_else(|| inner.otherwise.lock().expect("lock").clone())
    };
    match reply.unwrap_or(Reply::Status(500)) {
        Reply::Valid(n) => completion(&quiz(n, 4)),
        Reply::MalformedJson => {
            completion("{\"title\": \"Broken\", \"questions\": [ {\"prompt\": ")
        }
        Reply::ThreeChoices(n) => completion(&quiz(n, 3)),
        Reply::Slow(delay, n) => {
            tokio::time::sleep(delay).await;
            completion(&quiz(n, 4))
        }
        Reply::Status(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(json!({"error": {"message": PROVIDER_WORDS, "type": "server_error"}})),
        )
            .into_response(),
        Reply::TooMany(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            Json(json!({"error": {"message": PROVIDER_WORDS, "type": "rate_limit"}})),
        )
            .into_response(),
    }
}

/// A chat completion whose message content is `content`.
fn completion(content: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": null}}]
    }))
    .into_response()
}

/// A quiz of `n` questions with `choices` choices each, as JSON text.
pub fn quiz(n: usize, choices: usize) -> String {
    let questions: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "prompt": format!("Question {i}: which stage of photosynthesis is number {i}?"),
                "choices": (0..choices).map(|c| format!("Option {c} of question {i}")).collect::<Vec<_>>(),
                "answer_index": i % choices,
                "explanation": format!("Option {} is right for question {i}.", i % choices),
            })
        })
        .collect();
    json!({"title": "Photosynthesis (LLM)", "questions": questions}).to_string()
}
