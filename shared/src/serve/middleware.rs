//! The middleware every function shares.

use std::any::Any;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tracing::Instrument;

use crate::error::{Error, PROBLEM_JSON, problem_response};

pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Picks the request id: the caller's `x-request-id`, else the trace id a
/// platform front end added, else a fresh one. Only short, printable ids are
/// taken from outside.
fn request_id_from(headers: &HeaderMap) -> String {
    let usable = |v: &HeaderValue| {
        v.to_str()
            .ok()
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .filter(|s| s.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned)
    };
    if let Some(id) = headers.get(REQUEST_ID).and_then(usable) {
        return id;
    }
    // Cloud Run: "TRACE_ID/SPAN_ID;o=1" -> TRACE_ID
    if let Some(id) = headers.get("x-cloud-trace-context").and_then(usable)
        && let Some(trace) = id.split('/').next().filter(|t| !t.is_empty())
    {
        return trace.to_owned();
    }
    // AWS: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1" -> Root value
    if let Some(id) = headers.get("x-amzn-trace-id").and_then(usable) {
        let root = id
            .split(';')
            .find_map(|part| part.strip_prefix("Root="))
            .unwrap_or(&id);
        return root.to_owned();
    }
    uuid::Uuid::now_v7().to_string()
}

/// Sets the request id (task-local, response header), opens the request's
/// span (with the platform's trace and invocation ids, for `LOG_FORMAT=gcp`
/// and `lambda`), logs one line when the answer is ready and counts it in the
/// metrics under its route template.
pub async fn request_context(request: Request, next: Next) -> Response {
    let id = request_id_from(request.headers());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
        trace_sampled = tracing::field::Empty,
        aws_request_id = tracing::field::Empty,
    );
    if let Some((trace, span_id, sampled)) = request
        .headers()
        .get("x-cloud-trace-context")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::telemetry::cloud_trace_context)
    {
        span.record("trace_id", trace.as_str());
        if let Some(s) = span_id {
            span.record("span_id", s.as_str());
        }
        if let Some(sampled) = sampled {
            span.record("trace_sampled", sampled);
        }
    }
    if let Some(ctx) = lambda_http::RequestExt::lambda_context_ref(&request) {
        span.record("aws_request_id", ctx.request_id.as_str());
    }
    let line = RequestLine::of(&request);
    let started = Instant::now();
    let header_value = HeaderValue::from_str(&id).ok();
    let mut response = CURRENT_REQUEST_ID
        .scope(id, next.run(request))
        .instrument(span.clone())
        .await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    crate::metrics::http_request(&line.route, metric_method(&line.method), status, elapsed);
    let response_size = axum::body::HttpBody::size_hint(response.body()).exact();
    span.in_scope(|| {
        tracing::info!(
            status,
            duration_ms = elapsed * 1000.0,
            http.status = status,
            http.latency_s = elapsed,
            http.url = line.url.as_str(),
            http.protocol = line.protocol,
            http.user_agent = line.user_agent.as_deref(),
            http.referer = line.referer.as_deref(),
            http.remote_ip = line.remote_ip.as_deref(),
            http.request_size = line.request_size,
            http.response_size = response_size,
            "request finished"
        );
    });
    if let Some(v) = header_value {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// The method as a label value: a caller's invented methods share one.
fn metric_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// What the closing line and the metrics say about a request, read before
/// the request is handed on.
struct RequestLine {
    route: String,
    method: axum::http::Method,
    url: String,
    protocol: &'static str,
    user_agent: Option<String>,
    referer: Option<String>,
    remote_ip: Option<String>,
    request_size: Option<u64>,
}

impl RequestLine {
    fn of(request: &Request) -> RequestLine {
        let headers = request.headers();
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(512).collect::<String>())
        };
        // Routes only: the raw path would make a label value per document id.
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "unmatched".to_owned());
        let protocol = match request.version() {
            axum::http::Version::HTTP_09 => "HTTP/0.9",
            axum::http::Version::HTTP_10 => "HTTP/1.0",
            axum::http::Version::HTTP_2 => "HTTP/2",
            axum::http::Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/1.1",
        };
        // The first X-Forwarded-For hop is the caller the front end saw.
        let remote_ip = text(header::HeaderName::from_static("x-forwarded-for"))
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_owned()))
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
            .or_else(|| {
                request
                    .extensions()
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip().to_string())
            });
        RequestLine {
            route,
            method: request.method().clone(),
            url: request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().chars().take(2048).collect())
                .unwrap_or_default(),
            protocol,
            user_agent: text(header::USER_AGENT),
            referer: text(header::REFERER),
            remote_ip,
            request_size: headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        }
    }
}

/// Bounds the whole request; past the deadline the caller gets a 504 problem
/// and the handler's future is dropped.
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_s = limit.as_secs_f32(), "request timed out");
            Error::Timeout(limit).into_response()
        }
    }
}

/// A panic in a handler becomes a logged 500 problem; the process keeps serving.
pub fn panic_response(cause: Box<dyn Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::Internal(anyhow::anyhow!("handler panicked: {what}")).into_response()
}

/// Turns the bare error answers axum and tower produce (404 and 405 from the
/// router, 413 and 400/415/422 from extractor rejections) into problem+json, so
/// callers see one error format whatever produced the error.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // JSON answers (problems, readiness reports) were written on purpose.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection messages are short; anything longer is not ours to echo.
    let text = match http_body_util::Limited::new(body, 4096).collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
            .trim()
            .to_owned(),
        Err(_) => String::new(),
    };
    let (slug, detail) = describe(status, text);
    let mut problem = problem_response(status, slug, detail);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            problem.headers_mut().insert(name, v.clone());
        }
    }
    problem
}

fn describe(status: StatusCode, text: String) -> (&'static str, String) {
    let or = |fallback: &str| {
        if text.is_empty() {
            fallback.to_owned()
        } else {
            text.clone()
        }
    };
    match status {
        StatusCode::BAD_REQUEST => ("bad-request", or("the request is malformed")),
        StatusCode::NOT_FOUND => ("not-found", "no such resource".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this route does not accept that method".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "the request body is too large".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", or("unsupported content type"))
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid-body", or("the request body is not valid")),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long".to_owned()),
        s if s.is_server_error() => ("internal", "an internal error occurred".to_owned()),
        _ => ("client-error", or("the request was refused")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_come_from_the_caller_or_the_platform() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-cloud-trace-context",
            HeaderValue::from_static("105445aa7843bc8bf206b120001000/1;o=1"),
        );
        assert_eq!(request_id_from(&h), "105445aa7843bc8bf206b120001000");
        h.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(request_id_from(&h), "abc-123");

        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-trace-id",
            HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
        );
        assert_eq!(request_id_from(&h), "1-5759e988-bd862e3fe1be46a994272793");

        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("has space"));
        let fresh = request_id_from(&h);
        assert!(
            uuid::Uuid::parse_str(&fresh).is_ok(),
            "unusable ids are replaced"
        );
    }
}
