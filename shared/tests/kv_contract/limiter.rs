//! The rate limiter as functions use it: a layer on their routes, answering
//! with `RateLimit-*` headers and 429 problem+json with `Retry-After`.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::get;
use folio_testing::{TEST_JWT_SECRET, TestPrefix, test_vars};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use shared::AppState;
use shared::config::{Config, Function};
use shared::limits::{self, Family};
use tower::ServiceExt;

/// A function's state built from test variables (Postgres is never touched).
pub fn state(prefix: &TestPrefix, extra: &[(&str, &str)]) -> AppState {
    shared::install_crypto_provider();
    let vars = test_vars("postgres://127.0.0.1/unused", &prefix.prefix, extra);
    AppState::new(Config::from_vars(Function::Quiz, vars).expect("config")).expect("state")
}

/// `GET /v1/demo/{id}`: rate-limited as quiz, answers a cached value and
/// where it came from.
pub fn router(state: AppState) -> Router {
    async fn demo(
        State(state): State<AppState>,
        Path(id): Path<u32>,
    ) -> axum::Json<serde_json::Value> {
        let cached = state
            .kv
            .get_or_compute(
                &format!("demo:{id}"),
                Duration::from_secs(60),
                || async move { Ok::<_, std::convert::Infallible>(format!("value {id}")) },
            )
            .await;
        let cached = match cached {
            Ok(c) => c,
            Err(never) => match never {},
        };
        axum::Json(serde_json::json!({"value": cached.value, "cache": cached.status}))
    }
    let routes = Router::new()
        .route("/v1/demo/{id}", get(demo))
        .route_layer(limits::layer(&state, Family::Quiz))
        .with_state(state.clone());
    shared::serve::app(&state.config, routes)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub json: serde_json::Value,
}

pub async fn call(router: &Router, uri: &str, user: Option<&str>) -> Answer {
    let mut request = Request::get(uri).header("x-forwarded-for", "203.0.113.7, 10.0.0.1");
    if let Some(user) = user {
        let token = shared::auth::mint_hs256(TEST_JWT_SECRET, user, Duration::from_secs(600))
            .expect("token");
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        json: serde_json::from_slice(&bytes).unwrap_or_default(),
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn the_layer_sets_ratelimit_headers_and_answers_429_problems_with_retry_after() {
    let prefix = TestPrefix::new();
    let app = router(state(&prefix, &[("RATE_LIMIT_QUIZ_PER_MIN", "3")]));
    for remaining in ["2", "1", "0"] {
        let ok = call(&app, "/v1/demo/1", Some("alice")).await;
        assert_eq!(ok.status, 200, "{}", ok.json);
        assert_eq!(header(&ok, "ratelimit-limit"), Some("3"));
        assert_eq!(header(&ok, "ratelimit-remaining"), Some(remaining));
        let reset: u64 = header(&ok, "ratelimit-reset")
            .expect("reset")
            .parse()
            .expect("secs");
        assert!((1..=60).contains(&reset));
    }
    let refused = call(&app, "/v1/demo/1", Some("alice")).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        header(&refused, "content-type"),
        Some("application/problem+json")
    );
    assert!(
        refused.json["type"]
            .as_str()
            .expect("type")
            .ends_with("/rate-limited")
    );
    let retry: u64 = header(&refused, "retry-after")
        .expect("retry-after")
        .parse()
        .expect("secs");
    assert!(
        (1..=20).contains(&retry),
        "one request back every 20 s: {retry}"
    );
    assert_eq!(header(&refused, "ratelimit-remaining"), Some("0"));
    // Refused again from memory, with the same headers.
    let again = call(&app, "/v1/demo/2", Some("alice")).await;
    assert_eq!(again.status, 429);
    assert!(header(&again, "retry-after").is_some());
    // Another user, and a caller without a token (limited by address), each
    // have a quota of their own.
    assert_eq!(call(&app, "/v1/demo/1", Some("bob")).await.status, 200);
    let anonymous = call(&app, "/v1/demo/1", None).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(header(&anonymous, "ratelimit-remaining"), Some("2"));
}

#[tokio::test]
async fn a_limit_of_zero_switches_the_family_off() {
    let prefix = TestPrefix::new();
    let app = router(state(&prefix, &[("RATE_LIMIT_QUIZ_PER_MIN", "0")]));
    for _ in 0..10 {
        let ok = call(&app, "/v1/demo/1", Some("alice")).await;
        assert_eq!(ok.status, 200);
        assert!(header(&ok, "ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn callers_are_told_apart_by_token_subject_then_address() {
    let prefix = TestPrefix::new();
    let state = state(&prefix, &[]);
    let auth = state.auth.as_deref();
    let token =
        shared::auth::mint_hs256(TEST_JWT_SECRET, "alice", Duration::from_secs(60)).expect("token");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        "198.51.100.2, 10.0.0.1".parse().expect("value"),
    );
    assert_eq!(limits::identify(&headers, auth).await, "ip:198.51.100.2");
    headers.insert(
        "authorization",
        format!("Bearer {token}").parse().expect("value"),
    );
    assert_eq!(limits::identify(&headers, auth).await, "user:alice");
    headers.insert("authorization", "Bearer forged".parse().expect("value"));
    assert_eq!(limits::identify(&headers, auth).await, "ip:198.51.100.2");
    assert_eq!(
        limits::identify(&http::HeaderMap::new(), auth).await,
        "anonymous"
    );
}
