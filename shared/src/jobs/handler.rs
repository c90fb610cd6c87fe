//! How job kinds plug in: the `JobHandler` trait, the `Registry` of kinds →
//! handlers, and the `JobContext` a handler receives (the job, the stores,
//! fenced progress and completion, and its deadline).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::queue::ClaimedJob;
use super::{JobEvent, finish};
use crate::db;
use crate::kv::Kv;

/// One kind of job. Handlers are shared by every job of their kind and by
/// concurrent ticks, so they hold no per-job state.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt. `Ok(result)` marks the job succeeded with `result`
    /// (written, fenced, with the tick's next batch of completions);
    /// `Err(JobError::Retry)` retries with backoff until `max_attempts`;
    /// `Err(JobError::Permanent)` fails the job now.
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError>;

    /// The longest one attempt may take. A tick starts a job only when this
    /// much of its budget is left, and cancels the attempt past it. (A
    /// timeout longer than the whole tick could never fit: such a kind's
    /// attempts get what is left of a tick instead; see `jobs::budget`.)
    fn timeout(&self) -> Duration {
        Duration::from_secs(30)
    }
}

/// Why an attempt did not succeed. The message is stored as the job's
/// `last_error` and shown to its owner: no secrets, no internals.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (the default for unexpected errors).
    #[error("{0}")]
    Retry(String),
    /// Retrying cannot help (a broken document, say): the job fails now.
    #[error("{0}")]
    Permanent(String),
    /// This attempt's lease was lost (it expired and the job was rescued):
    /// nothing more may be written for it.
    #[error("the lease on this job was lost")]
    LeaseLost,
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        tracing::warn!(error = %e, "job: database error");
        JobError::Retry("a database error interrupted the job".into())
    }
}

impl From<anyhow::Error> for JobError {
    fn from(e: anyhow::Error) -> Self {
        JobError::Retry(format!("{e:#}"))
    }
}

