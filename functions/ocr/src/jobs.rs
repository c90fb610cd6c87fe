//! `GET /v1/ocr/jobs/{id}`: an OCR job's state for its owner (anyone else,
//! and any other kind of job, is 404).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use shared::auth::AuthUser;
use shared::ocr::job::KIND;
use shared::{AppState, Error};

pub async fn get_job(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    let job = shared::jobs::job_status(&state.db, id)
        .await?
        .filter(|job| job.kind == KIND && job.owner_id.as_deref() == Some(user.user_id.as_str()))
        .ok_or(Error::NotFound)?;
    // A job waiting for its next attempt is still "queued"; its last error
    // says why the previous attempt failed.
    Ok(Json(json!({
        "job_id": job.id,
        "status": job.status,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "progress": job.progress,
        "error": job.last_error,
        "result": job.result,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    })))
}
