//! Typed configuration, read once from the environment and validated before a
//! port is bound. Every problem is collected, so one start-up error names every
//! bad or missing variable. Secrets are `SecretString` and never reach `Debug`.

mod env;

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use env::Env;
pub use env::{ConfigError, parse_duration};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub function: Function,
    pub port: u16,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub jwt: Option<JwtConfig>,
    pub worker_tick_token: Option<SecretString>,
    pub auto_migrate: bool,
    pub log_format: LogFormat,
    /// Whole-request deadline; past it the caller gets a 504 problem.
    pub request_timeout: Duration,
    /// Largest request body any route accepts (routes may set lower limits).
    pub max_body_bytes: usize,
    /// How long in-flight requests may run after SIGTERM before the process exits.
    pub shutdown_grace: Duration,
    /// Upper bound for each dependency check in `/health/ready`.
    pub readiness_timeout: Duration,
    /// Limits and engine settings of the OCR pipeline (`OCR_*`, `PDFIUM_LIB_PATH`).
    pub ocr: OcrConfig,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The request-path URL (may be Neon's `-pooler` endpoint).
    pub url: SecretString,
    /// Where migrations go (Neon's direct endpoint); `url` when unset.
    pub direct_url: Option<SecretString>,
    pub max_connections: u32,
    /// 0 disables prepared-statement caching (PgBouncer in transaction mode).
    pub statement_cache_capacity: usize,
    pub connect_timeout: Duration,
    pub acquire_timeout: Duration,
    pub allow_insecure_transport: bool,
}

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub backend: RedisBackend,
    /// Prepended to every key and channel; lets several deployments share a server.
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// Extra PEM CA bundle trusted for `rediss://` beside the public roots.
    pub tls_ca_file: Option<String>,
}

#[derive(Debug, Clone)]
pub enum RedisBackend {
    /// `redis://` or `rediss://` through the `redis` crate.
    Tcp { url: SecretString },
    /// Upstash's REST protocol.
    Rest { url: String, token: SecretString },
    /// No Redis configured: every feature runs uncached and readiness says "degraded".
    Disabled,
}

