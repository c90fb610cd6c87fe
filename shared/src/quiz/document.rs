//! The boundary to the `ocr` function's tables: a recognised document's text,
//! for its owner only.
//!
//! THE ONE QUERY against `documents` / `ocr_results` (migration 0002, owned by
//! the OCR function) lives here. It assumes `documents(id uuid, owner_id text,
//! sha256 text, result_key text, created_at timestamptz)` and
//! `ocr_results(key text primary key, result jsonb)` with the joined text in
//! `result->>'text'` and the page count in `result->>'page_count'`.

use sqlx::PgConnection;
use uuid::Uuid;

/// A recognised document's content.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// The recognised text, pages joined by form feeds.
    pub text: String,
}

#[derive(Debug)]
pub enum LoadedDocument {
    /// No such document, or someone else's.
    Missing,
    /// The caller's, but its recognition has not finished.
    NotReady,
    Ready(SourceDocument),
}

/// Loads `document_id` if `owner_id` owns it.
pub async fn load_document(
    conn: &mut PgConnection,
    owner_id: &str,
    document_id: Uuid,
) -> Result<LoadedDocument, sqlx::Error> {
    let row: Result<Option<(String, Option<String>)>, sqlx::Error> = sqlx::query_as(
        "SELECT d.sha256, r.result->>'text' \
         FROM documents d LEFT JOIN ocr_results r ON r.key = d.result_key \
         WHERE d.id = $1 AND d.owner_id = $2",
    )
    .bind(document_id)
    .bind(owner_id)
    .fetch_optional(conn)
    .await;
    match row {
        Ok(None) => Ok(LoadedDocument::Missing),
        Ok(Some((_, None))) => Ok(LoadedDocument::NotReady),
        Ok(Some((sha256, Some(text)))) => {
            Ok(LoadedDocument::Ready(SourceDocument { sha256, text }))
        }
        // 42P01 undefined_table: the OCR tables are not deployed yet, so no
        // document exists. (Goes away once migration 0002 is merged.)
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
            Ok(LoadedDocument::Missing)
        }
        Err(e) => Err(e),
    }
}
