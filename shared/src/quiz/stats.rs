//! A user's last seven days, from Postgres, cached in Redis per user.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::kv::Kv;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WeeklyStats {
    pub quizzes_generated: i64,
    pub attempts: i64,
    /// `null` when there was no attempt.
    pub average_score: Option<f64>,
    pub documents_recognised: i64,
    pub pages_recognised: i64,
}

/// The Redis key of a user's cached stats (the id is hashed: it may hold any character).
pub fn cache_key(owner_id: &str) -> String {
    let digest = hex::encode(Sha256::digest(owner_id.as_bytes()));
    format!("quiz:stats:weekly:{}", &digest[..32])
}

/// The stats, from cache when fresh, else from Postgres (then cached for `ttl`).
pub async fn weekly(
    conn: &mut PgConnection,
    kv: &Kv,
    owner_id: &str,
    ttl: Duration,
) -> Result<WeeklyStats, sqlx::Error> {
    let key = cache_key(owner_id);
    if let Ok(Some(bytes)) = kv.get(&key).await
        && let Ok(stats) = serde_json::from_slice(&bytes)
    {
        return Ok(stats);
    }
    let stats = from_db(conn, owner_id).await?;
    if let Ok(bytes) = serde_json::to_vec(&stats) {
        let _ = kv.set(&key, &bytes, Some(ttl)).await;
    }
    Ok(stats)
}

/// Drops a user's cached stats after they generate or attempt a quiz.
pub async fn forget(kv: &Kv, owner_id: &str) {
    let _ = kv.del(&[&cache_key(owner_id)]).await;
}

/// Counts over the last seven days.
pub async fn from_db(conn: &mut PgConnection, owner_id: &str) -> Result<WeeklyStats, sqlx::Error> {
    let (quizzes_generated, attempts, average_score): (i64, i64, Option<f64>) = crate::db::query_as(
        "SELECT \
           (SELECT count(*) FROM quizzes WHERE owner_id = $1 AND created_at > now() - interval '7 days'), \
           count(*), avg(score) \
         FROM quiz_attempts WHERE owner_id = $1 AND created_at > now() - interval '7 days'",
    )
    .bind(owner_id)
    .fetch_one(&mut *conn)
    .await?;
    let (documents_recognised, pages_recognised): (i64, i64) = crate::db::query_as(
        "SELECT count(*), COALESCE(sum(page_count), 0)::bigint FROM documents \
         WHERE owner_id = $1 AND created_at > now() - interval '7 days'",
    )
    .bind(owner_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(WeeklyStats {
        quizzes_generated,
        attempts,
        average_score,
        documents_recognised,
        pages_recognised,
    })
}
