//! Enqueueing. Always on a connection the caller holds (normally its
//! transaction), so a job and the row it belongs to commit together or not
//! at all. An idempotency key makes a repeated enqueue return the first job.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A job to enqueue. `NewJob::new(kind, payload)` and the builder methods.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    pub owner_id: Option<String>,
    /// Higher runs first (default 0).
    pub priority: i16,
    /// Not before this instant (default: now).
    pub run_at: Option<DateTime<Utc>>,
    /// Attempts before the job is dead (default 5).
    pub max_attempts: i32,
    pub idempotency_key: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, payload: Value) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload,
            owner_id: None,
            priority: 0,
            run_at: None,
            max_attempts: 5,
            idempotency_key: None,
        }
    }

    pub fn owner(mut self, owner_id: &str) -> NewJob {
        self.owner_id = Some(owner_id.to_owned());
        self
    }

    pub fn priority(mut self, priority: i16) -> NewJob {
        self.priority = priority;
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> NewJob {
        self.run_at = Some(at);
        self
    }

    /// At least 1.
    pub fn max_attempts(mut self, n: i32) -> NewJob {
        self.max_attempts = n.max(1);
        self
    }

    /// Enqueueing the same kind and key again, while this job exists, gives
    /// this job instead of a new one.
    pub fn idempotency_key(mut self, key: &str) -> NewJob {
        self.idempotency_key = Some(key.to_owned());
        self
    }
}

/// The outcome of `enqueue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    pub id: Uuid,
    /// False when the idempotency key matched an existing job.
    pub created: bool,
}

/// Enqueues one job on `conn` (pass `&mut *tx` to enqueue inside a transaction).
pub async fn enqueue(conn: &mut PgConnection, job: &NewJob) -> Result<Enqueued, sqlx::Error> {
    let id = Uuid::now_v7();
    let inserted: Option<Uuid> = crate::db::query_scalar(
        "INSERT INTO jobs (id, kind, owner_id, payload, priority, run_at, max_attempts, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, coalesce($6, now()), $7, $8)
         ON CONFLICT (kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(id)
    .bind(&job.kind)
    .bind(&job.owner_id)
    .bind(&job.payload)
    .bind(job.priority)
    .bind(job.run_at)
    .bind(job.max_attempts.max(1))
    .bind(&job.idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok(Enqueued { id, created: true });
    }
    // The key matched: the conflicting row is visible to us (ON CONFLICT
    // waited for its transaction to commit).
    let existing: Uuid =
        crate::db::query_scalar("SELECT id FROM jobs WHERE kind = $1 AND idempotency_key = $2")
            .bind(&job.kind)
            .bind(&job.idempotency_key)
            .fetch_one(&mut *conn)
            .await?;
    Ok(Enqueued {
        id: existing,
        created: false,
    })
}

/// Enqueues many jobs in one statement (no idempotency keys: use `enqueue`
/// for those). Returns their ids in order.
pub async fn enqueue_many(
    conn: &mut PgConnection,
    jobs: &[NewJob],
) -> Result<Vec<Uuid>, sqlx::Error> {
    let ids: Vec<Uuid> = jobs.iter().map(|_| Uuid::now_v7()).collect();
    let kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
    let owners: Vec<Option<&str>> = jobs.iter().map(|j| j.owner_id.as_deref()).collect();
    let payloads: Vec<&Value> = jobs.iter().map(|j| &j.payload).collect();
    let priorities: Vec<i16> = jobs.iter().map(|j| j.priority).collect();
    let run_ats: Vec<Option<DateTime<Utc>>> = jobs.iter().map(|j| j.run_at).collect();
    let max_attempts: Vec<i32> = jobs.iter().map(|j| j.max_attempts.max(1)).collect();
    crate::db::query(
        "INSERT INTO jobs (id, kind, owner_id, payload, priority, run_at, max_attempts)
         SELECT id, kind, owner_id, payload, priority, coalesce(run_at, now()), max_attempts
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::int2[],
                     $6::timestamptz[], $7::int4[])
              AS t(id, kind, owner_id, payload, priority, run_at, max_attempts)",
    )
    .bind(&ids)
    .bind(&kinds)
    .bind(&owners)
    .bind(&payloads)
    .bind(&priorities)
    .bind(&run_ats)
    .bind(&max_attempts)
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}