impl RedisBackend {
    pub fn name(&self) -> &'static str {
        match self {
            RedisBackend::Tcp { .. } => "tcp",
            RedisBackend::Rest { .. } => "rest",
            RedisBackend::Disabled => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub algorithm: jsonwebtoken::Algorithm,
    pub key: JwtKey,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp`/`nbf`.
    pub leeway: Duration,
}

#[derive(Debug, Clone)]
pub enum JwtKey {
    Secret(SecretString),
    PublicPem(String),
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
        let jwt = jwt_config(&mut env, function.needs_jwt());
        let worker_tick_token = env.secret("WORKER_TICK_TOKEN");
        if function.needs_tick_token() {
            match &worker_tick_token {
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
        let log_format = match env.string("LOG_FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => {
                env.invalid("LOG_FORMAT", "must be `json` or `pretty`");
                LogFormat::Json
            }
        };
        let config = Config {
            function,
            port,
            database,
            redis,
            jwt,
            worker_tick_token,
            auto_migrate: env.parse_or("AUTO_MIGRATE", false),
            log_format,
            request_timeout: env.seconds_or("REQUEST_TIMEOUT_SECS", 30.0),
            max_body_bytes: env.parse_or("MAX_BODY_BYTES", 1024 * 1024),
            shutdown_grace: env.seconds_or("SHUTDOWN_GRACE_SECS", 8.0),
            readiness_timeout: env.seconds_or("READINESS_TIMEOUT_SECS", 1.5),
            ocr: ocr_config(&mut env),
        };
        env.finish()?;
        Ok(config)
    }
}

fn database_config(env: &mut Env, allow_insecure_transport: bool) -> DatabaseConfig {
    let url = env
        .secret("DATABASE_URL")
        .or_else(|| env.secret("NEON_DATABASE_URL"));
    let url = match url {
        Some(url) => {
            check_database_url(env, "DATABASE_URL", &url, allow_insecure_transport);
            url
        }
        None => {
            env.missing("DATABASE_URL", "postgres:// URL (or set NEON_DATABASE_URL)");
            SecretString::from("")
        }
    };
    let direct_url = env.secret("DATABASE_DIRECT_URL");
    if let Some(direct) = &direct_url {
        check_database_url(env, "DATABASE_DIRECT_URL", direct, allow_insecure_transport);
    }
    DatabaseConfig {
        url,
        direct_url,
        max_connections: env.parse_or("DATABASE_MAX_CONNECTIONS", 5),
        statement_cache_capacity: env.parse_or("DATABASE_STATEMENT_CACHE_CAPACITY", 100),
        connect_timeout: env.seconds_or("DATABASE_CONNECT_TIMEOUT_SECS", 5.0),
        acquire_timeout: env.seconds_or("DATABASE_ACQUIRE_TIMEOUT_SECS", 5.0),
        allow_insecure_transport,
    }
}

/// Checks scheme and transport security without ever echoing the URL (it may
/// hold a password).
fn check_database_url(env: &mut Env, name: &str, url: &SecretString, allow_insecure: bool) {
    let parsed = match Url::parse(url.expose_secret()) {
        Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => u,
        _ => return env.invalid(name, "must be a postgres:// or postgresql:// URL"),
    };
    let sslmode = parsed
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned());
    let local = parsed.host_str().is_none_or(is_loopback_host);
    let plaintext = matches!(sslmode.as_deref(), Some("disable" | "allow" | "prefer"));
    if !local && plaintext && !allow_insecure {
        env.invalid(
            name,
            "asks for sslmode without certificate checks to a non-loopback host; use sslmode=verify-full (the default) or set ALLOW_INSECURE_TRANSPORT=true",
        );
    }
}

fn redis_config(env: &mut Env, allow_insecure_transport: bool) -> RedisConfig {
    let tcp = env.secret("REDIS_URL");
    let rest_url = env.string("UPSTASH_REDIS_REST_URL");
    let rest_token = env.secret("UPSTASH_REDIS_REST_TOKEN");
    let backend = match (tcp, rest_url, rest_token) {
        (Some(_), Some(_), _) => {
            env.invalid(
                "REDIS_URL",
                "set either REDIS_URL or UPSTASH_REDIS_REST_URL, not both",
            );
            RedisBackend::Disabled
        }
        (Some(url), None, _) => {
            match Url::parse(url.expose_secret()) {
                Ok(u) if u.scheme() == "rediss" => {}
                Ok(u) if u.scheme() == "redis" => {
                    let local = u.host_str().is_none_or(is_loopback_host);
                    if !local && !allow_insecure_transport {
                        env.invalid("REDIS_URL", "plaintext redis:// to a non-loopback host; use rediss:// or set ALLOW_INSECURE_TRANSPORT=true");
                    }
                }
                _ => env.invalid("REDIS_URL", "must be a redis:// or rediss:// URL"),
            }
            RedisBackend::Tcp { url }
        }
        (None, Some(url), Some(token)) => {
            match Url::parse(&url) {
                Ok(u) if u.scheme() == "https" => {}
                Ok(u) if u.scheme() == "http" => {
                    let local = u.host_str().is_none_or(is_loopback_host);
                    if !local && !allow_insecure_transport {
                        env.invalid("UPSTASH_REDIS_REST_URL", "plain http:// to a non-loopback host; use https:// or set ALLOW_INSECURE_TRANSPORT=true");
                    }
                }
                _ => env.invalid("UPSTASH_REDIS_REST_URL", "must be an https:// URL"),
            }
            RedisBackend::Rest { url, token }
        }
        (None, Some(_), None) => {
            env.missing(
                "UPSTASH_REDIS_REST_TOKEN",
                "needed with UPSTASH_REDIS_REST_URL",
            );
            RedisBackend::Disabled
        }
        (None, None, _) => RedisBackend::Disabled,
    };
    RedisConfig {
        backend,
        key_prefix: env
            .string("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| "folio:".to_owned()),
        connect_timeout: env.seconds_or("REDIS_CONNECT_TIMEOUT_SECS", 2.0),
        response_timeout: env.seconds_or("REDIS_RESPONSE_TIMEOUT_SECS", 1.0),
        tls_ca_file: env.string("REDIS_TLS_CA_FILE"),
    }
}

fn jwt_config(env: &mut Env, required: bool) -> Option<JwtConfig> {
    use jsonwebtoken::Algorithm;
    let algorithm = match env.string("JWT_ALGORITHM").as_deref() {
        None | Some("HS256") => Algorithm::HS256,
        Some("HS384") => Algorithm::HS384,
        Some("HS512") => Algorithm::HS512,
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some("EdDSA") => Algorithm::EdDSA,
        Some(_) => {
            env.invalid(
                "JWT_ALGORITHM",
                "must be one of HS256, HS384, HS512, RS256, ES256, EdDSA",
            );
            Algorithm::HS256
        }
    };
    let symmetric = matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    );
    let secret = env.secret("JWT_SECRET_KEY");
    let public = env.string("JWT_PUBLIC_KEY");
    let key = if symmetric {
        match secret {
            Some(s) if s.expose_secret().len() >= 32 => Some(JwtKey::Secret(s)),
            Some(_) => {
                env.invalid("JWT_SECRET_KEY", "must be at least 32 bytes for HMAC");
                None
            }
            None => None,
        }
    } else {
        public.map(JwtKey::PublicPem)
    };
    let issuer = env.string("JWT_ISSUER");
    let audience = env.string("JWT_AUDIENCE");
    let leeway = env.seconds_or("JWT_LEEWAY_SECS", 30.0);
    match key {
        Some(key) => Some(JwtConfig {
            algorithm,
            key,
            issuer,
            audience,
            leeway,
        }),
        None if required && symmetric => {
            env.missing("JWT_SECRET_KEY", "the HMAC key that signs caller tokens");
            None
        }
        None if required => {
            env.missing(
                "JWT_PUBLIC_KEY",
                "the PEM public key for the configured JWT_ALGORITHM",
            );
            None
        }
        None => None,
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

/// The OCR pipeline's limits and engine settings. Read by every function
/// (worker-tick runs OCR jobs too); the defaults need no variable at all.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// Largest accepted document (`OCR_MAX_BYTES`, 20 MiB), enforced while streaming.
    pub max_bytes: usize,
    /// Most pages in one document (`OCR_MAX_PAGES`, 200).
    pub max_pages: u32,
    /// Most pixels in one page or image (`OCR_MAX_PIXELS`, 50 million).
    pub max_pixels: u64,
    /// `mode=auto` answers synchronously up to this many pages (`OCR_SYNC_MAX_PAGES`, 5).
    pub sync_max_pages: u32,
    /// Render resolution when the caller gives none (`OCR_DEFAULT_DPI`, 300; 72–600).
    pub default_dpi: u16,
    /// Languages when the caller gives none (`OCR_DEFAULT_LANG`, `eng`).
    pub default_lang: String,
    /// Tesseract engines working at once (`OCR_WORKERS`; 0 = one per core).
    pub workers: usize,
    /// Where the `*.traineddata` files are (`OCR_TESSDATA_DIR`, else
    /// `TESSDATA_PREFIX`, else the Debian/Ubuntu and `/usr/local` locations).
    pub tessdata_dir: Option<String>,
    /// `libpdfium.so`, or the folder holding it (`PDFIUM_LIB_PATH`; else next to
    /// the executable, then the system library path).
    pub pdfium_lib_path: Option<String>,
    /// How long Redis keeps a recognised result (`OCR_CACHE_TTL_SECS`, 1 day).
    pub cache_ttl: Duration,
}

fn ocr_config(env: &mut Env) -> OcrConfig {
    let default_dpi = env.parse_or("OCR_DEFAULT_DPI", 300_u16);
    if !(72..=600).contains(&default_dpi) {
        env.invalid("OCR_DEFAULT_DPI", "must be between 72 and 600");
    }
    let config = OcrConfig {
        max_bytes: env.parse_or("OCR_MAX_BYTES", 20 * 1024 * 1024),
        max_pages: env.parse_or("OCR_MAX_PAGES", 200),
        max_pixels: env.parse_or("OCR_MAX_PIXELS", 50_000_000),
        sync_max_pages: env.parse_or("OCR_SYNC_MAX_PAGES", 5),
        default_dpi,
        default_lang: env
            .string("OCR_DEFAULT_LANG")
            .unwrap_or_else(|| "eng".to_owned()),
        workers: env.parse_or("OCR_WORKERS", 0),
        tessdata_dir: env
            .string("OCR_TESSDATA_DIR")
            .or_else(|| env.string("TESSDATA_PREFIX")),
        pdfium_lib_path: env.string("PDFIUM_LIB_PATH"),
        cache_ttl: env.seconds_or("OCR_CACHE_TTL_SECS", 86_400.0),
    };
    for (name, zero) in [
        ("OCR_MAX_BYTES", config.max_bytes == 0),
        ("OCR_MAX_PAGES", config.max_pages == 0),
        ("OCR_MAX_PIXELS", config.max_pixels == 0),
    ] {
        if zero {
            env.invalid(name, "must be greater than 0");
        }
    }
    config
}

#[cfg(test)]
mod tests;
