//! Logging: JSON lines to stdout (or pretty for a terminal), filtered by
//! `RUST_LOG`. Values go in fields; secrets, tokens, bodies and recognised text
//! never do.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls do nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,lambda_runtime=warn"));
    // Lambda's own log format switch wins there, so log lines match the platform's.
    let json = match std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref() {
        Some(f) if f.eq_ignore_ascii_case("json") => true,
        Some(f) if f.eq_ignore_ascii_case("text") => false,
        _ => format == LogFormat::Json,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    drop(result);
}
