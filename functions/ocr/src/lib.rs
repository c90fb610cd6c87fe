//! The `ocr` function's HTTP handlers: `POST /v1/ocr` (a PDF or an image to
//! text; long documents become jobs), `GET /v1/ocr/documents/{id}` and
//! `GET /v1/ocr/jobs/{id}`. The work itself is in
//! `shared::ocr`; this crate reads and checks the request and shapes the answer.

mod documents;
mod jobs;
mod params;
mod recognise;
#[doc(hidden)]
pub mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use shared::AppState;
use shared::limits::{self, Family};

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
            post(recognise::create_ocr)
                .layer(DefaultBodyLimit::max(stream_limit))
                .layer(limits::layer(&state, Family::Ocr)),
        )
        .route("/v1/ocr/documents/{id}", get(documents::get_document))
        .route("/v1/ocr/jobs/{id}", get(jobs::get_job))
        .with_state(state)
}
