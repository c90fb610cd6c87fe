//! `worker-tick`            serve (HTTP, or Lambda when AWS_LAMBDA_RUNTIME_API is set)
//! `worker-tick migrate`    apply the embedded migrations and exit

use std::process::ExitCode;
use std::time::Duration;

use shared::config::Function;

const USAGE: &str = "usage: worker-tick [migrate]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => shared::run_function(Function::WorkerTick, folio_worker_tick::router).await,
        ["migrate"] => migrate().await,
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
    shared::telemetry::init(config.log_format);
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
