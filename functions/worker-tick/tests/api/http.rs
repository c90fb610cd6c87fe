//! The HTTP and EventBridge triggers through the real router (in-process),
//! and the notices a tick publishes.

use std::time::Duration;

use axum::body::Body;
use folio_testing::{TEST_TICK_TOKEN, TestApp};
use futures::StreamExt;
use lambda_http::request::RequestContext;
use serde_json::json;
use shared::config::Function;
use shared::jobs::{NewJob, Shutdown};

use crate::helpers::state_of;

const SCHEDULED: &str = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-01T12:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/folio-tick"],"detail":{}}"#;

async fn app() -> TestApp {
    TestApp::spawn(Function::WorkerTick, &[], folio_worker_tick::router).await
}

async fn lambda_app() -> TestApp {
    TestApp::spawn(Function::WorkerTick, &[], |state| {
        let options = folio_worker_tick::Options {
            on_lambda: true,
            shutdown: Shutdown::new(),
        };
        folio_worker_tick::router_with(state, options)
    })
    .await
}

async fn enqueue(app: &TestApp, job: NewJob) -> uuid::Uuid {
    let mut conn = app.db.pool.acquire().await.expect("conn");
    shared::jobs::enqueue(&mut conn, &job)
        .await
        .expect("enqueue")
        .id
}

