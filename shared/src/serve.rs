//! One runtime for every function: the middleware every router gets, and
//! `serve`, which runs the router under `lambda_http` when
//! `AWS_LAMBDA_RUNTIME_API` is set and as a plain HTTP server otherwise.

mod middleware;
mod stage;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::config::Config;

pub use middleware::current_request_id;

/// The build version every `/health` reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Wraps a function's routes with `GET /health` and the middleware every
/// function shares: request id, a span per request, a deadline, a default
/// body limit, panic capture, and problem+json for every error answer.
pub fn app(config: &Config, routes: Router) -> Router {
    let function = config.function.name();
    // Documented by `crate::openapi::liveness_doc`.
    let liveness = get(move || async move {
        axum::Json(crate::openapi::Liveness {
            status: "ok",
            function,
            version: VERSION,
        })
    });
    routes
        .route("/health", liveness)
        .fallback(|| async { crate::Error::NotFound })
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(axum::middleware::from_fn(
            middleware::problem_for_bare_errors,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout,
            middleware::deadline,
        ))
        .layer(axum::middleware::from_fn(middleware::request_context))
}

/// True when the process was started by the Lambda runtime.
pub fn on_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// Serves `app` until the platform stops it: under Lambda, hands it to
/// `lambda_http` (API Gateway's stage taken off the path first, see
/// `stage`); otherwise binds `0.0.0.0:$PORT` and, on SIGTERM or SIGINT,
/// stops accepting, lets in-flight requests finish for up to
/// `config.shutdown_grace`, and returns.
pub async fn serve(config: &Config, app: Router) -> anyhow::Result<()> {
    if on_lambda() {
        check_lambda_environment()?;
        tracing::info!(
            function = config.function.name(),
            "serving through the Lambda runtime API"
        );
        // Read once here: lambda_http leaves the stage out itself when it is set.
        let app = if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() {
            app
        } else {
            // The rewrite runs before `app` routes: `app` is the fallback.
            Router::new()
                .fallback_service(app)
                .layer(axum::middleware::from_fn(stage::strip_stage))
        };
        return lambda_http::run(app)
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime failed: {e}"));
    }
    let addr = SocketAddr::from(([0, 0, 0, 0], config.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    serve_on(listener, app, shutdown_signal(), config.shutdown_grace).await
}

/// Serves on an already bound listener until `shutdown` resolves, then drains
/// for at most `grace`.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, "listening");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app.into_make_service())
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        })
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result.map_err(Into::into),
        () = shutdown => {}
    }
    tracing::info!(
        grace_s = grace.as_secs_f32(),
        "shutting down: draining in-flight requests"
    );
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => {
            tracing::warn!("requests still running after the grace period; exiting anyway");
            Ok(())
        }
    }
}

/// Resolves on the first SIGTERM (Cloud Run, compose, systemd) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

/// `lambda_runtime` panics on missing variables; say which instead.
fn check_lambda_environment() -> anyhow::Result<()> {
    let missing: Vec<&str> = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
    ]
    .into_iter()
    .filter(|name| std::env::var_os(name).is_none())
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "AWS_LAMBDA_RUNTIME_API is set but {} is not",
            missing.join(", ")
        )
    }
}
