//! Logging: JSON lines to stdout (or pretty for a terminal, or the shapes
//! Cloud Logging and Lambda read, see `platform`), filtered by `RUST_LOG`.
//! Values go in fields; secrets, tokens, bodies and recognised text never do.

mod platform;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

pub use platform::{PlatformLayer, Style, cloud_trace_context};

use crate::config::Config;

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

/// Installs the subscriber `config` asks for. With `LOG_FORMAT=gcp` and no
/// project variable, the project comes from the metadata server first (one
/// local request at start, at most 1 s; without an answer, trace ids stay
/// unqualified and a warning says why).
pub async fn init_for(config: &Config) {
    let mut project = config.gcp_project.clone();
    let mut failure = None;
    if config.log_format == LogFormat::Gcp
        && project.is_none()
        && let Some(host) = &config.gcp_metadata_host
    {
        match project_from_metadata(host).await {
            Ok(p) => project = Some(p),
            Err(e) => failure = Some(e),
        }
    }
    init_with(config.log_format, project);
    if let Some(e) = failure {
        tracing::warn!(
            error = %e,
            "no Google Cloud project (set GOOGLE_CLOUD_PROJECT): trace ids are logged without it"
        );
    }
}

/// The project id the metadata server at `host` reports.
pub async fn project_from_metadata(host: &str) -> anyhow::Result<String> {
    let url = format!("http://{host}/computeMetadata/v1/project/project-id");
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(1))
        .build()?;
    let answer = client
        .get(&url)
        .header("Metadata-Flavor", "Google")
        .send()
        .await?
        .error_for_status()?;
    let text = answer.text().await?;
    let project = text.trim();
    anyhow::ensure!(
        !project.is_empty()
            && project.len() <= 100
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'.'),
        "the metadata server's project id is not usable"
    );
    Ok(project.to_owned())
}
