//! Bearer-token authentication. A token is verified with folio's own key
//! (`JWT_SECRET_KEY` / `JWT_PUBLIC_KEY`) or one of the identity provider's
//! published keys (`JWT_JWKS_URL`, picked by `kid`). The algorithm comes from
//! the key, never from the token alone (so `alg: none` and algorithm swaps
//! fail); `exp` is required, `nbf`, `iss` and `aud` are checked. Sessions
//! (idle timeout, logout) are in `sessions`; roles in `AdminUser`.

pub mod claims;
pub mod jwks;
pub mod sessions;
pub mod tick;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{JwtConfig, JwtKey, Provider, SessionConfig};

use crate::error::Error;
pub use claims::Identity;
use jwks::Jwks;
use sessions::Sessions;

/// The claims `mint_hs256` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Verifies tokens. Built once per cold start.
pub struct Authenticator {
    config: JwtConfig,
    /// folio's own key, with the algorithm it is pinned to.
    own_key: Option<(Algorithm, DecodingKey)>,
    jwks: Option<Arc<Jwks>>,
    session_claim: String,
    sessions: Option<Arc<Sessions>>,
}

impl Authenticator {
    pub fn new(config: &JwtConfig) -> anyhow::Result<Self> {
        let own_key = match &config.key {
            None => None,
            Some(JwtKey::Secret(secret)) => {
                Some(DecodingKey::from_secret(secret.expose_secret().as_bytes()))
            }
            Some(JwtKey::PublicPem(pem)) => Some(
                match config.algorithm {
                    Algorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
                    Algorithm::ES256 => DecodingKey::from_ec_pem(pem.as_bytes()),
                    _ => DecodingKey::from_ed_pem(pem.as_bytes()),
                }
                .map_err(|_| anyhow::anyhow!("JWT_PUBLIC_KEY is not a valid PEM public key"))?,
            ),
        }
        .map(|key| (config.algorithm, key));
        let jwks = config
            .jwks
            .as_ref()
            .map(Jwks::new)
            .transpose()?
            .map(Arc::new);
        Ok(Authenticator {
            config: config.clone(),
            own_key,
            jwks,
            session_claim: config.provider.session_claim().to_owned(),
            sessions: None,
        })
    }

    /// Reads sessions from `config.id_claim` and, when `sessions` is given,
    /// judges every request's session (idle timeout, logout); see `sessions`.
    pub fn with_sessions(
        mut self,
        config: &SessionConfig,
        sessions: Option<Arc<Sessions>>,
    ) -> Self {
        self.session_claim = config.id_claim.clone();
        self.sessions = sessions;
        self
    }

    pub fn sessions(&self) -> Option<&Arc<Sessions>> {
        self.sessions.as_ref()
    }

    /// The JWKS cache, when one is configured (tests count its fetches).
    pub fn jwks(&self) -> Option<&Arc<Jwks>> {
        self.jwks.as_ref()
    }

    /// The identity of a valid token; 401 with a reason safe to show, or 503
    /// when the provider's keys cannot be had yet.
    pub async fn verify(&self, token: &str) -> Result<Identity, Error> {
        let header = decode_header(token)
            .map_err(|_| Error::Unauthorized("the token is malformed".into()))?;
        let key = self.key_for(header.alg, header.kid.as_deref()).await?;
        let claims = self.validate(token, header.alg, &key)?;
        claims::identity(&self.config, &self.session_claim, claims)
    }

    async fn key_for(&self, alg: Algorithm, kid: Option<&str>) -> Result<KeyRef, Error> {
        let symmetric = matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
        // Provider keys are only ever asymmetric: an HMAC token is checked
        // against folio's own secret or not at all.
        if let (false, Some(kid), Some(jwks)) = (symmetric, kid, &self.jwks) {
            let key = jwks.key(kid).await?;
            if key.alg != alg {
                return Err(wrong_alg());
            }
            return Ok(KeyRef::Provider(key));
        }
        match &self.own_key {
            Some((own_alg, _)) if *own_alg == alg => Ok(KeyRef::Own),
            _ if !symmetric && kid.is_none() && self.jwks.is_some() => Err(Error::Unauthorized(
                "the token names no key id (kid)".into(),
            )),
            _ => Err(wrong_alg()),
        }
    }

    fn validate(
        &self,
        token: &str,
        alg: Algorithm,
        key: &KeyRef,
    ) -> Result<Map<String, Value>, Error> {
        let key = match key {
            KeyRef::Own => match &self.own_key {
                Some((_, key)) => key,
                None => return Err(wrong_alg()),
            },
            KeyRef::Provider(k) => &k.key,
        };
        let mut validation = Validation::new(alg);
        let mut required = vec!["exp"];
        validation.leeway = self.config.leeway.as_secs();
        validation.validate_nbf = true;
        if self.config.issuers.is_empty() {
            validation.iss = None;
        } else {
            validation.set_issuer(&self.config.issuers);
            required.push("iss");
        }
        // Cognito access tokens carry no `aud`: `claims` checks the client.
        if self.config.audiences.is_empty() || self.config.provider == Provider::Cognito {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.config.audiences);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        decode::<Map<String, Value>>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| Error::Unauthorized(reason(&e).to_owned()))
    }
}

enum KeyRef {
    Own,
    Provider(Arc<jwks::VerifyKey>),
}

fn wrong_alg() -> Error {
    Error::Unauthorized("the token is signed with another algorithm".into())
}

fn reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::InvalidIssuer => "the token has the wrong issuer",
        ErrorKind::InvalidAudience => "the token has the wrong audience",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidAlgorithm => "the token is signed with another algorithm",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        _ => "the token is malformed",
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// The configured user claim (`sub` by default).
    pub user_id: String,
    /// The token's session, when sessions are on and the token names one.
    pub session_id: Option<String>,
    /// The token carries the configured admin role.
    pub admin: bool,
}

/// A caller with the `admin` role; any other valid caller is 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser(pub AuthUser);

/// Anything that can hand out the authenticator; `None` when the function
/// runs without JWT configuration (then every protected route is 401).
pub struct AuthState(pub Option<Arc<Authenticator>>);

impl FromRef<Arc<Authenticator>> for AuthState {
    fn from_ref(auth: &Arc<Authenticator>) -> Self {
        AuthState(Some(auth.clone()))
    }
}

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    let header = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("missing Authorization: Bearer token".into()))?;
    header
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Unauthorized("the Authorization header is not a Bearer token".into()))
}

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
        let identity = auth.verify(bearer(&parts.headers)?).await?;
        let session_id = match &auth.sessions {
            Some(sessions) => sessions.check(&identity, &parts.headers).await?,
            None => identity.session_id,
        };
        Ok(AuthUser {
            user_id: identity.user_id,
            session_id,
            admin: identity.admin,
        })
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    AuthState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.admin {
            Ok(AdminUser(user))
        } else {
            Err(Error::Forbidden("this route needs the admin role".into()))
        }
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
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// `mint_hs256` with `roles` in the `roles` claim (where the default admin
/// claim is read): `folio-local token SUB --admin`, and the admin API's tests.
pub fn mint_hs256_with_roles(
    secret: &str,
    sub: &str,
    roles: &[&str],
    ttl: std::time::Duration,
) -> anyhow::Result<String> {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = serde_json::json!({
        "sub": sub,
        "exp": now + ttl.as_secs(),
        "iat": now,
        "roles": roles,
    });
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

#[cfg(test)]
mod tests;
