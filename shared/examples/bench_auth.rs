//! Authentication benchmark (docs/benchmarks.md, "Auth"): requests/s through
//! one authenticated route (`GET /v1/me`, the `AuthUser` extractor and
//! nothing else) with sessions off and on, rounds interleaved, medians
//! reported; the median latency of one request at a time; and the round trips
//! each request costs: Redis (counted at the transport) and Postgres
//! (transactions committed in the benchmark's own database, from
//! `pg_stat_database`). Real local Postgres and Redis.
//!
//! `cargo run --release -p folio-shared --example bench_auth -- [rounds] [seconds] [concurrency]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::routing::get;
use folio_testing::{TEST_JWT_SECRET, TestDb, TestPrefix, test_vars};
use shared::AppState;
use shared::auth::sessions::{Clock, Sessions};
use shared::auth::{AuthUser, Authenticator};
use shared::config::{Config, Function, RedisBackend};
use shared::kv::{Cmd, Kv, KvError, Reply, TcpTransport, Transport};
use tower::ServiceExt;

const USERS: usize = 64;

/// Counts round trips to Redis.
struct Counting {
    inner: Arc<dyn Transport>,
    calls: AtomicU64,
}

#[async_trait]
impl Transport for Counting {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.pipeline(cmds, atomic).await
    }
}

struct Setup {
    router: Router,
    redis_calls: Arc<Counting>,
}

fn setup(db: &TestDb, prefix: &str, sessions_on: bool) -> anyhow::Result<Setup> {
    let enabled = if sessions_on { "true" } else { "false" };
    let vars = test_vars(&db.url, prefix, &[("SESSIONS_ENABLED", enabled)]);
    let config = Config::from_vars(Function::Quiz, vars)?;
    let RedisBackend::Tcp { url } = &config.redis.backend else {
        anyhow::bail!("the benchmark needs REDIS_URL");
    };
    let counting = Arc::new(Counting {
        inner: Arc::new(TcpTransport::new(url, &config.redis)?),
        calls: AtomicU64::new(0),
    });
    let mut state = AppState::new(config)?;
    state.kv = Kv::with_transport(counting.clone(), prefix);
    let jwt = state
        .config
        .jwt
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no jwt"))?;
    let sessions = sessions_on.then(|| {
        Arc::new(Sessions::new(
            state.db.clone(),
            state.kv.clone(),
            state.config.sessions.clone(),
            Clock::system(),
        ))
    });
    state.auth = Some(Arc::new(
        Authenticator::new(jwt)?.with_sessions(&state.config.sessions, sessions),
    ));
    let router = Router::new()
        .route("/v1/me", get(|u: AuthUser| async move { u.user_id }))
        .with_state(state);
    Ok(Setup {
        router,
        redis_calls: counting,
    })
}

fn tokens() -> Vec<String> {
    let now = jsonwebtoken::get_current_timestamp();
    (0..USERS)
        .map(|i| {
            let claims = serde_json::json!({"sub": format!("user-{i}"), "sid": format!("sess-{i}"),
                "iat": now, "exp": now + 3600});
            jsonwebtoken::encode(
                &jsonwebtoken::Header::default(),
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
            )
            .expect("sign")
        })
        .collect()
}

async fn call(router: &Router, token: &str) {
    let request = http::Request::get("/v1/me")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(
        response.status(),
        200,
        "the benchmark's token must be accepted"
    );
}

async fn throughput(
    router: &Router,
    tokens: &Arc<Vec<String>>,
    concurrency: usize,
    seconds: f64,
) -> (f64, u64) {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks = (0..concurrency).map(|w| {
        let (router, tokens) = (router.clone(), tokens.clone());
        tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                call(&router, &tokens[(w + done as usize) % tokens.len()]).await;
                done += 1;
            }
            done
        })
    });
    let total: u64 = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap_or(0))
        .sum();
    (total as f64 / started.elapsed().as_secs_f64(), total)
}

async fn latency(router: &Router, tokens: &[String], reps: usize) -> Duration {
    let mut times = Vec::with_capacity(reps);
    for i in 0..reps {
        let started = Instant::now();
        call(router, &tokens[i % tokens.len()]).await;
        times.push(started.elapsed());
    }
    times.sort();
    times[reps / 2]
}

async fn commits(db: &TestDb) -> anyhow::Result<i64> {
    // Statistics reach pg_stat_database within a second of a backend going idle.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let admin = sqlx::PgPool::connect(&folio_testing::database_url()).await?;
    let n = sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = $1")
        .bind(&db.name)
        .fetch_one(&admin)
        .await?;
    admin.close().await;
    Ok(n)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(8);
    shared::install_crypto_provider();
    let db = TestDb::new().await;
    let prefix = TestPrefix::new();
    let tokens = Arc::new(tokens());
    let off = setup(&db, &prefix.prefix, false)?;
    let on = setup(&db, &prefix.prefix, true)?;
    // First sight of each session: the Postgres path, once.
    for t in tokens.iter() {
        call(&on.router, t).await;
        call(&off.router, t).await;
    }
    let (mut rate_off, mut rate_on) = (Vec::new(), Vec::new());
    let mut per_request = Vec::new();
    for _ in 0..rounds {
        rate_off.push(
            throughput(&off.router, &tokens, concurrency, seconds)
                .await
                .0,
        );
        let (redis_before, pg_before) = (
            on.redis_calls.calls.load(Ordering::Relaxed),
            commits(&db).await?,
        );
        let (rate, n) = throughput(&on.router, &tokens, concurrency, seconds).await;
        let (redis_after, pg_after) = (
            on.redis_calls.calls.load(Ordering::Relaxed),
            commits(&db).await?,
        );
        rate_on.push(rate);
        // The commits() probe itself is one transaction in another database: not counted.
        per_request.push((
            (redis_after - redis_before) as f64 / n as f64,
            (pg_after - pg_before) as f64 / n as f64,
        ));
    }
    let lat_off = latency(&off.router, &tokens, 2000).await;
    let lat_on = latency(&on.router, &tokens, 2000).await;
    println!(
        "authenticated GET /v1/me, {USERS} users, concurrency {concurrency}, {rounds} rounds x {seconds} s"
    );
    println!(
        "sessions off: {:>8.0} req/s (median)  one at a time: p50 {:?}",
        median(rate_off),
        lat_off
    );
    println!(
        "sessions on : {:>8.0} req/s (median)  one at a time: p50 {:?}",
        median(rate_on),
        lat_on
    );
    for (i, (redis, pg)) in per_request.iter().enumerate() {
        println!(
            "round {i}: sessions on: {redis:.3} Redis round trips and {pg:.4} Postgres transactions per request"
        );
    }
    println!(
        "sessions off: {} Redis round trips in total",
        off.redis_calls.calls.load(Ordering::Relaxed)
    );
    Ok(())
}
