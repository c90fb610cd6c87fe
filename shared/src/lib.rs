//! folio's shared library: everything the function binaries have in common.
//! Organised by capability; each module's first lines say what it owns.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod jobs;
pub mod kv;
pub mod limits;
pub mod ocr;
pub mod quiz;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod testing;

pub use error::{Error, Result};
pub use serve::serve;
pub use state::AppState;

use std::process::ExitCode;

use config::{Config, Function};

/// Installs the process-wide rustls crypto provider (aws-lc-rs). sqlx, redis
/// and reqwest all use rustls; with more than one provider compiled in, the
/// first TLS connection would panic without this.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Reads and validates the configuration, printing every problem and exiting
/// with status 2 when there is one.
pub fn load_config(function: Function) -> Result<Config, ExitCode> {
    Config::from_env(function).map_err(|e| {
        eprintln!("{}: {e}", function.name());
        ExitCode::from(2)
    })
}

/// The whole life of a function binary: config → telemetry → state →
/// (migrations when `AUTO_MIGRATE=true`) → router → serve.
pub async fn run_function(
    function: Function,
    routes: impl FnOnce(AppState) -> axum::Router,
) -> ExitCode {
    let config = match load_config(function) {
        Ok(config) => config,
        Err(code) => return code,
    };
    match start(config, routes).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "{} stopped", function.name());
            ExitCode::FAILURE
        }
    }
}

/// Everything after configuration; split out so the local gateway can reuse it.
pub async fn start(
    config: Config,
    routes: impl FnOnce(AppState) -> axum::Router,
) -> anyhow::Result<()> {
    install_crypto_provider();
    telemetry::init(config.log_format);
    if config.auto_migrate {
        db::migrate(&config.database, std::time::Duration::from_secs(30)).await?;
    }
    let state = AppState::new(config)?;
    let config = state.config.clone();
    // Every function that takes user tokens also answers /v1/sessions.
    let takes_user_tokens = matches!(
        config.function,
        Function::Ocr | Function::Quiz | Function::Local
    );
    let mut router = routes(state.clone());
    if takes_user_tokens {
        router = router.merge(auth::sessions::routes::router(state));
    }
    let app = serve::app(&config, router);
    serve::serve(&config, app).await
}
