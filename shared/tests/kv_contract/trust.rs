//! TLS trust, for `rediss://` and for Upstash REST over HTTPS alike: the CA
//! in `REDIS_TLS_CA_FILE` is trusted beside the public roots; any other CA
//! fails, fails fast, and says it is the certificate.

use std::time::{Duration, Instant};

use folio_testing::redis_server::RedisServer;
use folio_testing::upstash::UpstashEmulator;
use folio_testing::{TestPrefix, redis_url};
use shared::kv::KvError;
use shared::limits::{Decision, Family};

use crate::support::{CertDir, REST_TOKEN, kv_from};

fn vars(url: &str, ca: Option<&std::path::Path>) -> Vec<(String, String)> {
    let mut vars = vec![
        ("REDIS_URL".to_owned(), url.to_owned()),
        ("REDIS_CONNECT_TIMEOUT_SECS".to_owned(), "1".to_owned()),
    ];
    if let Some(ca) = ca {
        vars.push(("REDIS_TLS_CA_FILE".to_owned(), ca.display().to_string()));
    }
    vars
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused() {
    shared::install_crypto_provider();
    let certs = CertDir::generate();
    let server = RedisServer::start_tls(&certs.files()).expect("server");
    let wrong = CertDir::generate();
    for ca in [Some(wrong.ca_path()), None] {
        let kv = kv_from(&vars(&server.url(), ca.as_deref()));
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(10), kv.ping())
            .await
            .expect("must not hang");
        assert!(matches!(result, Err(KvError::Unavailable(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    let right = kv_from(&vars(&server.url(), Some(&certs.ca_path())));
    right.ping().await.expect("the right CA is trusted");
}

#[tokio::test]
async fn an_unreadable_ca_file_is_a_start_up_error_that_names_the_variable() {
    shared::install_crypto_provider();
    let mut all = vec![(
        "DATABASE_URL".to_owned(),
        "postgres://127.0.0.1/x".to_owned(),
    )];
    all.extend(vars(
        "rediss://localhost:1",
        Some(std::path::Path::new("/nonexistent.pem")),
    ));
    let config =
        shared::config::Config::from_vars(shared::config::Function::Health, all).expect("config");
    let err = shared::kv::Kv::from_config(&config.redis).expect_err("unreadable");
    assert!(err.to_string().contains("REDIS_TLS_CA_FILE"), "{err}");
}

fn rest_vars(url: &str, ca: Option<&std::path::Path>, prefix: &str) -> Vec<(String, String)> {
    let mut vars = vec![
        ("UPSTASH_REDIS_REST_URL".to_owned(), url.to_owned()),
        ("UPSTASH_REDIS_REST_TOKEN".to_owned(), REST_TOKEN.to_owned()),
        ("REDIS_CONNECT_TIMEOUT_SECS".to_owned(), "1".to_owned()),
        ("REDIS_KEY_PREFIX".to_owned(), prefix.to_owned()),
    ];
    if let Some(ca) = ca {
        vars.push(("REDIS_TLS_CA_FILE".to_owned(), ca.display().to_string()));
    }
    vars
}

#[tokio::test]
async fn rest_over_https_trusts_the_ca_in_redis_tls_ca_file() {
    shared::install_crypto_provider();
    let certs = CertDir::generate();
    let emulator = UpstashEmulator::start_tls(&redis_url(), REST_TOKEN, &certs.files())
        .await
        .expect("HTTPS emulator");
    assert!(emulator.url().starts_with("https://"), "{}", emulator.url());
    let prefix = TestPrefix::new();
    let vars = rest_vars(&emulator.url(), Some(&certs.ca_path()), &prefix.prefix);
    let kv = kv_from(&vars);
    assert_eq!(kv.backend(), "rest");
    kv.ping().await.expect("ping over HTTPS");
    kv.set("blob", &[0xff, 0, 7], None)
        .await
        .expect("binary set");
    assert_eq!(kv.get("blob").await.expect("get"), Some(vec![0xff, 0, 7]));
    let limiter = shared::limits::RateLimiter::new(
        kv,
        shared::config::RateLimitConfig {
            ocr_per_min: 1,
            quiz_per_min: 1,
            fail_open: false,
        },
    );
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
async fn rest_over_https_refuses_another_ca_fast_and_names_the_certificate() {
    shared::install_crypto_provider();
    let certs = CertDir::generate();
    let emulator = UpstashEmulator::start_tls(&redis_url(), REST_TOKEN, &certs.files())
        .await
        .expect("HTTPS emulator");
    let wrong = CertDir::generate();
    for ca in [Some(wrong.ca_path()), None] {
        let kv = kv_from(&rest_vars(&emulator.url(), ca.as_deref(), "untrusted:"));
        let started = Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(10), kv.ping())
            .await
            .expect("must not hang")
            .expect_err("an untrusted certificate");
        assert!(started.elapsed() < Duration::from_secs(3), "fails fast");
        let text = err.to_string();
        assert!(matches!(err, KvError::Unavailable(_)), "{err:?}");
        assert!(text.contains("certificate"), "says why: {text}");
        assert!(
            text.contains("REDIS_TLS_CA_FILE"),
            "says what to set: {text}"
        );
        assert!(
            !text.contains(&emulator.addr().port().to_string()),
            "{text}"
        );
    }
}
