//! Reaching Postgres as deployments do: by a non-loopback name in plaintext
//! when the operator allows it (compose's `postgres:5432`), and a database
//! that comes up late (a suspended Neon compute waking).

use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port};
use folio_testing::ScratchPostgres;

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
        folio_testing::TEST_JWT_SECRET,
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

/// A stand-in for Neon's proxy in front of the test database: while `waking`
/// it answers every connection's start-up with Neon's "Couldn't connect to
/// compute node" (SQLSTATE XX000, which sqlx does not retry by itself); after
/// that it relays bytes to the real server. Returns its port.
async fn waking_proxy(upstream: std::net::SocketAddr, waking: Duration) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let until = Instant::now() + waking;
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                if Instant::now() >= until {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                    return;
                }
                // SSLRequest (refused with 'N'), then the start-up message.
                loop {
                    let Ok(len) = client.read_i32().await else {
                        return;
                    };
                    let mut rest = vec![0; usize::try_from(len).unwrap_or(8).saturating_sub(4)];
                    if client.read_exact(&mut rest).await.is_err() {
                        return;
                    }
                    if rest.get(..4) == Some(&80_877_103i32.to_be_bytes()[..]) {
                        let _ = client.write_all(b"N").await;
                        continue;
                    }
                    break;
                }
                let mut fields = Vec::new();
                for (tag, value) in [
                    (b'S', "FATAL"),
                    (b'V', "FATAL"),
                    (b'C', "XX000"),
                    (b'M', "Couldn't connect to compute node"),
                ] {
                    fields.push(tag);
                    fields.extend_from_slice(value.as_bytes());
                    fields.push(0);
                }
                fields.push(0);
                let mut message = vec![b'E'];
                message.extend_from_slice(&(fields.len() as i32 + 4).to_be_bytes());
                message.extend_from_slice(&fields);
                let _ = client.write_all(&message).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neon_saying_the_compute_is_waking_is_retried_then_answered_or_503_never_500() {
    let world = World::new().await;
    let direct = reqwest::Url::parse(&world.db.direct_url).expect("url");
    let upstream = format!(
        "{}:{}",
        direct.host_str().expect("host"),
        direct.port().unwrap_or(5432)
    );
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let token = shared::auth::mint_hs256(
        folio_testing::TEST_JWT_SECRET,
        "early-bird",
        Duration::from_secs(3600),
    )
    .expect("token");
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    // Wakes within the acquire timeout: answered; never wakes in time: 503.
    for (waking, acquire) in [
        (Duration::from_millis(1500), "4"),
        (Duration::from_secs(60), "1.5"),
    ] {
        let port = waking_proxy(upstream, waking).await;
        let url = format!("postgres://postgres@127.0.0.1:{port}{}", direct.path());
        let vars = world.vars(&[
            ("DATABASE_URL", &url),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS", acquire),
            ("RUST_LOG", "warn"),
        ]);
        let mut quiz = Running::start("quiz", free_port(), &vars, &[]);
        quiz.wait_ready().await;
        let started = Instant::now();
        let r = client
            .get(quiz.url(&format!("/v1/quizzes/{}", uuid::Uuid::new_v4())))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer, not a hang");
        assert!(started.elapsed() < Duration::from_secs(10), "bounded");
        answers.push((
            r.status().as_u16(),
            r.headers().get("retry-after").is_some(),
        ));
    }
    assert_eq!(
        answers[0],
        (404, false),
        "retried until the compute woke, then answered"
    );
    assert_eq!(
        answers[1],
        (503, true),
        "503 with Retry-After when it does not wake in time"
    );
}
