//! `worker-tick`                  serve (HTTP, or Lambda when AWS_LAMBDA_RUNTIME_API is set)
//! `worker-tick migrate`          apply the embedded migrations and exit
//! `worker-tick --every <5s>`     tick every interval until SIGTERM/SIGINT (compose, local run)
//! `worker-tick tick`             run one tick, print its summary as JSON, exit

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use shared::config::{Function, parse_duration};
use shared::jobs::Worker;
use shared::{AppState, config::Config};

const USAGE: &str = "usage: worker-tick [migrate | tick | --every <duration>]";

#[tokio::main]
async fn main() -> ExitCode {
    // Before anything else: OpenMP reads its thread limit when libtesseract
    // loads, and this binary runs OCR jobs.
    // A PDF worker (this binary re-executed) serves its requests and exits here.
    shared::ocr::serve_pdf_worker_if_asked();
    shared::ocr::ensure_single_threaded_omp();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => {
            shared::run_function(
                Function::WorkerTick,
                folio_worker_tick::router,
                folio_worker_tick::openapi(shared::serve::on_lambda()),
            )
            .await
        }
        ["migrate"] => migrate().await,
        ["tick"] => tick_once().await,
        ["--every", every] => every_interval(every).await,
        [flag] if flag.starts_with("--every=") => every_interval(&flag["--every=".len()..]).await,
        ["-h" | "--help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Migrations need only the database variables, so this reads the config of
/// the `health` function (which requires nothing else).
async fn migrate() -> ExitCode {
    let config = match shared::load_config(Function::Health) {
        Ok(config) => config,
        Err(code) => return code,
    };
    shared::install_crypto_provider();
    shared::telemetry::init_for(&config).await;
    match shared::db::migrate(&config.database, Duration::from_secs(60)).await {
        Ok(version) => {
            println!("schema version {version}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("worker-tick migrate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Config, telemetry, migrations when `AUTO_MIGRATE=true`, and the worker.
async fn worker() -> Result<Arc<Worker>, ExitCode> {
    let config: Config = shared::load_config(Function::WorkerTick)?;
    shared::install_crypto_provider();
    shared::telemetry::init_for(&config).await;
    if config.auto_migrate
        && let Err(e) = shared::db::migrate(&config.database, Duration::from_secs(60)).await
    {
        eprintln!("worker-tick: {e:#}");
        return Err(ExitCode::FAILURE);
    }
    let state = AppState::new(config).map_err(|e| {
        eprintln!("worker-tick: {e:#}");
        ExitCode::FAILURE
    })?;
    let registry = folio_worker_tick::registry(&state);
    Ok(Arc::new(Worker::new(&state, registry)))
}

async fn every_interval(raw: &str) -> ExitCode {
    let Some(every) = parse_duration(raw).filter(|d| !d.is_zero()) else {
        eprintln!("worker-tick: --every needs a duration such as 5s or 500ms");
        return ExitCode::from(2);
    };
    let worker = match worker().await {
        Ok(worker) => worker,
        Err(code) => return code,
    };
    let shutdown = folio_worker_tick::ticker::cancelled_on_signal();
    folio_worker_tick::ticker::run_every(worker, every, shutdown).await;
    ExitCode::SUCCESS
}

async fn tick_once() -> ExitCode {
    let worker = match worker().await {
        Ok(worker) => worker,
        Err(code) => return code,
    };
    let shutdown = folio_worker_tick::ticker::cancelled_on_signal();
    let deadline = tokio::time::Instant::now() + worker.config().tick_budget;
    match worker.tick(deadline, &shutdown).await {
        Ok(summary) => {
            println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("worker-tick tick: {e}");
            ExitCode::FAILURE
        }
    }
}
