//! Logging: JSON lines to stdout (or pretty for a terminal, or the shapes
//! Cloud Logging and Lambda read, see `platform`), filtered by `RUST_LOG`.
//! Values go in fields; secrets, tokens, bodies and recognised text never do.

mod platform;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

pub use platform::{PlatformLayer, Style, cloud_trace_context};

const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,lambda_runtime=warn";

/// Installs the global subscriber once; later calls do nothing.
pub fn init(format: LogFormat) {
    init_with(format, None);
}

/// Like `init`; `gcp_project` qualifies Cloud Logging trace ids.
pub fn init_with(format: LogFormat, gcp_project: Option<String>) {
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let result = match format {
        LogFormat::Gcp | LogFormat::Lambda => {
            let style = if format == LogFormat::Gcp {
                Style::Gcp {
                    project: gcp_project,
                }
            } else {
                Style::Lambda
            };
            tracing_subscriber::registry()
                .with(filter())
                .with(PlatformLayer::stdout(style))
                .try_init()
                .map_err(|_| ())
        }
        LogFormat::Json => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stdout)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
            .map_err(|_| ()),
        LogFormat::Pretty => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stdout)
            .try_init()
            .map_err(|_| ()),
    };
    let _ = result;
}
