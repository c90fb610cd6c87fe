//! The one error type every handler returns, and its single mapping to RFC 9457
//! `application/problem+json`. A 5xx answer says nothing internal: its cause is
//! logged once, here, inside the request's span.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
const PROBLEM_BASE: &str = "https://folio.dev/problems/";

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the request is malformed (bad query, bad multipart, bad JSON).
    #[error("{0}")]
    BadRequest(String),
    /// 401: missing, invalid, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 401 `session-expired`: the token is valid but its session ended (idle,
    /// too old, logged out).
    #[error("{0}")]
    SessionExpired(String),
    /// 403: a valid caller without the role the route needs.
    #[error("{0}")]
    Forbidden(String),
    /// 404: absent, or owned by someone else (the two are not told apart).
    #[error("not found")]
    NotFound,
    /// 405
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over `limit` bytes.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// 415: the content is not of a supported type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but unacceptable (limits, broken documents, bad values).
    #[error("{detail}")]
    Unprocessable { slug: &'static str, detail: String },
    /// 429
    #[error("rate limit exceeded; retry in {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// 503: a dependency is down; the caller may retry later.
    #[error("{what} is unavailable")]
    Unavailable {
        what: &'static str,
        retry_after: Duration,
    },
    /// 502, or 504 when `timed_out`: a server folio called on the caller's
    /// behalf (a document URL) failed or did not answer in time.
    #[error("{detail}")]
    Upstream {
        slug: &'static str,
        detail: String,
        timed_out: bool,
    },
    /// 504: the request ran past its deadline.
    #[error("the request took longer than {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// 500: anything else. The cause is logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn unprocessable(slug: &'static str, detail: impl Into<String>) -> Self {
        Error::Unprocessable {
            slug,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) | Error::SessionExpired(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Upstream {
                timed_out: true, ..
            } => StatusCode::GATEWAY_TIMEOUT,
            Error::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Error::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The last segment of the problem `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad-request",
            Error::Unauthorized(_) => "unauthorized",
            Error::SessionExpired(_) => "session-expired",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound => "not-found",
            Error::MethodNotAllowed => "method-not-allowed",
            Error::Conflict(_) => "conflict",
            Error::TooLarge { .. } => "too-large",
            Error::UnsupportedMediaType(_) => "unsupported-media-type",
            Error::Unprocessable { slug, .. } | Error::Upstream { slug, .. } => slug,
            Error::RateLimited { .. } => "rate-limited",
            Error::Unavailable { .. } => "unavailable",
            Error::Timeout(_) => "timeout",
            Error::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Error::Internal(_) => "an internal error occurred; it has been logged".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            err if crate::db::is_unavailable(&err) => {
                tracing::warn!(error = %err, "postgres unavailable");
                Error::Unavailable {
                    what: "the database",
                    retry_after: Duration::from_secs(5),
                }
            }
            sqlx::Error::RowNotFound => Error::NotFound,
            other => Error::Internal(other.into()),
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://folio.dev/problems/<slug>`; the slugs are listed in docs/api.md.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Builds a problem response for any status, with the request id of the
/// current request when one is in scope.
pub fn problem_response(status: StatusCode, slug: &str, detail: String) -> Response {
    let problem = Problem {
        kind: format!("{PROBLEM_BASE}{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        request_id: crate::serve::current_request_id(),
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Error::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = problem_response(status, self.slug(), self.detail());
        let headers = response.headers_mut();
        match &self {
            Error::Unauthorized(_) | Error::SessionExpired(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Error::RateLimited { retry_after } | Error::Unavailable { retry_after, .. } => {
                let secs = retry_after.as_secs().max(1);
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    headers.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn every_variant() -> Vec<(Error, u16, &'static str)> {
        vec![
            (Error::BadRequest("x".into()), 400, "bad-request"),
            (Error::Unauthorized("x".into()), 401, "unauthorized"),
            (Error::SessionExpired("x".into()), 401, "session-expired"),
            (Error::Forbidden("x".into()), 403, "forbidden"),
            (Error::NotFound, 404, "not-found"),
            (Error::MethodNotAllowed, 405, "method-not-allowed"),
            (Error::Conflict("x".into()), 409, "conflict"),
            (Error::TooLarge { limit: 10 }, 413, "too-large"),
            (
                Error::UnsupportedMediaType("x".into()),
                415,
                "unsupported-media-type",
            ),
            (
                Error::unprocessable("too-many-pages", "x"),
                422,
                "too-many-pages",
            ),
            (
                Error::RateLimited {
                    retry_after: Duration::from_secs(3),
                },
                429,
                "rate-limited",
            ),
            (
                Error::Unavailable {
                    what: "db",
                    retry_after: Duration::from_secs(5),
                },
                503,
                "unavailable",
            ),
            (Error::Timeout(Duration::from_secs(1)), 504, "timeout"),
            (
                Error::Upstream {
                    slug: "fetch-failed",
                    detail: "x".into(),
                    timed_out: false,
                },
                502,
                "fetch-failed",
            ),
            (
                Error::Upstream {
                    slug: "fetch-timeout",
                    detail: "x".into(),
                    timed_out: true,
                },
                504,
                "fetch-timeout",
            ),
            (
                Error::Internal(anyhow::anyhow!("password=hunter2 at /srv/x.rs")),
                500,
                "internal",
            ),
        ]
    }

    #[tokio::test]
    async fn every_variant_maps_to_its_status_and_problem_type() {
        for (error, status, slug) in every_variant() {
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let problem: Problem = serde_json::from_slice(&body).expect("problem json");
            assert_eq!(problem.kind, format!("{PROBLEM_BASE}{slug}"));
            assert_eq!(problem.status, status);
            assert!(!problem.detail.contains("hunter2"), "internal cause leaked");
        }
    }

    #[test]
    fn unauthorized_carries_www_authenticate_and_limits_carry_retry_after() {
        let r = Error::Unauthorized("expired".into()).into_response();
        assert_eq!(
            r.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        let r = Error::RateLimited {
            retry_after: Duration::from_secs(7),
        }
        .into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "7");
    }
}
