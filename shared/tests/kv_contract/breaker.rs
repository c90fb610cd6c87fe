//! The circuit breaker on every transport: a Redis that accepts connections
//! but never answers (a throwaway `redis-server` stopped with SIGSTOP) costs
//! a few calls their timeout, then none; it closes once Redis answers again.

use std::time::{Duration, Instant};

use folio_testing::TestPrefix;
use folio_testing::redis_server::RedisServer;
use folio_testing::upstash::UpstashEmulator;
use shared::kv::{BreakerState, Kv};

use crate::support::{CertDir, REST_TOKEN, kv_from};

const TIMEOUT_VARS: [(&str, &str); 4] = [
    ("REDIS_RESPONSE_TIMEOUT_SECS", "0.4"),
    ("REDIS_CONNECT_TIMEOUT_SECS", "0.4"),
    ("REDIS_BREAKER_FAILURES", "3"),
    ("REDIS_BREAKER_COOLDOWN_SECS", "0.5"),
];

fn build(vars: &[(&str, String)]) -> Kv {
    let prefix = TestPrefix::new();
    let mut all: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    all.extend(
        TIMEOUT_VARS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    all.push(("REDIS_KEY_PREFIX".into(), prefix.prefix.clone()));
    kv_from(&all)
}

async fn hanging_redis_costs_a_few_timeouts_then_none(server: &RedisServer, kv: &Kv) {
    kv.set("k", b"v", None)
        .await
        .expect("set while redis answers");
    assert_eq!(kv.breaker_state(), BreakerState::Closed);

    server.pause().expect("SIGSTOP");
    let mut slow = 0;
    let mut fast = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        let outcome = kv.get("k").await;
        let took = started.elapsed();
        let e = outcome.expect_err("a stopped redis answers nothing");
        assert!(e.is_unavailable(), "call {i}: {e}");
        assert!(took < Duration::from_secs(3), "call {i} took {took:?}");
        if took >= Duration::from_millis(200) {
            slow += 1;
        } else {
            fast.push(took);
        }
        // The calls are spread over more than one cooldown: the background
        // probes must not make any caller wait.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        (1..=4).contains(&slow),
        "{slow} calls waited for their timeout (expected the first few only)"
    );
    assert!(
        fast.iter().all(|t| *t < Duration::from_millis(50)),
        "{fast:?}"
    );
    assert_ne!(kv.breaker_state(), BreakerState::Closed);

    server.resume().expect("SIGCONT");
    let resumed = Instant::now();
    loop {
        if let Ok(v) = kv.get("k").await {
            assert_eq!(v, Some(b"v".to_vec()));
            break;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(5),
            "no recovery within 5 s of redis answering again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kv.breaker_state(), BreakerState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_a_hanging_redis_costs_a_few_timeouts_then_none() {
    let server = RedisServer::start().expect("redis-server");
    let kv = build(&[("REDIS_URL", server.url())]);
    hanging_redis_costs_a_few_timeouts_then_none(&server, &kv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_a_hanging_redis_costs_a_few_timeouts_then_none() {
    shared::install_crypto_provider();
    let certs = CertDir::generate();
    let server = RedisServer::start_tls(&certs.files()).expect("TLS redis-server");
    let kv = build(&[
        ("REDIS_URL", server.url()),
        ("REDIS_TLS_CA_FILE", certs.ca_path().display().to_string()),
    ]);
    hanging_redis_costs_a_few_timeouts_then_none(&server, &kv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_a_hanging_redis_costs_a_few_timeouts_then_none() {
    shared::install_crypto_provider();
    let server = RedisServer::start().expect("redis-server");
    let emulator = UpstashEmulator::start(&server.url(), REST_TOKEN)
        .await
        .expect("emulator");
    let kv = build(&[
        ("UPSTASH_REDIS_REST_URL", emulator.url()),
        ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN.to_owned()),
    ]);
    hanging_redis_costs_a_few_timeouts_then_none(&server, &kv).await;
}
