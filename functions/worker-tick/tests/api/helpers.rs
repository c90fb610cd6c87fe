//! Shared test support: a worker over a test database with test job kinds,
//! and a few direct SQL helpers for arranging and checking state.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use folio_testing::TestDb;
use serde_json::{Value, json};
use shared::config::WorkerConfig;
use shared::jobs::{JobContext, JobError, JobHandler, NewJob, Registry, Worker};
use shared::kv::Kv;
use sqlx::PgPool;
use uuid::Uuid;

/// Worker settings for tests: short, so tests stay fast.
pub fn config() -> WorkerConfig {
    WorkerConfig {
        tick_budget: Duration::from_secs(10),
        batch_size: 10,
        concurrency: 4,
        lease_grace: Duration::from_secs(2),
        retention: Duration::from_secs(24 * 3600),
        retry_base: Duration::from_secs(2),
        retry_max: Duration::from_secs(60),
    }
}

/// A pool of its own on the test database (as a separate process would
/// have: through the pooler in the pooled leg).
pub fn pool(db: &TestDb) -> PgPool {
    db.app_pool(4)
}

pub fn worker(db: &TestDb, registry: Registry, config: WorkerConfig) -> Worker {
    Worker::with_parts(
        pool(db),
        Kv::disabled(),
        registry,
        config,
        Duration::from_secs(2),
    )
}

/// Enqueues `n` jobs of `kind` in one transaction; returns their ids.
pub async fn enqueue_n(db: &TestDb, kind: &str, n: usize, payload: Value) -> Vec<Uuid> {
    let mut tx = db.pool.begin().await.expect("begin");
    let jobs: Vec<NewJob> = (0..n).map(|_| NewJob::new(kind, payload.clone())).collect();
    let ids = shared::jobs::enqueue_many(&mut tx, &jobs)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    ids
}

pub async fn enqueue_one(db: &TestDb, job: NewJob) -> Uuid {
    let mut conn = db.pool.acquire().await.expect("conn");
    shared::jobs::enqueue(&mut conn, &job)
        .await
        .expect("enqueue")
        .id
}

/// (status, attempts, last_error) of one job.
pub async fn state_of(db: &TestDb, id: Uuid) -> (String, i32, Option<String>) {
    sqlx::query_as("SELECT status, attempts, last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("job row")
}

/// Jobs per status.
pub async fn counts(db: &TestDb) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM jobs GROUP BY status")
            .fetch_all(&db.pool)
            .await
            .expect("counts");
    rows.into_iter().collect()
}

/// Makes every running job's lease look expired (as if its tick had died).
pub async fn expire_leases(db: &TestDb) {
    sqlx::query(
        "UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE status = 'running'",
    )
    .execute(&db.pool)
    .await
    .expect("expire");
}

/// Makes every queued job due now (skips the backoff).
pub async fn make_due(db: &TestDb) {
    sqlx::query(
        "UPDATE jobs SET run_at = now() - interval '1 millisecond' WHERE status = 'queued'",
    )
    .execute(&db.pool)
    .await
    .expect("make due");
}

/// Watches how often each job runs and whether any runs twice at once.
#[derive(Default)]
pub struct Tracker {
    running: Mutex<HashSet<Uuid>>,
    pub runs: Mutex<HashMap<Uuid, u32>>,
    pub overlaps: Mutex<Vec<Uuid>>,
}

/// `tracked`: notes its run in the tracker, holds for `hold`, succeeds.
pub struct Tracked {
    pub tracker: Arc<Tracker>,
    pub hold: Duration,
}

#[async_trait]
impl JobHandler for Tracked {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        let id = ctx.id();
        if !self.tracker.running.lock().expect("lock").insert(id) {
            self.tracker.overlaps.lock().expect("lock").push(id);
        }
        *self
            .tracker
            .runs
            .lock()
            .expect("lock")
            .entry(id)
            .or_default() += 1;
        tokio::time::sleep(self.hold).await;
        self.tracker.running.lock().expect("lock").remove(&id);
        Ok(Some(json!({"ran": id})))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(5)
    }
}

/// `flaky`: fails every attempt with a retryable error, or a permanent one
/// when the payload says `{"permanent": true}`.
pub struct Flaky;

#[async_trait]
impl JobHandler for Flaky {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        if ctx.payload()["permanent"] == json!(true) {
            return Err(JobError::Permanent("the document is broken".into()));
        }
        Err(JobError::Retry(format!(
            "boom on attempt {}",
            ctx.attempt()
        )))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(2)
    }
}

/// A kind whose attempts may take `timeout`; it sleeps `hold`.
pub struct Sleepy {
    pub timeout: Duration,
    pub hold: Duration,
}

#[async_trait]
impl JobHandler for Sleepy {
    async fn run(&self, _ctx: JobContext) -> Result<Option<Value>, JobError> {
        tokio::time::sleep(self.hold).await;
        Ok(None)
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Waits until some job is running (its tick has claimed and started it).
pub async fn until_running(db: &TestDb) {
    for _ in 0..200 {
        let running: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status = 'running'")
            .fetch_one(&db.pool)
            .await
            .expect("count");
        if running > 0 {
            // The row says `running` once the claim commits; the runner starts
            // the handler a moment later (after the COMMIT's answer, in pooler
            // mode): give it that moment, or a test could stop an unstarted job.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no job started within 5 s");
}
