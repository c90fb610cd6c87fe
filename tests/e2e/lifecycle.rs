use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port, run_to_end, silent_server};

use crate::World;

#[tokio::test]
async fn sigterm_during_a_slow_request_lets_it_finish_and_exits_zero() {
    let world = World::new().await;
    // Readiness against a Postgres that never answers takes the full check timeout.
    let hang = silent_server().await;
    let url = format!("postgres://folio@127.0.0.1:{hang}/x");
    let vars = world.vars(&[("DATABASE_URL", &url), ("READINESS_TIMEOUT_SECS", "2")]);
    let mut function = Running::start("health", free_port(), &vars, &[]);
    function.wait_ready().await;

    let slow = tokio::spawn(reqwest::get(function.url("/health/ready")));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = Instant::now();
    function.signal("TERM");

    let answer = slow
        .await
        .expect("task")
        .expect("the in-flight request was answered");
    assert_eq!(answer.status(), 503);
    let body: serde_json::Value = answer.json().await.expect("complete json body");
    assert_eq!(body["status"], "down");

    let status = function
        .wait_exit(Duration::from_secs(10))
        .expect("exited within 10 s");
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        function.output()
    );
    assert!(signalled.elapsed() < Duration::from_secs(10));
    assert!(
        reqwest::get(function.url("/health")).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn sigterm_when_idle_exits_at_once() {
    let world = World::new().await;
    let mut function = Running::start("ocr", free_port(), &world.vars(&[]), &[]);
    function.wait_ready().await;
    let signalled = Instant::now();
    function.signal("TERM");
    let status = function.wait_exit(Duration::from_secs(5)).expect("exited");
    assert!(status.success());
    assert!(signalled.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_bad_configuration_names_every_variable_and_leaks_no_secret() {
    let vars = vec![
        (
            "DATABASE_URL".to_owned(),
            "mysql://folio:hunter2@db.example.com/x".to_owned(),
        ),
        (
            "REDIS_URL".to_owned(),
            "redis://:hunter3@cache.example.com".to_owned(),
        ),
        ("PORT".to_owned(), "http".to_owned()),
        ("JWT_SECRET_KEY".to_owned(), "hunter4".to_owned()),
    ];
    let (status, stdout, stderr) = run_to_end("quiz", &vars, &[]);
    assert_eq!(status.code(), Some(2), "stdout: {stdout}\nstderr: {stderr}");
    for name in ["DATABASE_URL", "REDIS_URL", "PORT", "JWT_SECRET_KEY"] {
        assert!(stderr.contains(name), "{name} not named in:\n{stderr}");
    }
    for secret in ["hunter2", "hunter3", "hunter4"] {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{secret} leaked"
        );
    }
}

#[tokio::test]
async fn the_health_binary_serves_readiness_over_http() {
    let world = World::new().await;
    let mut function = Running::start("health", free_port(), &world.vars(&[]), &[]);
    function.wait_ready().await;
    let r = reqwest::get(function.url("/health/ready"))
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ok", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_gateway_serves_every_function_on_one_port_and_runs_the_ticker() {
    let world = World::new().await;
    let mut local = Running::start("folio-local", free_port(), &world.vars(&[]), &[]);
    local.wait_ready().await;
    let r = reqwest::get(local.url("/health")).await.expect("request");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["function"], "folio-local");
    let r = reqwest::get(local.url("/health/ready"))
        .await
        .expect("request");
    assert_eq!(r.status(), 200);

    // The ticker inside runs queued jobs without any trigger from outside.
    folio_e2e::noop_job_runs(&world.db.pool, &local).await;
}
