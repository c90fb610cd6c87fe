//! The `{"document_id"}` source: a recognised document's text, for its owner
//! only, read from the `ocr` function's tables (`documents` → `ocr_results`).
//! A document row exists only once its recognition has finished, so there is
//! no "not ready" state: a document still in an OCR job is not a document yet.

use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::ocr::Recognised;

/// A recognised document's content.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// The recognised text, pages joined by form feeds.
    pub text: String,
}

/// Loads `document_id` if `owner_id` owns it; `None` when it does not exist
/// or belongs to someone else (the two are not told apart).
pub async fn load_document(
    conn: &mut PgConnection,
    owner_id: &str,
    document_id: Uuid,
) -> Result<Option<SourceDocument>, sqlx::Error> {
    let row: Option<(String, Json<Recognised>)> = crate::db::query_as(
        "SELECT d.sha256, r.result \
         FROM documents d JOIN ocr_results r ON r.result_key = d.result_key \
         WHERE d.id = $1 AND d.owner_id = $2",
    )
    .bind(document_id)
    .bind(owner_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(sha256, Json(result))| SourceDocument {
        sha256,
        text: result.text(),
    }))
}
