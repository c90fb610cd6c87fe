//! The tick: one bounded drain of the queue, the same whatever woke it (HTTP,
//! an EventBridge schedule, or `worker-tick --every`). Rescue expired leases,
//! purge, then claim → run → finish in batches until the queue is drained,
//! the budget is spent, or shutdown is asked for; jobs claimed but not
//! started go back to the queue. How long each attempt may run: `budget`.

pub mod budget;
mod outcomes;
mod run;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Backoff, Registry, count_due, notify, purge, rescue};
use crate::config::WorkerConfig;
use crate::db;
use crate::kv::Kv;
use crate::state::AppState;

/// Asks a running tick to stop claiming, finish (or, past the shutdown
/// grace, interrupt) the jobs in hand, give back the rest, and return.
pub type Shutdown = CancellationToken;

/// Expired leases taken back per tick, and finished rows purged per tick.
const RESCUE_LIMIT: u32 = 1000;
const PURGE_LIMIT: u32 = 5000;

/// What one tick did: the answer of `POST /v1/worker/tick`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TickSummary {
    /// Jobs claimed (each an attempt started or given back).
    pub claimed: u64,
    pub succeeded: u64,
    /// Attempts that failed (`retried` + those that became `dead`).
    pub failed: u64,
    /// Failed attempts queued again with backoff.
    pub retried: u64,
    /// Jobs that became `failed` this tick: out of attempts, permanent
    /// errors, and rescued jobs whose lost attempt was their last.
    pub dead: u64,
    /// Jobs whose lease had expired, taken back from a crashed or frozen tick.
    pub reaped: u64,
    /// Claimed but not started (no time left, or shutdown), given back.
    pub released: u64,
    /// Attempts started with less time than their kind's timeout, because
    /// the whole tick is shorter than that (see `budget`). One cut off by
    /// the tick's end is queued again at once, the attempt counted.
    pub cut: u64,
    /// Registered kinds for which this tick was too short to start even a
    /// minimal attempt: their jobs stay queued for a longer tick.
    pub unfit_kinds: Vec<String>,
    /// Finishing writes refused because the attempt had lost its lease.
    pub fenced: u64,
    pub purged_jobs: u64,
    pub purged_uploads: u64,
    /// Due jobs still queued when the tick ended.
    pub remaining_queued: i64,
    pub elapsed_ms: u64,
    /// Why the tick ended: `drained`, `budget` or `shutdown`.
    pub stopped: &'static str,
}

/// Runs ticks. One per process, shared by every trigger.
pub struct Worker {
    pool: PgPool,
    kv: Kv,
    registry: Arc<Registry>,
    config: WorkerConfig,
    shutdown_grace: Duration,
    id: String,
    /// The span of the last tick, in ms (0 before the first): on Lambda the
    /// only way to learn how long the platform lets a tick run.
    last_span_ms: AtomicU64,
}

impl Worker {
    /// A worker over the function's stores and configuration. After a
    /// shutdown request its jobs get three quarters of `SHUTDOWN_GRACE_SECS`
    /// to finish, so that the tick's answer still fits in the server's drain.
    pub fn new(state: &AppState, registry: Registry) -> Worker {
        Worker::with_parts(
            state.db.clone(),
            state.kv.clone(),
            registry,
            state.config.worker.clone(),
            state.config.shutdown_grace.mul_f64(0.75),
        )
    }

    pub fn with_parts(
        pool: PgPool,
        kv: Kv,
        registry: Registry,
        config: WorkerConfig,
        shutdown_grace: Duration,
    ) -> Worker {
        let short = uuid::Uuid::new_v4().simple().to_string();
        let worker = Worker {
            pool,
            kv,
            registry: Arc::new(registry),
            config,
            shutdown_grace,
            id: format!("pid{}-{}", std::process::id(), &short[..8]),
            last_span_ms: AtomicU64::new(0),
        };
        worker.warn_of_long_kinds();
        worker
    }

    /// The same worker for ticks that can never run longer than `budget`
    /// (an HTTP tick inside the request timeout, say): kinds are judged
    /// against it at start and in `fits` until a tick has run.
    pub fn with_tick_budget(mut self, budget: Duration) -> Worker {
        if budget < self.config.tick_budget {
            self.config.tick_budget = budget.max(Duration::from_millis(100));
            self.warn_of_long_kinds();
        }
        self
    }

