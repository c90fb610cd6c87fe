//! The queue's building blocks: enqueue, claim, fencing, retries, dead jobs,
//! rescue and purge.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use shared::jobs::{
    Backoff, Claim, Completion, Failure, NewJob, Registry, claim, complete, fail, progress, purge,
    release, rescue,
};
use shared::testing::TestDb;
use tokio::time::Instant;

use crate::helpers::{self, Flaky, counts, enqueue_one, expire_leases, make_due, state_of};

fn claim_of<'a>(kinds: &'a [String], limit: u32) -> Claim<'a> {
    Claim {
        kinds,
        limit,
        lease: Duration::from_secs(30),
        worker: "test",
    }
}

const BACKOFF: Backoff = Backoff {
    base: Duration::from_secs(2),
    max: Duration::from_secs(60),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_commits_or_rolls_back_with_the_callers_transaction() {
    let db = TestDb::new().await;
    let mut tx = db.pool.begin().await.expect("begin");
    let job = shared::jobs::enqueue(&mut tx, &NewJob::new("noop", json!({})))
        .await
        .expect("enqueue");
    shared::jobs::uploads::store(
        &mut tx,
        "u1",
        Some(job.id),
        b"%PDF",
        None,
        Duration::from_secs(60),
    )
    .await
    .expect("upload");
    tx.rollback().await.expect("rollback");
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    let uploads: i64 = sqlx::query_scalar("SELECT count(*) FROM uploads")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!((jobs, uploads), (0, 0));

    let mut tx = db.pool.begin().await.expect("begin");
    // The upload may even come first: its job reference is checked at commit.
    let job_id = uuid::Uuid::now_v7();
    let err = shared::jobs::uploads::store(
        &mut tx,
        "u1",
        Some(job_id),
        b"x",
        None,
        Duration::from_secs(60),
    )
    .await;
    assert!(err.is_ok());
    assert!(
        tx.commit().await.is_err(),
        "an upload for a job that never came is refused at commit"
    );

    let mut tx = db.pool.begin().await.expect("begin");
    let job = shared::jobs::enqueue(&mut tx, &NewJob::new("noop", json!({})))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(state_of(&db, job.id).await.0, "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_enqueued_twice_gives_one_job() {
    let db = TestDb::new().await;
    let job = NewJob::new("noop", json!({"n": 1})).idempotency_key("doc-42");
    let mut conn = db.pool.acquire().await.expect("conn");
    let first = shared::jobs::enqueue(&mut conn, &job).await.expect("first");
    let again = shared::jobs::enqueue(&mut conn, &job).await.expect("again");
    assert!(first.created && !again.created);
    assert_eq!(first.id, again.id);
    let other_kind = NewJob::new("probe", json!({})).idempotency_key("doc-42");
    let other = shared::jobs::enqueue(&mut conn, &other_kind)
        .await
        .expect("other");
    assert!(other.created && other.id != first.id, "keys are per kind");
    drop(conn);

    // Racing enqueues from separate connections still make one job.
    let racers = (0..6).map(|_| {
        let pool = db.pool.clone();
        async move {
            let mut tx = pool.begin().await.expect("begin");
            let job = NewJob::new("noop", json!({})).idempotency_key("race");
            let got = shared::jobs::enqueue(&mut tx, &job).await.expect("enqueue");
            tx.commit().await.expect("commit");
            got
        }
    });
    let results = futures::future::join_all(racers).await;
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert!(results.iter().all(|r| r.id == results[0].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_take_the_highest_priority_then_the_oldest_and_skip_future_jobs() {
    let db = TestDb::new().await;
    let now = Utc::now();
    let old = enqueue_one(
        &db,
        NewJob::new("noop", json!({})).run_at(now - chrono::Duration::seconds(60)),
    )
    .await;
    let new = enqueue_one(
        &db,
        NewJob::new("noop", json!({})).run_at(now - chrono::Duration::seconds(1)),
    )
    .await;
    let urgent = enqueue_one(&db, NewJob::new("noop", json!({})).priority(5)).await;
    let later = enqueue_one(
        &db,
        NewJob::new("noop", json!({})).run_at(now + chrono::Duration::hours(1)),
    )
    .await;
    let other_kind = enqueue_one(&db, NewJob::new("elsewhere", json!({}))).await;

    let kinds = vec!["noop".to_owned()];
    let got = claim(&db.pool, claim_of(&kinds, 10)).await.expect("claim");
    let order: Vec<_> = got.iter().map(|j| j.id).collect();
    assert_eq!(order, vec![urgent, old, new]);
    assert!(got.iter().all(|j| j.attempts == 1));
    let tokens: std::collections::HashSet<_> = got.iter().map(|j| j.lease_token).collect();
    assert_eq!(tokens.len(), 3, "each claim gets its own lease token");
    assert_eq!(state_of(&db, later).await.0, "queued");
    assert_eq!(state_of(&db, other_kind).await.0, "queued");
    assert!(
        claim(&db.pool, claim_of(&kinds, 10))
            .await
            .expect("claim")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_finisher_is_fenced_off_once_its_lease_expired_and_the_job_was_reclaimed() {
    let db = TestDb::new().await;
    let id = enqueue_one(&db, NewJob::new("noop", json!({}))).await;
    let kinds = vec!["noop".to_owned()];
    let first = claim(&db.pool, claim_of(&kinds, 1))
        .await
        .expect("claim")
        .remove(0);

    expire_leases(&db).await;
    let rescued = rescue(&db.pool, 100, BACKOFF).await.expect("rescue");
    assert_eq!((rescued.requeued(), rescued.dead()), (1, 0));
    make_due(&db).await;
    let second = claim(&db.pool, claim_of(&kinds, 1))
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(second.id, id);
    assert_eq!(second.attempts, 2, "the lost attempt counted");

    let late = Completion {
        id,
        lease_token: first.lease_token,
        result: Some(json!("stale")),
    };
    assert!(
        complete(&db.pool, &[late])
            .await
            .expect("complete")
            .is_empty()
    );
    assert!(
        !progress(&db.pool, id, first.lease_token, &json!({"p": 1}))
            .await
            .expect("progress")
    );
    let late_failure = Failure {
        id,
        lease_token: first.lease_token,
        error: "stale".into(),
        permanent: true,
        immediate: false,
    };
    assert!(
        fail(&db.pool, &[late_failure], BACKOFF)
            .await
            .expect("fail")
            .is_empty()
    );
    assert!(
        release(&db.pool, &[(id, first.lease_token)])
            .await
            .expect("release")
            .is_empty()
    );
    assert_eq!(
        state_of(&db, id).await.0,
        "running",
        "the newer attempt is untouched"
    );

    assert!(
        progress(&db.pool, id, second.lease_token, &json!({"p": 2}))
            .await
            .expect("progress")
    );
    let fresh = Completion {
        id,
        lease_token: second.lease_token,
        result: Some(json!("fresh")),
    };
    assert_eq!(
        complete(&db.pool, &[fresh]).await.expect("complete").len(),
        1
    );
    let (result, progress_now): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT result, progress FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("row");
    assert_eq!(result, json!("fresh"));
    assert_eq!(progress_now, json!({"p": 2}));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_drops_old_finished_jobs_and_spent_uploads_and_keeps_the_rest() {
    let db = TestDb::new().await;
    let old = enqueue_one(&db, NewJob::new("noop", json!({}))).await;
    let recent = enqueue_one(&db, NewJob::new("noop", json!({}))).await;
    let waiting = enqueue_one(&db, NewJob::new("noop", json!({}))).await;
    sqlx::query(
        "UPDATE jobs SET status = 'succeeded', finished_at = now() - interval '25 hours'
         WHERE id = $1",
    )
    .bind(old)
    .execute(&db.pool)
    .await
    .expect("age");
    sqlx::query("UPDATE jobs SET status = 'failed', finished_at = now() WHERE id = $1")
        .bind(recent)
        .execute(&db.pool)
        .await
        .expect("finish");
    let mut tx = db.pool.begin().await.expect("begin");
    let ttl = Duration::from_secs(3600);
    let of_old = shared::jobs::uploads::store(&mut tx, "u", Some(old), b"a", None, ttl)
        .await
        .expect("up");
    let of_recent = shared::jobs::uploads::store(&mut tx, "u", Some(recent), b"b", None, ttl)
        .await
        .expect("up");
    let of_waiting = shared::jobs::uploads::store(&mut tx, "u", Some(waiting), b"c", None, ttl)
        .await
        .expect("up");
    let expired = shared::jobs::uploads::store(&mut tx, "u", None, b"d", None, Duration::ZERO)
        .await
        .expect("up");
    let fresh = shared::jobs::uploads::store(&mut tx, "u", None, b"e", None, ttl)
        .await
        .expect("up");
    tx.commit().await.expect("commit");

    let (jobs, uploads) = purge(&db.pool, Duration::from_secs(24 * 3600), 100)
        .await
        .expect("purge");
    assert_eq!(jobs, 1);
    assert_eq!(uploads, 2, "the recent job's upload and the expired one");
    let left: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM jobs ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .expect("jobs");
    assert_eq!(left, vec![recent, waiting]);
    let mut kept: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM uploads")
        .fetch_all(&db.pool)
        .await
        .expect("uploads");
    kept.sort();
    let mut want = vec![of_waiting, fresh];
    want.sort();
    assert_eq!(kept, want);
    for gone in [of_old, of_recent, expired] {
        assert!(
            shared::jobs::uploads::load(&db.pool, gone)
                .await
                .expect("load")
                .is_none()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_shows_the_queue_and_never_fails_because_of_it() {
    let app = shared::testing::TestApp::spawn(
        shared::config::Function::WorkerTick,
        &[],
        folio_worker_tick::router,
    )
    .await;
    let db = &app.db;
    enqueue_one(
        db,
        NewJob::new("noop", json!({})).run_at(Utc::now() - chrono::Duration::seconds(30)),
    )
    .await;
    enqueue_one(
        db,
        NewJob::new("noop", json!({})).run_at(Utc::now() + chrono::Duration::hours(1)),
    )
    .await;
    let dead = enqueue_one(db, NewJob::new("noop", json!({}))).await;
    sqlx::query("UPDATE jobs SET status = 'failed', finished_at = now() WHERE id = $1")
        .bind(dead)
        .execute(&db.pool)
        .await
        .expect("bury");
    let (status, report) = shared::health::readiness(&app.state).await;
    let report = serde_json::to_value(&report).expect("json");
    assert_eq!(status, 200);
    assert_eq!(report["queue"]["queued"], 2);
    assert_eq!(report["queue"]["running"], 0);
    assert_eq!(report["queue"]["dead"], 1);
    let age = report["queue"]["oldest_queued_age_s"]
        .as_f64()
        .expect("age");
    assert!((29.0..60.0).contains(&age), "{age}");

    // The queue's figures failing is no readiness failure.
    sqlx::query("DROP TABLE jobs CASCADE")
        .execute(&db.pool)
        .await
        .expect("drop");
    let (status, report) = shared::health::readiness(&app.state).await;
    let report = serde_json::to_value(&report).expect("json");
    assert_eq!(status, 200);
    assert_eq!(report["status"], "ok");
    assert!(report["queue"].is_null());
}
