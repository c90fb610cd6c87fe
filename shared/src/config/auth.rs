//! Who may call: the JWT settings (a shared HMAC secret, one PEM public key,
//! or the identity provider's JWKS endpoints), the provider preset, the user
//! and admin claims, sessions, and the signed (OIDC) scheduler calls that may
//! trigger `POST /v1/worker/tick`. See docs/auth.md.

use std::time::Duration;

use jsonwebtoken::Algorithm;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::Env;
use super::is_loopback_host;

/// How caller tokens are verified.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The algorithm of `key` (`JWT_ALGORITHM`; HS256 when unset).
    pub algorithm: Algorithm,
    /// A key of folio's own (`JWT_SECRET_KEY` or `JWT_PUBLIC_KEY`); may sit
    /// beside `jwks` (Supabase: the project secret and the asymmetric keys).
    pub key: Option<JwtKey>,
    /// The provider's published keys (`JWT_JWKS_URL`).
    pub jwks: Option<JwksConfig>,
    /// Accepted `iss` values (`JWT_ISSUER`, comma separated); empty = any.
    pub issuers: Vec<String>,
    /// Accepted `aud` values (`JWT_AUDIENCE`, comma separated); empty = any.
    pub audiences: Vec<String>,
    /// Accepted `azp` values (`JWT_AUTHORIZED_PARTIES`); empty = not checked.
    pub authorized_parties: Vec<String>,
    /// Clock skew tolerated on `exp`/`nbf`.
    pub leeway: Duration,
    /// The provider preset (`JWT_PROVIDER`).
    pub provider: Provider,
    /// The claim naming the user (`JWT_USER_CLAIM`, default `sub`).
    pub user_claim: String,
    /// Where the `admin` role is read (`JWT_ADMIN_CLAIM`, a dotted path).
    pub admin_claim: String,
    /// The value that means admin (`JWT_ADMIN_VALUE`, default `admin`).
    pub admin_value: String,
    /// Cognito only: which `token_use` values are accepted (`JWT_TOKEN_USE`).
    pub token_use: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum JwtKey {
    Secret(SecretString),
    PublicPem(String),
}

/// Where and how the provider's keys are fetched and cached.
#[derive(Debug, Clone)]
pub struct JwksConfig {
    pub urls: Vec<Url>,
    /// Bounds on the `Cache-Control: max-age` the provider sends.
    pub cache_min: Duration,
    pub cache_max: Duration,
    /// Kept this long when the provider sends no max-age.
    pub cache_default: Duration,
    /// The shortest gap between two fetches caused by an unknown `kid` or a
    /// failed fetch (`JWT_JWKS_REFRESH_INTERVAL`).
    pub refresh_interval: Duration,
    pub fetch_timeout: Duration,
}

/// Identity-provider presets: defaults for the claims each provider uses.
/// Every default can still be overridden by its own variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Custom,
    Supabase,
    Auth0,
    Cognito,
    Firebase,
    Clerk,
}

impl Provider {
    fn parse(raw: &str) -> Option<Provider> {
        Some(match raw.to_ascii_lowercase().as_str() {
            "custom" => Provider::Custom,
            "supabase" => Provider::Supabase,
            "auth0" => Provider::Auth0,
            "cognito" => Provider::Cognito,
            "firebase" | "google" => Provider::Firebase,
            "clerk" => Provider::Clerk,
            _ => return None,
        })
    }

    /// (admin claim, admin value) when neither variable is set.
    fn admin_default(self) -> (&'static str, &'static str) {
        match self {
            Provider::Custom | Provider::Auth0 => ("roles", "admin"),
            Provider::Supabase => ("app_metadata.role", "admin"),
            Provider::Cognito => ("cognito:groups", "admin"),
            Provider::Firebase => ("admin", "true"),
            Provider::Clerk => ("org_role", "org:admin"),
        }
    }

    /// The claim that identifies a session (a login), when the provider has one.
    pub fn session_claim(self) -> &'static str {
        match self {
            Provider::Supabase => "session_id",
            Provider::Cognito => "origin_jti",
            Provider::Firebase => "auth_time",
            Provider::Custom | Provider::Auth0 | Provider::Clerk => "sid",
        }
    }
}

