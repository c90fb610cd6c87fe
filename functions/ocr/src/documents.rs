//! `GET /v1/ocr/documents/{id}`: a document the caller recognised before, in
//! the same shape as the answer it was given. Someone else's id, an unknown id
//! and a malformed one are all 404: nothing tells them apart.

use axum::Json;
use axum::extract::{Path, State};
use shared::auth::AuthUser;
use shared::ocr::service::{OcrAnswer, OcrService};
use shared::{AppState, Error};
use uuid::Uuid;

/// A document the caller recognised before, as it was answered.
#[utoipa::path(
    get,
    path = "/v1/ocr/documents/{id}",
    tag = "ocr",
    params(("id" = String, Path, description = "the `document_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the answer as it was given", body = OcrAnswer),
        (status = 404, description = "`not-found`: unknown, malformed or someone else's", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_document(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<OcrAnswer>, Error> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    OcrService::new(&state)
        .document(&user.user_id, id)
        .await
        .map(Json)
}
