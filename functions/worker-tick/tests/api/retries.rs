//! Failed attempts: retries with backoff and jitter, dead jobs, permanent
//! errors, and rescue of expired leases.

use std::sync::Arc;
use std::time::Duration;

use folio_testing::TestDb;
use serde_json::json;
use shared::jobs::{Backoff, Claim, NewJob, Registry, claim, rescue};
use tokio::time::Instant;

use crate::helpers::{self, Flaky, counts, enqueue_one, expire_leases, make_due, state_of};

const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    max: Duration::from_secs(60),
};

fn claim_of(kinds: &[String], limit: u32) -> Claim<'_> {
    Claim {
        kinds,
        limit,
        lease: Duration::from_secs(30),
        worker: "test",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_with_exponential_backoff_and_jitter_then_die_keeping_the_last_error() {
    let db = TestDb::new().await;
    let registry = Registry::new().register("flaky", Arc::new(Flaky));
    let worker = helpers::worker(&db, registry, helpers::config());
    let ids = helpers::enqueue_n(&db, "flaky", 8, json!({})).await;
    sqlx::query("UPDATE jobs SET max_attempts = 3")
        .execute(&db.pool)
        .await
        .expect("max");
    let shutdown = shared::jobs::Shutdown::new();

    for attempt in 1..=3 {
        let deadline = Instant::now() + Duration::from_secs(5);
        let s = worker.tick(deadline, &shutdown).await.expect("tick");
        assert_eq!((s.claimed, s.failed), (8, 8), "attempt {attempt}: {s:?}");
        if attempt < 3 {
            assert_eq!((s.retried, s.dead), (8, 0));
            let waits: Vec<f64> = sqlx::query_scalar(
                "SELECT extract(epoch FROM run_at - updated_at)::float8 FROM jobs ORDER BY id",
            )
            .fetch_all(&db.pool)
            .await
            .expect("waits");
            let (low, high) = BACKOFF.bounds(attempt);
            for w in &waits {
                assert!(
                    *w >= low.as_secs_f64() - 0.05 && *w <= high.as_secs_f64() + 0.05,
                    "attempt {attempt}: waits {w} outside {low:?}..{high:?}"
                );
            }
            let spread = waits.iter().cloned().fold(f64::MIN, f64::max)
                - waits.iter().cloned().fold(f64::MAX, f64::min);
            assert!(spread > 0.01, "jitter spreads the retries: {waits:?}");
            let again = worker
                .tick(Instant::now() + Duration::from_secs(5), &shutdown)
                .await
                .expect("tick");
            assert_eq!(again.claimed, 0, "nothing runs before its backoff is over");
            make_due(&db).await;
        } else {
            assert_eq!((s.retried, s.dead), (0, 8));
        }
    }
    for id in ids {
        let (status, attempts, error) = state_of(&db, id).await;
        assert_eq!((status.as_str(), attempts), ("failed", 3));
        assert_eq!(error.as_deref(), Some("boom on attempt 3"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_error_fails_the_job_on_its_first_attempt() {
    let db = TestDb::new().await;
    let registry = Registry::new().register("flaky", Arc::new(Flaky));
    let worker = helpers::worker(&db, registry, helpers::config());
    let id = enqueue_one(&db, NewJob::new("flaky", json!({"permanent": true}))).await;
    let s = worker
        .tick(
            Instant::now() + Duration::from_secs(5),
            &shared::jobs::Shutdown::new(),
        )
        .await
        .expect("tick");
    assert_eq!((s.failed, s.dead, s.retried), (1, 1, 0));
    let (status, attempts, error) = state_of(&db, id).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert_eq!(error.as_deref(), Some("the document is broken"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_requeues_expired_leases_counting_the_attempt_and_buries_the_last_one() {
    let db = TestDb::new().await;
    let id = enqueue_one(&db, NewJob::new("noop", json!({})).max_attempts(2)).await;
    let kinds = vec!["noop".to_owned()];
    claim(&db.pool, claim_of(&kinds, 1)).await.expect("claim");
    assert_eq!(
        rescue(&db.pool, 100, BACKOFF)
            .await
            .expect("rescue")
            .events
            .len(),
        0,
        "lease still valid"
    );

    expire_leases(&db).await;
    rescue(&db.pool, 100, BACKOFF).await.expect("rescue");
    let (status, attempts, error) = state_of(&db, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.unwrap_or_default().contains("was lost"));

    make_due(&db).await;
    claim(&db.pool, claim_of(&kinds, 1)).await.expect("claim");
    expire_leases(&db).await;
    let r = rescue(&db.pool, 100, BACKOFF).await.expect("rescue");
    assert_eq!(r.dead(), 1);
    assert_eq!(state_of(&db, id).await.0, "failed");
    assert_eq!(counts(&db).await.get("running"), None);
}
