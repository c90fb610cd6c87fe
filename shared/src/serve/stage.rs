//! API Gateway on a named stage (a REST API always is; an HTTP API off its
//! `$default` stage): `lambda_http` puts the stage in front of the path
//! (`/Prod/health`) unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set, so
//! every route would be 404. A path means the same on every platform: the
//! prefix is taken off here, before routing.

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// The middleware: strips `/{stage}` from requests that came through a
/// named API Gateway stage.
pub(crate) async fn strip_stage(mut req: Request, next: Next) -> Response {
    if let Some(uri) = without_stage(&req) {
        *req.uri_mut() = uri;
    }
    next.run(req).await
}

fn without_stage(req: &Request) -> Option<Uri> {
    let stage = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.as_deref(),
        _ => None,
    }
    .filter(|s| !s.is_empty() && *s != "$default")?;
    let path = req.uri().path();
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;

    fn request(uri: &str, stage: Option<&str>) -> Request {
        let mut req = Request::new(axum::body::Body::empty());
        *req.uri_mut() = uri.parse().expect("uri");
        if let Some(stage) = stage {
            let mut ctx = ApiGatewayProxyRequestContext::default();
            ctx.stage = Some(stage.to_owned());
            req.extensions_mut()
                .insert(RequestContext::ApiGatewayV1(ctx));
        }
        req
    }

    #[test]
    fn only_a_named_stage_prefix_is_taken_off() {
        let strip = |uri, stage| without_stage(&request(uri, stage)).map(|u| u.to_string());
        assert_eq!(
            strip("/Prod/v1/ocr?mode=sync", Some("Prod")).as_deref(),
            Some("/v1/ocr?mode=sync")
        );
        assert_eq!(strip("/Prod", Some("Prod")).as_deref(), Some("/"));
        assert_eq!(strip("/Production/x", Some("Prod")), None);
        assert_eq!(strip("/v1/ocr", Some("Prod")), None);
        assert_eq!(strip("/v1/ocr", Some("$default")), None);
        assert_eq!(strip("/Prod/v1/ocr", None), None);
    }
}
