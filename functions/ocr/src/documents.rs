//! `GET /v1/ocr/documents/{id}`: a document the caller recognised before, in
//! the same shape as the answer it was given; `GET /v1/ocr/documents/{id}/pdf`:
//! the same document as a searchable PDF. Someone else's id, an unknown id
//! and a malformed one are all 404: nothing tells them apart.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::auth::AuthUser;
use shared::flags::Flag;
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

/// The document as a searchable PDF: the original with an invisible text layer
/// on its recognised pages (images become one page each).
#[utoipa::path(
    get,
    path = "/v1/ocr/documents/{id}/pdf",
    tag = "ocr",
    params(("id" = String, Path, description = "the `document_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the searchable PDF", content_type = "application/pdf", body = Vec<u8>,
         headers(("content-disposition" = String, description = "`inline; filename=\"folio-{id}.pdf\"`"))),
        (status = 404, description = "`not-found`: unknown, malformed or someone else's", body = shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`original-unavailable`, `pdf-too-large` or `feature-disabled`", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_document_pdf(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let id = Uuid::parse_str(&id).map_err(|_| Error::NotFound)?;
    state
        .flags
        .require(Flag::SearchablePdf, &user.user_id)
        .await?;
    let pdf = OcrService::new(&state)
        .searchable_pdf(&user.user_id, id)
        .await?;
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"folio-{id}.pdf\""))
        .map_err(|e| Error::Internal(e.into()))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        pdf,
    )
        .into_response())
}
