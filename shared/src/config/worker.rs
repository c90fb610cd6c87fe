//! How the job queue's worker runs: tick budget, batching, leases, retries
//! and retention (see docs/jobs.md).

use std::time::Duration;

use super::env::Env;

/// How a worker tick runs (see docs/jobs.md).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The longest a tick runs (`WORKER_TICK_BUDGET`); the platform's own
    /// deadline shortens it further.
    pub tick_budget: Duration,
    /// Jobs claimed per round trip (`WORKER_BATCH_SIZE`).
    pub batch_size: u32,
    /// Jobs run at once by one tick (`WORKER_CONCURRENCY`).
    pub concurrency: u32,
    /// How long a lease outlives its tick's deadline before other ticks may
    /// rescue the job (`WORKER_LEASE_GRACE`).
    pub lease_grace: Duration,
    /// How long finished jobs are kept (`WORKER_RETENTION`).
    pub retention: Duration,
    /// First retry delay; doubles per attempt (`WORKER_RETRY_BASE`).
    pub retry_base: Duration,
    /// Longest retry delay (`WORKER_RETRY_MAX`).
    pub retry_max: Duration,
}

pub(super) fn worker_config(env: &mut Env) -> WorkerConfig {
    let config = WorkerConfig {
        tick_budget: env.seconds_or("WORKER_TICK_BUDGET", 50.0),
        batch_size: env.parse_or("WORKER_BATCH_SIZE", 100),
        concurrency: env.parse_or("WORKER_CONCURRENCY", 4),
        lease_grace: env.seconds_or("WORKER_LEASE_GRACE", 15.0),
        retention: env.seconds_or("WORKER_RETENTION", 24.0 * 3600.0),
        retry_base: env.seconds_or("WORKER_RETRY_BASE", 2.0),
        retry_max: env.seconds_or("WORKER_RETRY_MAX", 3600.0),
    };
    if !(1..=10_000).contains(&config.batch_size) {
        env.invalid("WORKER_BATCH_SIZE", "must be between 1 and 10000");
    }
    if !(1..=1024).contains(&config.concurrency) {
        env.invalid("WORKER_CONCURRENCY", "must be between 1 and 1024");
    }
    if config.tick_budget < Duration::from_millis(100) {
        env.invalid("WORKER_TICK_BUDGET", "must be at least 100ms");
    }
    if config.retry_max < config.retry_base {
        env.invalid(
            "WORKER_RETRY_MAX",
            "must not be shorter than WORKER_RETRY_BASE",
        );
    }
    config
}
