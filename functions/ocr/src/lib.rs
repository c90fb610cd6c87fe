//! The `ocr` function's HTTP handlers: `POST /v1/ocr` (a PDF or an image to
//! text) and `GET /v1/ocr/documents/{id}`. The work itself is in
//! `shared::ocr`; this crate reads and checks the request and shapes the answer.

mod documents;
mod params;
mod recognise;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use shared::AppState;

/// Room for multipart boundaries and part headers around a document of the
/// largest accepted size.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let stream_limit = state
        .config
        .ocr
        .max_bytes
        .saturating_add(MULTIPART_OVERHEAD);
    Router::new()
        .route(
            "/v1/ocr",
            post(recognise::create_ocr).layer(DefaultBodyLimit::max(stream_limit)),
        )
        .route("/v1/ocr/documents/{id}", get(documents::get_document))
        .with_state(state)
}
