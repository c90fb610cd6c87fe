//! Housekeeping and visibility: purge of finished jobs and spent uploads, and
//! the queue section of readiness.

use std::time::Duration;

use chrono::Utc;
use folio_testing::TestDb;
use serde_json::json;
use shared::jobs::{NewJob, purge};

use crate::helpers::enqueue_one;

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
    let app = folio_testing::TestApp::spawn(
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
