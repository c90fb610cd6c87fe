//! Redis and the rate limits it carries: which backend (TCP or Upstash REST),
//! its timeouts, TLS trust and key prefix, and the per-family limits.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::Env;
use super::is_loopback_host;

#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub backend: RedisBackend,
    /// Prepended to every key and channel; lets several deployments share a server.
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// Extra PEM CA bundle trusted for `rediss://` beside the public roots.
    pub tls_ca_file: Option<String>,
    /// Largest serialized value cache-aside writes; bigger ones are served, not cached.
    pub cache_max_value_bytes: usize,
    /// When a Redis that does not answer is skipped (see `kv::breaker`).
    pub breaker: crate::kv::BreakerConfig,
}

/// Per-minute limits per caller and route family (0 switches a family's limit off).
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub ocr_per_min: u32,
    pub quiz_per_min: u32,
    /// With Redis down: `true` lets requests through (logged), `false` answers 503.
    pub fail_open: bool,
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

pub(super) fn redis_config(env: &mut Env, allow_insecure_transport: bool) -> RedisConfig {
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
        cache_max_value_bytes: env.parse_or("REDIS_CACHE_MAX_VALUE_BYTES", 1024 * 1024),
        breaker: breaker_config(env),
    }
}

fn breaker_config(env: &mut Env) -> crate::kv::BreakerConfig {
    let defaults = crate::kv::BreakerConfig::default();
    let failures = env.parse_or("REDIS_BREAKER_FAILURES", defaults.failures);
    let cooldown = env.seconds_or(
        "REDIS_BREAKER_COOLDOWN_SECS",
        defaults.cooldown.as_secs_f64(),
    );
    if cooldown.is_zero() || cooldown > Duration::from_secs(60) {
        env.invalid(
            "REDIS_BREAKER_COOLDOWN_SECS",
            "must be more than 0 and at most 60 seconds",
        );
    }
    crate::kv::BreakerConfig { failures, cooldown }
}
