//! What only the REST backend has: the token, the emulator's strictness, the
//! sync token, and choosing it by variables alone.

use std::time::{Duration, Instant};

use folio_testing::upstash::UpstashEmulator;
use folio_testing::{TestApp, redis_url};
use shared::config::Function;
use shared::kv::KvError;
use shared::limits::{Decision, Family};

use crate::support::{REST_TOKEN, kv_from};

fn rest_vars(url: &str, token: &str) -> Vec<(String, String)> {
    vec![
        ("UPSTASH_REDIS_REST_URL".to_owned(), url.to_owned()),
        ("UPSTASH_REDIS_REST_TOKEN".to_owned(), token.to_owned()),
        ("REDIS_CONNECT_TIMEOUT_SECS".to_owned(), "0.5".to_owned()),
    ]
}

#[tokio::test]
async fn a_wrong_token_is_a_typed_error_that_never_shows_the_token() {
    shared::install_crypto_provider();
    let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
        .await
        .expect("emulator");
    let secret = "wrong-token-hunter2";
    let kv = kv_from(&rest_vars(&emulator.url(), secret));
    let err = kv.get("k").await.expect_err("refused");
    assert!(matches!(err, KvError::Unauthorized(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[tokio::test]
async fn nothing_listening_fails_fast_as_unavailable() {
    shared::install_crypto_provider();
    let kv = kv_from(&rest_vars("http://127.0.0.1:1", REST_TOKEN));
    let started = Instant::now();
    assert!(matches!(kv.ping().await, Err(KvError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_emulator_accepts_exactly_application_json_like_serverless_redis_http() {
    let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
        .await
        .expect("emulator");
    let client = reqwest::Client::new();
    let send = |content_type: &'static str| {
        client
            .post(emulator.url())
            .header("authorization", format!("Bearer {REST_TOKEN}"))
            .header("content-type", content_type)
            .header("upstash-encoding", "base64")
            .body(r#"["PING"]"#)
            .send()
    };
    let refused = send("application/json; charset=utf-8").await.expect("send");
    assert_eq!(refused.status(), 400);
    let accepted = send("application/json").await.expect("send");
    assert_eq!(accepted.status(), 200);
    let body: serde_json::Value = accepted.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"result": "UE9ORw=="}),
        "every string base64"
    );
}

#[tokio::test]
async fn the_sync_token_of_each_answer_goes_with_the_next_request() {
    shared::install_crypto_provider();
    let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
        .await
        .expect("emulator");
    let kv = kv_from(&rest_vars(&emulator.url(), REST_TOKEN));
    for _ in 0..3 {
        kv.ping().await.expect("ping");
    }
    assert_eq!(emulator.sync_tokens_seen(), vec!["emu-1", "emu-2"]);
}

#[tokio::test]
async fn switching_a_function_to_the_rest_variables_needs_no_other_change() {
    let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
        .await
        .expect("emulator");
    let url = emulator.url();
    let app = TestApp::spawn(
        Function::Quiz,
        &[
            ("REDIS_URL", ""),
            ("UPSTASH_REDIS_REST_URL", &url),
            ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN),
            ("RATE_LIMIT_QUIZ_PER_MIN", "2"),
        ],
        |state| axum::Router::new().with_state(state),
    )
    .await;
    assert_eq!(app.kv().backend(), "rest");
    let ready = app.get("/health", None).await;
    assert_eq!(ready.status, 200);
    app.kv().set("k", b"v", None).await.expect("set");
    assert_eq!(app.kv().get("k").await.expect("get"), Some(b"v".to_vec()));
    let limiter = &app.state.limiter;
    assert!(matches!(
        limiter.check(Family::Quiz, "u").await,
        Decision::Allowed(_)
    ));
    assert!(matches!(
        limiter.check(Family::Quiz, "u").await,
        Decision::Allowed(_)
    ));
    assert!(matches!(
        limiter.check(Family::Quiz, "u").await,
        Decision::Limited(_)
    ));
}

#[tokio::test]
async fn the_emulator_refuses_a_script_touching_a_key_it_did_not_declare() {
    let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
        .await
        .expect("emulator");
    let prefix = folio_testing::TestPrefix::new();
    let key = format!("{}declared", prefix.prefix);
    let client = reqwest::Client::new();
    let send = |command: serde_json::Value| {
        client
            .post(emulator.url())
            .header("authorization", format!("Bearer {REST_TOKEN}"))
            .header("content-type", "application/json")
            .json(&command)
            .send()
    };
    let declared = send(serde_json::json!([
        "EVAL",
        "return redis.call('SET', KEYS[1], ARGV[1])",
        "1",
        key,
        "v"
    ]))
    .await
    .expect("send");
    assert_eq!(declared.status(), 200);
    // The same key passed in ARGV: what Upstash refuses under allow-key-locking.
    let undeclared = send(serde_json::json!([
        "EVAL",
        "return redis.call('GET', ARGV[1])",
        "0",
        key
    ]))
    .await
    .expect("send");
    assert_eq!(undeclared.status(), 400);
    let body: serde_json::Value = undeclared.json().await.expect("json");
    let message = body["error"].as_str().expect("an error");
    assert!(message.contains("did not pass in KEYS"), "{message}");
    // A database-wide command inside a script is refused as well.
    let wide = send(serde_json::json!([
        "EVAL",
        "return redis.call('KEYS', '*')",
        "0"
    ]))
    .await
    .expect("send");
    assert_eq!(wide.status(), 400);
    // Plain commands and pipelines are not affected.
    let plain = send(serde_json::json!(["GET", key])).await.expect("send");
    assert_eq!(plain.status(), 200);
}