fn event(body: &str, pass_through: bool) -> http::Request<Body> {
    let mut request = http::Request::post("/events")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    if pass_through {
        request.extensions_mut().insert(RequestContext::PassThrough);
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_trigger_runs_a_tick_and_answers_its_summary() {
    let app = app().await;
    sqlx::query("CREATE TABLE probe_http (job_id uuid, attempt int, pid bigint)")
        .execute(&app.db.pool)
        .await
        .expect("probe table");
    let noop = enqueue(&app, NewJob::new("noop", json!({}))).await;
    let probe = enqueue(&app, NewJob::new("probe", json!({"table": "probe_http"}))).await;
    let r = app
        .post_json("/v1/worker/tick", Some(TEST_TICK_TOKEN), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    for field in [
        "claimed",
        "succeeded",
        "failed",
        "retried",
        "dead",
        "reaped",
        "remaining_queued",
        "elapsed_ms",
    ] {
        assert!(r.json[field].is_number(), "{field} missing: {}", r.json);
    }
    assert_eq!(r.json["claimed"], 2);
    assert_eq!(r.json["succeeded"], 2);
    assert_eq!(r.json["remaining_queued"], 0);
    assert_eq!(r.json["stopped"], "drained");
    assert_eq!(state_of(&app.db, noop).await.0, "succeeded");
    assert_eq!(state_of(&app.db, probe).await.0, "succeeded");
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM probe_http WHERE job_id = $1")
        .bind(probe)
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(recorded, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_tick_token_is_401_and_runs_nothing() {
    let app = app().await;
    let id = enqueue(&app, NewJob::new("noop", json!({}))).await;
    for token in [Some("folio-test-tick-tokeN"), Some(""), None] {
        let r = app.post_json("/v1/worker/tick", token, &json!({})).await;
        r.assert_problem(401, "unauthorized");
        assert!(r.headers.contains_key("www-authenticate"));
        assert!(!String::from_utf8_lossy(&r.bytes).contains(TEST_TICK_TOKEN));
    }
    // A user's JWT is not the tick token either.
    let jwt = app.token("user-1");
    app.post_json("/v1/worker/tick", Some(&jwt), &json!({}))
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(state_of(&app.db, id).await.0, "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_deadline_header_shortens_the_tick() {
    let app = app().await;
    let id = enqueue(&app, NewJob::new("noop", json!({}))).await;
    let tight = http::Request::post("/v1/worker/tick")
        .header("authorization", format!("Bearer {TEST_TICK_TOKEN}"))
        .header("x-folio-deadline-ms", "1500")
        .body(Body::empty())
        .expect("request");
    let r = app.call(tight).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.json["claimed"].as_u64(), r.json["stopped"].as_str()),
        (Some(0), Some("budget"))
    );
    assert_eq!(
        state_of(&app.db, id).await.0,
        "queued",
        "no time for a 1 s job in 0.5 s"
    );
    assert_eq!(
        r.json["unfit_kinds"],
        json!(["noop", "ocr", "ocr-part", "probe", "webhook"]),
        "{}",
        r.json
    );

    // The header is a wait, not a point in time: a Unix time is refused.
    let unix_time = http::Request::post("/v1/worker/tick")
        .header("authorization", format!("Bearer {TEST_TICK_TOKEN}"))
        .header("x-folio-deadline-ms", "1796250366001")
        .body(Body::empty())
        .expect("request");
    app.call(unix_time).await.assert_problem(400, "bad-request");
    assert_eq!(state_of(&app.db, id).await.0, "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_events_are_404_off_lambda() {
    let app = app().await;
    let id = enqueue(&app, NewJob::new("noop", json!({}))).await;
    app.call(event(SCHEDULED, true))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(state_of(&app.db, id).await.0, "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_lambda_only_a_genuine_scheduled_event_runs_a_tick() {
    let app = lambda_app().await;
    let id = enqueue(&app, NewJob::new("noop", json!({}))).await;
    // The same body over HTTP (a function URL): not an event.
    app.call(event(SCHEDULED, false))
        .await
        .assert_problem(404, "not-found");
    // A non-HTTP event that is not a schedule.
    app.call(event(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#, true))
        .await
        .assert_problem(422, "unsupported-event");
    assert_eq!(state_of(&app.db, id).await.0, "queued");

    let r = app.call(event(SCHEDULED, true)).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        (r.json["claimed"].as_u64(), r.json["succeeded"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(state_of(&app.db, id).await.0, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_publish_notices_and_bump_counters() {
    let app = app().await;
    let client = redis::Client::open(folio_testing::redis_url()).expect("client");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    let channel = app.kv().key("notify:user:user-7");
    pubsub.subscribe(&channel).await.expect("subscribe");
    let id = enqueue(&app, NewJob::new("noop", json!({})).owner("user-7")).await;
    let job_channel = app.kv().key(&format!("notify:job:{id}"));
    pubsub.subscribe(&job_channel).await.expect("subscribe");

    let r = app
        .post_json("/v1/worker/tick", Some(TEST_TICK_TOKEN), &json!({}))
        .await;
    assert_eq!(r.json["succeeded"], 1);
    let mut messages = pubsub.on_message();
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let msg = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .expect("a notice in time")
            .expect("stream open");
        let body: serde_json::Value =
            serde_json::from_slice(msg.get_payload_bytes()).expect("json notice");
        assert_eq!(body["job_id"], id.to_string());
        seen.push((
            msg.get_channel_name().to_owned(),
            body["status"].as_str().map(str::to_owned),
        ));
    }
    for ch in [&channel, &job_channel] {
        let statuses: Vec<_> = seen
            .iter()
            .filter(|(c, _)| c == ch)
            .map(|(_, s)| s.clone())
            .collect();
        assert_eq!(
            statuses,
            vec![Some("running".to_owned()), Some("succeeded".to_owned())]
        );
    }
    let counter = app.kv().get("counters:jobs.succeeded").await.expect("get");
    assert_eq!(counter.as_deref(), Some(&b"1"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_longer_than_the_request_timeout_still_runs_over_http() {
    // probe's timeout is 10 s; HTTP ticks here last at most 3 s - 1 s.
    let app = TestApp::spawn(
        Function::WorkerTick,
        &[("REQUEST_TIMEOUT_SECS", "3")],
        folio_worker_tick::router,
    )
    .await;
    sqlx::query("CREATE TABLE probe_short (job_id uuid, attempt int, pid bigint)")
        .execute(&app.db.pool)
        .await
        .expect("probe table");
    let id = enqueue(
        &app,
        NewJob::new("probe", json!({"table": "probe_short", "sleep_ms": 50})),
    )
    .await;
    let r = app
        .post_json("/v1/worker/tick", Some(TEST_TICK_TOKEN), &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["succeeded"], 1, "{}", r.json);
    assert_eq!(state_of(&app.db, id).await.0, "succeeded");
}
