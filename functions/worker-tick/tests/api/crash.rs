//! The crash test: 1,000 `probe` jobs drained by two real `worker-tick
//! --every` processes, one of which is SIGKILLed at a random moment at least
//! 20 times (and restarted) while ticks keep running. Then a check from
//! outside the workers: every job succeeded, and the probe table (written in
//! the same transaction as each job's success) holds exactly one row per job.

use std::process::Stdio;
use std::time::Duration;

use folio_testing::{TestDb, TestPrefix, test_vars};
use rand::Rng;
use serde_json::json;
use shared::jobs::NewJob;
use tokio::process::{Child, Command};
use tokio::time::Instant;

const JOBS: usize = 1000;
const KILLS: usize = 20;
const WORKERS: usize = 2;

/// Where the workers' warnings go (kept for a failed run's post-mortem).
fn log_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("crash-test-workers.log")
}

fn spawn_worker(vars: &[(String, String)]) -> Child {
    let log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path())
            .expect("worker log")
    };
    Command::new(env!("CARGO_BIN_EXE_worker-tick"))
        .args(["--every", "100ms"])
        .env_clear()
        .envs(vars.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log())
        .stderr(log())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn worker-tick")
}

async fn pending(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')")
        .fetch_one(&db.pool)
        .await
        .expect("pending")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_jobs_outlive_twenty_sigkills_each_done_exactly_once() {
    let db = TestDb::new().await;
    let prefix = TestPrefix::new();
    sqlx::query("CREATE TABLE probe_crash (job_id uuid NOT NULL, attempt int, pid bigint)")
        .execute(&db.pool)
        .await
        .expect("probe table");
    let mut rng = rand::rng();
    let jobs: Vec<NewJob> = (0..JOBS)
        .map(|_| {
            let sleep_ms: u64 = rng.random_range(20..=180);
            NewJob::new(
                "probe",
                json!({"table": "probe_crash", "sleep_ms": sleep_ms}),
            )
            .max_attempts(100)
        })
        .collect();
    let mut tx = db.pool.begin().await.expect("begin");
    shared::jobs::enqueue_many(&mut tx, &jobs)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");

    let mut vars = test_vars(
        &db.url,
        &prefix.prefix,
        &[
            ("WORKER_TICK_BUDGET", "2s"),
            ("WORKER_LEASE_GRACE", "1s"),
            ("WORKER_BATCH_SIZE", "10"),
            ("WORKER_CONCURRENCY", "4"),
            ("WORKER_RETRY_BASE", "50ms"),
            ("WORKER_RETRY_MAX", "500ms"),
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("RUST_LOG", "warn"),
        ],
    );
    vars.push(("PATH".into(), std::env::var("PATH").unwrap_or_default()));
    let _ = std::fs::remove_file(log_path());
    let mut workers: Vec<Child> = (0..WORKERS).map(|_| spawn_worker(&vars)).collect();

    let started = Instant::now();
    let mut kills = 0;
    let mut kills_mid_queue = 0;
    while kills < KILLS {
        let pause = Duration::from_millis(rng.random_range(100..=500));
        tokio::time::sleep(pause).await;
        let victim = rng.random_range(0..WORKERS);
        let busy = pending(&db).await > 0;
        workers[victim].start_kill().expect("SIGKILL");
        workers[victim].wait().await.expect("reaped");
        kills += 1;
        kills_mid_queue += usize::from(busy);
        workers[victim] = spawn_worker(&vars);
    }
    let killing_took = started.elapsed();

    let limit = Instant::now() + Duration::from_secs(120);
    while pending(&db).await > 0 {
        assert!(
            Instant::now() < limit,
            "jobs still pending 120 s after the last kill; workers' log: {}",
            log_path().display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The survivors stop gracefully on SIGTERM.
    for worker in &mut workers {
        let pid = worker.id().expect("pid").to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().await;
        assert!(status.expect("kill").success());
        let exit = tokio::time::timeout(Duration::from_secs(10), worker.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("wait");
        assert!(exit.success(), "SIGTERM exit: {exit:?}");
    }

    // The external check, on the database alone.
    let (succeeded, other): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'succeeded'),
                count(*) FILTER (WHERE status <> 'succeeded')
         FROM jobs",
    )
    .fetch_one(&db.pool)
    .await
    .expect("statuses");
    let (lost, duplicated, strays): (i64, i64, i64) = sqlx::query_as(
        "SELECT
             (SELECT count(*) FROM jobs j
              WHERE NOT EXISTS (SELECT 1 FROM probe_crash p WHERE p.job_id = j.id)),
             (SELECT count(*) FROM (SELECT job_id FROM probe_crash
                                    GROUP BY job_id HAVING count(*) > 1) d),
             (SELECT count(*) FROM probe_crash p
              WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = p.job_id))",
    )
    .fetch_one(&db.pool)
    .await
    .expect("records");
    let (retried, max_attempts, pids): (i64, i32, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM jobs WHERE attempts > 1),
                (SELECT max(attempts) FROM jobs),
                (SELECT count(DISTINCT pid) FROM probe_crash)",
    )
    .fetch_one(&db.pool)
    .await
    .expect("attempts");
    println!(
        "crash test: kills={kills} (with jobs pending: {kills_mid_queue}) jobs={JOBS} \
         succeeded={succeeded} lost={lost} duplicated={duplicated} \
         jobs_rerun_after_a_lost_attempt={retried} max_attempts={max_attempts} \
         worker_processes={pids} killing_s={:.1} total_s={:.1}",
        killing_took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((succeeded, other), (JOBS as i64, 0));
    assert_eq!((lost, duplicated, strays), (0, 0, 0));
    assert!(
        kills_mid_queue >= KILLS,
        "every kill landed while jobs were pending"
    );
    assert!(retried > 0, "some kills interrupted jobs in hand");
}
