//! Request bodies waiting for a job (an async OCR upload, say), kept in
//! Postgres until their job finishes. The tick's purge deletes an upload once
//! its job has finished, with its job, or at `expires_at`, whichever is first.

use std::time::Duration;

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A stored upload.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: Uuid,
    pub owner_id: String,
    pub job_id: Option<Uuid>,
    pub content: Vec<u8>,
    pub content_type: Option<String>,
}

/// Stores `content` for `job_id` (enqueued in the same transaction, before
/// or after: the reference is checked at commit). Kept at most `ttl`.
pub async fn store(
    conn: &mut PgConnection,
    owner_id: &str,
    job_id: Option<Uuid>,
    content: &[u8],
    content_type: Option<&str>,
    ttl: Duration,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    crate::db::query(
        "INSERT INTO uploads (id, owner_id, job_id, content, content_type, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))",
    )
    .bind(id)
    .bind(owner_id)
    .bind(job_id)
    .bind(content)
    .bind(content_type)
    .bind(ttl.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// The upload, unless it was purged.
pub async fn load(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Upload>, sqlx::Error> {
    crate::db::query_as(
        "SELECT id, owner_id, job_id, content, content_type FROM uploads
         WHERE id = $1 AND expires_at > now()",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Drops an upload early (its job no longer needs it).
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = crate::db::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
