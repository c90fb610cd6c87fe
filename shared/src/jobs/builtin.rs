//! Job kinds every worker binary carries, for smoke checks, benchmarks and
//! the crash test (whose worker is the real binary, so its kinds are fixed
//! at compile time).

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::{JobContext, JobError, JobHandler};

/// `noop`: succeeds at once with no result. The benchmark's job.
pub struct NoopJob;

#[async_trait]
impl JobHandler for NoopJob {
    async fn run(&self, _ctx: JobContext) -> Result<Option<Value>, JobError> {
        Ok(None)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}

/// `probe`: an end-to-end check of the queue. Waits `sleep_ms`, then, in one
/// transaction, inserts `(job_id, attempt, pid)` into the table named by
/// `table` and marks the job succeeded: the row exists exactly when the job
/// succeeded, so a checker outside the worker can count completions.
/// The table must already exist and be named `probe_…` (lowercase letters,
/// digits, underscores); any other name fails the job permanently.
pub struct ProbeJob;

#[derive(Deserialize)]
struct ProbePayload {
    table: String,
    #[serde(default)]
    sleep_ms: u64,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

#[async_trait]
impl JobHandler for ProbeJob {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        let payload: ProbePayload = serde_json::from_value(ctx.payload().clone())
            .map_err(|e| JobError::Permanent(format!("bad probe payload: {e}")))?;
        if !is_probe_table(&payload.table) {
            return Err(JobError::Permanent(
                "the probe table must be named probe_[a-z0-9_]+".into(),
            ));
        }
        let sleep = Duration::from_millis(payload.sleep_ms).min(PROBE_TIMEOUT / 2);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = ctx.cancelled() => return Err(JobError::Retry("cancelled".into())),
        }
        let mut tx = ctx.begin().await?;
        let sql = format!(
            "INSERT INTO {} (job_id, attempt, pid) VALUES ($1, $2, $3)",
            payload.table
        );
        crate::db::query(sqlx::AssertSqlSafe(sql))
            .bind(ctx.id())
            .bind(ctx.attempt())
            .bind(std::process::id() as i64)
            .execute(&mut *tx)
            .await?;
        ctx.succeed_in(tx, None).await?;
        Ok(None)
    }

    fn timeout(&self) -> Duration {
        PROBE_TIMEOUT
    }
}

/// `probe_` then 1–50 of `[a-z0-9_]`: safe to splice into SQL unquoted.
fn is_probe_table(name: &str) -> bool {
    name.strip_prefix("probe_").is_some_and(|rest| {
        (1..=50).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_probe_table_names_are_accepted() {
        assert!(is_probe_table("probe_crash_1"));
        for bad in [
            "probe_",
            "jobs",
            "probe_x; DROP TABLE jobs",
            "probe_X",
            "probe_\"x\"",
            "public.probe_x",
        ] {
            assert!(!is_probe_table(bad), "{bad}");
        }
    }
}
