//! folio's shared library: everything the function binaries have in common.
//! Organised by capability; each module's first lines say what it owns.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fetch;
pub mod flags;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod jobs;
pub mod kv;
pub mod limits;
pub mod metrics;
pub mod ocr;
pub mod openapi;
pub mod quiz;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod webhooks;

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
/// (migrations when `AUTO_MIGRATE=true`) → router → serve. `openapi` is the
/// document of `routes` (the function crate's `openapi()`).
pub async fn run_function(
    function: Function,
    routes: impl FnOnce(AppState) -> axum::Router,
    openapi: utoipa::openapi::OpenApi,
) -> ExitCode {
    let config = match load_config(function) {
        Ok(config) => config,
        Err(code) => return code,
    };
    match start(config, routes, openapi).await {
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
    openapi: utoipa::openapi::OpenApi,
) -> anyhow::Result<()> {
    install_crypto_provider();
    telemetry::init_for(&config).await;
    metrics::install(&config)?;
    if config.auto_migrate {
        db::migrate(&config.database, std::time::Duration::from_secs(30)).await?;
    }
    let state = AppState::new(config)?;
    let config = state.config.clone();
    let (app, _) = assemble(state.clone(), routes(state), openapi);
    serve::serve(&config, app).await
}

/// A function's whole application and its OpenAPI document, assembled side
/// by side: its `routes` (documented by `openapi`), `/v1/sessions` for the
/// functions that take user tokens, `GET /health` and the shared middleware
/// (`serve::app`), and `/openapi.json` + `/docs` when `DOCS_ENABLED`.
pub fn assemble(
    state: AppState,
    routes: axum::Router,
    openapi: utoipa::openapi::OpenApi,
) -> (axum::Router, utoipa::openapi::OpenApi) {
    let config = state.config.clone();
    // Every function that takes user tokens also answers /v1/sessions.
    let takes_user_tokens = matches!(
        config.function,
        Function::Ocr | Function::Quiz | Function::Local
    );
    let mut router = routes;
    let mut parts = vec![openapi];
    if takes_user_tokens {
        router = router.merge(auth::sessions::routes::router(state.clone()));
        parts.push(auth::sessions::routes::openapi());
    }
    // `/metrics` is the operator's (a scraper's), not a caller's: it stays out of the
    // document, like `/openapi.json` and `/docs` themselves.
    router = router.merge(metrics::routes(state.clone()));
    let doc = openapi::document(config.function.name(), parts);
    if config.docs_enabled {
        router = router.merge(openapi::routes(&doc));
    }
    let mut app = serve::app(&config, router);
    if metrics::emf_enabled() {
        app = app.layer(axum::middleware::from_fn_with_state(
            state,
            metrics::flush_after,
        ));
    }
    (app, doc)
}
