//! The identity provider's published keys (JWKS), fetched over HTTPS and
//! cached. Each endpoint is cached for its `Cache-Control: max-age` (bounded);
//! an unknown `kid` forces a refetch at most once per refresh interval, however
//! many different `kid`s arrive; a failed fetch keeps the keys already held;
//! only a cold cache with the endpoint down makes verification unavailable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::config::JwksConfig;
use crate::error::Error;

/// Bodies larger than this are not a key set.
const MAX_JWKS_BYTES: usize = 512 * 1024;
/// RSA moduli shorter than 2048 bits are refused.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A verification key and the one algorithm it may be used with.
pub struct VerifyKey {
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The keys of one or more JWKS endpoints.
pub struct Jwks {
    sources: Vec<Source>,
    client: reqwest::Client,
    config: JwksConfig,
    /// One refresh at a time; others wait for it and then look again.
    refreshing: tokio::sync::Mutex<()>,
    /// When an unknown `kid` last forced a refetch.
    last_forced: Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

struct Source {
    url: Url,
    state: RwLock<SourceState>,
}

#[derive(Default)]
struct SourceState {
    keys: HashMap<String, Arc<VerifyKey>>,
    loaded: bool,
    expires_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl Jwks {
    pub fn new(config: &JwksConfig) -> anyhow::Result<Jwks> {
        let client = reqwest::Client::builder()
            .timeout(config.fetch_timeout)
            .connect_timeout(config.fetch_timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Jwks {
            sources: config
                .urls
                .iter()
                .map(|url| Source {
                    url: url.clone(),
                    state: RwLock::new(SourceState::default()),
                })
                .collect(),
            client,
            config: config.clone(),
            refreshing: tokio::sync::Mutex::new(()),
            last_forced: Mutex::new(None),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many HTTP fetches were made (for tests and the benchmark).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key named `kid`. 401 when the provider does not publish it; 503
    /// when some endpoint has never answered (the key may be there).
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyKey>, Error> {
        if self.sources.iter().any(|s| self.due(s, Instant::now())) {
            self.refresh(false).await;
        }
        if let Some(key) = self.find(kid) {
            return Ok(key);
        }
        if self.may_force(Instant::now()) {
            self.refresh(true).await;
        } else {
            // A refresh may be under way for this very kid: wait for it.
            drop(self.refreshing.lock().await);
        }
        if let Some(key) = self.find(kid) {
            return Ok(key);
        }
        if self.sources.iter().any(|s| !read(&s.state).loaded) {
            return Err(Error::Unavailable {
                what: "the identity provider's keys",
                retry_after: Duration::from_secs(5),
            });
        }
        Err(Error::Unauthorized(
            "the token's key id is not one of the identity provider's keys".into(),
        ))
    }

    fn find(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        self.sources
            .iter()
            .find_map(|s| read(&s.state).keys.get(kid).cloned())
    }

    /// Expired (or never loaded), and not tried within the refresh interval.
    fn due(&self, source: &Source, now: Instant) -> bool {
        let state = read(&source.state);
        let stale = state.expires_at.is_none_or(|at| at <= now);
        let tried_recently = state
            .last_attempt
            .is_some_and(|at| now.duration_since(at) < self.config.refresh_interval);
        stale && !tried_recently
    }

    fn may_force(&self, now: Instant) -> bool {
        let mut last = self.last_forced.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < self.config.refresh_interval) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Fetches the due sources (every source when `forced`), skipping any
    /// another task fetched while this one waited for the lock.
    async fn refresh(&self, forced: bool) {
        let asked = Instant::now();
        let _guard = self.refreshing.lock().await;
        let now = Instant::now();
        let todo: Vec<&Source> = self
            .sources
            .iter()
            .filter(|s| {
                let fresh_attempt = read(&s.state).last_attempt.is_some_and(|at| at >= asked);
                !fresh_attempt && (forced || self.due(s, now))
            })
            .collect();
        futures::future::join_all(todo.into_iter().map(|s| self.fetch(s))).await;
    }

    async fn fetch(&self, source: &Source) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.download(&source.url).await;
        let now = Instant::now();
        let mut state = source.state.write().unwrap_or_else(|e| e.into_inner());
        state.last_attempt = Some(now);
        match result {
            Ok((keys, max_age)) => {
                let ttl = max_age
                    .unwrap_or(self.config.cache_default)
                    .clamp(self.config.cache_min, self.config.cache_max);
                tracing::info!(
                    jwks.host = source.url.host_str().unwrap_or(""),
                    jwks.keys = keys.len(),
                    ttl_s = ttl.as_secs(),
                    "identity provider keys fetched"
                );
                state.keys = keys;
                state.loaded = true;
                state.expires_at = Some(now + ttl);
            }
            Err(why) => tracing::warn!(
                jwks.host = source.url.host_str().unwrap_or(""),
                error = %why,
                keys_kept = state.keys.len(),
                "cannot fetch the identity provider's keys"
            ),
        }
    }

    async fn download(
        &self,
        url: &Url,
    ) -> Result<(HashMap<String, Arc<VerifyKey>>, Option<Duration>), String> {
        let response = self
            .client
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let max_age = response
            .headers()
            .get(http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        if response
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err("the key set is too large".into());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("body failed: {}", e.without_url()))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err("the key set is too large".into());
        }
        Ok((parse_key_set(&body)?, max_age))
    }
}

fn read(lock: &RwLock<SourceState>) -> std::sync::RwLockReadGuard<'_, SourceState> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

/// `max-age` from a `Cache-Control` value (`no-store`/`no-cache` mean 0).
pub fn max_age(value: &str) -> Option<Duration> {
    let mut found = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            found = secs
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    found
}

#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// The signing keys of a JWKS document, by `kid`. Keys without a `kid`, for
/// encryption, symmetric (`oct`) or of an algorithm folio does not accept are
/// skipped; a document with no `keys` array is an error.
pub fn parse_key_set(body: &[u8]) -> Result<HashMap<String, Arc<VerifyKey>>, String> {
    let set: RawKeySet =
        serde_json::from_slice(body).map_err(|_| "the answer is not a JWKS document".to_owned())?;
    let mut keys = HashMap::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<RawJwk>(raw) else {
            continue;
        };
        if let Some((kid, key)) = parse_key(jwk) {
            keys.entry(kid).or_insert_with(|| Arc::new(key));
        }
    }
    Ok(keys)
}

fn parse_key(jwk: RawJwk) -> Option<(String, VerifyKey)> {
    let kid = jwk.kid.filter(|k| !k.is_empty())?;
    if jwk.usage.as_deref().is_some_and(|u| u != "sig") {
        return None;
    }
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref(), jwk.alg.as_deref()) {
        ("RSA", _, None | Some("RS256")) => Algorithm::RS256,
        ("EC", Some("P-256"), None | Some("ES256")) => Algorithm::ES256,
        ("OKP", Some("Ed25519"), None | Some("EdDSA" | "Ed25519")) => Algorithm::EdDSA,
        _ => return None,
    };
    let key = match alg {
        Algorithm::RS256 => {
            let n = jwk.n?;
            let modulus_bytes = n.trim_end_matches('=').len() * 3 / 4;
            if modulus_bytes < MIN_RSA_MODULUS_BYTES - 1 {
                return None;
            }
            DecodingKey::from_rsa_components(&n, &jwk.e?).ok()?
        }
        Algorithm::ES256 => DecodingKey::from_ec_components(&jwk.x?, &jwk.y?).ok()?,
        _ => DecodingKey::from_ed_components(&jwk.x?).ok()?,
    };
    Some((kid, VerifyKey { alg, key }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_reads_the_directive_and_no_store_means_zero() {
        assert_eq!(
            max_age("public, max-age=3600, must-revalidate"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn symmetric_encryption_and_kidless_keys_are_skipped() {
        let body = br#"{"keys":[
            {"kty":"oct","kid":"h","k":"c2VjcmV0"},
            {"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"OKP","crv":"Ed25519","kid":"ok","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"},
            "not an object"
        ]}"#;
        let keys = parse_key_set(body).expect("a key set");
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["ok"]);
        assert_eq!(keys["ok"].alg, Algorithm::EdDSA);
        assert!(parse_key_set(b"{}").is_err());
        assert!(parse_key_set(b"<html>").is_err());
    }
}
