//! Reading the figures out: `GET /metrics` (Prometheus, bearer token) and,
//! with EMF, a flush after every invocation. The figures that are states
//! rather than events (queue, pool, Redis round trip) are read here, at most
//! once per `FRESH_FOR`, so a busy scraper costs Postgres one small query.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;

use super::names;
use crate::config::MetricsFormat;
use crate::state::AppState;

/// How long figures read from Postgres and Redis are reused, per format.
const FRESH_FOR_SCRAPE: Duration = Duration::from_secs(5);
const FRESH_FOR_EMF: Duration = Duration::from_secs(60);
/// The longest a read of the queue or a PING may take.
const READ_LIMIT: Duration = Duration::from_millis(800);

static LAST_READ: tokio::sync::Mutex<Option<Instant>> = tokio::sync::Mutex::const_new(None);

/// `GET /metrics` when metrics are on in Prometheus format, else nothing.
pub fn routes(state: AppState) -> Router {
    let metrics = &state.config.metrics;
    if !metrics.enabled || metrics.format != MetricsFormat::Prometheus {
        return Router::new();
    }
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, token)| token.trim().as_bytes().to_vec());
    let expected = state.config.metrics.token.as_ref();
    let allowed = match (given, expected) {
        (Some(given), Some(expected)) => {
            crate::auth::tick::tokens_match(&given, expected.expose_secret().as_bytes())
        }
        _ => false,
    };
    if !allowed {
        return crate::Error::Unauthorized("a valid metrics bearer token is required".into())
            .into_response();
    }
    let Some(handle) = super::prometheus() else {
        return crate::Error::NotFound.into_response();
    };
    observe(&state, FRESH_FOR_SCRAPE).await;
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Reads the state figures (pool, queue, Redis) unless read within `fresh_for`.
pub async fn observe(state: &AppState, fresh_for: Duration) {
    let pool = &state.db;
    let open = pool.size() as f64;
    let idle = pool.num_idle() as f64;
    metrics::gauge!(names::DB_POOL_CONNECTIONS, "state" => "open").set(open);
    metrics::gauge!(names::DB_POOL_CONNECTIONS, "state" => "idle").set(idle);
    metrics::gauge!(names::DB_POOL_CONNECTIONS, "state" => "max")
        .set(f64::from(pool.options().get_max_connections()));
    let mut last = LAST_READ.lock().await;
    if last.is_some_and(|at| at.elapsed() < fresh_for) {
        return;
    }
    *last = Some(Instant::now());
    let queue = async {
        let mut unit = crate::db::unit(&state.db).await?;
        let stats = crate::jobs::queue_stats(&mut *unit).await?;
        unit.commit().await?;
        Ok::<_, sqlx::Error>(stats)
    };
    let ping = async {
        let sent = Instant::now();
        state.kv.ping().await.map(|()| sent.elapsed())
    };
    let (queue, ping) = tokio::join!(
        tokio::time::timeout(READ_LIMIT, queue),
        tokio::time::timeout(READ_LIMIT, ping)
    );
    match queue {
        Ok(Ok(q)) => {
            metrics::gauge!(names::POSTGRES_UP).set(1.0);
            for (status, n) in [
                ("queued", q.queued),
                ("running", q.running),
                ("dead", q.dead),
            ] {
                metrics::gauge!(names::QUEUE_JOBS, "status" => status).set(n as f64);
            }
            metrics::gauge!(names::QUEUE_OLDEST_AGE).set(q.oldest_queued_age_s);
        }
        _ => metrics::gauge!(names::POSTGRES_UP).set(0.0),
    }
    match ping {
        Ok(Ok(rtt)) => {
            metrics::gauge!(names::REDIS_UP).set(1.0);
            metrics::gauge!(names::REDIS_PING_SECONDS).set(rtt.as_secs_f64());
        }
        _ => metrics::gauge!(names::REDIS_UP).set(0.0),
    }
}

/// With EMF: writes the invocation's figures once its answer is ready
/// (Lambda may freeze the process right after). Layer it outermost with
/// `from_fn_with_state` when `emf_enabled()`.
pub async fn flush_after(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(emf) = super::emf() {
        observe(&state, FRESH_FOR_EMF).await;
        let lines = super::document_lines(&emf.flush(chrono::Utc::now().timestamp_millis()));
        if !lines.is_empty() {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(lines.as_bytes());
            let _ = out.flush();
        }
    }
    response
}
