//! Housekeeping every tick does before it claims: rescue jobs whose lease
//! expired (their tick crashed or froze), and purge finished jobs and spent
//! uploads past their retention. Plus the queue figures readiness shows.

use std::time::Duration;

use serde::Serialize;
use sqlx::PgExecutor;

use super::{Backoff, JobEvent};

/// What `rescue` did.
#[derive(Debug, Default)]
pub struct Rescued {
    /// Every job taken back, with its new status (`queued` or `failed`).
    pub events: Vec<JobEvent>,
}

impl Rescued {
    pub fn requeued(&self) -> usize {
        self.events.iter().filter(|e| e.status == "queued").count()
    }

    pub fn dead(&self) -> usize {
        self.events.iter().filter(|e| e.status == "failed").count()
    }
}

/// Takes back up to `limit` running jobs whose lease expired. The lost
/// attempt counts (it was counted when claimed): the job is queued again
/// after the backoff, or `failed` when that was its last attempt. Its token
/// is cleared, so the lost attempt can no longer finish it.
pub async fn rescue(
    db: impl PgExecutor<'_>,
    limit: u32,
    backoff: Backoff,
) -> Result<Rescued, sqlx::Error> {
    let events = crate::db::query_as(
        "UPDATE jobs j
         SET status = CASE WHEN j.attempts >= j.max_attempts THEN 'failed' ELSE 'queued' END,
             run_at = CASE WHEN j.attempts >= j.max_attempts THEN j.run_at
                           ELSE jobs_retry_at(j.attempts, $2, $3) END,
             finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
             last_error = 'attempt ' || j.attempts
                          || ' was lost: its worker stopped or stalled past the lease',
             lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
             updated_at = now()
         WHERE j.id = ANY(ARRAY(
             SELECT id FROM jobs
             WHERE status = 'running' AND lease_expires_at < now()
             ORDER BY lease_expires_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED))
         RETURNING j.id, j.kind, j.owner_id, j.status, j.attempts",
    )
    .bind(i64::from(limit))
    .bind(backoff.base_ms())
    .bind(backoff.max_ms())
    .fetch_all(db)
    .await?;
    Ok(Rescued { events })
}

/// Deletes up to `limit` finished jobs older than `retention` (their
/// uploads go with them), then up to `limit` uploads that expired or whose
/// job has finished. Returns (jobs, uploads) deleted. Each delete is its
/// own unit of work, so neither holds the other's locks.
pub async fn purge(
    pool: &sqlx::PgPool,
    retention: Duration,
    limit: u32,
) -> Result<(u64, u64), sqlx::Error> {
    let mut db = crate::db::unit(pool).await?;
    let jobs = crate::db::query(
        "DELETE FROM jobs WHERE id = ANY(ARRAY(
             SELECT id FROM jobs
             WHERE status IN ('succeeded', 'failed')
               AND finished_at < now() - make_interval(secs => $1)
             LIMIT $2))",
    )
    .bind(retention.as_secs_f64())
    .bind(i64::from(limit))
    .execute(&mut *db)
    .await?
    .rows_affected();
    db.commit().await?;
    let mut db = crate::db::unit(pool).await?;
    let uploads = crate::db::query(
        "DELETE FROM uploads WHERE id = ANY(ARRAY(
             SELECT u.id FROM uploads u
             WHERE u.expires_at < now()
                OR EXISTS (SELECT 1 FROM jobs j
                           WHERE j.id = u.job_id AND j.status IN ('succeeded', 'failed'))
             LIMIT $1))",
    )
    .bind(i64::from(limit))
    .execute(&mut *db)
    .await?
    .rows_affected();
    db.commit().await?;
    Ok((jobs, uploads))
}

/// The `queue` section of `/health/ready`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    /// Failed jobs still within their retention.
    pub dead: i64,
    /// How long the longest-waiting due job has waited; 0 when none waits.
    pub oldest_queued_age_s: f64,
}

pub async fn queue_stats(db: impl PgExecutor<'_>) -> Result<QueueStats, sqlx::Error> {
    crate::db::query_as(
        "SELECT
             (SELECT count(*) FROM jobs WHERE status = 'queued') AS queued,
             (SELECT count(*) FROM jobs WHERE status = 'running') AS running,
             (SELECT count(*) FROM jobs WHERE status = 'failed') AS dead,
             coalesce((SELECT round(extract(epoch FROM now() - min(run_at))::numeric, 1)::float8
                       FROM jobs WHERE status = 'queued' AND run_at <= now()), 0)
                 AS oldest_queued_age_s",
    )
    .fetch_one(db)
    .await
}
