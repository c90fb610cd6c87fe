//! `GET /health/worker`: the shared readiness (Postgres,
//! Redis, OCR, queue) plus a `worker` section saying how each job kind fits
//! this worker's ticks. A kind that cannot fit at all (its jobs would wait
//! for ever) makes the status `degraded`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use shared::jobs::budget::Fit;

use super::TickState;

/// How each job kind fits a tick of this worker.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct WorkerSection {
    /// The last tick's length, or the configured longest before the first.
    tick_s: f64,
    kinds: Vec<shared::jobs::budget::KindFit>,
    /// Kinds that never fit (their jobs would wait for ever).
    unfit_kinds: Vec<String>,
}

/// `/health/ready`'s answer plus the `worker` section.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct WorkerReadiness {
    #[serde(flatten)]
    readiness: shared::health::Readiness,
    worker: WorkerSection,
}

/// Readiness plus how each job kind fits this worker's ticks. A kind that
/// never fits makes `status` `degraded`.
#[utoipa::path(
    get,
    path = "/health/worker",
    tag = "health",
    responses(
        (status = 200, description = "`ok` or `degraded`", body = WorkerReadiness),
        (status = 503, description = "`down`: Postgres is unreachable", body = WorkerReadiness),
    )
)]
pub(crate) async fn get_readiness(State(state): State<TickState>) -> impl IntoResponse {
    let (code, mut readiness) = shared::health::readiness(&state.app).await;
    let (span, kinds) = state.worker.fits();
    let unfit_kinds: Vec<String> = kinds
        .iter()
        .filter(|k| k.fit == Fit::Never)
        .map(|k| k.kind.clone())
        .collect();
    if !unfit_kinds.is_empty() && readiness.status == "ok" {
        readiness.status = "degraded";
    }
    let body = WorkerReadiness {
        readiness,
        worker: WorkerSection {
            tick_s: span.as_secs_f64(),
            kinds,
            unfit_kinds,
        },
    };
    (code, [("cache-control", "no-store")], Json(body))
}
