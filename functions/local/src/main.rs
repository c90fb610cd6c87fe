//! `folio-local`: every function's routes on one port, for running folio on a
//! laptop without Docker (see `scripts/dev.sh`).
//!
//! `folio-local`              serve everything on $PORT (default 8000) and tick
//!                            the job queue every FOLIO_LOCAL_TICK_EVERY (2 s)
//! `folio-local token SUB`    print a one-day HS256 token for SUB, signed with JWT_SECRET_KEY

use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use shared::AppState;
use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    // Before anything else: OpenMP reads its thread limit when libtesseract
    // loads, and this binary runs OCR jobs.
    // A PDF worker (this binary re-executed) serves its requests and exits here.
    shared::ocr::serve_pdf_worker_if_asked();
    shared::ocr::ensure_single_threaded_omp();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve_with_ticker().await,
        ["token", sub] => print_token(sub),
        _ => {
            eprintln!("usage: folio-local [token SUBJECT]");
            ExitCode::from(2)
        }
    }
}

/// Like `shared::run_function`, plus the worker ticker in the background
/// (every `FOLIO_LOCAL_TICK_EVERY`, default 2 s). On SIGTERM/SIGINT the server
/// drains, then the tick in hand finishes or gives its jobs back.
async fn serve_with_ticker() -> ExitCode {
    let config = match shared::load_config(Function::Local) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let every = std::env::var("FOLIO_LOCAL_TICK_EVERY")
        .ok()
        .and_then(|v| shared::config::parse_duration(&v))
        .unwrap_or(Duration::from_secs(2));
    let mut ticker = None;
    let served = shared::start(config, |state| {
        ticker = Some(folio_worker_tick::ticker::spawn(&state, every));
        routes(state)
    })
    .await;
    if let Some(ticker) = ticker {
        let _ = ticker.await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "folio-local stopped");
            ExitCode::FAILURE
        }
    }
}

fn routes(state: AppState) -> Router {
    Router::new()
        .merge(folio_health::router(state.clone()))
        .merge(folio_ocr::router(state.clone()))
        .merge(folio_quiz::router(state.clone()))
        .merge(folio_worker_tick::router(state))
}

fn print_token(sub: &str) -> ExitCode {
    let Ok(secret) = std::env::var("JWT_SECRET_KEY") else {
        eprintln!("folio-local token: JWT_SECRET_KEY is not set");
        return ExitCode::from(2);
    };
    match shared::auth::mint_hs256(&secret, sub, Duration::from_secs(24 * 3600)) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("folio-local token: {e}");
            ExitCode::FAILURE
        }
    }
}
