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

/// Runs one tick: claims due jobs and runs them within the tick budget.
#[utoipa::path(
    post,
    path = "/v1/worker/tick",
    tag = "worker",
    params(("x-folio-deadline-ms" = Option<u32>, Header, minimum = 0, maximum = 86400000,
        description = "how long the caller waits, in milliseconds from the request's arrival; the tick ends 1 s before")),
    security(("tick_token" = [])),
    responses(
        (status = 200, description = "what the tick did", body = TickSummary),
        (status = 400, description = "`bad-request`: a malformed `x-folio-deadline-ms`", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
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
