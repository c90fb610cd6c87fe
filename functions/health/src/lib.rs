//! The `health` function: readiness of every dependency. (`GET /health`, the
//! liveness probe every function answers, comes from `shared::serve::app`.)

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use shared::AppState;

/// The document of `router`'s routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(get_readiness))]
    struct Doc;
    Doc::openapi()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health/ready", get(get_readiness))
        .with_state(state)
}

/// Readiness of every dependency, each check bounded by `READINESS_TIMEOUT_SECS`.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "`ok`, or `degraded` (Redis or OCR unavailable: still serving)", body = shared::health::Readiness),
        (status = 503, description = "`down`: Postgres is unreachable", body = shared::health::Readiness),
    )
)]
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
