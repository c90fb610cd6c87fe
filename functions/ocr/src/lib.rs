//! The `ocr` function's HTTP handlers: `POST /v1/ocr` (a PDF or an image to
//! text; long documents become jobs), `GET /v1/ocr/documents/{id}` (and `/pdf`, searchable),
//! `GET /v1/ocr/jobs/{id}` and the caller's webhook (`PUT/GET/DELETE
//! /v1/webhooks`). The work itself is in
//! `shared::ocr`; this crate reads and checks the request and shapes the answer.

mod documents;
mod jobs;
mod params;
mod recognise;
#[doc(hidden)]
pub mod upload;
mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use shared::AppState;
use shared::limits::{self, Family};

/// Room for multipart boundaries and part headers around a document of the
/// largest accepted size.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// The document of `router`'s routes (a route missing here fails the
/// `openapi_routes` test).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(
        paths(
            recognise::create_ocr,
            documents::get_document,
            documents::get_document_pdf,
            jobs::get_job,
            jobs::job_events,
            webhooks::put_webhook,
            webhooks::get_webhook,
            webhooks::delete_webhook
        ),
        components(schemas(params::ModeParam, params::IncludeParam))
    )]
    struct Doc;
    Doc::openapi()
}

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
        .route(
            "/v1/ocr/documents/{id}/pdf",
            get(documents::get_document_pdf),
        )
        .route("/v1/ocr/jobs/{id}", get(jobs::get_job))
        .route(
            "/v1/webhooks",
            put(webhooks::put_webhook)
                .get(webhooks::get_webhook)
                .delete(webhooks::delete_webhook),
        )
        .route("/v1/ocr/jobs/{id}/events", get(jobs::job_events))
        .with_state(state)
}
