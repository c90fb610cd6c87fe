//! `rediss://` trust: the CA in `REDIS_TLS_CA_FILE` is trusted beside the
//! public roots; any other CA fails, and fails fast.

use std::time::{Duration, Instant};

use shared::kv::KvError;
use shared::testing::redis_server::RedisServer;

use crate::support::{CertDir, kv_from};

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
