//! The limiter as a tower layer for a function's routes: identifies the
//! caller, checks its family's limit, sets `RateLimit-Limit`,
//! `RateLimit-Remaining`, `RateLimit-Reset` (and `RateLimit-Policy`) on the
//! answer, and refuses with 429 problem+json and `Retry-After`.
//!
//! The caller is the token's `sub` when a valid bearer token comes with the
//! request, else the first `X-Forwarded-For` address (spoofable, but such
//! requests carry no valid token and are refused by the handler anyway).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Request, header};
use tower::{Layer, Service};

use super::{Decision, Family, Quota, RateLimiter};
use crate::auth::Authenticator;
use crate::error::Error;
use crate::state::AppState;

/// `route_layer(limits::layer(&state, Family::Ocr))`.
pub fn layer(state: &AppState, family: Family) -> RateLimitLayer {
    RateLimitLayer {
        limiter: state.limiter.clone(),
        auth: state.auth.clone(),
        family,
    }
}

#[derive(Clone)]
pub struct RateLimitLayer {
    limiter: RateLimiter,
    auth: Option<Arc<Authenticator>>,
    family: Family,
}

impl RateLimitLayer {
    pub fn new(limiter: RateLimiter, auth: Option<Arc<Authenticator>>, family: Family) -> Self {
        RateLimitLayer {
            limiter,
            auth,
            family,
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RateLimitService<S> {
    inner: S,
    layer: RateLimitLayer,
}

impl<S> Service<Request<Body>> for RateLimitService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready is the one that serves.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let caller = identify(request.headers(), layer.auth.as_deref()).await;
            let decision = layer.limiter.check(layer.family, &caller).await;
            match decision {
                Decision::Allowed(quota) => {
                    let mut response = inner.call(request).await?;
                    set_headers(response.headers_mut(), &quota);
                    Ok(response)
                }
                Decision::Limited(quota) => {
                    let retry_after = Duration::from_secs(ceil_secs(quota.retry_after).max(1));
                    let mut response = Error::RateLimited { retry_after }.into_response();
                    set_headers(response.headers_mut(), &quota);
                    Ok(response)
                }
                Decision::Unchecked | Decision::Unlimited => inner.call(request).await,
                Decision::Unavailable => Ok(Error::Unavailable {
                    what: "rate limiting",
                    retry_after: Duration::from_secs(5),
                }
                .into_response()),
            }
        })
    }
}

/// The identifier a request is limited under: `user:{sub}` for a valid
/// token, `ip:{address}` from `X-Forwarded-For`, else `anonymous`.
pub async fn identify(headers: &HeaderMap, auth: Option<&Authenticator>) -> String {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    if let (Some(auth), Some(token)) = (auth, token)
        && let Ok(identity) = auth.verify(token).await
    {
        return format!("user:{}", identity.user_id);
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .map_or_else(|| "anonymous".to_owned(), |ip| format!("ip:{ip}"))
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).try_into().unwrap_or(u64::MAX)
}

fn set_headers(headers: &mut HeaderMap, quota: &Quota) {
    let period = quota.period.as_secs().max(1);
    let values = [
        ("ratelimit-limit", quota.limit.to_string()),
        ("ratelimit-remaining", quota.remaining.to_string()),
        ("ratelimit-reset", ceil_secs(quota.reset).to_string()),
        ("ratelimit-policy", format!("{};w={period}", quota.limit)),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
