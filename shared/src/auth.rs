//! Bearer-token authentication. The algorithm is pinned by configuration,
//! never taken from the token (so `alg: none` and algorithm swaps fail), `exp`
//! and `sub` are required, and `iss`/`aud` are checked when configured.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use jsonwebtoken::{DecodingKey, Validation, decode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::{JwtConfig, JwtKey};
use crate::error::Error;

/// The claims folio reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Verifies tokens with the configured key. Built once per cold start.
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
}

impl Authenticator {
    pub fn new(config: &JwtConfig) -> anyhow::Result<Self> {
        let key = match &config.key {
            JwtKey::Secret(secret) => DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            JwtKey::PublicPem(pem) => match config.algorithm {
                jsonwebtoken::Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
                jsonwebtoken::Algorithm::ES256 => DecodingKey::from_ec_pem(pem.as_bytes()),
                _ => DecodingKey::from_ed_pem(pem.as_bytes()),
            }
            .map_err(|_| anyhow::anyhow!("JWT_PUBLIC_KEY is not a valid PEM public key"))?,
        };
        let mut validation = Validation::new(config.algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = config.leeway.as_secs();
        validation.validate_nbf = true;
        match &config.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &config.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        Ok(Authenticator { key, validation })
    }

    /// The claims of a valid token, or 401 with a reason safe to show.
    pub fn verify(&self, token: &str) -> Result<Claims, Error> {
        use jsonwebtoken::errors::ErrorKind;
        let data = decode::<Claims>(token, &self.key, &self.validation).map_err(|e| {
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired",
                ErrorKind::InvalidIssuer => "the token has the wrong issuer",
                ErrorKind::InvalidAudience => "the token has the wrong audience",
                ErrorKind::ImmatureSignature => "the token is not valid yet",
                ErrorKind::InvalidAlgorithm => "the token is signed with another algorithm",
                ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                ErrorKind::InvalidSignature => "the token's signature does not verify",
                _ => "the token is malformed",
            };
            Error::Unauthorized(why.to_owned())
        })?;
        if data.claims.sub.trim().is_empty() || data.claims.sub.len() > 255 {
            return Err(Error::Unauthorized(
                "the token's subject is not usable".into(),
            ));
        }
        Ok(data.claims)
    }
}

/// The authenticated caller: the token's `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub user_id: String,
}

/// Anything that can hand out the authenticator; `None` when the function
/// runs without JWT configuration (then every protected route is 401).
pub struct AuthState(pub Option<Arc<Authenticator>>);

impl<S> FromRequestParts<S> for AuthUser
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AuthState(auth) = AuthState::from_ref(state);
        let auth =
            auth.ok_or_else(|| Error::Unauthorized("authentication is not configured".into()))?;
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| Error::Unauthorized("missing Authorization: Bearer token".into()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::Unauthorized("the Authorization header is not a Bearer token".into())
            })?;
        let claims = auth.verify(token)?;
        Ok(AuthUser {
            user_id: claims.sub,
        })
    }
}

/// Signs an HS256 token: for tests and for `folio-local token` on a developer's
/// machine. Production tokens come from the identity provider.
pub fn mint_hs256(secret: &str, sub: &str, ttl: std::time::Duration) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        exp: now + ttl.as_secs(),
        iat: Some(now),
        jti: None,
    };
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

#[cfg(test)]
mod tests;
