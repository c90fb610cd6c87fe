//! What pooler mode costs: units of work per second for folio's request-path
//! shape (one unit, one primary-key read: `jobs::job_status`) with
//! `DATABASE_POOLER=none` (named, cached statements on a plain connection)
//! or `transaction` (unnamed statements inside BEGIN/COMMIT), over the URL
//! given. One mode per process: pooler mode is process-wide.
//!
//! `folio-bench-pooler MODE URL [UNITS] [CLIENTS]` (defaults 20000, 8). The URL's
//! database must be migrated (a `folio_test_*` or template database will do).

use std::sync::Arc;
use std::time::Instant;

use shared::config::{Config, Function};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(url)) = (args.first(), args.get(1)) else {
        anyhow::bail!("usage: folio-bench-pooler none|transaction URL [UNITS] [CLIENTS]");
    };
    let units: usize = args.get(2).map_or(Ok(20_000), |n| n.parse())?;
    let clients: usize = args.get(3).map_or(Ok(8), |n| n.parse())?;
    let config = Config::from_vars(
        Function::Health,
        [
            ("DATABASE_URL".to_owned(), url.clone()),
            ("DATABASE_POOLER".to_owned(), mode.clone()),
            ("DATABASE_MAX_CONNECTIONS".to_owned(), clients.to_string()),
        ],
    )?;
    let pool = shared::db::pool(&config.database)?;
    // Warm every connection (and, direct, its statement cache).
    for _ in 0..clients * 4 {
        shared::jobs::job_status(&pool, uuid::Uuid::now_v7()).await?;
    }
    let pool = Arc::new(pool);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let pool = pool.clone();
        tasks.spawn(async move {
            for _ in 0..units / clients {
                shared::jobs::job_status(&pool, uuid::Uuid::now_v7()).await?;
            }
            Ok::<_, sqlx::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let secs = started.elapsed().as_secs_f64();
    let done = units / clients * clients;
    println!(
        "| {mode} | {done} | {clients} | {:.0} | {:.0} |",
        done as f64 / secs,
        secs * 1e6 * clients as f64 / done as f64
    );
    Ok(())
}
