//! Job queue benchmark (run by `scripts/bench-jobs.sh`): no-op jobs through
//! claim → run → finish against the local Postgres, per claim batch size,
//! with one-job-at-a-time (batch 1) as the reference in the same run; and the
//! enqueue rate, batched and one job per transaction.
//!
//! `cargo run --release -p folio-worker-tick --example bench_jobs -- [JOBS] [RUNS] [BATCHES] [CONCURRENCY]`
//! defaults: 20000 3 1,100,500,1000,2000 8

use std::time::{Duration, Instant};

use folio_testing::{TestDb, TestPrefix};
use serde_json::json;
use shared::config::WorkerConfig;
use shared::jobs::{NewJob, NoopJob, Registry, Shutdown, Worker};
use shared::kv::Kv;
use sqlx::PgPool;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn config(batch: u32, concurrency: u32) -> WorkerConfig {
    WorkerConfig {
        tick_budget: Duration::from_secs(600),
        batch_size: batch,
        concurrency,
        lease_grace: Duration::from_secs(30),
        retention: Duration::from_secs(24 * 3600),
        retry_base: Duration::from_secs(2),
        retry_max: Duration::from_secs(3600),
    }
}

async fn reset(pool: &PgPool) {
    sqlx::query("TRUNCATE jobs CASCADE")
        .execute(pool)
        .await
        .expect("truncate");
}

/// Enqueues `n` no-op jobs in chunks of 1000; returns jobs per second.
async fn enqueue_batched(pool: &PgPool, n: usize) -> f64 {
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let jobs: Vec<NewJob> = chunk
            .iter()
            .map(|_| NewJob::new("noop", json!({})))
            .collect();
        let mut tx = pool.begin().await.expect("begin");
        shared::jobs::enqueue_many(&mut tx, &jobs)
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// Enqueues `n` jobs, each in its own transaction (as a request handler
/// does), from `tasks` concurrent tasks; returns jobs per second.
async fn enqueue_one_per_tx(pool: &PgPool, n: usize, tasks: usize) -> f64 {
    let started = Instant::now();
    let workers = (0..tasks).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move {
            for _ in 0..n / tasks {
                let mut tx = pool.begin().await.expect("begin");
                shared::jobs::enqueue(&mut tx, &NewJob::new("noop", json!({})))
                    .await
                    .expect("enqueue");
                tx.commit().await.expect("commit");
            }
        })
    });
    futures::future::join_all(workers).await;
    (n / tasks * tasks) as f64 / started.elapsed().as_secs_f64()
}

/// Drains `n` queued no-op jobs with one tick; returns jobs per second.
async fn drain(pool: &PgPool, kv: Kv, n: usize, batch: u32, concurrency: u32) -> f64 {
    reset(pool).await;
    enqueue_batched(pool, n).await;
    sqlx::query("ANALYZE jobs")
        .execute(pool)
        .await
        .expect("analyze");
    let registry = Registry::new().register("noop", std::sync::Arc::new(NoopJob));
    let worker = Worker::with_parts(
        pool.clone(),
        kv,
        registry,
        config(batch, concurrency),
        Duration::from_secs(5),
    );
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let summary = worker.tick(deadline, &Shutdown::new()).await.expect("tick");
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(summary.succeeded as usize, n, "{summary:?}");
    n as f64 / elapsed
}

#[tokio::main]
async fn main() {
    shared::install_crypto_provider();
    if std::env::var_os("RUST_LOG").is_some() {
        shared::telemetry::init(shared::config::LogFormat::Pretty);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let jobs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let batches: Vec<u32> = args
        .get(2)
        .map(|a| a.split(',').filter_map(|b| b.parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 100, 500, 1000, 2000]);
    let concurrency: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(8);

    let db = TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&db.url)
        .await
        .expect("connect");
    let prefix = TestPrefix::new();
    let redis = shared::config::Config::from_vars(
        shared::config::Function::Health,
        folio_testing::test_vars(&db.url, &prefix.prefix, &[]),
    )
    .expect("config")
    .redis;
    let kv = Kv::from_config(&redis).expect("kv");

    println!("jobs per run: {jobs}, runs: {runs}, concurrency: {concurrency}");
    println!("| claim batch | notices | jobs/s (median) | runs | vs batch 1 |");
    println!("|---|---|---|---|---|");
    let mut reference = None;
    let mut best = (0.0, 0);
    for &batch in &batches {
        // One at a time is slow: a tenth of the jobs keeps the run short.
        let n = if batch == 1 {
            (jobs / 10).max(500)
        } else {
            jobs
        };
        let mut rates = Vec::new();
        for _ in 0..runs {
            rates.push(drain(&pool, Kv::disabled(), n, batch, concurrency).await);
        }
        let rate = median(rates.clone());
        let reference = *reference.get_or_insert(rate);
        if rate > best.0 {
            best = (rate, batch);
        }
        println!(
            "| {batch} | off | {rate:.0} | {} | {:.1}× |",
            rates
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            rate / reference
        );
    }
    let batch = best.1;
    let mut rates = Vec::new();
    for _ in 0..runs {
        rates.push(drain(&pool, kv.clone(), jobs, batch, concurrency).await);
    }
    let rate = median(rates.clone());
    println!(
        "| {batch} | redis | {rate:.0} | {} | {:.1}× |",
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        rate / reference.unwrap_or(rate)
    );

    println!();
    println!("| enqueue | jobs/s (median) | runs |");
    println!("|---|---|---|");
    let mut batched = Vec::new();
    let mut single = Vec::new();
    for _ in 0..runs {
        reset(&pool).await;
        batched.push(enqueue_batched(&pool, jobs).await);
        reset(&pool).await;
        single.push(enqueue_one_per_tx(&pool, 4000, 8).await);
    }
    let show = |xs: &[f64]| {
        xs.iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "| `enqueue_many`, 1000 per transaction | {:.0} | {} |",
        median(batched.clone()),
        show(&batched)
    );
    println!(
        "| `enqueue`, one per transaction, 8 tasks | {:.0} | {} |",
        median(single.clone()),
        show(&single)
    );
    pool.close().await;
}
