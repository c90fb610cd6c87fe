//! `POST /v1/worker/tick`: the bearer-token trigger (Cloud Scheduler with its
//! OIDC token, cron, an operator; checked by `shared::auth::tick`), and the
//! one function every trigger ends in.

use axum::Json;
use axum::extract::State;
use lambda_http::RequestExt;
use shared::Error;
use shared::jobs::TickSummary;
use tokio::time::Instant;

use super::TickState;
use crate::deadline::{Limits, tick_deadline};

pub(crate) async fn post_tick(
    State(state): State<TickState>,
    parts: axum::http::request::Parts,
) -> Result<Json<TickSummary>, Error> {
    state.app.tick_auth.authorize(&parts.headers).await?;
    let limits = Limits {
        caller_wait: Limits::caller_wait_from(&parts.headers)?,
        lambda_deadline_ms: parts.lambda_context_ref().map(|c| c.deadline),
        ..Limits::default()
    };
    run_tick(&state, limits).await
}

/// Runs one tick within `limits` (the budget and request timeout are added
/// here) and answers its summary.
pub(crate) async fn run_tick(
    state: &TickState,
    limits: Limits,
) -> Result<Json<TickSummary>, Error> {
    let config = &state.app.config;
    let limits = Limits {
        budget: config.worker.tick_budget,
        request_timeout: Some(config.request_timeout),
        ..limits
    };
    let deadline = tick_deadline(Instant::now(), limits);
    let summary = state.worker.tick(deadline, &state.shutdown).await?;
    Ok(Json(summary))
}
