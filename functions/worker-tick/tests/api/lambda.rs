//! The Lambda path end to end: the real `worker-tick` binary under a local
//! fake of the Lambda Runtime API (the HTTP protocol `lambda_runtime` polls),
//! fed an EventBridge scheduled event, a forged HTTP request to `/events`,
//! and an HTTP request to `/v1/worker/tick`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use folio_testing::{TEST_TICK_TOKEN, TestDb, TestPrefix, test_vars};
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::sync::{Mutex, mpsc};

use crate::helpers::{counts, enqueue_n};

const SCHEDULED: &str = r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-01T12:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/folio-tick"],"detail":{}}"#;

#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<mpsc::Receiver<String>>>,
    answers: mpsc::Sender<(String, Value)>,
}

async fn next_invocation(State(rt): State<Runtime>) -> impl IntoResponse {
    let event = rt.events.lock().await.recv().await.unwrap_or_default();
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    let id = uuid::Uuid::new_v4().to_string();
    headers.insert("lambda-runtime-aws-request-id", id.parse().expect("id"));
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().expect("deadline"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:worker-tick"
            .parse()
            .expect("arn"),
    );
    headers.insert("content-type", "application/json".parse().expect("type"));
    (headers, event)
}

async fn answer(
    State(rt): State<Runtime>,
    Path((_id, outcome)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = rt.answers.send((outcome, value)).await;
    axum::http::StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (v2) event for `POST path`.
fn http_event(path: &str, body: &str, authorization: Option<&str>) -> String {
    let mut headers = json!({"content-type": "application/json", "host": "x.execute-api.eu-west-1.amazonaws.com"});
    if let Some(auth) = authorization {
        headers["authorization"] = json!(auth);
    }
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "x", "domainName": "x.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "x", "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "01/Nov/2026:12:00:00 +0000", "timeEpoch": 1793534400000u64,
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "curl"}
        },
        "body": body, "isBase64Encoded": false
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_lambda_a_scheduled_event_ticks_and_a_forged_one_over_http_does_not() {
    let db = TestDb::new().await;
    let prefix = TestPrefix::new();
    let (event_tx, event_rx) = mpsc::channel::<String>(4);
    let (answer_tx, mut answers) = mpsc::channel::<(String, Value)>(4);
    let runtime = Runtime {
        events: Arc::new(Mutex::new(event_rx)),
        answers: answer_tx,
    };
    let api = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/{outcome}",
            post(answer),
        )
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, api).await });

    let mut vars = test_vars(&db.url, &prefix.prefix, &[("RUST_LOG", "warn")]);
    vars.extend(
        [
            ("AWS_LAMBDA_RUNTIME_API", addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", "worker-tick".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".into()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let _function = Command::new(env!("CARGO_BIN_EXE_worker-tick"))
        .env_clear()
        .envs(vars)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn worker-tick");
    let mut invoke = async |event: String| {
        event_tx.send(event).await.expect("queue event");
        tokio::time::timeout(Duration::from_secs(20), answers.recv())
            .await
            .expect("an answer in time")
            .expect("runtime open")
    };

    enqueue_n(&db, "noop", 3, json!({})).await;
    let (outcome, summary) = invoke(SCHEDULED.to_owned()).await;
    assert_eq!(outcome, "response", "{summary}");
    assert_eq!(summary["claimed"], 3, "{summary}");
    assert_eq!(summary["succeeded"], 3, "{summary}");

    enqueue_n(&db, "noop", 2, json!({})).await;
    let (outcome, forged) = invoke(http_event("/events", SCHEDULED, None)).await;
    assert_eq!(outcome, "response");
    assert_eq!(forged["statusCode"], 404, "{forged}");
    assert_eq!(counts(&db).await.get("queued"), Some(&2));

    let bearer = format!("Bearer {TEST_TICK_TOKEN}");
    let (_, over_http) = invoke(http_event("/v1/worker/tick", "", Some(&bearer))).await;
    assert_eq!(over_http["statusCode"], 200, "{over_http}");
    let body: Value =
        serde_json::from_str(over_http["body"].as_str().expect("body")).expect("summary json");
    assert_eq!(body["claimed"], 2);
    assert_eq!(counts(&db).await.get("succeeded"), Some(&5));
}
