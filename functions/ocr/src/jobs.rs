//! `GET /v1/ocr/jobs/{id}`: an OCR job's state for its owner (anyone else,
//! and any other kind of job, is 404).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::auth::AuthUser;
use shared::ocr::job::KIND;
use shared::{AppState, Error};

/// An OCR job as its owner sees it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct OcrJob {
    pub job_id: uuid::Uuid,
    /// `queued`, `running`, `succeeded` or `failed`.
    #[schema(pattern = "^(queued|running|succeeded|failed)$")]
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// `{"pages_done", "pages_total"}` once the job has started.
    #[schema(value_type = Option<shared::ocr::Progress>)]
    pub progress: Option<Value>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// The 200 answer of `POST /v1/ocr`, once `succeeded`.
    #[schema(value_type = Option<shared::ocr::service::OcrAnswer>)]
    pub result: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

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
    // says why the previous attempt failed.
    Ok(Json(OcrJob {
        job_id: job.id,
        status: job.status,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        progress: job.progress,
        error: job.last_error,
        result: job.result,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }))
}
