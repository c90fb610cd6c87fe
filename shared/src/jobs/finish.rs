//! Finishing writes, each fenced by the lease token: success, failure (retry
//! with backoff, or dead), release of jobs claimed but never started, and
//! progress. A write whose token is no longer the job's current one (the
//! lease expired and the job was rescued, maybe re-claimed) changes nothing,
//! so a late finisher can never overwrite a newer attempt. Batched: one
//! statement for any number of jobs.
//!
//! A lease token is set exactly while a job is running (a CHECK constraint),
//! so matching it is the whole fence. The statements name their rows with
//! `id = ANY($1)` so the planner looks them up by primary key: a `status =
//! 'running'` predicate or a bare join lets it pick an index or a table scan
//! whose cost grows with the jobs finished since the last vacuum.

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{Backoff, JobEvent};

/// A job to mark succeeded.
#[derive(Debug, Clone)]
pub struct Completion {
    pub id: Uuid,
    pub lease_token: Uuid,
    pub result: Option<Value>,
}

/// A failed attempt.
#[derive(Debug, Clone)]
pub struct Failure {
    pub id: Uuid,
    pub lease_token: Uuid,
    /// Kept as the job's `last_error` (truncated to `MAX_ERROR_CHARS`).
    pub error: String,
    /// No retry: the job fails now.
    pub permanent: bool,
    /// Retry at once rather than after the backoff (an attempt interrupted
    /// by shutdown rather than one that went wrong).
    pub immediate: bool,
}

/// Stored error messages are cut to this many characters.
pub const MAX_ERROR_CHARS: usize = 2000;

/// Marks jobs succeeded. Returns the ones whose lease was still current;
/// the others were fenced off and are unchanged.
pub async fn complete(
    db: impl PgExecutor<'_>,
    done: &[Completion],
) -> Result<Vec<JobEvent>, sqlx::Error> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = done.iter().map(|c| c.id).collect();
    let tokens: Vec<Uuid> = done.iter().map(|c| c.lease_token).collect();
    let results: Vec<Option<Value>> = done.iter().map(|c| c.result.clone()).collect();
    crate::db::query_as(
        "UPDATE jobs j
         SET status = 'succeeded', result = f.result, last_error = NULL,
             lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
             finished_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) AS f(id, token, result)
         WHERE j.id = ANY($1) AND j.id = f.id AND j.lease_token = f.token
         RETURNING j.id, j.kind, j.owner_id, j.status, j.attempts",
    )
    .bind(&ids)
    .bind(&tokens)
    .bind(&results)
    .fetch_all(db)
    .await
}

/// Records failed attempts: back to `queued` with `run_at` pushed back by the
/// backoff, or `failed` (dead) when permanent or out of attempts, the error
/// kept either way. Returns the rows changed (the others were fenced off).
pub async fn fail(
    db: impl PgExecutor<'_>,
    failures: &[Failure],
    backoff: Backoff,
) -> Result<Vec<JobEvent>, sqlx::Error> {
    if failures.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = failures.iter().map(|f| f.id).collect();
    let tokens: Vec<Uuid> = failures.iter().map(|f| f.lease_token).collect();
    let errors: Vec<String> = failures.iter().map(|f| truncate(&f.error)).collect();
    let permanent: Vec<bool> = failures.iter().map(|f| f.permanent).collect();
    let immediate: Vec<bool> = failures.iter().map(|f| f.immediate).collect();
    crate::db::query_as(
        "UPDATE jobs j
         SET status = CASE WHEN f.permanent OR j.attempts >= j.max_attempts
                           THEN 'failed' ELSE 'queued' END,
             run_at = CASE WHEN f.permanent OR j.attempts >= j.max_attempts THEN j.run_at
                           WHEN f.immediate THEN now()
                           ELSE jobs_retry_at(j.attempts, $6, $7) END,
             finished_at = CASE WHEN f.permanent OR j.attempts >= j.max_attempts
                                THEN now() END,
             last_error = f.error,
             lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
             updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bool[], $5::bool[])
              AS f(id, token, error, permanent, immediate)
         WHERE j.id = ANY($1) AND j.id = f.id AND j.lease_token = f.token
         RETURNING j.id, j.kind, j.owner_id, j.status, j.attempts",
    )
    .bind(&ids)
    .bind(&tokens)
    .bind(&errors)
    .bind(&permanent)
    .bind(&immediate)
    .bind(backoff.base_ms())
    .bind(backoff.max_ms())
    .fetch_all(db)
    .await
}

/// Gives back jobs that were claimed but never started: queued again, in
/// their old place, the attempt not counted. Returns the ids released.
pub async fn release(
    db: impl PgExecutor<'_>,
    jobs: &[(Uuid, Uuid)],
) -> Result<Vec<Uuid>, sqlx::Error> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| *id).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, token)| *token).collect();
    crate::db::query_scalar(
        "UPDATE jobs j
         SET status = 'queued', attempts = greatest(j.attempts - 1, 0),
             lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
             updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS f(id, token)
         WHERE j.id = ANY($1) AND j.id = f.id AND j.lease_token = f.token
         RETURNING j.id",
    )
    .bind(&ids)
    .bind(&tokens)
    .fetch_all(db)
    .await
}

/// Stores progress while `lease_token` is current. False when fenced off.
pub async fn progress(
    db: impl PgExecutor<'_>,
    id: Uuid,
    lease_token: Uuid,
    progress: &Value,
) -> Result<bool, sqlx::Error> {
    let done = crate::db::query(
        "UPDATE jobs SET progress = $3, updated_at = now()
         WHERE id = $1 AND lease_token = $2",
    )
    .bind(id)
    .bind(lease_token)
    .bind(progress)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn truncate(error: &str) -> String {
    match error.char_indices().nth(MAX_ERROR_CHARS) {
        Some((at, _)) => format!("{}…", &error[..at]),
        None => error.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_CHARS + 10);
        let cut = truncate(&long);
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short"), "short");
    }
}
