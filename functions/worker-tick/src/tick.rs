//! `POST /v1/worker/tick`: the bearer-token trigger (Cloud Scheduler, cron,
//! an operator), and the one function every trigger ends in.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use lambda_http::RequestExt;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use shared::Error;
use shared::jobs::TickSummary;
use tokio::time::Instant;

use super::TickState;
use crate::deadline::{Limits, tick_deadline};

pub(crate) async fn post_tick(
    State(state): State<TickState>,
    parts: axum::http::request::Parts,
) -> Result<Json<TickSummary>, Error> {
    authorize(&state, &parts.headers)?;
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

/// Checks the bearer token in constant time (both sides are hashed first, so
/// neither the content nor the length of the token leaks through timing).
fn authorize(state: &TickState, headers: &HeaderMap) -> Result<(), Error> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| Error::Unauthorized("missing Authorization: Bearer token".into()))?;
    let expected = state
        .app
        .config
        .worker_tick_token
        .as_ref()
        .ok_or_else(|| Error::Unauthorized("the tick token is not configured".into()))?;
    if tokens_match(given.as_bytes(), expected.expose_secret().as_bytes()) {
        Ok(())
    } else {
        Err(Error::Unauthorized("invalid tick token".into()))
    }
}

fn tokens_match(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match(
            b"folio-test-tick-token",
            b"folio-test-tick-token"
        ));
        assert!(!tokens_match(
            b"folio-test-tick-tokeN",
            b"folio-test-tick-token"
        ));
        assert!(!tokens_match(b"", b"folio-test-tick-token"));
        assert!(!tokens_match(
            b"folio-test-tick-token-and-more",
            b"folio-test-tick-token"
        ));
    }
}
