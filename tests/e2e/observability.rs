//! What operators see of the real binaries: `/metrics` behind its token and
//! moving under load, Cloud Logging lines (`LOG_FORMAT=gcp`), Lambda's JSON
//! log format with the invocation's request id and EMF lines per invocation
//! (through the Lambda Runtime API), and idle ticks kept out of INFO.

use std::time::{Duration, Instant};

use folio_e2e::lambda_fake::{LambdaFake, http_api_event};
use folio_e2e::{Running, free_port, run_to_end};
use serde_json::{Value, json};

use crate::World;

const METRICS_TOKEN: &str = "e2e-metrics-token-0123456789";

fn json_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The value of the sample `name{…}` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| v.parse::<f64>().expect("a number"))
        .reduce(|a, b| a + b)
}

async fn scrape(client: &reqwest::Client, local: &Running) -> String {
    let r = client
        .get(local.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    r.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_under_load_and_gcp_lines_and_quiet_ticks_come_from_the_real_gateway() {
    let world = World::new().await;
    let vars = world.vars(&[
        ("METRICS_ENABLED", "true"),
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("LOG_FORMAT", ""),
        ("K_SERVICE", "folio-local"),
        ("GOOGLE_CLOUD_PROJECT", "folio-e2e"),
        ("FOLIO_LOCAL_TICK_EVERY", "200ms"),
    ]);
    let mut local = Running::start("folio-local", free_port(), &vars, &[]);
    local.wait_ready().await;
    let client = reqwest::Client::new();

    // Never public: no token, a wrong one, another scheme.
    for auth in [
        None,
        Some("Bearer not-the-token-at-all"),
        Some("Basic Zm9vOmJhcg=="),
    ] {
        let mut r = client.get(local.url("/metrics"));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        let r = r.send().await.expect("request");
        assert_eq!(r.status(), 401, "{auth:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }

    let before = scrape(&client, &local).await;
    let health = [("route", "/health"), ("status", "200")];
    let count =
        |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels).unwrap_or(0.0);
    let requests_before = count(&before, "folio_http_requests_total", &health);
    let histogram_before = count(
        &before,
        "folio_http_request_duration_seconds_count",
        &health,
    );
    for _ in 0..5 {
        assert_eq!(
            client
                .get(local.url("/health"))
                .send()
                .await
                .expect("health")
                .status(),
            200
        );
    }
    for id in ["a1", "b2", "c3"] {
        let r = client
            .get(local.url(&format!("/nowhere/{id}")))
            .send()
            .await
            .expect("404");
        assert_eq!(r.status(), 404);
    }
    for invented in ["BREW", "WHEN"] {
        let method = reqwest::Method::from_bytes(invented.as_bytes()).expect("method");
        let r = client
            .request(method, local.url("/health"))
            .send()
            .await
            .expect("405");
        assert_eq!(r.status(), 405);
    }
    let r = client
        .get(local.url("/health/ready?verbose=1"))
        .header(
            "x-cloud-trace-context",
            "0123456789abcdef0123456789abcdef/255;o=1",
        )
        .header("user-agent", "folio-e2e/1")
        .header("x-forwarded-for", "198.51.100.23")
        .send()
        .await
        .expect("ready");
    assert_eq!(r.status(), 200);

    // A job for the ticker: a tick with work logs at INFO.
    folio_e2e::noop_job_runs(&world.db.pool, &local).await;

    // The tick logs its summary after writing the job's outcome.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !local.output().contains("\"tick finished\"") {
        assert!(
            Instant::now() < deadline,
            "no tick line:\n{}",
            local.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let after = scrape(&client, &local).await;
    // Exactly the five requests since the first scrape, in the counter and the histogram.
    assert_eq!(
        count(&after, "folio_http_requests_total", &health) - requests_before,
        5.0
    );
    assert_eq!(
        count(&after, "folio_http_request_duration_seconds_count", &health) - histogram_before,
        5.0
    );
    assert!(count(&after, "folio_http_request_duration_seconds_sum", &health) > 0.0);
    assert!(after.contains("function=\"folio-local\""), "global label");
    // Unknown paths share one series: raw paths never become label values.
    assert_eq!(
        count(
            &after,
            "folio_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        3.0
    );
    assert!(
        !after.contains("/nowhere/"),
        "a raw path leaked into a label"
    );
    // Invented methods share one label value.
    let other = [("route", "/health"), ("method", "other")];
    assert_eq!(count(&after, "folio_http_requests_total", &other), 2.0);
    assert!(
        !after.contains("BREW"),
        "a caller's method became a label value"
    );
    assert_eq!(
        count(
            &after,
            "folio_job_attempts_total",
            &[("kind", "noop"), ("outcome", "succeeded")]
        ),
        1.0
    );
    for gauge in [
        "folio_queue_jobs",
        "folio_queue_oldest_age_seconds",
        "folio_db_pool_connections",
        "folio_redis_ping_seconds",
    ] {
        assert!(
            sample(&after, gauge, &[]).is_some(),
            "{gauge} missing:\n{after}"
        );
    }
    assert_eq!(sample(&after, "folio_redis_up", &[]), Some(1.0));
    assert_eq!(sample(&after, "folio_postgres_up", &[]), Some(1.0));
    assert!(count(&after, "folio_db_pool_connections", &[("state", "max")]) >= 1.0);

    // Cloud Logging lines, chosen from K_SERVICE.
    let output = local.output();
    let lines = json_lines(&output);
    assert!(lines.len() > 10, "{output}");
    for line in &lines {
        assert!(
            line["severity"].is_string() && line["message"].is_string(),
            "{line}"
        );
    }
    let ready = lines
        .iter()
        .find(|l| {
            l["message"] == "request finished" && l["httpRequest"]["userAgent"] == "folio-e2e/1"
        })
        .unwrap_or_else(|| panic!("no request line for /health/ready:\n{output}"));
    assert_eq!(ready["severity"], "INFO");
    assert_eq!(
        ready["logging.googleapis.com/trace"],
        "projects/folio-e2e/traces/0123456789abcdef0123456789abcdef"
    );
    assert_eq!(ready["logging.googleapis.com/spanId"], "00000000000000ff");
    assert_eq!(ready["logging.googleapis.com/trace_sampled"], true);
    let http = &ready["httpRequest"];
    assert_eq!(http["requestMethod"], "GET");
    assert_eq!(http["requestUrl"], "/health/ready?verbose=1");
    assert_eq!(http["status"], 200);
    assert_eq!(http["remoteIp"], "198.51.100.23");
    let latency = http["latency"].as_str().expect("latency");
    assert!(
        latency.ends_with('s') && latency.trim_end_matches('s').parse::<f64>().is_ok(),
        "{latency}"
    );
    let size: u64 = http["responseSize"]
        .as_str()
        .expect("int64 as string")
        .parse()
        .expect("number");
    assert!(size > 20, "{http}");

    // Idle ticks (several ran every 200 ms) stay out of INFO; the one with work does not.
    let ticks: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "tick finished")
        .collect();
    assert!(!ticks.is_empty(), "the tick with a job logs:\n{output}");
    for tick in &ticks {
        assert_eq!(tick["severity"], "INFO");
        assert!(
            tick["claimed"].as_u64().unwrap_or(0) >= 1,
            "an idle tick at INFO: {tick}"
        );
    }
}

#[tokio::test]
async fn under_the_lambda_runtime_lines_carry_the_invocation_id_and_emf_is_written_per_invocation()
{
    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[("LOG_FORMAT", ""), ("METRICS_ENABLED", "true")]);
    vars.extend(fake.vars());
    let function = Running::start("health", free_port(), &vars, &[]);

    let first = fake.push(http_api_event("GET", "/health/ready", json!({}), None));
    let answer = fake.answer(&first, Duration::from_secs(15)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    // Written before the answer went back: Lambda may freeze the process after.
    let lines = json_lines(&function.output());
    let done = lines
        .iter()
        .find(|l| l["message"] == "request finished" && l["requestId"] == first.as_str())
        .unwrap_or_else(|| panic!("no line with requestId {first}:\n{}", function.output()));
    assert_eq!(done["level"], "INFO");
    let ts = done["timestamp"].as_str().expect("timestamp");
    chrono::DateTime::parse_from_rfc3339(ts).expect("RFC 3339");
    assert!(ts.ends_with('Z'));
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    let requests = emf
        .iter()
        .find(|d| d["route"] == "/health/ready")
        .unwrap_or_else(|| panic!("no EMF document for the invocation:\n{}", function.output()));
    assert_eq!(requests["function"], "health");
    assert_eq!(requests["status"], "200");
    assert_eq!(requests["folio_http_requests_total"], 1.0);
    let directive = &requests["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "folio");
    assert_eq!(
        directive["Dimensions"],
        json!([["function", "method", "route", "status"]])
    );
    let now = chrono::Utc::now().timestamp_millis();
    let stamp = requests["_aws"]["Timestamp"].as_i64().expect("ms");
    assert!((now - 60_000..=now).contains(&stamp), "{stamp} vs {now}");
    assert!(
        emf.iter()
            .any(|d| d.get("folio_db_pool_connections").is_some()),
        "state gauges in the first invocation's flush"
    );

    let second = fake.push(http_api_event("GET", "/health", json!({}), None));
    fake.answer(&second, Duration::from_secs(5)).await;
    let lines = json_lines(&function.output());
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request finished" && l["requestId"] == second.as_str())
    );
    let health: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("_aws").is_some() && l["route"] == "/health")
        .collect();
    assert_eq!(health.len(), 1, "one flush for the second invocation");
    assert_eq!(health[0]["folio_http_requests_total"], 1.0);
    // The first invocation's count was not written again.
    let ready_docs = lines
        .iter()
        .filter(|l| l.get("_aws").is_some() && l["route"] == "/health/ready")
        .count();
    assert_eq!(ready_docs, 1);
    assert!(fake.errors().is_empty(), "{:?}", fake.errors());
}

#[test]
fn metrics_without_a_token_refuse_to_start_naming_the_variable() {
    let vars = vec![
        (
            "DATABASE_URL".to_owned(),
            "postgres://u:p@127.0.0.1/db".to_owned(),
        ),
        ("METRICS_ENABLED".to_owned(), "true".to_owned()),
    ];
    let (status, stdout, stderr) = run_to_end("health", &vars, &[]);
    assert_eq!(status.code(), Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("METRICS_TOKEN"), "{stderr}");
}

/// A metadata server fake: answers the project id only to callers that send
/// `Metadata-Flavor: Google`, as Google's does.
async fn metadata_server(project: &'static str) -> u16 {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/computeMetadata/v1/project/project-id",
        axum::routing::get(move |headers: HeaderMap| async move {
            if headers
                .get("metadata-flavor")
                .is_some_and(|v| v == "Google")
            {
                (StatusCode::OK, project)
            } else {
                (StatusCode::FORBIDDEN, "missing Metadata-Flavor")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_cloud_run_without_a_project_variable_the_metadata_server_names_the_project() {
    let world = World::new().await;
    let port = metadata_server("folio-from-metadata").await;
    let host = format!("127.0.0.1:{port}");
    let vars = world.vars(&[
        ("LOG_FORMAT", ""),
        ("K_SERVICE", "health"),
        ("GCE_METADATA_HOST", &host),
    ]);
    let mut function = Running::start("health", free_port(), &vars, &[]);
    function.wait_ready().await;
    let r = reqwest::Client::new()
        .get(function.url("/health"))
        .header(
            "x-cloud-trace-context",
            "fedcba9876543210fedcba9876543210/1;o=0",
        )
        .send()
        .await
        .expect("health");
    assert_eq!(r.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let lines = json_lines(&function.output());
        if let Some(l) = lines.into_iter().find(|l| {
            l["message"] == "request finished"
                && l["logging.googleapis.com/spanId"] == "0000000000000001"
        }) {
            break l;
        }
        assert!(Instant::now() < deadline, "{}", function.output());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        line["logging.googleapis.com/trace"],
        "projects/folio-from-metadata/traces/fedcba9876543210fedcba9876543210"
    );
    assert_eq!(line["logging.googleapis.com/trace_sampled"], false);
}
