//! Claiming jobs: one short statement takes a batch of due jobs (`FOR UPDATE
//! SKIP LOCKED`, so concurrent ticks never wait on or take each other's
//! rows), stamps each with a fresh lease token and expiry, and counts the
//! attempt. Plus the read-only queries callers need.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::JobView;

/// A job this worker now holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: Uuid,
    pub kind: String,
    pub owner_id: Option<String>,
    pub payload: Value,
    pub priority: i16,
    pub run_at: DateTime<Utc>,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub max_attempts: i32,
    /// The fencing token every finishing write must present.
    pub lease_token: Uuid,
    pub lease_expires_at: DateTime<Utc>,
}

/// What one claim asks for.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Only jobs of these kinds (the ones this worker can run in time).
    pub kinds: &'a [String],
    /// At most this many jobs.
    pub limit: u32,
    /// How long the lease lasts from now.
    pub lease: Duration,
    /// Who holds the lease (diagnostics).
    pub worker: &'a str,
}

/// Claims up to `claim.limit` due jobs, highest priority first, then oldest
/// `run_at`; returned in that order. (`= ANY(ARRAY(…))` makes the update
/// find its rows by primary key; a join here lets the planner hash the whole
/// table, which grows with every finished job kept for the retention.)
pub async fn claim(
    db: impl PgExecutor<'_>,
    claim: Claim<'_>,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    if claim.kinds.is_empty() || claim.limit == 0 {
        return Ok(Vec::new());
    }
    let mut jobs: Vec<ClaimedJob> = crate::db::query_as(
        "UPDATE jobs j
         SET status = 'running',
             attempts = j.attempts + 1,
             lease_token = gen_random_uuid(),
             lease_expires_at = now() + make_interval(secs => $3),
             locked_by = $4,
             updated_at = now()
         WHERE j.id = ANY(ARRAY(
             SELECT id FROM jobs
             WHERE status = 'queued' AND run_at <= now() AND kind = ANY($1)
             ORDER BY priority DESC, run_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED))
         RETURNING j.id, j.kind, j.owner_id, j.payload, j.priority, j.run_at,
                   j.attempts, j.max_attempts, j.lease_token, j.lease_expires_at",
    )
    .bind(claim.kinds)
    .bind(i64::from(claim.limit))
    .bind(claim.lease.as_secs_f64())
    .bind(claim.worker)
    .fetch_all(db)
    .await?;
    jobs.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.run_at.cmp(&b.run_at)));
    Ok(jobs)
}

/// Queued jobs that are due now (what the next tick could claim).
pub async fn count_due(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    crate::db::query_scalar("SELECT count(*) FROM jobs WHERE status = 'queued' AND run_at <= now()")
        .fetch_one(db)
        .await
}

/// One job, for a status route. The caller checks the owner.
pub async fn job_status(pool: &PgPool, id: Uuid) -> Result<Option<JobView>, sqlx::Error> {
    let mut db = crate::db::unit(pool).await?;
    let job = crate::db::query_as(
        "SELECT id, kind, owner_id, status, attempts, max_attempts, payload, progress,
                result, last_error, run_at, created_at, updated_at, finished_at
         FROM jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    db.commit().await?;
    Ok(job)
}
