use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::routing::{get, post};
use folio_testing::TestApp;
use shared::config::Function;

async fn app(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn(Function::Health, extra, |state| {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/echo",
                post(|body: Bytes| async move { body.len().to_string() }),
            )
            .route(
                "/json",
                post(|axum::Json(v): axum::Json<serde_json::Value>| async move { axum::Json(v) }),
            )
            .route("/panic", get(boom))
            .with_state(state)
    })
    .await
}

#[tokio::test]
async fn liveness_answers_without_touching_any_dependency() {
    let app = app(&[
        ("DATABASE_URL", "postgres://u:p@127.0.0.1:1/nope"),
        ("REDIS_URL", "redis://127.0.0.1:1"),
    ])
    .await;
    let r = app.get("/health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["function"], "health");
    assert_eq!(r.json["version"], shared::serve::VERSION);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app(&[]).await;
    app.get("/nope", None)
        .await
        .assert_problem(404, "not-found");
    let r = app
        .call(
            http::Request::delete("/health")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    r.assert_problem(405, "method-not-allowed");
    assert!(
        r.headers.contains_key("allow"),
        "405 keeps its Allow header"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_it_is_buffered() {
    let app = app(&[("MAX_BODY_BYTES", "1024")]).await;
    let ok = app
        .call(
            http::Request::post("/echo")
                .body(Body::from(vec![b'a'; 1024]))
                .expect("request"),
        )
        .await;
    assert_eq!(ok.status, 200);
    // A streamed body with no Content-Length: the limit trips while reading.
    let chunks = futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1024])));
    let r = app
        .call(
            http::Request::post("/echo")
                .body(Body::from_stream(chunks))
                .expect("request"),
        )
        .await;
    r.assert_problem(413, "too-large");
}

#[tokio::test]
async fn a_request_past_its_deadline_is_a_504_problem() {
    let app = app(&[("REQUEST_TIMEOUT_SECS", "0.2")]).await;
    let started = std::time::Instant::now();
    let r = app.get("/slow", None).await;
    r.assert_problem(504, "timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn extractor_rejections_become_problems() {
    let app = app(&[]).await;
    let r = app
        .call(
            http::Request::post("/json")
                .header("content-type", "application/json")
                .body(Body::from("{not json"))
                .expect("request"),
        )
        .await;
    r.assert_problem(400, "bad-request");
    assert!(r.json["detail"].as_str().is_some_and(|d| !d.is_empty()));
    let r = app
        .call(
            http::Request::post("/json")
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await;
    r.assert_problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_that_reveals_nothing() {
    let app = app(&[]).await;
    let r = app.get("/panic", None).await;
    r.assert_problem(500, "internal");
    assert!(!String::from_utf8_lossy(&r.bytes).contains("/srv/secret"));
    // The router still serves afterwards.
    assert_eq!(app.get("/health", None).await.status, 200);
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_problems_repeat_it() {
    let app = app(&[]).await;
    let r = app
        .call(
            http::Request::get("/nope")
                .header("x-request-id", "req-42")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.headers["x-request-id"], "req-42");
    assert_eq!(r.json["request_id"], "req-42");

    let r = app
        .call(
            http::Request::get("/health")
                .header(
                    "x-amzn-trace-id",
                    "Root=1-67891233-abcdef012345678912345678",
                )
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(
        r.headers["x-request-id"],
        "1-67891233-abcdef012345678912345678"
    );

    let r = app.get("/health", None).await;
    assert!(uuid::Uuid::parse_str(r.headers["x-request-id"].to_str().expect("ascii")).is_ok());
}

async fn boom() -> &'static str {
    panic!("boom at /srv/secret/path")
}