    fn warn_of_long_kinds(&self) {
        let span = self.config.tick_budget;
        for k in budget::kinds(&self.registry, span) {
            match k.fit {
                budget::Fit::Full => {}
                budget::Fit::Cut => tracing::warn!(
                    job.kind = k.kind,
                    timeout_s = k.timeout_s,
                    tick_s = span.as_secs_f64(),
                    "a job kind's timeout is longer than a tick can last: its attempts get what is left of a tick (at least half of it) and are retried at once when cut off"
                ),
                budget::Fit::Never => tracing::error!(
                    job.kind = k.kind,
                    timeout_s = k.timeout_s,
                    tick_s = span.as_secs_f64(),
                    "a tick is too short to start this job kind at all: its jobs stay queued"
                ),
            }
        }
    }

    /// The span a tick of this worker gets: the last tick's when one has
    /// run (the platform's deadline shows there), else the configured
    /// longest; and how every kind fits it.
    pub fn fits(&self) -> (Duration, Vec<budget::KindFit>) {
        let last = self.last_span_ms.load(Ordering::Relaxed);
        let span = if last > 0 {
            Duration::from_millis(last)
        } else {
            self.config.tick_budget
        };
        (span, budget::kinds(&self.registry, span))
    }

    /// Names this worker in `jobs.locked_by`.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: self.config.retry_base,
            max: self.config.retry_max,
        }
    }

    /// Runs one tick that starts no job it could not finish by `deadline`.
    /// Fails only when Postgres does; the jobs it held then come back through
    /// rescue once their leases expire.
    pub async fn tick(
        &self,
        deadline: Instant,
        shutdown: &Shutdown,
    ) -> Result<TickSummary, sqlx::Error> {
        let started = Instant::now();
        let span = deadline.saturating_duration_since(started);
        self.last_span_ms
            .store((span.as_millis() as u64).max(1), Ordering::Relaxed);
        let mut summary = TickSummary::default();
        let notices = notify::Notices::start(self.kv.clone());

        let mut unit = db::unit(&self.pool).await?;
        let rescued = rescue(&mut *unit, RESCUE_LIMIT, self.backoff()).await?;
        crate::webhooks::jobs_finished(&mut unit, &rescued.events).await?;
        unit.commit().await?;
        summary.reaped = rescued.events.len() as u64;
        summary.dead += rescued.dead() as u64;
        if !rescued.events.is_empty() {
            tracing::warn!(
                requeued = rescued.requeued(),
                dead = rescued.dead(),
                "took back jobs whose lease expired"
            );
            let counters = vec![("rescued", summary.reaped), ("dead", summary.dead)];
            notices.send(rescued.events, counters);
        }
        match purge(&self.pool, self.config.retention, PURGE_LIMIT).await {
            Ok((jobs, uploads)) => {
                summary.purged_jobs = jobs;
                summary.purged_uploads = uploads;
            }
            Err(e) => tracing::warn!(error = %e, "purge failed; retrying next tick"),
        }

        let span = deadline.saturating_duration_since(Instant::now());
        summary.unfit_kinds = budget::kinds(&self.registry, span)
            .into_iter()
            .filter(|k| k.fit == budget::Fit::Never)
            .map(|k| k.kind)
            .collect();
        let outcome = run::Run::new(self, deadline, span, shutdown, &mut summary, &notices)
            .drain()
            .await;
        notices.finish(Duration::from_millis(500)).await;
        outcome?;

        let mut unit = db::unit(&self.pool).await?;
        summary.remaining_queued = count_due(&mut *unit).await?;
        unit.commit().await?;
        summary.elapsed_ms = started.elapsed().as_millis() as u64;
        // An idle tick (nothing claimed, rescued or purged) is a DEBUG line:
        // a ticker every few seconds would otherwise bury everything else.
        let idle = summary.claimed == 0
            && summary.reaped == 0
            && summary.purged_jobs == 0
            && summary.purged_uploads == 0;
        macro_rules! tick_line {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    claimed = summary.claimed,
                    succeeded = summary.succeeded,
                    failed = summary.failed,
                    dead = summary.dead,
                    reaped = summary.reaped,
                    released = summary.released,
                    cut = summary.cut,
                    fenced = summary.fenced,
                    remaining_queued = summary.remaining_queued,
                    elapsed_ms = summary.elapsed_ms,
                    stopped = summary.stopped,
                    "tick finished"
                )
            };
        }
        if idle {
            tick_line!(tracing::Level::DEBUG);
        } else {
            tick_line!(tracing::Level::INFO);
        }
        if !summary.unfit_kinds.is_empty() && summary.remaining_queued > 0 {
            tracing::warn!(
                kinds = ?summary.unfit_kinds,
                span_ms = span.as_millis() as u64,
                "this tick was too short to start some job kinds at all: their jobs wait for a longer tick"
            );
        }
        Ok(summary)
    }
}
