//! The durable job queue, in Postgres: enqueue inside the caller's
//! transaction, claim in batches with `FOR UPDATE SKIP LOCKED`, lease tokens
//! that fence every finishing write, retries with backoff, dead jobs, rescue
//! of expired leases, purge, and the tick runner with its time budget.
//! Nothing here needs a database session (no LISTEN/NOTIFY, no session
//! advisory locks), so it works through Neon's transaction-mode pooler.
//! Design notes: docs/jobs.md.

mod builtin;
mod enqueue;
mod finish;
mod handler;
mod maintenance;
mod notify;
mod queue;
mod runner;
pub mod uploads;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use builtin::{NoopJob, ProbeJob};
pub use enqueue::{Enqueued, NewJob, enqueue, enqueue_many};
pub use finish::progress;
pub use finish::{Completion, Failure, complete, fail, release};
pub use handler::{JobContext, JobError, JobHandler, Registry};
pub use maintenance::{QueueStats, Rescued, purge, queue_stats, rescue};
pub use notify::{JobEvent, publish_events};
pub use queue::{Claim, ClaimedJob, claim, count_due, job_status};
pub use runner::{Shutdown, TickSummary, Worker, budget};

/// A job's status, as stored and as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    /// Dead: out of attempts, or failed permanently. Its last error is kept.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
        }
    }

    /// Reads the stored text; `None` for anything the schema does not allow.
    pub fn parse(raw: &str) -> Option<Status> {
        match raw {
            "queued" => Some(Status::Queued),
            "running" => Some(Status::Running),
            "succeeded" => Some(Status::Succeeded),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

/// One job as a status route shows it (`GET /v1/ocr/jobs/{id}`, say). The
/// caller checks `owner_id` before answering.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobView {
    pub id: Uuid,
    pub kind: String,
    pub owner_id: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub payload: serde_json::Value,
    pub progress: Option<serde_json::Value>,
    pub result: Option<serde_json::Value>,
    pub last_error: Option<String>,
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The retry rule. It is applied in SQL (`jobs_retry_at` in the migration),
/// so that failures and rescue agree: after attempt `n` (1-based) the job
/// waits `min(max, base · 2^(n-1))`, scaled by a random factor in
/// [0.75, 1.25) so that jobs that failed together do not come back together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The bounds of the delay after attempt `attempt` (1-based).
    pub fn bounds(&self, attempt: i32) -> (Duration, Duration) {
        let exp = attempt.saturating_sub(1).clamp(0, 62) as u32;
        let raw = self.base.as_secs_f64() * 2f64.powi(exp as i32);
        let capped = raw.min(self.max.as_secs_f64());
        (
            Duration::from_secs_f64(capped * 0.75),
            Duration::from_secs_f64(capped * 1.25),
        )
    }

    pub(crate) fn base_ms(&self) -> f64 {
        self.base.as_secs_f64() * 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.max.as_secs_f64() * 1000.0
    }
}

/// A lease's length: the rest of the tick's budget plus the grace, so that
/// no job of a live tick can lose its lease while that tick may still run it.
pub(crate) fn lease_duration(remaining: Duration, grace: Duration) -> Duration {
    (remaining + grace).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_and_stops_at_the_cap() {
        let b = Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        };
        assert_eq!(
            b.bounds(1),
            (Duration::from_millis(1500), Duration::from_millis(2500))
        );
        assert_eq!(
            b.bounds(3),
            (Duration::from_secs(6), Duration::from_secs(10))
        );
        assert_eq!(
            b.bounds(40),
            (Duration::from_secs(45), Duration::from_secs(75))
        );
        assert_eq!(b.bounds(0), b.bounds(1));
    }

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for s in [
            Status::Queued,
            Status::Running,
            Status::Succeeded,
            Status::Failed,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("dead"), None);
    }
}
