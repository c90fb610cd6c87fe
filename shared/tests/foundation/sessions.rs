//! Sessions against the real Postgres and a Redis of the test's own (so
//! FLUSHALL and a crash touch nobody else): idle expiry on a held clock,
//! logout, logout-all seen by a second instance, durability past a flush.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use folio_testing::redis_server::RedisServer;
use folio_testing::{TEST_JWT_SECRET, TestDb, TestResponse, test_vars};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use shared::AppState;
use shared::auth::sessions::{Clock, Sessions};
use shared::auth::{AuthUser, Authenticator};
use shared::config::{Config, Function};

const MINUTE: i64 = 60_000;

struct World {
    db: Arc<TestDb>,
    redis: RedisServer,
}

impl World {
    async fn new() -> World {
        shared::install_crypto_provider();
        World {
            db: Arc::new(TestDb::new().await),
            redis: RedisServer::start().expect("a private redis-server"),
        }
    }

    /// One function instance: its own state (pools, clients) on the shared
    /// database and Redis, its sessions on `clock`.
    fn instance(&self, clock: Clock, extra: &[(&str, &str)]) -> Instance {
        let url = self.redis.url();
        let mut vars = vec![("REDIS_URL", url.as_str()), ("SESSION_MAX_AGE", "2h")];
        vars.extend_from_slice(extra);
        let config = Config::from_vars(Function::Quiz, test_vars(&self.db.url, "s:", &vars))
            .expect("config");
        let mut state = AppState::new(config).expect("state");
        let sessions = Sessions::new(
            state.db.clone(),
            state.kv.clone(),
            state.config.sessions.clone(),
            clock,
        );
        let jwt = state.config.jwt.as_ref().expect("jwt");
        let auth = Authenticator::new(jwt)
            .expect("authenticator")
            .with_sessions(&state.config.sessions, Some(Arc::new(sessions)));
        state.auth = Some(Arc::new(auth));
        let router = Router::new()
            .route("/v1/me", get(|u: AuthUser| async move { u.user_id }))
            .with_state(state.clone())
            .merge(shared::auth::sessions::routes::router(state.clone()));
        Instance { router }
    }

    fn redis_cmd(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.redis.url()).expect("client");
        let mut conn = client.get_connection().expect("connection");
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut conn).expect("command")
    }
}

struct Instance {
    router: Router,
}

impl Instance {
    async fn call(&self, method: &str, uri: &str, token: &str) -> TestResponse {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            )
            .body(axum::body::Body::empty())
            .expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            bytes: bytes.to_vec(),
        }
    }

    async fn me(&self, token: &str) -> TestResponse {
        self.call("GET", "/v1/me", token).await
    }
}

