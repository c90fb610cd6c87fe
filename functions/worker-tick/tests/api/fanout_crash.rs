//! The fan-out crash test: a scan split into one-page parts, drained by two
//! real `worker-tick --every` processes that are SIGKILLed (and restarted)
//! while parts run and, when the test catches it, while the parent
//! assembles. Then, from the database alone: the job succeeded with the text
//! a single in-process recognition gives, every page once and in order, one
//! document, and `assemblies = 1`.

use std::process::Stdio;
use std::time::Duration;

use folio_testing::samples::{self, PageKind};
use folio_testing::{TestDb, TestPrefix, test_vars};
use rand::Rng;
use shared::AppState;
use shared::config::{Config, Function};
use shared::ocr::service::OcrService;
use shared::ocr::{Document, Ocr, Options};
use tokio::process::{Child, Command};
use tokio::time::Instant;

const PAGES: usize = 4;
const WORKERS: usize = 2;

fn log_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fanout-crash-workers.log")
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

/// (parent status, parts done, parts total, assemblies).
async fn stage(db: &TestDb, job: uuid::Uuid) -> (String, i32, i32, i32) {
    sqlx::query_as(
        "SELECT j.status, COALESCE(f.parts_done, 0), COALESCE(f.parts_total, 0),
                COALESCE(f.assemblies, 0)
         FROM jobs j LEFT JOIN ocr_fanouts f ON f.parent_id = j.id WHERE j.id = $1",
    )
    .bind(job)
    .fetch_one(&db.pool)
    .await
    .expect("stage")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanned_out_scan_outlives_sigkills_during_parts_and_assembly_and_assembles_once() {
    let db = TestDb::new().await;
    let prefix = TestPrefix::new();
    let mut vars = test_vars(
        &db.url,
        &prefix.prefix,
        &[
            ("OCR_FANOUT_PAGES", "1"),
            ("OCR_WORKERS", "1"),
            ("WORKER_TICK_BUDGET", "20s"),
            ("WORKER_LEASE_GRACE", "1s"),
            ("WORKER_BATCH_SIZE", "1"),
            ("WORKER_CONCURRENCY", "1"),
            ("WORKER_RETRY_BASE", "50ms"),
            ("WORKER_RETRY_MAX", "200ms"),
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("RUST_LOG", "warn"),
        ],
    );
    for name in [
        "PATH",
        "PDFIUM_LIB_PATH",
        "TESSDATA_PREFIX",
        "OMP_THREAD_LIMIT",
    ] {
        if let Ok(value) = std::env::var(name) {
            vars.push((name.into(), value));
        }
    }
    let config = Config::from_vars(Function::WorkerTick, vars.clone()).expect("config");
    let state = AppState::new(config).expect("state");
    let service = OcrService::new(&state);

    let pages: Vec<(String, PageKind)> = (0..PAGES)
        .map(|i| (samples::paragraph(500 + i), PageKind::Scanned { dpi: 150 }))
        .collect();
    let pdf = samples::pdf(&pages).expect("pdf");
    let document = Document::from_bytes(pdf.into()).expect("document");
    let ocr = Ocr::global(&state.config.ocr);
    let options = Options {
        lang: ocr.lang("eng").expect("eng"),
        force_ocr: false,
        dpi: 300,
        rotate_pages: true,
        words: false,
    };
    let job = shared::ocr::job::enqueue(
        &service,
        "owner",
        &document,
        &options,
        Duration::from_secs(3600),
        None,
    )
    .await
    .expect("enqueue");
    // The reference: the whole scan recognised at once, in this process.
    let reference = shared::ocr::recognise(ocr, &document, &options, service.limits(), None)
        .await
        .expect("reference")
        .text();

    let _ = std::fs::remove_file(log_path());
    let mut workers: Vec<Child> = (0..WORKERS).map(|_| spawn_worker(&vars)).collect();
    let mut rng = rand::rng();
    let started = Instant::now();
    let (mut kills_in_parts, mut kills_in_assembly) = (0, 0);
    let mut next_kill = Instant::now() + Duration::from_millis(rng.random_range(1500..=3000));
    let limit = Instant::now() + Duration::from_secs(240);
    loop {
        let (status, done, total, _) = stage(&db, job).await;
        if status == "succeeded" || status == "failed" {
            break;
        }
        assert!(
            Instant::now() < limit,
            "not finished in 240 s ({status}, {done}/{total} parts); workers' log: {}",
            log_path().display()
        );
        let assembling = total > 0 && done == total && status == "running";
        let parts_running = total > 0 && done < total;
        if (assembling && kills_in_assembly < 2)
            || (parts_running && kills_in_parts < 4 && Instant::now() >= next_kill)
        {
            // Kill every worker: whoever holds the work loses it.
            for worker in &mut workers {
                worker.start_kill().expect("SIGKILL");
                worker.wait().await.expect("reaped");
            }
            if assembling {
                kills_in_assembly += 1;
            } else {
                kills_in_parts += 1;
            }
            workers = (0..WORKERS).map(|_| spawn_worker(&vars)).collect();
            next_kill = Instant::now() + Duration::from_millis(rng.random_range(1500..=3000));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for worker in &mut workers {
        worker.start_kill().ok();
        worker.wait().await.ok();
    }

    let (status, done, total, assemblies) = stage(&db, job).await;
    let result: serde_json::Value = sqlx::query_scalar("SELECT result FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&db.pool)
        .await
        .expect("result");
    let (documents, stored_pages, rerun_parts): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM documents),
                (SELECT count(*) FROM ocr_fanout_pages WHERE parent_id = $1),
                (SELECT count(*) FROM ocr_fanout_parts p JOIN jobs j ON j.id = p.job_id
                 WHERE p.parent_id = $1 AND j.attempts > 1)",
    )
    .bind(job)
    .fetch_one(&db.pool)
    .await
    .expect("records");
    println!(
        "fanout crash test: kills during parts={kills_in_parts} during assembly={kills_in_assembly} \
         parts rerun after a lost attempt={rerun_parts} total_s={:.1}",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(status, "succeeded", "{result}");
    assert_eq!((done, total), (PAGES as i32, PAGES as i32));
    assert_eq!(assemblies, 1, "assembled more than once");
    assert_eq!(documents, 1);
    assert_eq!(stored_pages, PAGES as i64);
    assert_eq!(result["text"].as_str(), Some(reference.as_str()));
    assert!(kills_in_parts > 0, "no kill landed while parts ran");
}
