//! Outcomes waiting to be written, and writing them: all completions in one
//! statement and all failures in another, run side by side.

use std::time::Instant;

use sqlx::PgPool;

use super::TickSummary;
use crate::db;
use crate::jobs::{Backoff, Completion, Failure, JobEvent, complete, fail};

/// Outcomes of finished attempts not yet written.
#[derive(Default)]
pub(super) struct Pending {
    pub done: Vec<Completion>,
    pub failed: Vec<Failure>,
    /// Succeeded through `JobContext::succeed_in` (already written): only
    /// to be counted and announced.
    pub done_by_handler: Vec<JobEvent>,
}

impl Pending {
    pub fn len(&self) -> usize {
        self.done.len() + self.failed.len() + self.done_by_handler.len()
    }

    pub fn take(&mut self) -> Pending {
        std::mem::take(self)
    }

    /// Writes the outcomes (fenced by their lease tokens).
    pub async fn write(self, pool: &PgPool, backoff: Backoff) -> Result<Written, sqlx::Error> {
        let started = Instant::now();
        // Each batch in its own unit of work, on its own connection.
        let completing = async {
            if self.done.is_empty() {
                return Ok(Vec::new());
            }
            let mut unit = db::unit(pool).await?;
            let events = complete(&mut *unit, &self.done).await?;
            crate::webhooks::jobs_finished(&mut unit, &events).await?;
            unit.commit().await?;
            Ok::<_, sqlx::Error>(events)
        };
        let failing = async {
            if self.failed.is_empty() {
                return Ok(Vec::new());
            }
            let mut unit = db::unit(pool).await?;
            let events = fail(&mut *unit, &self.failed, backoff).await?;
            crate::webhooks::jobs_finished(&mut unit, &events).await?;
            unit.commit().await?;
            Ok::<_, sqlx::Error>(events)
        };
        let (succeeded, failures) = tokio::try_join!(completing, failing)?;
        if !self.done.is_empty() || !self.failed.is_empty() {
            tracing::debug!(
                succeeded = succeeded.len(),
                failed = failures.len(),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "outcomes written"
            );
        }
        Ok(Written {
            sent: self.done.len() + self.failed.len(),
            succeeded,
            failures,
            done_by_handler: self.done_by_handler,
        })
    }
}

/// What a write changed.
pub(super) struct Written {
    sent: usize,
    succeeded: Vec<JobEvent>,
    failures: Vec<JobEvent>,
    done_by_handler: Vec<JobEvent>,
}

impl Written {
    /// Adds to the summary; returns the events and counters to announce.
    pub fn record(self, s: &mut TickSummary) -> (Vec<JobEvent>, Vec<(&'static str, u64)>) {
        let succeeded = (self.succeeded.len() + self.done_by_handler.len()) as u64;
        let failed = self.failures.len() as u64;
        let dead = self
            .failures
            .iter()
            .filter(|e| e.status == "failed")
            .count() as u64;
        s.succeeded += succeeded;
        s.failed += failed;
        s.dead += dead;
        s.retried += failed - dead;
        s.fenced += (self.sent - self.succeeded.len() - self.failures.len()) as u64;
        let counters = vec![
            ("succeeded", succeeded),
            ("retried", failed - dead),
            ("dead", dead),
        ];
        let mut events = self.done_by_handler;
        events.extend(self.succeeded);
        events.extend(self.failures);
        (events, counters)
    }
}
