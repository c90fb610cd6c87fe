//! The `worker-tick` function: three triggers, one tick.
//! - `POST /v1/worker/tick` with `Authorization: Bearer $WORKER_TICK_TOKEN`;
//! - `POST /events`, only on Lambda and only for a genuine EventBridge
//!   scheduled event (`lambda_http`'s `pass_through` turns the event into this
//!   request; an HTTP request to the same path is refused);
//! - `worker-tick --every 5s` (see `ticker`).
//!
//! It also answers `GET /health/worker`: readiness with how each job kind
//! fits a tick (not `/health/ready`, which the local gateway mounts from
//! `health`).
//!
//! The job kinds this binary runs are listed once, in `registry`.

mod deadline;
mod events;
mod ready;
mod tick;
pub mod ticker;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use shared::AppState;
use shared::jobs::{NoopJob, ProbeJob, Registry, Shutdown, Worker};
use shared::ocr::fanout::OcrPartJob;
use shared::ocr::job::OcrJob;
use shared::ocr::service::OcrService;

pub use deadline::{Limits, tick_deadline};

/// Every job kind the worker runs. Add a kind here (one line) and every
/// trigger, and the local gateway, runs it.
pub fn registry(state: &AppState) -> Registry {
    // One OCR attempt may use most of a tick; the rest is the tick's own work.
    let ocr_timeout = state.config.worker.tick_budget.mul_f64(0.9);
    Registry::new()
        .register("noop", Arc::new(NoopJob))
        .register("probe", Arc::new(ProbeJob))
        .register(
            shared::ocr::job::KIND,
            Arc::new(OcrJob::new(OcrService::new(state), ocr_timeout)),
        )
        .register(
            shared::webhooks::KIND,
            Arc::new(shared::webhooks::WebhookJob::new(&state.config.fetch)),
        )
        .register(
            shared::ocr::fanout::PART_KIND,
            Arc::new(OcrPartJob::new(OcrService::new(state), ocr_timeout)),
        )
}

/// How the router is wired; `router` picks the production choices.
pub struct Options {
    /// Answer `POST /events` (true when the process runs under Lambda).
    pub on_lambda: bool,
    /// Cancelled when the process is asked to stop; a running tick then
    /// finishes or gives back the jobs in hand.
    pub shutdown: Shutdown,
}

#[derive(Clone)]
struct TickState {
    app: AppState,
    worker: Arc<Worker>,
    shutdown: Shutdown,
}

/// The document of the router's routes; `/events` only when `on_lambda`
/// (the router mounts it only there).
pub fn openapi(on_lambda: bool) -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(tick::post_tick, ready::get_readiness))]
    struct Doc;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(events::post_event))]
    struct Events;
    let mut doc = Doc::openapi();
    if on_lambda {
        doc.merge(Events::openapi());
    }
    doc
}

/// The production router: EventBridge events only under Lambda, and a
/// running tick told about SIGTERM/SIGINT (elsewhere; Lambda sends none).
pub fn router(state: AppState) -> Router {
    let on_lambda = shared::serve::on_lambda();
    let shutdown = if on_lambda {
        Shutdown::new()
    } else {
        ticker::cancelled_on_signal()
    };
    router_with(
        state,
        Options {
            on_lambda,
            shutdown,
        },
    )
}

pub fn router_with(state: AppState, options: Options) -> Router {
    // An HTTP tick ends before the request deadline: judge kinds by that.
    let longest = deadline::http_tick_limit(&state.config);
    let worker = Arc::new(Worker::new(&state, registry(&state)).with_tick_budget(longest));
    let tick_state = TickState {
        app: state,
        worker,
        shutdown: options.shutdown,
    };
    let mut routes = Router::new()
        .route("/v1/worker/tick", post(tick::post_tick))
        .route("/health/worker", get(ready::get_readiness));
    if options.on_lambda {
        routes = routes.route("/events", post(events::post_event));
    }
    routes.with_state(tick_state)
}
