//! `GET /health/worker`: the shared readiness (Postgres,
//! Redis, OCR, queue) plus a `worker` section saying how each job kind fits
//! this worker's ticks. A kind that cannot fit at all (its jobs would wait
//! for ever) makes the status `degraded`.

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use shared::jobs::budget::Fit;

use super::TickState;

pub(crate) async fn get_readiness(State(state): State<TickState>) -> impl IntoResponse {
    let (code, readiness) = shared::health::readiness(&state.app).await;
    let mut body = serde_json::to_value(&readiness).unwrap_or(Value::Null);
    let (span, kinds) = state.worker.fits();
    let unfit: Vec<&str> = kinds
        .iter()
        .filter(|k| k.fit == Fit::Never)
        .map(|k| k.kind.as_str())
        .collect();
    if !unfit.is_empty() && body["status"] == "ok" {
        body["status"] = json!("degraded");
    }
    body["worker"] = json!({
        "tick_s": span.as_secs_f64(),
        "kinds": kinds,
        "unfit_kinds": unfit,
    });
    (code, [("cache-control", "no-store")], Json(body))
}
