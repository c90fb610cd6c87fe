//! Readiness: can this deployment serve? Postgres is required (down ⇒ 503
//! "down"); Redis is an accelerator and OCR one capability among others
//! (either failing ⇒ 200 "degraded"). Every check is
//! bounded by `READINESS_TIMEOUT_SECS`, so the answer comes within 2 s even
//! when a dependency hangs. Nothing here prints a URL or a secret.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub checks: Checks,
    /// The job queue's figures; `null` when they could not be read in time.
    /// Informational only: it never changes `status` (the postgres check
    /// already says whether the database is there).
    pub queue: Option<crate::jobs::QueueStats>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checks {
    pub postgres: PostgresCheck,
    pub redis: RedisCheck,
    pub ocr: crate::ocr::OcrCheck,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PostgresCheck {
    pub ok: bool,
    pub latency_ms: f64,
    pub schema_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RedisCheck {
    pub ok: bool,
    pub latency_ms: f64,
    pub backend: &'static str,
    /// `closed` (calls reach Redis), `open` (they fail fast after Redis
    /// stopped answering) or `half_open` (a background probe is out).
    pub breaker: crate::kv::BreakerState,
    /// How long the breaker has been open; absent while closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker_open_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs every check concurrently and sums them up.
pub async fn readiness(state: &AppState) -> (StatusCode, Readiness) {
    let limit = state.config.readiness_timeout;
    let (postgres, redis, queue, ocr) = tokio::join!(
        check_postgres(state, limit),
        check_redis(state, limit),
        queue_figures(state, limit),
        check_ocr(state, limit)
    );
    let (code, status) = if !postgres.ok {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    } else if !redis.ok || !ocr.ok {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ok")
    };
    (
        code,
        Readiness {
            status,
            checks: Checks {
                postgres,
                redis,
                ocr,
            },
            queue,
        },
    )
}

/// Tesseract and PDFium, off the async runtime (the first call loads them).
/// Not ok means documents cannot be recognised: quizzes still work, so the
/// deployment is "degraded", not "down".
async fn check_ocr(state: &AppState, limit: Duration) -> crate::ocr::OcrCheck {
    let config = state.config.ocr.clone();
    let check = tokio::task::spawn_blocking(move || crate::ocr::readiness(&config));
    let failed = |why: &str| crate::ocr::OcrCheck {
        ok: false,
        tesseract: String::new(),
        pdfium: false,
        languages: Vec::new(),
        error: Some(why.to_owned()),
    };
    match tokio::time::timeout(limit, check).await {
        Ok(Ok(check)) => check,
        Ok(Err(_)) => failed("the check failed"),
        Err(_) => failed("no answer in time"),
    }
}

async fn queue_figures(state: &AppState, limit: Duration) -> Option<crate::jobs::QueueStats> {
    let figures = async {
        let mut unit = crate::db::unit(&state.db).await?;
        let stats = crate::jobs::queue_stats(&mut *unit).await?;
        unit.commit().await?;
        Ok::<_, sqlx::Error>(stats)
    };
    match tokio::time::timeout(limit, figures).await {
        Ok(Ok(stats)) => Some(stats),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "readiness: queue figures unavailable");
            None
        }
        Err(_) => None,
    }
}

fn millis(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

async fn check_postgres(state: &AppState, limit: Duration) -> PostgresCheck {
    let started = Instant::now();
    let outcome = tokio::time::timeout(limit, crate::db::schema_version(&state.db)).await;
    let latency_ms = millis(started);
    match outcome {
        Ok(Ok(schema_version)) => PostgresCheck {
            ok: true,
            latency_ms,
            schema_version,
            error: None,
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: postgres failed");
            let error = match e {
                sqlx::Error::PoolTimedOut => "timed out waiting for a connection",
                sqlx::Error::Io(_) => "cannot connect",
                sqlx::Error::Tls(_) => "TLS handshake failed",
                sqlx::Error::Database(_) => "the server refused the query",
                _ => "unavailable",
            };
            PostgresCheck {
                ok: false,
                latency_ms,
                schema_version: None,
                error: Some(error.into()),
            }
        }
        Err(_) => PostgresCheck {
            ok: false,
            latency_ms,
            schema_version: None,
            error: Some(format!("no answer within {} ms", limit.as_millis())),
        },
    }
}

async fn check_redis(state: &AppState, limit: Duration) -> RedisCheck {
    let started = Instant::now();
    let backend = state.kv.backend();
    let outcome = tokio::time::timeout(limit, state.kv.ping()).await;
    let latency_ms = millis(started);
    let error = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: redis failed");
            Some(e.to_string())
        }
        Err(_) => Some(format!("no answer within {} ms", limit.as_millis())),
    };
    RedisCheck {
        ok: error.is_none(),
        latency_ms,
        backend,
        breaker: state.kv.breaker_state(),
        breaker_open_ms: state
            .kv
            .breaker_open_for()
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        error,
    }
}
