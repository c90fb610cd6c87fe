//! Reaching Postgres as deployments do: by a non-loopback name in plaintext
//! when the operator allows it (compose's `postgres:5432`), and a database
//! that comes up late (a suspended Neon compute waking).

use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port};
use shared::testing::ScratchPostgres;

use crate::World;

async fn readiness(vars: &[(String, String)]) -> (u16, serde_json::Value) {
    let mut health = Running::start("health", free_port(), vars, &[]);
    health.wait_ready().await;
    let r = reqwest::get(health.url("/health/ready"))
        .await
        .expect("ready");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn a_plaintext_postgres_by_a_non_loopback_name_is_reached_only_when_insecure_transport_is_allowed()
 {
    let Ok(host) = std::env::var("FOLIO_LAN_PG_HOST") else {
        eprintln!("skipped: FOLIO_LAN_PG_HOST is unset (scripts/services.sh sets it as root)");
        return;
    };
    let world = World::new().await;
    // A server with no TLS at all, like the official image on compose's network.
    let scratch = ScratchPostgres::create();
    scratch.start();
    let url = format!("postgres://postgres@{host}:{}/postgres", scratch.port);

    let allowed = world.vars(&[("DATABASE_URL", &url), ("ALLOW_INSECURE_TRANSPORT", "true")]);
    let config =
        shared::config::Config::from_vars(shared::config::Function::Health, allowed.clone())
            .expect("config");
    let version = shared::db::migrate(&config.database, Duration::from_secs(30))
        .await
        .expect("migrations reach it by name in plaintext");
    let (status, body) = readiness(&allowed).await;
    assert_eq!(body["checks"]["postgres"]["ok"], true, "{body}");
    assert_eq!(
        body["checks"]["postgres"]["schema_version"], version,
        "{body}"
    );
    assert_ne!(status, 503, "{body}");

    // Without the operator's word the name gets verify-full, which a server
    // without TLS cannot offer.
    let refused = world.vars(&[("DATABASE_URL", &url)]);
    let (status, body) = readiness(&refused).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["postgres"]["ok"], false, "{body}");
    assert!(
        !body.to_string().contains(&host),
        "no host in the answer: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_while_postgres_starts_late_get_503_or_an_answer_never_500() {
    let world = World::new().await;
    let scratch = ScratchPostgres::create();
    scratch.start();
    let url = scratch.url("postgres");
    // Its schema first, then down: the function starts against a dead port.
    let migrate_vars = world.vars(&[("DATABASE_URL", &url)]);
    let config = shared::config::Config::from_vars(shared::config::Function::Health, migrate_vars)
        .expect("config");
    shared::db::migrate(&config.database, Duration::from_secs(30))
        .await
        .expect("migrate the scratch server");
    scratch.stop();

    let vars = world.vars(&[
        ("DATABASE_URL", &url),
        ("DATABASE_ACQUIRE_TIMEOUT_SECS", "4"),
        ("RUST_LOG", "warn"),
    ]);
    let mut quiz = Running::start("quiz", free_port(), &vars, &[]);
    quiz.wait_ready().await;
    let token = shared::auth::mint_hs256(
        shared::testing::TEST_JWT_SECRET,
        "early-bird",
        Duration::from_secs(3600),
    )
    .expect("token");
    let client = reqwest::Client::new();
    let ask = || {
        let request = client
            .get(quiz.url(&format!("/v1/quizzes/{}", uuid::Uuid::new_v4())))
            .bearer_auth(&token);
        async move {
            let started = Instant::now();
            let r = request.send().await.expect("an answer, not a hang");
            let retry_after = r.headers().get("retry-after").is_some();
            (r.status().as_u16(), retry_after, started.elapsed())
        }
    };

    // Down for longer than the acquire timeout: 503 with Retry-After.
    let (status, retry_after, took) = ask().await;
    assert_eq!(status, 503, "a database that stays down is a 503");
    assert!(retry_after, "503 carries Retry-After");
    assert!(took < Duration::from_secs(10), "bounded: {took:?}");

    // Requests in flight while it comes up a second later: retried, answered.
    let wave: Vec<_> = (0..8).map(|_| tokio::spawn(ask())).collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = tokio::task::spawn_blocking(move || {
        scratch.start();
        scratch
    });
    let mut answered = 0;
    for request in wave {
        let (status, retry_after, took) = request.await.expect("task");
        assert!(
            status == 404 || (status == 503 && retry_after),
            "got {status} (never 500); log:\n{}",
            quiz.output()
        );
        assert!(took < Duration::from_secs(10), "bounded: {took:?}");
        answered += usize::from(status == 404);
    }
    let scratch = started.await.expect("started");
    assert!(
        answered > 0,
        "requests waiting for the wake were answered after it"
    );
    // And once up, every request is answered.
    assert_eq!(ask().await.0, 404);
    drop(scratch);
}
