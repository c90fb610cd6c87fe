//! Typed configuration, read once from the environment and validated before a
//! port is bound. Every problem is collected, so one start-up error names every
//! bad or missing variable. Secrets are `SecretString` and never reach `Debug`.

mod auth;
mod database;
mod env;
mod fetch;
mod ocr;
mod quiz;
mod redis;
mod telemetry;
mod worker;

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use auth::{JwksConfig, JwtConfig, JwtKey, Provider, SessionConfig, TickOidcConfig};
use database::database_config;
pub use database::{DatabaseConfig, Pooler};
use env::Env;
pub use env::{ConfigError, parse_duration};
pub use fetch::{AllowEntry, FetchConfig, parse_allow};
pub use ocr::OcrConfig;
use ocr::ocr_config;
pub use quiz::{LlmConfig, QuizConfig};
use redis::redis_config;
pub use redis::{RateLimitConfig, RedisBackend, RedisConfig};
pub use telemetry::{LogFormat, MetricsConfig, MetricsFormat};
pub use worker::WorkerConfig;
use worker::worker_config;

/// Which function is starting: decides the default port and which variables
/// are required (only the functions with `/v1/` routes need a JWT key, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Health,
    Ocr,
    Quiz,
    WorkerTick,
    /// The local gateway: every function on one port.
    Local,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Health => "health",
            Function::Ocr => "ocr",
            Function::Quiz => "quiz",
            Function::WorkerTick => "worker-tick",
            Function::Local => "folio-local",
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Function::Health => 8080,
            Function::Ocr => 8081,
            Function::Quiz => 8082,
            Function::WorkerTick => 8083,
            Function::Local => 8000,
        }
    }

    fn needs_jwt(self) -> bool {
        matches!(self, Function::Ocr | Function::Quiz | Function::Local)
    }

    fn needs_tick_token(self) -> bool {
        matches!(self, Function::WorkerTick | Function::Local)
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub function: Function,
    pub port: u16,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub rate_limit: RateLimitConfig,
    pub jwt: Option<JwtConfig>,
    /// Session tracking for callers' tokens (see docs/auth.md).
    pub sessions: SessionConfig,
    pub worker_tick_token: Option<SecretString>,
    /// Google-signed calls that may trigger a tick besides the shared token.
    pub tick_oidc: Option<TickOidcConfig>,
    pub auto_migrate: bool,
    pub log_format: LogFormat,
    /// The project Cloud Logging trace ids belong to (`GOOGLE_CLOUD_PROJECT`).
    pub gcp_project: Option<String>,
    /// The metadata server to ask for the project when `gcp_project` is unset
    /// (`GCE_METADATA_HOST`; Google's on Cloud Run).
    pub gcp_metadata_host: Option<String>,
    /// `/metrics` or EMF lines (see docs/operations.md).
    pub metrics: MetricsConfig,
    /// Whole-request deadline; past it the caller gets a 504 problem.
    pub request_timeout: Duration,
    /// Largest request body any route accepts (routes may set lower limits).
    pub max_body_bytes: usize,
    /// How long in-flight requests may run after SIGTERM before the process exits.
    pub shutdown_grace: Duration,
    /// Upper bound for each dependency check in `/health/ready`.
    pub readiness_timeout: Duration,
    /// Serve `/openapi.json` and the `/docs` page (`DOCS_ENABLED`; on by
    /// default for `folio-local` only, off for the deployed functions).
    pub docs_enabled: bool,
    /// The `quiz` function's generators, cache and limits.
    pub quiz: QuizConfig,
    /// The job queue's worker (`worker-tick`).
    pub worker: WorkerConfig,
    /// Limits and engine settings of the OCR pipeline (`OCR_*`, `PDFIUM_LIB_PATH`).
    pub ocr: OcrConfig,
    /// How old the in-process feature flags may get before an instance looks
    /// at Redis for a change (`FLAGS_REFRESH`, 2 s).
    pub flags_refresh: Duration,
    /// URL input and webhook delivery: the SSRF guard's allow-list, limits, timeouts.
    pub fetch: FetchConfig,
}

impl Config {
    /// Reads the process environment. Call once, in `main`, before anything binds.
    pub fn from_env(function: Function) -> Result<Config, ConfigError> {
        Config::from_vars(function, std::env::vars())
    }

    /// Builds the configuration from explicit variables (tests, the local gateway).
    pub fn from_vars(
        function: Function,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let mut env = Env::new(&vars);

        let port = env.parse_or("PORT", function.default_port());
        let allow_insecure_transport = env.parse_or("ALLOW_INSECURE_TRANSPORT", false);
        let database = database_config(&mut env, allow_insecure_transport);
        let redis = redis_config(&mut env, allow_insecure_transport);
        let rate_limit = RateLimitConfig {
            ocr_per_min: env.parse_or("RATE_LIMIT_OCR_PER_MIN", 10),
            quiz_per_min: env.parse_or("RATE_LIMIT_QUIZ_PER_MIN", 5),
            fail_open: env.parse_or("RATE_LIMIT_FAIL_OPEN", true),
        };
        let jwt = auth::jwt_config(&mut env, function.needs_jwt(), allow_insecure_transport);
        let sessions = auth::session_config(&mut env, jwt.as_ref().map(|j| j.provider));
        let tick_oidc = auth::tick_oidc_config(&mut env, allow_insecure_transport);
        let worker_tick_token = env.secret("WORKER_TICK_TOKEN");
        if function.needs_tick_token() {
            match &worker_tick_token {
                None if tick_oidc.is_some() => {}
                None => env.missing(
                    "WORKER_TICK_TOKEN",
                    "the bearer token callers of /v1/worker/tick send",
                ),
                Some(t) if t.expose_secret().len() < 16 => {
                    env.invalid("WORKER_TICK_TOKEN", "must be at least 16 characters")
                }
                Some(_) => {}
            }
        }
        let log_format = telemetry::log_format(&mut env);
        let gcp_project = telemetry::gcp_project(&env);
        let gcp_metadata_host = telemetry::gcp_metadata_host(&env);
        let metrics = telemetry::metrics_config(&mut env);
        let config = Config {
            function,
            port,
            database,
            redis,
            rate_limit,
            jwt,
            sessions,
            worker_tick_token,
            tick_oidc,
            auto_migrate: env.parse_or("AUTO_MIGRATE", false),
            log_format,
            gcp_project,
            gcp_metadata_host,
            metrics,
            request_timeout: env.seconds_or("REQUEST_TIMEOUT_SECS", 30.0),
            max_body_bytes: env.parse_or("MAX_BODY_BYTES", 1024 * 1024),
            shutdown_grace: env.seconds_or("SHUTDOWN_GRACE_SECS", 8.0),
            readiness_timeout: env.seconds_or("READINESS_TIMEOUT_SECS", 1.5),
            docs_enabled: env.parse_or("DOCS_ENABLED", function == Function::Local),
            quiz: quiz::quiz_config(&mut env, allow_insecure_transport),
            worker: worker_config(&mut env),
            ocr: ocr_config(&mut env),
            flags_refresh: env.seconds_or("FLAGS_REFRESH", 2.0),
            fetch: fetch::fetch_config(&mut env),
        };
        env.finish()?;
        Ok(config)
    }
}

/// True for hosts on this machine: plaintext to them crosses no network.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;
