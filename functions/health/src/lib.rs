//! The `health` function: readiness of every dependency. (`GET /health`, the
//! liveness probe every function answers, comes from `shared::serve::app`.)

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use shared::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health/ready", get(get_readiness))
        .with_state(state)
}

async fn get_readiness(State(state): State<AppState>) -> impl IntoResponse {
    let (status, body) = shared::health::readiness(&state).await;
    let mut response = (status, [("cache-control", "no-store")], Json(body)).into_response();
    // "down" (Postgres unreachable): say when to look again, like every 503.
    if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
    }
    response
}
