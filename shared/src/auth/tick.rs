//! Who may trigger `POST /v1/worker/tick`: a caller with the shared
//! `WORKER_TICK_TOKEN`, or a scheduler that signs its calls with a Google
//! OIDC ID token (Cloud Scheduler's `oidcToken`) for the configured audience
//! from an allowed service account. The ID token is checked through the same
//! JWKS cache as user tokens.

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::jwks::Jwks;
use super::{bearer, reason};
use crate::config::{Config, TickOidcConfig};
use crate::error::Error;

pub struct TickAuth {
    token: Option<SecretString>,
    oidc: Option<(TickOidcConfig, Jwks)>,
}

impl TickAuth {
    pub fn new(config: &Config) -> anyhow::Result<TickAuth> {
        let oidc = match &config.tick_oidc {
            Some(c) => Some((c.clone(), Jwks::new(&c.jwks)?)),
            None => None,
        };
        Ok(TickAuth {
            token: config.worker_tick_token.clone(),
            oidc,
        })
    }

    /// The Google keys cache (tests count its fetches).
    pub fn jwks(&self) -> Option<&Jwks> {
        self.oidc.as_ref().map(|(_, jwks)| jwks)
    }

    /// Ok when the bearer is the shared token or an acceptable Google ID token.
    pub async fn authorize(&self, headers: &HeaderMap) -> Result<(), Error> {
        let given = bearer(headers)?;
        if let Some(expected) = &self.token
            && tokens_match(given.as_bytes(), expected.expose_secret().as_bytes())
        {
            return Ok(());
        }
        match &self.oidc {
            Some((config, jwks)) if decode_header(given).is_ok() => {
                verify_google(config, jwks, given).await
            }
            None if self.token.is_none() => Err(Error::Unauthorized(
                "the tick token is not configured".into(),
            )),
            _ => Err(Error::Unauthorized("invalid tick token".into())),
        }
    }
}

async fn verify_google(config: &TickOidcConfig, jwks: &Jwks, token: &str) -> Result<(), Error> {
    let header =
        decode_header(token).map_err(|_| Error::Unauthorized("the token is malformed".into()))?;
    let kid = header
        .kid
        .ok_or_else(|| Error::Unauthorized("the token names no key id (kid)".into()))?;
    let key = jwks.key(&kid).await?;
    if header.alg != Algorithm::RS256 || key.alg != Algorithm::RS256 {
        return Err(Error::Unauthorized(
            "the token is signed with another algorithm".into(),
        ));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 30;
    validation.validate_nbf = true;
    validation.set_issuer(&config.issuers);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    let claims = decode::<Map<String, Value>>(token, &key.key, &validation)
        .map_err(|e| Error::Unauthorized(reason(&e).to_owned()))?
        .claims;
    let email = claims.get("email").and_then(Value::as_str).unwrap_or("");
    let verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);
    if verified && config.emails.iter().any(|e| e.eq_ignore_ascii_case(email)) {
        Ok(())
    } else {
        Err(Error::Unauthorized(
            "the token's service account may not trigger a tick".into(),
        ))
    }
}

/// Compares in constant time (both sides are hashed first, so neither the
/// content nor the length of the token leaks through timing).
pub fn tokens_match(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match(
            b"folio-test-tick-token",
            b"folio-test-tick-token"
        ));
        assert!(!tokens_match(
            b"folio-test-tick-tokeN",
            b"folio-test-tick-token"
        ));
        assert!(!tokens_match(b"", b"folio-test-tick-token"));
        assert!(!tokens_match(
            b"folio-test-tick-token-and-more",
            b"folio-test-tick-token"
        ));
    }
}
