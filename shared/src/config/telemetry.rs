//! How folio reports on itself: the log line format (chosen from the platform
//! when unset) and the metrics (`METRICS_*`, see docs/operations.md).

use secrecy::{ExposeSecret, SecretString};

use super::env::Env;

/// The shape of every log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line, tracing's own field names.
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
    /// Cloud Logging's structured JSON (`severity`, trace, `httpRequest`).
    Gcp,
    /// Lambda's JSON log format (`timestamp`, `level`, `requestId`).
    Lambda,
}

/// Where the figures go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// Prometheus text at `GET /metrics`, behind `METRICS_TOKEN`.
    Prometheus,
    /// CloudWatch Embedded Metric Format lines on stdout, once per invocation.
    Emf,
}

#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// `METRICS_ENABLED` (default false).
    pub enabled: bool,
    pub format: MetricsFormat,
    /// The bearer token a scraper sends; required for `prometheus`.
    pub token: Option<SecretString>,
    /// The CloudWatch namespace of EMF lines (`METRICS_NAMESPACE`, default `folio`).
    pub namespace: String,
}

/// `LOG_FORMAT`, else the platform's: `K_SERVICE` (Cloud Run) → gcp,
/// `AWS_LAMBDA_FUNCTION_NAME` → lambda (or pretty when Lambda's own log
/// format is `Text`), else json.
pub(super) fn log_format(env: &mut Env) -> LogFormat {
    match env.string("LOG_FORMAT").as_deref() {
        Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some("gcp") => LogFormat::Gcp,
        Some("lambda") => LogFormat::Lambda,
        Some(_) => {
            env.invalid("LOG_FORMAT", "must be `json`, `pretty`, `gcp` or `lambda`");
            LogFormat::Json
        }
        None if env.string("K_SERVICE").is_some() => LogFormat::Gcp,
        None if env.string("AWS_LAMBDA_FUNCTION_NAME").is_some() => {
            match env.string("AWS_LAMBDA_LOG_FORMAT") {
                Some(f) if f.eq_ignore_ascii_case("text") => LogFormat::Pretty,
                _ => LogFormat::Lambda,
            }
        }
        None => LogFormat::Json,
    }
}

/// The Google Cloud project that trace ids are qualified with.
pub(super) fn gcp_project(env: &Env) -> Option<String> {
    ["GOOGLE_CLOUD_PROJECT", "GCP_PROJECT", "GCLOUD_PROJECT"]
        .into_iter()
        .find_map(|name| env.string(name))
        .filter(|p| !p.trim().is_empty())
}

/// Where to ask for the project when no variable names it: the metadata
/// server (`GCE_METADATA_HOST`, else Google's own host on Cloud Run).
pub(super) fn gcp_metadata_host(env: &Env) -> Option<String> {
    env.string("GCE_METADATA_HOST").or_else(|| {
        env.string("K_SERVICE")
            .map(|_| "metadata.google.internal".to_owned())
    })
}

/// Enabled metrics need somewhere to go: Prometheus without a token refuses
/// to start (a `/metrics` anyone could read is never served).
pub(super) fn metrics_config(env: &mut Env) -> MetricsConfig {
    let enabled = env.parse_or("METRICS_ENABLED", false);
    let on_lambda = env.string("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let format = match env.string("METRICS_FORMAT").as_deref() {
        Some("prometheus") => MetricsFormat::Prometheus,
        Some("emf") => MetricsFormat::Emf,
        None if on_lambda => MetricsFormat::Emf,
        None => MetricsFormat::Prometheus,
        Some(_) => {
            env.invalid("METRICS_FORMAT", "must be `prometheus` or `emf`");
            MetricsFormat::Prometheus
        }
    };
    let token = env.secret("METRICS_TOKEN");
    if enabled && format == MetricsFormat::Prometheus {
        match &token {
            None => env.missing(
                "METRICS_TOKEN",
                "the bearer token Prometheus sends to /metrics (METRICS_ENABLED=true)",
            ),
            Some(t) if t.expose_secret().len() < 16 => {
                env.invalid("METRICS_TOKEN", "must be at least 16 characters")
            }
            Some(_) => {}
        }
    }
    let namespace = env
        .string("METRICS_NAMESPACE")
        .unwrap_or_else(|| "folio".to_owned());
    if namespace.is_empty() || namespace.len() > 255 {
        env.invalid("METRICS_NAMESPACE", "must be 1 to 255 characters");
    }
    MetricsConfig {
        enabled,
        format,
        token,
        namespace,
    }
}
