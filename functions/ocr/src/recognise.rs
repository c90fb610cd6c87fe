//! `POST /v1/ocr`: read and check the request, answer from the cache when the
//! same bytes and options were recognised before, otherwise check every limit
//! of the document, decide sync or not from its pages, and recognise it.

use std::time::Instant;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::auth::AuthUser;
use shared::error::Problem;
use shared::flags::{self, Flag};
use shared::ocr::job;
use shared::ocr::service::{OcrAnswer, OcrService, result_key};
use shared::ocr::{Accept, Document, Inspection, Outcome};
use shared::{AppState, Error};

use crate::params::{Mode, OcrQuery, Params};
use crate::upload::read_document;

/// The 202 answer: the document became a job.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub job_id: uuid::Uuid,
    /// Always `queued`.
    pub status: &'static str,
    /// `/v1/ocr/jobs/{job_id}`, also in `Location`.
    pub status_url: String,
}

/// How the document may be sent: `multipart/form-data` with a `file` part.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Upload {
    /// The document: PDF, PNG, JPEG, TIFF or WebP (sniffed from its bytes).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The document's bytes (the type is sniffed; `Content-Type` is a hint).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct RawDocument(Vec<u8>);

/// A PDF or an image to text. Long documents become jobs (202).
#[utoipa::path(
    post,
    path = "/v1/ocr",
    tag = "ocr",
    params(OcrQuery),
    request_body(
        description = "the document, raw or as the `file` part of a multipart body",
        content(
            (RawDocument = "application/pdf"),
            (RawDocument = "image/png"),
            (RawDocument = "image/jpeg"),
            (RawDocument = "image/tiff"),
            (RawDocument = "image/webp"),
            (RawDocument = "application/octet-stream"),
            (Upload = "multipart/form-data"),
        )
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "recognised (or answered from the cache)", body = OcrAnswer,
            links(("GetDocument" = (operation_id = "get_document", parameters(("id" = "$response.body#/document_id")))))),
        (status = 202, description = "queued as a job", body = Queued,
            headers(("Location" = String, description = "the job's status URL")),
            links(("GetJob" = (operation_id = "get_job", parameters(("id" = "$response.body#/job_id")))))),
        (status = 400, description = "`bad-request`: empty body, no `file` part, a malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`too-large`: over `OCR_MAX_BYTES`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported-media-type`: not PDF, PNG, JPEG, TIFF or WebP", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`encrypted-pdf`, `broken-pdf`, `broken-image`, `too-many-pages`, `too-many-pixels`, `unknown-language`, `too-many-pages-for-sync`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate-limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_ocr(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<OcrQuery>,
    request: Request,
) -> Result<Response, Error> {
    let started = Instant::now();
    let service = OcrService::new(&state);
    let Params { mode, options } = Params::parse(&query, &service.config, service.ocr)?;
    // Without async OCR, `auto` answers synchronously or refuses like `sync`.
    let async_ocr = state
        .flags
        .enabled(Flag::AsyncOcr, Some(&user.user_id))
        .await;
    let mode = match mode {
        Mode::Async if !async_ocr => return Err(flags::disabled(Flag::AsyncOcr)),
        Mode::Auto if !async_ocr => Mode::Sync,
        mode => mode,
    };
    let bytes = read_document(request, service.config.max_bytes).await?;
    // Hashing 20 MiB is CPU work: off the async runtime.
    let document = tokio::task::spawn_blocking(move || Document::from_bytes(bytes))
        .await
        .map_err(|e| Error::Internal(e.into()))??;
    let key = result_key(&document, &options);
    let owner = &user.user_id;
    if let Some(result) = service.cached(&key).await? {
        let answer = service
            .answer(owner, &key, &document, result, true, started)
            .await?;
        return Ok(Json(answer).into_response());
    }
    let sync_max = service.config.sync_max_pages;
    // Decided once every limit is checked and the pages needing OCR counted,
    // before any of them is rendered.
    let accept: Accept = Box::new(move |inspection: &Inspection| match mode {
        Mode::Sync | Mode::Auto => inspection.ocr_pages <= sync_max,
        Mode::Async => false,
    });
    let result = match service
        .recognise_if(&key, &document, &options, None, accept)
        .await?
    {
        Outcome::Recognised(result) => result,
        Outcome::Declined(inspection) if mode == Mode::Sync => {
            return Err(Error::unprocessable(
                "too-many-pages-for-sync",
                format!(
                    "{} pages of this document need OCR; mode=sync takes at most {sync_max}; \
                     send it with mode=async or mode=auto",
                    inspection.ocr_pages
                ),
            ));
        }
        Outcome::Declined(_) => {
            let keep = state.config.worker.retention;
            let job_id = job::enqueue(&service, owner, &document, &options, keep).await?;
            let status_url = format!("/v1/ocr/jobs/{job_id}");
            let body = Queued {
                job_id,
                status: "queued",
                status_url: status_url.clone(),
            };
            return Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, status_url)],
                Json(body),
            )
                .into_response());
        }
    };
    let answer = service
        .answer(owner, &key, &document, result, false, started)
        .await?;
    Ok(Json(answer).into_response())
}
