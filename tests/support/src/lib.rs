//! `folio-testing`: test support, a dev-only crate (the functions never link it).
//!
//! Used by every crate's tests and benchmarks: a fresh
//! Postgres database per test, cloned from a migrated template and dropped
//! afterwards, and a Redis key prefix per test whose keys are deleted
//! afterwards. Both talk to the real servers named by `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` (defaults: the local ones on their standard ports).
//!
//! The pooled leg (`FOLIO_TEST_POOLED=1`, set by `scripts/test.sh`) hands the
//! functions their database through the PgBouncer at `TEST_POOLER_URL`
//! instead (with `DATABASE_POOLER=transaction`); admin work and the tests'
//! own checks (`TestDb::pool`) still go direct.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

use shared::config::{Config, Function};
use shared::kv::Kv;
use shared::state::AppState;

/// An HS256 key the test configurations share.
pub const TEST_JWT_SECRET: &str = "folio-test-secret-folio-test-secret!";
/// The tick token the test configurations share.
pub const TEST_TICK_TOKEN: &str = "folio-test-tick-token";

/// The server tests create their databases on (an admin connection URL).
pub fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis tests use (prefix-isolated, so a shared server is fine).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn admin_options() -> PgConnectOptions {
    database_url()
        .parse::<PgConnectOptions>()
        .expect("TEST_DATABASE_URL must be a postgres URL")
        .log_statements(tracing::log::LevelFilter::Trace)
}

/// A database of its own for one test; dropped (forcibly) when this is.
pub struct TestDb {
    pub name: String,
    /// What the functions under test connect to: direct, or through the
    /// pooler in the pooled leg.
    pub url: String,
    /// The same database, always direct (admin work, assertions).
    pub direct_url: String,
    /// A direct pool for the test's own checks.
    pub pool: PgPool,
}

impl TestDb {
    /// Clones the migrated template into `folio_test_<uuid>`.
    pub async fn new() -> TestDb {
        let template = ensure_template().await;
        let name = format!("folio_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_options()
            .connect()
            .await
            .expect("connect to the test Postgres");
        // Copies from one template can collide ("source database is being
        // accessed by other users") for a moment; retry those.
        let mut attempts = 0;
        loop {
            let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
            match admin.execute(AssertSqlSafe(sql)).await {
                Ok(_) => break,
                Err(e) if attempts < 50 && e.to_string().contains("being accessed") => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50 + 20 * attempts)).await;
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        admin.close().await.ok();
        let options = admin_options().database(&name);
        let direct_url = database_url_for(&name);
        let url = if pooled_leg() {
            // This process's own calls into `shared` go through the pooler too.
            shared::db::use_unnamed_statements();
            pooler_url_for(&name)
        } else {
            direct_url.clone()
        };
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(options);
        TestDb {
            name,
            url,
            direct_url,
            pool,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // The pool's connections belong to the test's runtime, which is blocked
        // here: closing them from another runtime could wait forever. FORCE
        // ends them server-side instead. A runtime of our own runs the drop.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = admin_options().connect().await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute(AssertSqlSafe(sql)).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// `TEST_DATABASE_URL` with its database swapped for `name`.
pub fn database_url_for(name: &str) -> String {
    let mut url = url::Url::parse(&database_url()).expect("TEST_DATABASE_URL must be a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Creates `folio_tpl_<hash of the migrations>` once per machine (guarded by
/// an advisory lock, since test processes run in parallel) and returns its name.
async fn ensure_template() -> String {
    let mut hasher = Sha256::new();
    for m in shared::db::MIGRATOR.iter() {
        hasher.update(m.version.to_le_bytes());
        hasher.update(&*m.checksum);
    }
    let digest = hex::encode(hasher.finalize());
    let template = format!("folio_tpl_{}", &digest[..16]);

    let mut admin = admin_options()
        .connect()
        .await
        .expect("connect to the test Postgres");
    sqlx::query("SELECT pg_advisory_lock(4242)")
        .execute(&mut admin)
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("look up template");
    if !exists {
        let building = format!("{template}_building");
        let _ = admin
            .execute(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
            )))
            .await;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{building}\"")))
            .await
            .expect("create template");
        let mut conn = admin_options()
            .database(&building)
            .connect()
            .await
            .expect("connect to template");
        shared::db::MIGRATOR
            .run(&mut conn)
            .await
            .expect("migrate template");
        conn.close().await.ok();
        // Renaming last means a half-built template is never used.
        admin
            .execute(AssertSqlSafe(format!(
                "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
            )))
            .await
            .expect("publish template");
    }
    let _ = sqlx::query("SELECT pg_advisory_unlock(4242)")
        .execute(&mut admin)
        .await;
    admin.close().await.ok();
    template
}

/// A Redis key prefix for one test; its keys are deleted when this is dropped.
pub struct TestPrefix {
    pub prefix: String,
}

impl TestPrefix {
    pub fn new() -> TestPrefix {
        TestPrefix {
            prefix: format!("test:{}:", uuid::Uuid::new_v4().simple()),
        }
    }
}

impl Default for TestPrefix {
    fn default() -> Self {
        TestPrefix::new()
    }
}

impl Drop for TestPrefix {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(redis_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
            return;
        };
        let pattern = format!("{}*", self.prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// Environment for a test configuration: the test database and Redis (by
/// prefix), the test JWT key and tick token. `extra` overrides.
pub fn test_vars(db_url: &str, prefix: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db_url.into()),
        ("REDIS_URL".into(), redis_url()),
        ("REDIS_KEY_PREFIX".into(), prefix.into()),
        ("JWT_SECRET_KEY".into(), TEST_JWT_SECRET.into()),
        ("WORKER_TICK_TOKEN".into(), TEST_TICK_TOKEN.into()),
        ("READINESS_TIMEOUT_SECS".into(), "1.5".into()),
    ];
    if pooled_leg() {
        vars.push(("DATABASE_POOLER".into(), "transaction".into()));
    }
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        vars.push(((*k).into(), (*v).into()));
    }
    vars
}

