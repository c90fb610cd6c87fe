//! Redis dies mid-run: answers turn "degraded", never into 5xx (unless the
//! operator chose `RATE_LIMIT_FAIL_OPEN=false`), and recover when it returns.

use folio_testing::TestPrefix;
use folio_testing::redis_server::RedisServer;
use folio_testing::upstash::UpstashEmulator;

use crate::limiter::{call, router, state};
use crate::support::REST_TOKEN;

async fn run(server: &mut RedisServer, vars: &[(&str, &str)]) {
    let prefix = TestPrefix::new();
    let mut all = vec![
        ("RATE_LIMIT_QUIZ_PER_MIN", "100"),
        ("REDIS_CONNECT_TIMEOUT_SECS", "0.5"),
        ("REDIS_RESPONSE_TIMEOUT_SECS", "0.5"),
    ];
    all.extend_from_slice(vars);
    let app = router(state(&prefix, &all));
    let miss = call(&app, "/v1/demo/1", Some("alice")).await;
    assert_eq!(
        (miss.status.as_u16(), miss.json["cache"].as_str()),
        (200, Some("miss"))
    );
    let hit = call(&app, "/v1/demo/1", Some("alice")).await;
    assert_eq!(hit.json["cache"], "hit");
    assert!(hit.headers.contains_key("ratelimit-remaining"));

    server.kill();
    for id in [1, 2] {
        let answer = call(&app, &format!("/v1/demo/{id}"), Some("alice")).await;
        assert_eq!(answer.status, 200, "{}", answer.json);
        assert_eq!(answer.json["cache"], "degraded");
        assert_eq!(answer.json["value"], format!("value {id}"));
        assert!(
            !answer.headers.contains_key("ratelimit-remaining"),
            "unchecked"
        );
    }

    let closed = router(state(
        &prefix,
        &[vars, &[("RATE_LIMIT_FAIL_OPEN", "false")]].concat(),
    ));
    let refused = call(&closed, "/v1/demo/1", Some("alice")).await;
    assert_eq!(refused.status, 503, "fail closed, as configured");
    assert!(refused.headers.contains_key("retry-after"));

    server.restart().expect("restart");
    let mut back = None;
    for _ in 0..50 {
        let answer = call(&app, "/v1/demo/3", Some("alice")).await;
        // The circuit breaker may still refuse the limiter's call of the
        // request that sets off its probe: wait for a fully served answer.
        if answer.json["cache"] != "degraded" && answer.headers.contains_key("ratelimit-remaining")
        {
            back = Some(answer);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let back = back.expect("recovers once redis is back");
    assert!(back.headers.contains_key("ratelimit-remaining"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_killing_redis_mid_run_turns_answers_degraded_not_5xx() {
    let mut server = RedisServer::start().expect("redis-server");
    let url = server.url();
    run(&mut server, &[("REDIS_URL", &url)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_killing_redis_mid_run_turns_answers_degraded_not_5xx() {
    shared::install_crypto_provider();
    let mut server = RedisServer::start().expect("redis-server");
    let emulator = UpstashEmulator::start(&server.url(), REST_TOKEN)
        .await
        .expect("emulator");
    let url = emulator.url();
    run(
        &mut server,
        &[
            ("REDIS_URL", ""),
            ("UPSTASH_REDIS_REST_URL", &url),
            ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN),
        ],
    )
    .await;
}