/// The job kinds a worker runs. Build it in one place per binary
/// (`folio_worker_tick::registry`), so adding a kind is one line.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<String, Arc<dyn JobHandler>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `kind`. Registering one kind twice is a programming error.
    pub fn register(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Registry {
        let previous = self.handlers.insert(kind.to_owned(), handler);
        assert!(previous.is_none(), "job kind `{kind}` registered twice");
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn JobHandler>> {
        self.handlers.get(kind)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

/// What a handler gets for one attempt. Cheap to clone.
#[derive(Clone)]
pub struct JobContext {
    inner: Arc<Inner>,
}

struct Inner {
    job: ClaimedJob,
    pool: PgPool,
    kv: Kv,
    deadline: Instant,
    shutdown: CancellationToken,
    /// Set once the handler has committed its own completion.
    completed: AtomicBool,
    /// Set once the handler has put its job back in the queue itself.
    requeued: AtomicBool,
}

impl JobContext {
    pub(crate) fn new(
        job: ClaimedJob,
        pool: PgPool,
        kv: Kv,
        deadline: Instant,
        shutdown: CancellationToken,
    ) -> JobContext {
        JobContext {
            inner: Arc::new(Inner {
                job,
                pool,
                kv,
                deadline,
                shutdown,
                completed: AtomicBool::new(false),
                requeued: AtomicBool::new(false),
            }),
        }
    }

    pub fn id(&self) -> Uuid {
        self.inner.job.id
    }

    pub fn kind(&self) -> &str {
        &self.inner.job.kind
    }

    /// The user the job belongs to, if any.
    pub fn owner_id(&self) -> Option<&str> {
        self.inner.job.owner_id.as_deref()
    }

    pub fn payload(&self) -> &Value {
        &self.inner.job.payload
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> i32 {
        self.inner.job.attempts
    }

    pub fn max_attempts(&self) -> i32 {
        self.inner.job.max_attempts
    }

    pub fn lease_token(&self) -> Uuid {
        self.inner.job.lease_token
    }

    pub fn db(&self) -> &PgPool {
        &self.inner.pool
    }

    pub fn kv(&self) -> &Kv {
        &self.inner.kv
    }

    /// When this attempt should wrap up: a tenth of the kind's timeout (at
    /// most 2 s) before it is cut off at its start plus the timeout.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline
    }

    /// True once the worker is shutting down or the deadline has passed:
    /// stop at the next safe point.
    pub fn is_cancelled(&self) -> bool {
        self.inner.shutdown.is_cancelled() || Instant::now() >= self.inner.deadline
    }

    /// Resolves when the worker starts shutting down or the deadline passes.
    pub async fn cancelled(&self) {
        tokio::select! {
            () = self.inner.shutdown.cancelled() => {}
            () = tokio::time::sleep_until(self.inner.deadline) => {}
        }
    }

    /// Records progress (`{"pages_done":3,"pages_total":40}`, say) and tells
    /// watchers. Fenced: `Err(LeaseLost)` once this attempt lost its lease,
    /// and the handler should stop.
    pub async fn progress(&self, progress: Value) -> Result<(), JobError> {
        let job = &self.inner.job;
        let mut unit = db::unit(&self.inner.pool).await?;
        let applied = finish::progress(&mut *unit, job.id, job.lease_token, &progress).await?;
        unit.commit().await?;
        if !applied {
            return Err(JobError::LeaseLost);
        }
        let event = JobEvent {
            id: job.id,
            kind: job.kind.clone(),
            owner_id: job.owner_id.clone(),
            status: "running".into(),
            attempts: job.attempts,
            progress: Some(progress),
        };
        // Off the handler's path: a slow or absent Redis must not slow the job.
        let kv = self.inner.kv.clone();
        tokio::spawn(async move { super::notify::publish_events(&kv, vec![event], &[]).await });
        Ok(())
    }

    /// Starts a transaction for work that must commit together with this
    /// job's success (see `succeed_in`).
    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, JobError> {
        Ok(self.inner.pool.begin().await?)
    }

    /// Marks the job succeeded inside `tx` and commits it, so the handler's
    /// own writes in `tx` happen exactly once: if this attempt lost its lease
    /// the transaction is rolled back and `Err(LeaseLost)` returned.
    pub async fn succeed_in(
        &self,
        mut tx: Transaction<'static, Postgres>,
        result: Option<Value>,
    ) -> Result<(), JobError> {
        let job = &self.inner.job;
        let done = finish::Completion {
            id: job.id,
            lease_token: job.lease_token,
            result,
        };
        let applied = finish::complete(&mut *tx, std::slice::from_ref(&done)).await?;
        if applied.is_empty() {
            tx.rollback().await.ok();
            return Err(JobError::LeaseLost);
        }
        crate::webhooks::jobs_finished(&mut tx, &applied).await?;
        tx.commit().await?;
        self.inner.completed.store(true, Ordering::Release);
        Ok(())
    }

    /// Puts this job back in the queue, to run again at `run_at`, inside
    /// `tx`, and commits it: for a job that waits for others (an OCR
    /// fan-out's parent). The attempt is not counted (`attempts` goes back
    /// down) and the runner writes nothing more for it. Fenced like
    /// `succeed_in`: `Err(LeaseLost)` (rolled back) if the lease was lost.
    pub async fn requeue_in(
        &self,
        mut tx: Transaction<'static, Postgres>,
        run_at: chrono::DateTime<chrono::Utc>,
        progress: Option<Value>,
    ) -> Result<(), JobError> {
        let job = &self.inner.job;
        let applied = db::query(
            "UPDATE jobs
             SET status = 'queued', run_at = $3, attempts = GREATEST(attempts - 1, 0),
                 progress = COALESCE($4, progress),
                 lease_token = NULL, lease_expires_at = NULL, locked_by = NULL,
                 updated_at = now()
             WHERE id = $1 AND lease_token = $2",
        )
        .bind(job.id)
        .bind(job.lease_token)
        .bind(run_at)
        .bind(progress)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if applied == 0 {
            tx.rollback().await.ok();
            return Err(JobError::LeaseLost);
        }
        tx.commit().await?;
        self.inner.requeued.store(true, Ordering::Release);
        Ok(())
    }

    /// True once `requeue_in` committed.
    pub(crate) fn requeued_by_handler(&self) -> bool {
        self.inner.requeued.load(Ordering::Acquire)
    }

    /// True once `succeed_in` committed.
    pub(crate) fn completed_by_handler(&self) -> bool {
        self.inner.completed.load(Ordering::Acquire)
    }
}
