//! `POST /v1/ocr`: read and check the request, answer from the cache when the
//! same bytes and options were recognised before, otherwise check every limit
//! of the document, decide sync or not from its pages, and recognise it. The
//! document is the body, or fetched from the `url` a JSON body names.

use std::time::Instant;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use shared::auth::AuthUser;
use shared::error::Problem;
use shared::fetch::Fetcher;
use shared::flags::{self, Flag};
use shared::ocr::job;
use shared::ocr::service::{OcrAnswer, OcrService, result_key};
use shared::ocr::{Accept, Document, Inspection, Outcome};
use shared::{AppState, Error};

use crate::params::{Mode, OcrQuery, Params};
use crate::upload::{Shape, read_document, read_url_body, shape};

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

/// A document by reference: fetched from `url` (https, public addresses; see
/// `FETCH_ALLOW`) with the upload's limits but `FETCH_MAX_BYTES` for its size.
/// The query parameters may also be given here.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ByUrl {
    /// Where to fetch the document (a presigned S3 or GCS URL, or any https URL).
    #[schema(example = "https://files.example.com/scan.pdf")]
    url: String,
    /// Where to POST the job's status document when it finishes (signed webhook).
    callback_url: Option<String>,
    lang: Option<String>,
    #[schema(value_type = Option<crate::params::ModeParam>)]
    mode: Option<String>,
    force_ocr: Option<bool>,
    dpi: Option<u16>,
    rotate_pages: Option<bool>,
    #[schema(value_type = Option<crate::params::IncludeParam>)]
    include: Option<String>,
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
        description = "the document, raw, as the `file` part of a multipart body, or by URL in a JSON body",
        content(
            (ByUrl = "application/json"),
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
        (status = 422, description = "`encrypted-pdf`, `broken-pdf`, `broken-image`, `too-many-pages`, `too-many-pixels`, `too-slow`, `unknown-language`, `too-many-pages-for-sync`, `feature-disabled`, `invalid-url`, `url-refused`, `too-large-for-sync`, `webhook-not-registered`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate-limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`fetch-dns`, `fetch-connect`, `fetch-status`, `fetch-redirects`, `fetch-failed`: the document's URL could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`fetch-timeout`: the document's URL was too slow (also `timeout`: the request's deadline)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_ocr(
    State(state): State<AppState>,
    user: AuthUser,
    Query(mut query): Query<OcrQuery>,
    request: Request,
) -> Result<Response, Error> {
    let started = Instant::now();
    let service = OcrService::new(&state);
    let owner = &user.user_id;
    let fetcher = Fetcher::new(&state.config.fetch);
    let (bytes, params, callback_url) = if shape(request.headers()) == Shape::Json {
        let url = read_url_body(request, &mut query).await?;
        let params = Params::parse(&query, &service.config, service.ocr)?;
        let callback_url = checked_callback(&state, &fetcher, owner, &query, params.mode).await?;
        let fetched = fetcher.get(&url, state.config.fetch.max_bytes).await?;
        (fetched.bytes, params, callback_url)
    } else {
        let params = Params::parse(&query, &service.config, service.ocr)?;
        let uploaded = read_document(request, service.config.max_bytes).await?;
        if uploaded.callback_url.is_some() {
            query.callback_url = uploaded.callback_url;
        }
        let callback_url = checked_callback(&state, &fetcher, owner, &query, params.mode).await?;
        (uploaded.bytes, params, callback_url)
    };
    let Params { mode, options } = params;
    // A document past the upload limit (fetched by URL) is always a job, and so is one
    // whose end a webhook announces.
    let oversized = bytes.len() > service.config.max_bytes;
    let wants_job = callback_url.is_some() || oversized;
    // Without async OCR, `auto` answers synchronously or refuses like `sync`.
    let async_ocr = state.flags.enabled(Flag::AsyncOcr, Some(owner)).await;
    let mode = match mode {
        Mode::Async if !async_ocr => return Err(flags::disabled(Flag::AsyncOcr)),
        Mode::Auto if !async_ocr && wants_job => return Err(flags::disabled(Flag::AsyncOcr)),
        Mode::Auto if !async_ocr => Mode::Sync,
        mode => mode,
    };
    if oversized && mode == Mode::Sync {
        return Err(Error::unprocessable(
            "too-large-for-sync",
            format!(
                "documents over {} bytes are recognised as jobs; send it with mode=async or mode=auto",
                service.config.max_bytes
            ),
        ));
    }
    let document = to_document(bytes).await?;
    let key = result_key(&document, &options);
    // A caller waiting for a webhook gets a job even for a cached result.
    if callback_url.is_none()
        && let Some(result) = service.cached(&key).await?
    {
        let answer = service
            .answer(owner, &key, &document, result, true, started)
            .await?;
        return Ok(Json(answer).into_response());
    }
    let sync_max = service.config.sync_max_pages;
    // Decided once every limit is checked and the pages needing OCR counted,
    // before any of them is rendered.
    let accept: Accept = Box::new(move |inspection: &Inspection| match mode {
        Mode::Sync => inspection.ocr_pages <= sync_max,
        Mode::Auto => !wants_job && inspection.ocr_pages <= sync_max,
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
            let job_id = job::enqueue(
                &service,
                owner,
                &document,
                &options,
                keep,
                callback_url.as_deref(),
            )
            .await?;
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

async fn to_document(bytes: Bytes) -> Result<Document, Error> {
    // Hashing 20 MiB is CPU work: off the async runtime.
    Ok(
        tokio::task::spawn_blocking(move || Document::from_bytes(bytes))
            .await
            .map_err(|e| Error::Internal(e.into()))??,
    )
}

/// The job's own webhook URL: checked by the SSRF guard now (and again at
/// delivery), and only for a caller whose registered secret can sign it.
async fn checked_callback(
    state: &AppState,
    fetcher: &Fetcher,
    owner: &str,
    query: &OcrQuery,
    mode: Mode,
) -> Result<Option<String>, Error> {
    let Some(raw) = query.callback_url.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if mode == Mode::Sync {
        return Err(Error::BadRequest(
            "`callback_url` announces a job's end: use mode=async or mode=auto".into(),
        ));
    }
    let url = fetcher.check(raw).await?;
    let registered = shared::webhooks::endpoints::secret(&state.db, owner).await?;
    if registered.is_none() {
        return Err(Error::unprocessable(
            "webhook-not-registered",
            "a callback is signed with your webhook secret: create one with PUT /v1/webhooks first",
        ));
    }
    Ok(Some(url.to_string()))
}
