//! Figures for operators (see docs/operations.md): request counts and
//! latencies per route, OCR pages, caches, rate limits, LLM calls, job
//! outcomes, and at read time the queue, the Postgres pool and Redis's round
//! trip. Off unless `METRICS_ENABLED=true`; then either Prometheus text at
//! `GET /metrics` behind `METRICS_TOKEN`, or (`METRICS_FORMAT=emf`, Lambda)
//! CloudWatch Embedded Metric Format lines written once per invocation.
//! The recording calls below cost next to nothing while metrics are off.

mod emf;
mod scrape;

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::{Config, MetricsFormat};

pub use emf::{Emf, document_lines};
pub use scrape::{flush_after, observe, routes};

/// Every figure folio exports; the dashboard and alert rules use these names.
pub mod names {
    pub const HTTP_REQUESTS: &str = "folio_http_requests_total";
    pub const HTTP_DURATION: &str = "folio_http_request_duration_seconds";
    pub const OCR_PAGES: &str = "folio_ocr_pages_total";
    pub const OCR_PAGE_SECONDS: &str = "folio_ocr_page_seconds";
    pub const CACHE_LOOKUPS: &str = "folio_cache_lookups_total";
    pub const RATE_LIMIT_DECISIONS: &str = "folio_rate_limit_decisions_total";
    pub const LLM_CALLS: &str = "folio_llm_calls_total";
    pub const JOB_ATTEMPTS: &str = "folio_job_attempts_total";
    pub const QUEUE_JOBS: &str = "folio_queue_jobs";
    pub const QUEUE_OLDEST_AGE: &str = "folio_queue_oldest_age_seconds";
    pub const DB_POOL_CONNECTIONS: &str = "folio_db_pool_connections";
    pub const REDIS_PING_SECONDS: &str = "folio_redis_ping_seconds";
    pub const REDIS_UP: &str = "folio_redis_up";
    pub const POSTGRES_UP: &str = "folio_postgres_up";

    /// Every name above, for checks that dashboards and rules use real ones.
    pub const ALL: &[&str] = &[
        HTTP_REQUESTS,
        HTTP_DURATION,
        OCR_PAGES,
        OCR_PAGE_SECONDS,
        CACHE_LOOKUPS,
        RATE_LIMIT_DECISIONS,
        LLM_CALLS,
        JOB_ATTEMPTS,
        QUEUE_JOBS,
        QUEUE_OLDEST_AGE,
        DB_POOL_CONNECTIONS,
        REDIS_PING_SECONDS,
        REDIS_UP,
        POSTGRES_UP,
    ];
}

const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const PAGE_BUCKETS: &[f64] = &[0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0];

/// The process-wide exporter, set by the first `install`.
enum Installed {
    Prometheus(PrometheusHandle),
    Emf(Arc<Emf>),
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// Installs the recorder `config.metrics` asks for (once per process: a
/// second call, say a second app in one test binary, keeps the first).
pub fn install(config: &Config) -> anyhow::Result<()> {
    if !config.metrics.enabled || INSTALLED.get().is_some() {
        return Ok(());
    }
    let function = config.function.name();
    let installed = match config.metrics.format {
        MetricsFormat::Prometheus => {
            let recorder = PrometheusBuilder::new()
                .add_global_label("function", function)
                .set_buckets_for_metric(
                    Matcher::Full(names::HTTP_DURATION.into()),
                    LATENCY_BUCKETS,
                )?
                .set_buckets_for_metric(
                    Matcher::Full(names::OCR_PAGE_SECONDS.into()),
                    PAGE_BUCKETS,
                )?
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                return Ok(());
            }
            Installed::Prometheus(handle)
        }
        MetricsFormat::Emf => {
            let emf = Arc::new(Emf::new(&config.metrics.namespace, function));
            if metrics::set_global_recorder(emf::Shared(emf.clone())).is_err() {
                return Ok(());
            }
            Installed::Emf(emf)
        }
    };
    if INSTALLED.set(installed).is_ok() {
        describe();
    }
    Ok(())
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        names::HTTP_REQUESTS,
        "Requests answered, by route template, method and status."
    );
    describe_histogram!(
        names::HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer, by route template, method and status."
    );
    describe_counter!(
        names::OCR_PAGES,
        "Pages read, by source (text_layer or ocr)."
    );
    describe_histogram!(
        names::OCR_PAGE_SECONDS,
        metrics::Unit::Seconds,
        "Seconds per page, by source."
    );
    describe_counter!(
        names::CACHE_LOOKUPS,
        "Cache lookups, by cache and result (hit, miss)."
    );
    describe_counter!(
        names::RATE_LIMIT_DECISIONS,
        "Rate-limit decisions, by family and decision."
    );
    describe_counter!(
        names::LLM_CALLS,
        "Calls to the LLM provider, by outcome (ok, error)."
    );
    describe_counter!(
        names::JOB_ATTEMPTS,
        "Job attempts finished, by kind and outcome."
    );
    describe_gauge!(
        names::QUEUE_JOBS,
        "Jobs in the queue, by status (queued, running, dead)."
    );
    describe_gauge!(
        names::QUEUE_OLDEST_AGE,
        metrics::Unit::Seconds,
        "How long the longest-waiting due job has waited."
    );
    describe_gauge!(
        names::DB_POOL_CONNECTIONS,
        "Postgres pool connections, by state (open, idle, max)."
    );
    describe_gauge!(
        names::REDIS_PING_SECONDS,
        metrics::Unit::Seconds,
        "Round trip of a Redis PING at read time."
    );
    describe_gauge!(names::REDIS_UP, "1 when Redis answered the last PING.");
    describe_gauge!(
        names::POSTGRES_UP,
        "1 when Postgres answered the last queue read."
    );
}

fn prometheus() -> Option<&'static PrometheusHandle> {
    match INSTALLED.get()? {
        Installed::Prometheus(h) => Some(h),
        Installed::Emf(_) => None,
    }
}

/// True when EMF lines are written (install `flush_after`).
pub fn emf_enabled() -> bool {
    emf().is_some()
}

fn emf() -> Option<&'static Arc<Emf>> {
    match INSTALLED.get()? {
        Installed::Emf(e) => Some(e),
        Installed::Prometheus(_) => None,
    }
}

/// One answered request. `route` is the matched path template (`/v1/ocr/{id}`),
/// never the raw path, so the label's values stay few.
pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(names::HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(names::HTTP_DURATION, &labels).record(seconds);
}

/// One page read, from its text layer (`text_layer`) or by OCR (`ocr`).
pub fn ocr_page(source: &'static str, seconds: f64) {
    metrics::counter!(names::OCR_PAGES, "source" => source).increment(1);
    metrics::histogram!(names::OCR_PAGE_SECONDS, "source" => source).record(seconds);
}

/// One cache lookup.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(names::CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// One rate-limit decision (`allowed`, `limited`, `unchecked`, `unavailable`).
pub fn rate_limit(family: &'static str, decision: &'static str) {
    metrics::counter!(names::RATE_LIMIT_DECISIONS, "family" => family, "decision" => decision)
        .increment(1);
}

/// One call to the LLM provider.
pub fn llm_call(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(names::LLM_CALLS, "outcome" => outcome).increment(1);
}

/// One job attempt settled (`succeeded`, `error`, `permanent_error`,
/// `timed_out`, `panicked`, `fenced`, `interrupted`).
pub fn job_attempt(kind: &str, outcome: &'static str) {
    metrics::counter!(names::JOB_ATTEMPTS, "kind" => kind.to_owned(), "outcome" => outcome)
        .increment(1);
}
