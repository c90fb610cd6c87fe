//! The tick runner: overlapping ticks, the budget, leases lost mid-job,
//! timeouts, panics and shutdown.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use folio_testing::TestDb;
use serde_json::{Value, json};
use shared::jobs::{JobContext, JobError, JobHandler, NewJob, Registry, Shutdown};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::helpers::{
    self, Sleepy, Tracked, Tracker, counts, enqueue_one, expire_leases, state_of,
};

fn soon(secs: f64) -> Instant {
    Instant::now() + Duration::from_secs_f64(secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_ticks_never_run_a_job_twice_at_once_and_run_each_job_once() {
    let db = TestDb::new().await;
    let tracker = Arc::new(Tracker::default());
    let ids = helpers::enqueue_n(&db, "tracked", 300, json!({})).await;
    let ticks = (0..3).map(|_| {
        let registry = Registry::new().register(
            "tracked",
            Arc::new(Tracked {
                tracker: tracker.clone(),
                hold: Duration::from_millis(3),
            }),
        );
        let worker = helpers::worker(&db, registry, helpers::config());
        tokio::spawn(async move {
            let shutdown = Shutdown::new();
            let mut claimed = 0;
            for _ in 0..100 {
                let s = worker.tick(soon(10.0), &shutdown).await.expect("tick");
                claimed += s.claimed;
                if s.remaining_queued == 0 && s.claimed == 0 {
                    break;
                }
            }
            claimed
        })
    });
    let claimed: Vec<u64> = futures::future::join_all(ticks)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    assert_eq!(claimed.iter().sum::<u64>(), 300, "{claimed:?}");
    assert!(
        claimed.iter().filter(|c| **c > 0).count() >= 2,
        "the ticks overlapped: {claimed:?}"
    );
    assert!(tracker.overlaps.lock().expect("lock").is_empty());
    let runs = tracker.runs.lock().expect("lock").clone();
    assert_eq!(runs.len(), ids.len());
    assert!(runs.values().all(|n| *n == 1));
    assert_eq!(counts(&db).await.get("succeeded"), Some(&300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_with_one_second_left_starts_nothing_long() {
    let db = TestDb::new().await;
    let registry = Registry::new()
        .register(
            "long",
            Arc::new(Sleepy {
                timeout: Duration::from_secs(10),
                hold: Duration::ZERO,
            }),
        )
        .register(
            "quick",
            Arc::new(Sleepy {
                timeout: Duration::from_millis(200),
                hold: Duration::ZERO,
            }),
        );
    let worker = helpers::worker(&db, registry, helpers::config());
    let long = enqueue_one(&db, NewJob::new("long", json!({})).priority(9)).await;
    let quick = helpers::enqueue_n(&db, "quick", 3, json!({})).await;

    let s = worker
        .tick(soon(1.0), &Shutdown::new())
        .await
        .expect("tick");
    assert_eq!((s.claimed, s.succeeded, s.released), (3, 3, 0), "{s:?}");
    assert_eq!(s.remaining_queued, 1);
    assert_eq!(state_of(&db, long).await, ("queued".into(), 0, None));
    for id in quick {
        assert_eq!(state_of(&db, id).await.0, "succeeded");
    }
    let s = worker
        .tick(soon(0.1), &Shutdown::new())
        .await
        .expect("tick");
    assert_eq!((s.claimed, s.stopped), (0, "budget"));
    assert_eq!(s.unfit_kinds, ["long", "quick"], "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_claimed_but_not_started_in_time_are_given_back_uncounted() {
    let db = TestDb::new().await;
    let registry = Registry::new().register(
        "slow",
        Arc::new(Sleepy {
            timeout: Duration::from_millis(600),
            hold: Duration::from_millis(400),
        }),
    );
    let mut config = helpers::config();
    config.concurrency = 1;
    let worker = helpers::worker(&db, registry, config);
    helpers::enqueue_n(&db, "slow", 6, json!({})).await;

    let s = worker
        .tick(soon(1.5), &Shutdown::new())
        .await
        .expect("tick");
    assert_eq!(s.claimed, 6);
    assert!((2..=3).contains(&s.succeeded), "{s:?}");
    assert_eq!(s.released, 6 - s.succeeded);
    assert_eq!(s.stopped, "budget");
    let queued: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM jobs WHERE status = 'queued'")
        .fetch_all(&db.pool)
        .await
        .expect("queued");
    assert_eq!(queued.len() as u64, s.released);
    assert!(
        queued.iter().all(|a| *a == 0),
        "a job never started keeps its attempts"
    );
}

/// First attempt: waits for the test's go-ahead, then answers "first".
/// Later attempts answer "second" at once.
struct Gate {
    started: Arc<Notify>,
    go: Arc<Notify>,
}

#[async_trait]
impl JobHandler for Gate {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        if ctx.attempt() > 1 {
            return Ok(Some(json!("second")));
        }
        self.started.notify_one();
        self.go.notified().await;
        Ok(Some(json!("first")))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(15)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_expires_mid_job_fences_off_the_late_finisher() {
    let db = TestDb::new().await;
    let started = Arc::new(Notify::new());
    let go = Arc::new(Notify::new());
    let gate = || {
        Registry::new().register(
            "gate",
            Arc::new(Gate {
                started: started.clone(),
                go: go.clone(),
            }),
        )
    };
    let id = enqueue_one(&db, NewJob::new("gate", json!({}))).await;

    let slow = helpers::worker(&db, gate(), helpers::config());
    let first = tokio::spawn(async move { slow.tick(soon(20.0), &Shutdown::new()).await });
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("first attempt started");

    // The first tick froze past its lease; another tick takes the job over.
    expire_leases(&db).await;
    let mut config = helpers::config();
    config.retry_base = Duration::ZERO;
    let other = helpers::worker(&db, gate(), config);
    let s = other
        .tick(soon(20.0), &Shutdown::new())
        .await
        .expect("tick");
    assert_eq!((s.reaped, s.claimed, s.succeeded), (1, 1, 1), "{s:?}");

    go.notify_one();
    let late = first.await.expect("task").expect("tick");
    assert_eq!(
        (late.claimed, late.succeeded, late.fenced),
        (1, 0, 1),
        "{late:?}"
    );
    let (result, attempts): (Value, i32) =
        sqlx::query_as("SELECT result, attempts FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!((result, attempts), (json!("second"), 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_past_its_timeout_is_cut_off_and_retried() {
    let db = TestDb::new().await;
    let registry = Registry::new().register(
        "stuck",
        Arc::new(Sleepy {
            timeout: Duration::from_millis(200),
            hold: Duration::from_secs(30),
        }),
    );
    let worker = helpers::worker(&db, registry, helpers::config());
    let id = enqueue_one(&db, NewJob::new("stuck", json!({}))).await;
    let started = Instant::now();
    let s = worker
        .tick(soon(10.0), &Shutdown::new())
        .await
        .expect("tick");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((s.failed, s.retried), (1, 1));
    let (status, attempts, error) = state_of(&db, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert_eq!(error.as_deref(), Some("timed out after 0.2 s"));
}

struct Panics;

#[async_trait]
impl JobHandler for Panics {
    async fn run(&self, _ctx: JobContext) -> Result<Option<Value>, JobError> {
        panic!("handler bug");
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_its_attempt_not_the_tick() {
    let db = TestDb::new().await;
    let registry = Registry::new()
        .register("panics", Arc::new(Panics))
        .register("noop", Arc::new(shared::jobs::NoopJob));
    let worker = helpers::worker(&db, registry, helpers::config());
    let bad = enqueue_one(&db, NewJob::new("panics", json!({}))).await;
    let good = enqueue_one(&db, NewJob::new("noop", json!({}))).await;
    let s = worker
        .tick(soon(5.0), &Shutdown::new())
        .await
        .expect("tick");
    assert_eq!((s.succeeded, s.failed), (1, 1));
    assert_eq!(
        state_of(&db, bad).await.2.as_deref(),
        Some("the job handler panicked")
    );
    assert_eq!(state_of(&db, good).await.0, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_shutdown_the_job_in_hand_finishes_and_the_rest_are_given_back() {
    let db = TestDb::new().await;
    let registry = Registry::new().register(
        "slow",
        Arc::new(Sleepy {
            timeout: Duration::from_secs(5),
            hold: Duration::from_millis(300),
        }),
    );
    let mut config = helpers::config();
    config.concurrency = 1;
    let worker = helpers::worker(&db, registry, config);
    helpers::enqueue_n(&db, "slow", 5, json!({})).await;
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let tick = tokio::spawn(async move { worker.tick(soon(10.0), &stop).await });
    helpers::until_running(&db).await;
    shutdown.cancel();
    let s = tick.await.expect("task").expect("tick");
    assert_eq!(
        (s.claimed, s.succeeded, s.released, s.stopped),
        (5, 1, 4, "shutdown"),
        "{s:?}"
    );
    let c = counts(&db).await;
    assert_eq!(
        (c.get("succeeded"), c.get("queued"), c.get("running")),
        (Some(&1), Some(&4), None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_shutdown_grace_the_job_in_hand_is_interrupted_and_requeued_at_once() {
    let db = TestDb::new().await;
    let registry = Registry::new().register(
        "endless",
        Arc::new(Sleepy {
            timeout: Duration::from_secs(60),
            hold: Duration::from_secs(60),
        }),
    );
    let mut config = helpers::config();
    config.tick_budget = Duration::from_secs(120);
    let worker = shared::jobs::Worker::with_parts(
        helpers::pool(&db),
        shared::kv::Kv::disabled(),
        registry,
        config,
        Duration::from_millis(300),
    );
    let id = enqueue_one(&db, NewJob::new("endless", json!({}))).await;
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let tick = tokio::spawn(async move { worker.tick(soon(100.0), &stop).await });
    helpers::until_running(&db).await;
    let started = Instant::now();
    shutdown.cancel();
    let s = tick.await.expect("task").expect("tick");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((s.failed, s.retried, s.stopped), (1, 1, "shutdown"));
    let (status, attempts, error) = state_of(&db, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert_eq!(error.as_deref(), Some("interrupted by shutdown"));
    let due: bool = sqlx::query_scalar("SELECT run_at <= now() FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("due");
    assert!(due, "an interrupted job may run again at once");
}

/// Waits for its wrap-up signal, then stops cleanly.
struct Patient;

#[async_trait]
impl JobHandler for Patient {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        ctx.cancelled().await;
        assert!(ctx.is_cancelled());
        Err(JobError::Retry("wrapped up before the cut-off".into()))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_is_told_to_wrap_up_before_its_attempt_is_cut_off() {
    let db = TestDb::new().await;
    let registry = Registry::new().register("patient", Arc::new(Patient));
    let worker = helpers::worker(&db, registry, helpers::config());
    let id = enqueue_one(&db, NewJob::new("patient", json!({}))).await;
    let started = Instant::now();
    let s = worker
        .tick(soon(5.0), &Shutdown::new())
        .await
        .expect("tick");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.retried, 1);
    assert_eq!(
        state_of(&db, id).await.2.as_deref(),
        Some("wrapped up before the cut-off")
    );
}