fn token(sub: &str, sid: &str, iat_ms: i64) -> String {
    let claims = json!({"sub": sub, "sid": sid, "iat": iat_ms / 1000,
        "exp": jsonwebtoken::get_current_timestamp() + 3600 * 24 * 30});
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

fn held_clock() -> (Clock, Arc<AtomicI64>) {
    Clock::manual(chrono::Utc::now().timestamp_millis())
}

#[tokio::test]
async fn a_session_idle_past_the_timeout_is_refused_with_session_expired() {
    let world = World::new().await;
    let (clock, now) = held_clock();
    let app = world.instance(clock, &[]);
    let t = token("ida", "s-idle", now.load(Ordering::SeqCst));
    assert_eq!(app.me(&t).await.status, 200);
    now.fetch_add(29 * MINUTE, Ordering::SeqCst);
    assert_eq!(app.me(&t).await.status, 200, "29 minutes idle is within 30");
    now.fetch_add(29 * MINUTE, Ordering::SeqCst);
    assert_eq!(
        app.me(&t).await.status,
        200,
        "each request restarts the idle clock"
    );
    now.fetch_add(31 * MINUTE, Ordering::SeqCst);
    let r = app.me(&t).await;
    r.assert_problem(401, "session-expired");
    assert_eq!(
        r.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn a_session_older_than_the_maximum_age_is_refused_however_active() {
    let world = World::new().await;
    let (clock, now) = held_clock();
    let app = world.instance(clock, &[]);
    let t = token("max", "s-old", now.load(Ordering::SeqCst));
    for _ in 0..6 {
        assert_eq!(app.me(&t).await.status, 200);
        now.fetch_add(20 * MINUTE, Ordering::SeqCst);
    }
    // 120 minutes after it began: SESSION_MAX_AGE is 2h in these tests.
    now.fetch_add(MINUTE, Ordering::SeqCst);
    app.me(&t).await.assert_problem(401, "session-expired");
}

#[tokio::test]
async fn logout_ends_the_callers_session_only_and_is_recorded_in_postgres() {
    let world = World::new().await;
    let app = world.instance(Clock::system(), &[]);
    let now = chrono::Utc::now().timestamp_millis();
    let (phone, laptop) = (token("lou", "phone", now), token("lou", "laptop", now));
    assert_eq!(app.me(&phone).await.status, 200);
    assert_eq!(app.me(&laptop).await.status, 200);
    let listed = app.call("GET", "/v1/sessions", &phone).await;
    assert_eq!(listed.status, 200);
    let sessions = listed.json["sessions"]
        .as_array()
        .expect("sessions")
        .clone();
    assert_eq!(sessions.len(), 2);
    let phone_row = sessions
        .iter()
        .find(|s| s["session_id"] == "phone")
        .expect("phone");
    assert_eq!(phone_row["current"], true);
    assert_eq!(phone_row["device"], "Firefox on Linux");
    assert_eq!(
        app.call("POST", "/v1/sessions/logout", &phone).await.status,
        204
    );
    app.me(&phone).await.assert_problem(401, "session-expired");
    assert_eq!(app.me(&laptop).await.status, 200);
    let revoked: bool = sqlx::query_scalar(
        "SELECT revoked_at IS NOT NULL FROM auth_sessions WHERE user_id = 'lou' AND session_id = 'phone'",
    )
    .fetch_one(&world.db.pool)
    .await
    .expect("row");
    assert!(revoked);
    let listed = app.call("GET", "/v1/sessions", &laptop).await;
    assert_eq!(listed.json["sessions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn logout_all_on_one_instance_ends_every_session_on_another_within_a_second() {
    let world = World::new().await;
    let (a, b) = (
        world.instance(Clock::system(), &[]),
        world.instance(Clock::system(), &[]),
    );
    let start = chrono::Utc::now().timestamp_millis() - 5_000;
    let tokens: Vec<String> = (0..3)
        .map(|i| token("al", &format!("dev-{i}"), start))
        .collect();
    for t in &tokens {
        assert_eq!(b.me(t).await.status, 200);
    }
    assert_eq!(
        a.call("POST", "/v1/sessions/logout-all", &tokens[0])
            .await
            .status,
        204
    );
    let ended = Instant::now();
    for t in &tokens {
        b.me(t).await.assert_problem(401, "session-expired");
    }
    assert!(
        ended.elapsed() < Duration::from_secs(1),
        "{:?}",
        ended.elapsed()
    );
    let marks: i64 =
        sqlx::query_scalar("SELECT count(*) FROM auth_user_marks WHERE user_id = 'al'")
            .fetch_one(&world.db.pool)
            .await
            .expect("count");
    assert_eq!(marks, 1, "one row, however many sessions");
    // A login after the mark is a new session and works everywhere.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = token("al", "dev-new", chrono::Utc::now().timestamp_millis());
    assert_eq!(b.me(&fresh).await.status, 200);
    assert_eq!(a.me(&fresh).await.status, 200);
}

#[tokio::test]
async fn a_revoked_session_stays_revoked_after_redis_loses_everything() {
    let world = World::new().await;
    let app = world.instance(Clock::system(), &[]);
    let now = chrono::Utc::now().timestamp_millis() - 2_000;
    let (gone, kept, all) = (
        token("fl", "gone", now),
        token("fl", "kept", now),
        token("fa", "x", now),
    );
    for t in [&gone, &kept, &all] {
        assert_eq!(app.me(t).await.status, 200);
    }
    assert_eq!(
        app.call("POST", "/v1/sessions/logout", &gone).await.status,
        204
    );
    assert_eq!(
        app.call("POST", "/v1/sessions/logout-all", &all)
            .await
            .status,
        204
    );
    world.redis_cmd(&["FLUSHALL"]);
    app.me(&gone).await.assert_problem(401, "session-expired");
    app.me(&all).await.assert_problem(401, "session-expired");
    assert_eq!(app.me(&kept).await.status, 200);
    // Postgres's answer is cached again: the next check is Redis alone.
    let keys = world.redis_cmd(&["KEYS", "s:auth:*"]);
    assert!(
        matches!(&keys, redis::Value::Array(k) if k.len() >= 4),
        "{keys:?}"
    );
    app.me(&gone).await.assert_problem(401, "session-expired");
}

#[tokio::test]
async fn with_redis_down_revocations_still_hold_and_idle_tracking_fails_open() {
    let mut world = World::new().await;
    let app = world.instance(
        Clock::system(),
        &[
            ("REDIS_RESPONSE_TIMEOUT_SECS", "0.3"),
            ("REDIS_CONNECT_TIMEOUT_SECS", "0.3"),
        ],
    );
    let now = chrono::Utc::now().timestamp_millis() - 2_000;
    let (gone, kept) = (token("dn", "gone", now), token("dn", "kept", now));
    assert_eq!(app.me(&kept).await.status, 200);
    assert_eq!(
        app.call("POST", "/v1/sessions/logout", &gone).await.status,
        204
    );
    world.redis.kill();
    app.me(&gone).await.assert_problem(401, "session-expired");
    assert_eq!(
        app.me(&kept).await.status,
        200,
        "fail-open for idle tracking"
    );
    let strict = world.instance(
        Clock::system(),
        &[
            ("SESSION_IDLE_FAIL_OPEN", "false"),
            ("REDIS_CONNECT_TIMEOUT_SECS", "0.3"),
        ],
    );
    strict.me(&kept).await.assert_problem(503, "unavailable");
}

#[tokio::test]
async fn last_seen_reaches_postgres_at_most_once_per_persist_interval() {
    let world = World::new().await;
    let (clock, now) = held_clock();
    let app = world.instance(clock, &[("SESSION_PERSIST_EVERY", "5m")]);
    let t = token("ps", "s", now.load(Ordering::SeqCst));
    let pg_last = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "SELECT last_seen FROM auth_sessions WHERE user_id = 'ps'",
        )
        .fetch_one(&world.db.pool)
        .await
        .expect("row")
        .timestamp_millis()
    };
    assert_eq!(app.me(&t).await.status, 200);
    let first = pg_last().await;
    for _ in 0..4 {
        now.fetch_add(MINUTE, Ordering::SeqCst);
        assert_eq!(app.me(&t).await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        pg_last().await,
        first,
        "four requests in four minutes: no write"
    );
    now.fetch_add(MINUTE, Ordering::SeqCst);
    assert_eq!(app.me(&t).await.status, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        pg_last().await,
        now.load(Ordering::SeqCst),
        "the fifth minute writes once"
    );
}

#[tokio::test]
async fn tokens_without_a_session_claim_pass_untracked_and_cannot_log_out() {
    let world = World::new().await;
    let app = world.instance(Clock::system(), &[]);
    let plain =
        shared::auth::mint_hs256(TEST_JWT_SECRET, "np", Duration::from_secs(60)).expect("mint");
    assert_eq!(app.me(&plain).await.status, 200);
    app.call("POST", "/v1/sessions/logout", &plain)
        .await
        .assert_problem(422, "no-session");
    let strict = world.instance(Clock::system(), &[("SESSIONS_REQUIRED", "true")]);
    strict.me(&plain).await.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn with_sessions_disabled_the_session_routes_say_so() {
    let world = World::new().await;
    let url = world.redis.url();
    let vars = [("REDIS_URL", url.as_str()), ("SESSIONS_ENABLED", "false")];
    let config =
        Config::from_vars(Function::Quiz, test_vars(&world.db.url, "s:", &vars)).expect("config");
    let state = AppState::new(config).expect("state");
    let app = Instance {
        router: shared::auth::sessions::routes::router(state),
    };
    let t = token("off", "s", chrono::Utc::now().timestamp_millis());
    app.call("GET", "/v1/sessions", &t)
        .await
        .assert_problem(422, "sessions-disabled");
}
