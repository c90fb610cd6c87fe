//! The durable half of sessions: `auth_sessions` and `auth_user_marks` in
//! Postgres. Every statement runs inside an explicit transaction (unnamed
//! statements through a transaction-mode pooler behave the same way).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// A session as Postgres knows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The session (created when first seen, with `now` as first and last seen)
/// and the user's not-before mark, read in one transaction.
pub async fn load_or_create(
    pool: &PgPool,
    user_id: &str,
    session_id: &str,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(SessionRow, Option<DateTime<Utc>>, bool), sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Read first: a known session costs no write.
    let found: Option<SessionRow> = crate::db::query_as(
        "SELECT session_id, first_seen, last_seen, user_agent, revoked_at
         FROM auth_sessions WHERE user_id = $1 AND session_id = $2",
    )
    .bind(user_id)
    .bind(session_id)
    .fetch_optional(&mut *tx)
    .await?;
    let created = found.is_none();
    let row =
        match found {
            Some(row) => row,
            None => crate::db::query_as(
                "INSERT INTO auth_sessions (user_id, session_id, first_seen, last_seen, user_agent)
                 VALUES ($1, $2, $3, $3, $4)
                 ON CONFLICT (user_id, session_id) DO UPDATE SET user_id = EXCLUDED.user_id
                 RETURNING session_id, first_seen, last_seen, user_agent, revoked_at",
            )
            .bind(user_id)
            .bind(session_id)
            .bind(now)
            .bind(user_agent)
            .fetch_one(&mut *tx)
            .await?,
        };
    let mark = not_before_in(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok((row, mark, created))
}

async fn not_before_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    crate::db::query_scalar("SELECT not_before FROM auth_user_marks WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
}

/// Moves the coarse last-seen forward (never back).
pub async fn touch(
    pool: &PgPool,
    user_id: &str,
    session_id: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    crate::db::query(
        "UPDATE auth_sessions SET last_seen = $3
         WHERE user_id = $1 AND session_id = $2 AND last_seen < $3",
    )
    .bind(user_id)
    .bind(session_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Ends one session (recorded even if it was never seen).
pub async fn revoke(
    pool: &PgPool,
    user_id: &str,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    crate::db::query(
        "INSERT INTO auth_sessions (user_id, session_id, first_seen, last_seen, revoked_at)
         VALUES ($1, $2, $3, $3, $3)
         ON CONFLICT (user_id, session_id)
         DO UPDATE SET revoked_at = COALESCE(auth_sessions.revoked_at, EXCLUDED.revoked_at)",
    )
    .bind(user_id)
    .bind(session_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Ends every session of the user that began before `now`: one row.
pub async fn revoke_all(
    pool: &PgPool,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mark = crate::db::query_scalar(
        "INSERT INTO auth_user_marks (user_id, not_before) VALUES ($1, $2)
         ON CONFLICT (user_id)
         DO UPDATE SET not_before = GREATEST(auth_user_marks.not_before, EXCLUDED.not_before)
         RETURNING not_before",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(mark)
}

/// The user's sessions not revoked, begun after `since`, newest activity first.
pub async fn live(
    pool: &PgPool,
    user_id: &str,
    since: DateTime<Utc>,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let rows = crate::db::query_as(
        "SELECT s.session_id, s.first_seen, s.last_seen, s.user_agent, s.revoked_at
         FROM auth_sessions s
         LEFT JOIN auth_user_marks m ON m.user_id = s.user_id
         WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.first_seen > $2
           AND (m.not_before IS NULL OR s.first_seen >= m.not_before)
         ORDER BY s.last_seen DESC
         LIMIT 100",
    )
    .bind(user_id)
    .bind(since)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}