/// Session tracking (see docs/auth.md).
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// `SESSIONS_ENABLED` (default true when a JWT is configured).
    pub enabled: bool,
    /// The claim naming the session (`SESSION_ID_CLAIM`; default per provider,
    /// then `jti`).
    pub id_claim: String,
    /// Refuse tokens that carry no session claim (`SESSIONS_REQUIRED`).
    pub required: bool,
    pub idle_timeout: Duration,
    pub max_age: Duration,
    /// Last-seen is written to Postgres at most this often per session.
    pub persist_every: Duration,
    /// With Redis down, skip the idle check (true) or refuse (false).
    pub idle_fail_open: bool,
}

/// Google-signed (OIDC) calls to `POST /v1/worker/tick` (Cloud Scheduler's
/// `oidcToken`).
#[derive(Debug, Clone)]
pub struct TickOidcConfig {
    /// The `aud` Cloud Scheduler puts in the token (the service URL).
    pub audience: String,
    /// Service-account emails allowed to trigger a tick.
    pub emails: Vec<String>,
    pub issuers: Vec<String>,
    pub jwks: JwksConfig,
}

fn list(env: &Env, name: &str) -> Vec<String> {
    env.string(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn jwks_config(
    env: &mut Env,
    name: &str,
    default: Option<&str>,
    allow_insecure: bool,
) -> Option<JwksConfig> {
    let raw = match (env.string(name), default) {
        (Some(raw), _) => raw,
        (None, Some(default)) => default.to_owned(),
        (None, None) => return None,
    };
    let mut urls = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match Url::parse(part) {
            Ok(u) if u.scheme() == "https" => urls.push(u),
            Ok(u) if u.scheme() == "http" => {
                if u.host_str().is_none_or(is_loopback_host) || allow_insecure {
                    urls.push(u);
                } else {
                    env.invalid(name, "plain http:// to a non-loopback host; use https:// or set ALLOW_INSECURE_TRANSPORT=true");
                }
            }
            _ => env.invalid(name, "must be https:// URLs, comma separated"),
        }
    }
    let config = JwksConfig {
        urls,
        cache_min: env.seconds_or("JWT_JWKS_CACHE_MIN", 60.0),
        cache_max: env.seconds_or("JWT_JWKS_CACHE_MAX", 24.0 * 3600.0),
        cache_default: env.seconds_or("JWT_JWKS_CACHE_DEFAULT", 600.0),
        refresh_interval: env.seconds_or("JWT_JWKS_REFRESH_INTERVAL", 30.0),
        fetch_timeout: env.seconds_or("JWT_JWKS_FETCH_TIMEOUT", 3.0),
    };
    if config.cache_max < config.cache_min {
        env.invalid(
            "JWT_JWKS_CACHE_MAX",
            "must not be shorter than JWT_JWKS_CACHE_MIN",
        );
    }
    (!config.urls.is_empty()).then_some(config)
}

pub(super) fn jwt_config(env: &mut Env, required: bool, allow_insecure: bool) -> Option<JwtConfig> {
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
    let jwks = jwks_config(env, "JWT_JWKS_URL", None, allow_insecure);
    let provider = match env.string("JWT_PROVIDER") {
        None => Provider::Custom,
        Some(raw) => Provider::parse(&raw).unwrap_or_else(|| {
            env.invalid(
                "JWT_PROVIDER",
                "must be one of custom, supabase, auth0, cognito, firebase, clerk",
            );
            Provider::Custom
        }),
    };
    let mut audiences = list(env, "JWT_AUDIENCE");
    if audiences.is_empty() && provider == Provider::Supabase {
        audiences.push("authenticated".to_owned());
    }
    if audiences.is_empty()
        && matches!(
            provider,
            Provider::Cognito | Provider::Firebase | Provider::Auth0
        )
    {
        env.missing("JWT_AUDIENCE", "this provider's tokens must be checked against your app's client id / project id / API identifier");
    }
    let (admin_claim, admin_value) = provider.admin_default();
    let token_use = match list(env, "JWT_TOKEN_USE") {
        l if l.is_empty() => vec!["access".to_owned(), "id".to_owned()],
        l => l,
    };
    let issuers = list(env, "JWT_ISSUER");
    let authorized_parties = list(env, "JWT_AUTHORIZED_PARTIES");
    let user_claim = env
        .string("JWT_USER_CLAIM")
        .unwrap_or_else(|| "sub".to_owned());
    let admin_claim = env
        .string("JWT_ADMIN_CLAIM")
        .unwrap_or_else(|| admin_claim.to_owned());
    let admin_value = env
        .string("JWT_ADMIN_VALUE")
        .unwrap_or_else(|| admin_value.to_owned());
    let leeway = env.seconds_or("JWT_LEEWAY_SECS", 30.0);
    if leeway > Duration::from_secs(300) {
        env.invalid("JWT_LEEWAY_SECS", "must be at most 300 seconds");
    }
    if key.is_none() && jwks.is_none() {
        if required && symmetric {
            env.missing(
                "JWT_SECRET_KEY",
                "the HMAC key that signs caller tokens (or set JWT_JWKS_URL)",
            );
        } else if required {
            env.missing(
                "JWT_PUBLIC_KEY",
                "the PEM public key for the configured JWT_ALGORITHM (or set JWT_JWKS_URL)",
            );
        }
        return None;
    }
    Some(JwtConfig {
        algorithm,
        key,
        jwks,
        issuers,
        audiences,
        authorized_parties,
        leeway,
        provider,
        user_claim,
        admin_claim,
        admin_value,
        token_use,
    })
}

pub(super) fn session_config(env: &mut Env, provider: Option<Provider>) -> SessionConfig {
    let config = SessionConfig {
        enabled: env.parse_or("SESSIONS_ENABLED", true),
        id_claim: env.string("SESSION_ID_CLAIM").unwrap_or_else(|| {
            provider
                .unwrap_or(Provider::Custom)
                .session_claim()
                .to_owned()
        }),
        required: env.parse_or("SESSIONS_REQUIRED", false),
        idle_timeout: env.seconds_or("SESSION_IDLE_TIMEOUT", 30.0 * 60.0),
        max_age: env.seconds_or("SESSION_MAX_AGE", 7.0 * 24.0 * 3600.0),
        persist_every: env.seconds_or("SESSION_PERSIST_EVERY", 5.0 * 60.0),
        idle_fail_open: env.parse_or("SESSION_IDLE_FAIL_OPEN", true),
    };
    if config.idle_timeout.is_zero() || config.max_age.is_zero() {
        env.invalid(
            "SESSION_IDLE_TIMEOUT",
            "session timeouts must be longer than zero",
        );
    }
    if config.persist_every >= config.idle_timeout {
        env.invalid(
            "SESSION_PERSIST_EVERY",
            "must be shorter than SESSION_IDLE_TIMEOUT",
        );
    }
    config
}

pub(super) fn tick_oidc_config(env: &mut Env, allow_insecure: bool) -> Option<TickOidcConfig> {
    let audience = env.string("WORKER_TICK_OIDC_AUDIENCE")?;
    let emails = list(env, "WORKER_TICK_OIDC_EMAILS");
    if emails.is_empty() {
        env.missing(
            "WORKER_TICK_OIDC_EMAILS",
            "the service-account emails allowed to trigger a tick",
        );
    }
    let jwks = jwks_config(
        env,
        "WORKER_TICK_OIDC_JWKS_URL",
        Some("https://www.googleapis.com/oauth2/v3/certs"),
        allow_insecure,
    )?;
    let issuers = match list(env, "WORKER_TICK_OIDC_ISSUER") {
        l if l.is_empty() => vec![
            "https://accounts.google.com".to_owned(),
            "accounts.google.com".to_owned(),
        ],
        l => l,
    };
    Some(TickOidcConfig {
        audience,
        emails,
        issuers,
        jwks,
    })
}
