//! The queue's building blocks: enqueue in the caller's transaction,
//! idempotency keys, claim order, and the fencing of every finishing write.

use std::time::Duration;

use chrono::Utc;
use folio_testing::TestDb;
use serde_json::json;
use shared::jobs::{
    Backoff, Claim, Completion, Failure, NewJob, claim, complete, fail, progress, release, rescue,
};

use crate::helpers::{enqueue_one, expire_leases, make_due, state_of};

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