/// One test's whole world: its database, its Redis prefix, and the real state
/// and router of a function built from a test configuration.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub db: Arc<TestDb>,
    pub prefix: Arc<TestPrefix>,
    /// The test's own SQL: always direct (in the pooled leg `state.db` goes
    /// through the pooler, where a lone statement outside a transaction is
    /// not safe), built like `state.db` on the test's runtime.
    pub sql: PgPool,
}

impl TestApp {
    /// Builds `routes` for `function` exactly as `main` would, minus the socket.
    pub async fn spawn(
        function: Function,
        extra: &[(&str, &str)],
        routes: impl FnOnce(AppState) -> Router,
    ) -> TestApp {
        shared::install_crypto_provider();
        let db = Arc::new(TestDb::new().await);
        let prefix = Arc::new(TestPrefix::new());
        let config = Config::from_vars(function, test_vars(&db.url, &prefix.prefix, extra))
            .expect("test configuration");
        let state = AppState::new(config).expect("test state");
        let sql = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy_with(admin_options().database(&db.name));
        let router = shared::serve::app(&state.config, routes(state.clone()));
        TestApp {
            state,
            router,
            db,
            prefix,
            sql,
        }
    }

    pub fn kv(&self) -> &Kv {
        &self.state.kv
    }

    /// A valid token for `sub`, one hour long.
    pub fn token(&self, sub: &str) -> String {
        shared::auth::mint_hs256(TEST_JWT_SECRET, sub, Duration::from_secs(3600))
            .expect("mint token")
    }

    /// Sends one request through the real router (no socket) and returns the
    /// status, headers and body parsed as JSON (`Null` for an empty body).
    pub async fn call(&self, request: http::Request<axum::body::Body>) -> TestResponse {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
        };
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            json,
            bytes: bytes.to_vec(),
        }
    }

    /// `GET uri`, with a bearer token when `token` is given.
    pub async fn get(&self, uri: &str, token: Option<&str>) -> TestResponse {
        let mut builder = http::Request::get(uri);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        self.call(builder.body(axum::body::Body::empty()).expect("request"))
            .await
    }

    /// `POST uri` with a JSON body.
    pub async fn post_json(
        &self,
        uri: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> TestResponse {
        let mut builder = http::Request::post(uri).header("content-type", "application/json");
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        let body = axum::body::Body::from(serde_json::to_vec(body).expect("json"));
        self.call(builder.body(body).expect("request")).await
    }
}

/// What `TestApp::call` returns.
#[derive(Debug)]
pub struct TestResponse {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub json: serde_json::Value,
    pub bytes: Vec<u8>,
}

impl TestResponse {
    /// The problem `type` slug (the part after `/problems/`), if this is a problem.
    pub fn problem_slug(&self) -> Option<&str> {
        self.json["type"].as_str()?.rsplit('/').next()
    }

    /// Asserts the status and, for errors, that the body is problem+json with
    /// the given slug.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.json);
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(shared::error::PROBLEM_JSON),
            "content type; body: {}",
            self.json
        );
        assert_eq!(
            self.problem_slug(),
            Some(slug),
            "problem type; body: {}",
            self.json
        );
        assert_eq!(self.json["status"].as_u64(), Some(u64::from(status)));
    }
}
pub mod jwks_server;
// A folder module (`samples/mod.rs`) because `folio-shared`'s unit tests compile the
// same file by path, and only a `mod.rs` resolves its children the same way there.
pub mod postgres;
pub mod redis_server;
pub mod samples;
pub mod upstash;

pub use postgres::{ScratchPostgres, pooled_leg, pooler_url, pooler_url_for};

/// The PDFium the sample generator uses: the engine's own (one binding per process).
fn pdfium_library(
    configured: Option<&str>,
) -> Result<&'static pdfium_render::prelude::Pdfium, String> {
    shared::ocr::pdfium_library(configured)
}
