use std::time::{Duration, Instant};

use folio_testing::TestApp;
use shared::config::Function;

async fn app(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn(Function::Health, extra, folio_health::router).await
}

#[tokio::test]
async fn ready_reports_both_stores_and_the_schema_version() {
    let app = app(&[]).await;
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["checks"]["postgres"]["ok"], true);
    let newest = shared::db::MIGRATOR.iter().map(|m| m.version).max();
    assert_eq!(
        r.json["checks"]["postgres"]["schema_version"].as_i64(),
        newest
    );
    assert_eq!(r.json["checks"]["redis"]["ok"], true);
    assert_eq!(r.json["checks"]["redis"]["backend"], "tcp");
    let ocr = &r.json["checks"]["ocr"];
    assert_eq!(ocr["ok"], true, "{ocr}");
    assert_eq!(ocr["pdfium"], true);
    assert!(
        ocr["languages"]
            .as_array()
            .is_some_and(|l| l.contains(&"eng".into()))
    );
    assert!(
        ocr["tesseract"]
            .as_str()
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())),
        "{ocr}"
    );
    assert!(r.json["checks"]["redis"]["latency_ms"].as_f64().is_some());
}

#[tokio::test]
async fn postgres_down_is_503_down_and_redis_down_is_200_degraded_within_two_seconds() {
    let down = app(&[
        ("DATABASE_URL", "postgres://folio:hunter2@127.0.0.1:1/x"),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "5"),
    ])
    .await;
    let started = Instant::now();
    let r = down.get("/health/ready", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(r.json["status"], "down");
    assert_eq!(r.json["checks"]["postgres"]["ok"], false);
    assert_no_secrets(&r.bytes);

    let degraded = app(&[("REDIS_URL", "redis://:hunter2@127.0.0.1:1")]).await;
    let started = Instant::now();
    let r = degraded.get("/health/ready", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "degraded");
    assert_eq!(r.json["checks"]["redis"]["ok"], false);
    assert_eq!(r.json["checks"]["postgres"]["ok"], true);
    assert_no_secrets(&r.bytes);
}

fn assert_no_secrets(body: &[u8]) {
    let body = String::from_utf8_lossy(body);
    for needle in ["hunter2", "redis://", "postgres://", "127.0.0.1"] {
        assert!(!body.contains(needle), "{needle} in {body}");
    }
}

#[tokio::test]
async fn a_hanging_postgres_is_cut_off_by_the_readiness_timeout() {
    // A server that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let url = format!("postgres://u:p@127.0.0.1:{port}/x");
    let app = app(&[
        ("DATABASE_URL", &url),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "30"),
    ])
    .await;
    let started = Instant::now();
    let r = app.get("/health/ready", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_redis_opens_the_breaker_and_readiness_says_so_at_once() {
    let server = folio_testing::redis_server::RedisServer::start().expect("redis-server");
    let url = server.url();
    let app = app(&[
        ("REDIS_URL", url.as_str()),
        ("REDIS_RESPONSE_TIMEOUT_SECS", "0.3"),
        ("REDIS_BREAKER_FAILURES", "2"),
        ("REDIS_BREAKER_COOLDOWN_SECS", "0.5"),
    ])
    .await;
    let r = app.get("/health/ready", None).await;
    assert_eq!(r.json["checks"]["redis"]["breaker"], "closed", "{}", r.json);

    server.pause().expect("SIGSTOP");
    for _ in 0..2 {
        let r = app.get("/health/ready", None).await;
        assert_eq!(r.json["status"], "degraded", "{}", r.json);
    }
    let started = Instant::now();
    let r = app.get("/health/ready", None).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "an open breaker answers without waiting: {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "degraded");
    let redis = &r.json["checks"]["redis"];
    assert_eq!(redis["ok"], false, "{redis}");
    assert_ne!(redis["breaker"], "closed", "{redis}");
    assert!(redis["breaker_open_ms"].as_u64().is_some(), "{redis}");
    assert_no_secrets(&r.bytes);

    server.resume().expect("SIGCONT");
    let resumed = Instant::now();
    loop {
        let r = app.get("/health/ready", None).await;
        if r.json["checks"]["redis"]["ok"] == true {
            assert_eq!(r.json["checks"]["redis"]["breaker"], "closed");
            assert!(r.json["checks"]["redis"].get("breaker_open_ms").is_none());
            break;
        }
        assert!(resumed.elapsed() < Duration::from_secs(5), "{}", r.json);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
