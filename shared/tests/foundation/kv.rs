//! TCP-only failure modes; the behaviour both transports share is the
//! contract suite (`shared/tests/kv_contract`).

use std::time::{Duration, Instant};

use folio_testing::redis_url;
use shared::config::{Config, Function};
use shared::kv::{Kv, KvError};

fn kv_for(url: &str, prefix: &str) -> Kv {
    shared::install_crypto_provider();
    let config = Config::from_vars(
        Function::Health,
        [
            (
                "DATABASE_URL".to_owned(),
                "postgres://127.0.0.1/x".to_owned(),
            ),
            ("REDIS_URL".to_owned(), url.to_owned()),
            ("REDIS_KEY_PREFIX".to_owned(), prefix.to_owned()),
            ("REDIS_CONNECT_TIMEOUT_SECS".to_owned(), "0.5".to_owned()),
        ],
    )
    .expect("config");
    Kv::from_config(&config.redis).expect("kv")
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_instead_of_hanging() {
    let kv = kv_for("redis://127.0.0.1:1", "x:");
    let started = Instant::now();
    assert!(matches!(kv.ping().await, Err(KvError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn rediss_to_a_plaintext_server_times_out_instead_of_hanging() {
    let url = redis_url().replacen("redis://", "rediss://", 1);
    let kv = kv_for(&url, "x:");
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(10), kv.ping())
        .await
        .expect("must not hang");
    assert!(matches!(result, Err(KvError::Unavailable(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}
