//! Where OCR results live: Postgres (`ocr_results` shared by content,
//! `documents` per owner) is the source of
//! truth; Redis holds copies of results by key and may lose them at any time.
//! Every Redis failure here is logged and treated as a miss.

use std::time::Duration;

use chrono::{DateTime, Utc};

use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::Recognised;
use crate::Error;
use crate::kv::{Kv, KvError};

/// A result as stored, with what the table knows beside it.
pub struct NewResult<'a> {
    pub key: &'a str,
    pub sha256: &'a str,
    pub kind: &'a str,
    pub recognised: &'a Recognised,
    pub work_ms: u64,
}

pub async fn find_result(pool: &PgPool, key: &str) -> Result<Option<Recognised>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let row: Option<(Json<Recognised>,)> =
        crate::db::query_as("SELECT result FROM ocr_results WHERE result_key = $1")
            .bind(key)
            .fetch_optional(&mut *db)
            .await?;
    db.commit().await?;
    Ok(row.map(|(Json(result),)| result))
}

/// Stores a result; a concurrent identical recognition that stored first wins
/// (both are the same result).
pub async fn save_result(pool: &PgPool, new: &NewResult<'_>) -> Result<(), Error> {
    let mut db = crate::db::unit(pool).await?;
    crate::db::query(
        "INSERT INTO ocr_results
             (result_key, sha256, kind, lang, page_count, ocr_pages, result, work_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (result_key) DO NOTHING",
    )
    .bind(new.key)
    .bind(new.sha256)
    .bind(new.kind)
    .bind(&new.recognised.lang)
    .bind(i32::try_from(new.recognised.page_count).unwrap_or(i32::MAX))
    .bind(i32::try_from(new.recognised.ocr_pages()).unwrap_or(i32::MAX))
    .bind(Json(new.recognised))
    .bind(i32::try_from(new.work_ms).unwrap_or(i32::MAX))
    .execute(&mut *db)
    .await?;
    db.commit().await?;
    Ok(())
}

/// One owner's record of one upload.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub id: Uuid,
    pub owner_id: String,
    pub result_key: String,
    pub sha256: String,
    pub kind: String,
    pub lang: String,
    pub page_count: u32,
    pub cached: bool,
    pub elapsed_ms: u64,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_document(pool: &PgPool, row: &DocumentRow) -> Result<(), Error> {
    let mut db = crate::db::unit(pool).await?;
    insert_document_in(&mut db, row).await?;
    db.commit().await?;
    Ok(())
}

/// `insert_document` inside the caller's transaction (a fan-out's assembly
/// commits it with the job's success).
pub async fn insert_document_in(
    conn: &mut sqlx::PgConnection,
    row: &DocumentRow,
) -> Result<(), sqlx::Error> {
    crate::db::query(
        "INSERT INTO documents
             (id, owner_id, result_key, sha256, kind, lang, page_count, cached, elapsed_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(row.id)
    .bind(&row.owner_id)
    .bind(&row.result_key)
    .bind(&row.sha256)
    .bind(&row.kind)
    .bind(&row.lang)
    .bind(i32::try_from(row.page_count).unwrap_or(i32::MAX))
    .bind(row.cached)
    .bind(i32::try_from(row.elapsed_ms).unwrap_or(i32::MAX))
    .bind(row.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type DocumentTuple = (
    Uuid,
    String,
    String,
    String,
    String,
    String,
    i32,
    bool,
    i32,
    DateTime<Utc>,
    Json<Recognised>,
);

/// `owner`'s document `id` with its result; `None` when it does not exist or
/// belongs to someone else (callers answer 404 to both).
pub async fn find_document(
    pool: &PgPool,
    owner: &str,
    id: Uuid,
) -> Result<Option<(DocumentRow, Recognised)>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let row: Option<DocumentTuple> = crate::db::query_as(
        "SELECT d.id, d.owner_id, d.result_key, d.sha256, d.kind, d.lang, d.page_count,
                d.cached, d.elapsed_ms, d.created_at, r.result
           FROM documents d JOIN ocr_results r ON r.result_key = d.result_key
          WHERE d.id = $1 AND d.owner_id = $2",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut *db)
    .await?;
    db.commit().await?;
    Ok(row.map(|r| {
        let document = DocumentRow {
            id: r.0,
            owner_id: r.1,
            result_key: r.2,
            sha256: r.3,
            kind: r.4,
            lang: r.5,
            page_count: u32::try_from(r.6).unwrap_or(0),
            cached: r.7,
            elapsed_ms: u64::try_from(r.8).unwrap_or(0),
            created_at: r.9,
        };
        (document, r.10.0)
    }))
}

fn cache_key(key: &str) -> String {
    format!("ocr:result:{key}")
}

/// The Redis copy of a result, if there is a readable one.
pub async fn cache_get(kv: &Kv, key: &str) -> Option<Recognised> {
    match kv.get(&cache_key(key)).await {
        Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
            Ok(result) => Some(result),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable OCR result in redis; ignoring it");
                None
            }
        },
        Ok(None) | Err(KvError::Disabled) => None,
        Err(e) => {
            tracing::warn!(error = %e, "redis unavailable for the OCR cache; reading postgres");
            None
        }
    }
}

/// Copies a result into Redis for `ttl`; failures only cost speed.
pub async fn cache_put(kv: &Kv, key: &str, result: &Recognised, ttl: Duration) {
    let Ok(bytes) = serde_json::to_vec(result) else {
        return;
    };
    match kv.set(&cache_key(key), &bytes, Some(ttl)).await {
        Ok(()) | Err(KvError::Disabled) => {}
        Err(e) => tracing::warn!(error = %e, "could not cache an OCR result in redis"),
    }
}

/// Keeps `bytes` (the upload `sha256` names) for the searchable PDF, unless
/// they are already kept. Checked first so a repeated upload does not send
/// its bytes to Postgres again.
pub async fn keep_original(
    pool: &PgPool,
    sha256: &str,
    kind: &str,
    bytes: &[u8],
) -> Result<(), Error> {
    let mut db = crate::db::unit(pool).await?;
    let kept: Option<i32> =
        crate::db::query_scalar("SELECT 1 FROM document_originals WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut *db)
            .await?;
    if kept.is_none() {
        crate::db::query(
            "INSERT INTO document_originals (sha256, kind, content, size_bytes)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(kind)
        .bind(bytes)
        .bind(i32::try_from(bytes.len()).unwrap_or(i32::MAX))
        .execute(&mut *db)
        .await?;
    }
    db.commit().await?;
    Ok(())
}

/// The size of the kept original of `sha256`, if it is kept.
pub async fn original_size(pool: &PgPool, sha256: &str) -> Result<Option<u64>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let size: Option<i32> =
        crate::db::query_scalar("SELECT size_bytes FROM document_originals WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut *db)
            .await?;
    db.commit().await?;
    Ok(size.map(|s| u64::try_from(s).unwrap_or(0)))
}

/// The kept original of `sha256`, if it is kept.
pub async fn find_original(pool: &PgPool, sha256: &str) -> Result<Option<Vec<u8>>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let content: Option<Vec<u8>> =
        crate::db::query_scalar("SELECT content FROM document_originals WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut *db)
            .await?;
    db.commit().await?;
    Ok(content)
}
