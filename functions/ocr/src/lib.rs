//! The `ocr` function's HTTP handlers. Its capability is built in its own issue;
//! until then it answers `GET /health` only.

use axum::Router;
use shared::AppState;

pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
