//! `GET /v1/ocr/jobs/{id}`: an OCR job's state for its owner (anyone else,
//! and any other kind of job, is 404).

use axum::Json;
use axum::extract::{Path, State};
use shared::auth::AuthUser;
use shared::ocr::job::KIND;
use shared::{AppState, Error};

/// An OCR job as its owner sees it (the same document its webhook sends).
pub use shared::webhooks::JobStatus as OcrJob;

/// An OCR job's state; its `result` once it succeeded.
#[utoipa::path(
    get,
    path = "/v1/ocr/jobs/{id}",
    tag = "ocr",
    params(("id" = String, Path, description = "the `job_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the job", body = OcrJob),
        (status = 404, description = "`not-found`: unknown, malformed, someone else's or not an OCR job", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OcrJob>, Error> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    let job = shared::jobs::job_status(&state.db, id)
        .await?
        .filter(|job| job.kind == KIND && job.owner_id.as_deref() == Some(user.user_id.as_str()))
        .ok_or(Error::NotFound)?;
    // A job waiting for its next attempt is still "queued"; its last error
    // says why the previous attempt failed. Webhooks send the same document.
    Ok(Json(shared::webhooks::status_document(&job)))
}
