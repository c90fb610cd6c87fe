//! Kinds longer than a tick: a worker whose ticks are shorter than a kind's
//! timeout (a Lambda timeout under the kind's, say) still runs its jobs, cut
//! to what the tick has left and retried at the next tick when cut off; a
//! tick too short for any attempt says so in its summary and in readiness.

use std::sync::Arc;
use std::time::Duration;

use folio_testing::{TestApp, TestDb};
use serde_json::json;
use shared::config::Function;
use shared::jobs::{NewJob, Registry, Shutdown};
use tokio::time::Instant;

use crate::helpers::{self, Sleepy, enqueue_one, state_of};

/// OCR's shape: a 45 s attempt, in a worker configured for 50 s ticks.
fn long_kind(hold: Duration) -> Registry {
    Registry::new().register(
        "long",
        Arc::new(Sleepy {
            timeout: Duration::from_secs(45),
            hold,
        }),
    )
}

fn lambda_like_config() -> shared::config::WorkerConfig {
    let mut config = helpers::config();
    config.tick_budget = Duration::from_secs(50);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_longer_than_the_whole_tick_runs_cut_to_what_is_left_instead_of_starving() {
    let db = TestDb::new().await;
    let worker = helpers::worker(
        &db,
        long_kind(Duration::from_millis(50)),
        lambda_like_config(),
    );
    let id = enqueue_one(&db, NewJob::new("long", json!({}))).await;

    // The platform's deadline leaves 3 s, far less than the kind's 45 s.
    let deadline = Instant::now() + Duration::from_secs(3);
    let s = worker.tick(deadline, &Shutdown::new()).await.expect("tick");
    assert_eq!(
        (s.claimed, s.succeeded, s.cut, s.remaining_queued, s.stopped),
        (1, 1, 1, 0, "drained"),
        "{s:?}"
    );
    assert!(s.unfit_kinds.is_empty(), "{s:?}");
    assert_eq!(state_of(&db, id).await.0, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_attempt_that_runs_out_of_tick_is_queued_again_at_once_and_counted() {
    let db = TestDb::new().await;
    let worker = helpers::worker(
        &db,
        long_kind(Duration::from_secs(60)),
        lambda_like_config(),
    );
    let id = enqueue_one(&db, NewJob::new("long", json!({}))).await;

    let started = Instant::now();
    let deadline = started + Duration::from_millis(1500);
    let s = worker.tick(deadline, &Shutdown::new()).await.expect("tick");
    assert!(started.elapsed() < Duration::from_secs(3), "{s:?}");
    assert_eq!((s.claimed, s.cut, s.retried, s.dead), (1, 1, 1, 0), "{s:?}");
    let (status, attempts, error) = state_of(&db, id).await;
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    let error = error.unwrap_or_default();
    assert!(error.starts_with("cut off after 1."), "{error}");
    assert!(error.contains("45.0 s"), "{error}");
    let due: bool = sqlx::query_scalar("SELECT run_at <= now() FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("due");
    assert!(due, "the next tick takes it up again, no backoff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_too_short_for_any_attempt_of_a_kind_names_it_and_leaves_its_jobs_queued() {
    let db = TestDb::new().await;
    let registry = long_kind(Duration::ZERO).register(
        "quick",
        Arc::new(Sleepy {
            timeout: Duration::from_millis(100),
            hold: Duration::ZERO,
        }),
    );
    let worker = helpers::worker(&db, registry, lambda_like_config());
    let long = enqueue_one(&db, NewJob::new("long", json!({}))).await;
    let quick = enqueue_one(&db, NewJob::new("quick", json!({}))).await;

    let deadline = Instant::now() + Duration::from_millis(600);
    let s = worker.tick(deadline, &Shutdown::new()).await.expect("tick");
    assert_eq!(s.unfit_kinds, vec!["long".to_owned()], "{s:?}");
    assert_eq!((s.claimed, s.succeeded, s.cut), (1, 1, 0), "{s:?}");
    assert_eq!(s.remaining_queued, 1);
    assert_eq!(state_of(&db, long).await, ("queued".into(), 0, None));
    assert_eq!(state_of(&db, quick).await.0, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_readiness_shows_how_each_kind_fits_and_is_degraded_when_one_cannot() {
    // Default settings: HTTP ticks last REQUEST_TIMEOUT_SECS - 1 s = 29 s,
    // so OCR's 45 s attempts are cut; the 1 s noop fits.
    let app = TestApp::spawn(Function::WorkerTick, &[], folio_worker_tick::router).await;
    let r = app.get("/health/worker", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["status"], "ok", "{}", r.json);
    assert_eq!(r.json["checks"]["postgres"]["ok"], true);
    let worker = &r.json["worker"];
    assert_eq!(worker["tick_s"], 29.0, "{worker}");
    let fit_of = |kind: &str| {
        worker["kinds"]
            .as_array()
            .and_then(|ks| ks.iter().find(|k| k["kind"] == kind))
            .map(|k| k["fit"].clone())
    };
    assert_eq!(fit_of("ocr"), Some(json!("cut")), "{worker}");
    assert_eq!(fit_of("noop"), Some(json!("full")), "{worker}");
    assert_eq!(worker["unfit_kinds"], json!([]));

    // Ticks of 0.5 s cannot start the 1 s noop, the 10 s probe or a 12 s
    // webhook delivery at all.
    let app = TestApp::spawn(
        Function::WorkerTick,
        &[("WORKER_TICK_BUDGET", "0.5s")],
        folio_worker_tick::router,
    )
    .await;
    let r = app.get("/health/worker", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["status"], "degraded", "{}", r.json);
    assert_eq!(
        r.json["worker"]["unfit_kinds"],
        json!(["noop", "probe", "webhook"])
    );
}
