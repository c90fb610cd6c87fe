//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the answer types' `ToSchema` derives, and the routes that
//! serve it: `/openapi.json` and the `/docs` page (Swagger UI, vendored in
//! `shared/assets/swagger-ui` and embedded in the binary: no CDN).
//!
//! Each function crate has `pub fn openapi() -> OpenApi` built from a
//! `#[derive(OpenApi)]` listing its handlers; `shared::start` adds the parts it
//! mounts itself (`GET /health`, `/v1/sessions`) and `finish` adds what every
//! route shares (the security schemes, the problem answers of the common
//! middleware). To document a new route: annotate its handler with
//! `#[utoipa::path(...)]` (copy a neighbour's), list it in the crate's
//! `#[derive(OpenApi)] paths(...)`, and derive `utoipa::ToSchema` on its
//! bodies. The `openapi_routes` test of `folio-local` fails for any routed
//! path or method missing from the document.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Server, path::Operation,
};
use utoipa::{Modify, OpenApi as _, PartialSchema, ToSchema};

use crate::error::{PROBLEM_JSON, Problem};

/// Security scheme of the `/v1/` routes that take a user's token.
pub const BEARER: &str = "bearer";
/// Security scheme of `POST /v1/worker/tick` (`WORKER_TICK_TOKEN` or a Google ID token).
pub const TICK_TOKEN: &str = "tick_token";
/// The reusable problem answer every error status refers to.
pub const PROBLEM_RESPONSE: &str = "Problem";

/// `GET /health`'s answer.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
    /// Which binary answered (`ocr`, `folio-local`...).
    pub function: &'static str,
    pub version: &'static str,
}

/// Liveness: touches no dependency (the Cloud Run startup probe). Served by
/// `shared::serve::app`, so every function answers it.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "liveness",
    tag = "health",
    responses((status = 200, description = "the process is up", body = Liveness))
)]
pub fn liveness_doc() {}

/// What `shared::serve::app` mounts for every function.
#[derive(utoipa::OpenApi)]
#[openapi(paths(liveness_doc), components(schemas(Problem)))]
struct Common;

/// The document of one binary: `parts` merged, then `finish`ed.
pub fn document(function: &str, parts: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut doc = Common::openapi();
    for part in parts {
        doc.merge(part);
    }
    doc.info.title = format!("folio {function}");
    doc.info.version = crate::serve::VERSION.to_owned();
    doc.info.description = Some(
        "folio's HTTP API. Errors are RFC 9457 application/problem+json; see docs/api.md."
            .to_owned(),
    );
    doc.info.license = Some(utoipa::openapi::License::new("Apache-2.0"));
    doc.servers = Some(vec![Server::new("/")]);
    finish(&mut doc);
    doc
}

/// Adds what every route shares: the security schemes, the reusable problem
/// answer, and on every operation the problem answers of the shared
/// middleware (401 where a token is required, 413 where a body is read, 500
/// for a panic, 503 for a dependency down, 504 past the request deadline).
fn finish(doc: &mut OpenApi) {
    SecurityAddon.modify(doc);
    let mut components = doc.components.take().unwrap_or_default();
    components.responses.insert(
        PROBLEM_RESPONSE.to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description("An RFC 9457 problem; `type` ends with the slug docs/api.md lists.")
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        ),
    );
    let request_id = HeaderBuilder::new()
        .schema(String::schema())
        .description(Some(
            "The request's id: taken from `x-request-id`, `x-cloud-trace-context` or \
             `x-amzn-trace-id` when present, otherwise new.",
        ))
        .build();
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_common_problems(op);
            // Every answer carries `x-request-id` (the shared middleware sets it).
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert("x-request-id".to_owned(), request_id.clone());
                }
            }
        }
    }
    if let Some(RefOr::T(problem)) = components.responses.get_mut(PROBLEM_RESPONSE) {
        problem
            .headers
            .insert("x-request-id".to_owned(), request_id);
    }
    doc.components = Some(components);
}

fn add_common_problems(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let mut statuses = vec!["500", "503", "504"];
    if secured {
        statuses.push("401");
    }
    if has_body {
        statuses.push("413");
    }
    for status in statuses {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(PROBLEM_RESPONSE)));
    }
}

struct SecurityAddon;

impl Modify for SecurityAddon {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut user = Http::new(HttpAuthScheme::Bearer);
        user.bearer_format = Some("JWT".to_owned());
        user.description = Some(
            "A JWT signed with folio's key or by the identity provider (docs/auth.md); \
             the user is its `sub`. `folio-local token SUB` mints one locally."
                .to_owned(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(user));
        let mut tick = Http::new(HttpAuthScheme::Bearer);
        tick.description = Some(
            "`WORKER_TICK_TOKEN`, or a Google OIDC ID token for `WORKER_TICK_OIDC_AUDIENCE`."
                .to_owned(),
        );
        components.add_security_scheme(TICK_TOKEN, SecurityScheme::Http(tick));
    }
}

/// The embedded Swagger UI files (see `scripts/vendor-swagger-ui.sh`).
const SWAGGER_JS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const SWAGGER_CSS: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");
const SWAGGER_LICENSE: &[u8] = include_bytes!("../assets/swagger-ui/LICENSE");
const SWAGGER_NOTICE: &[u8] = include_bytes!("../assets/swagger-ui/NOTICE");

/// The page: no inline script (the CSP allows scripts from this origin only).
const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>folio API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"#;

const DOCS_INIT: &str = r##"window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null
  });
});
"##;

/// Same-origin only; Swagger UI sets inline styles and shows `data:` images.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `/openapi.json`, `/docs` and its files. Mounted only with `DOCS_ENABLED`.
pub fn routes(doc: &OpenApi) -> Router {
    let json = serde_json::to_string_pretty(&to_json(doc)).unwrap_or_else(|_| "{}".to_owned());
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move { asset("application/json", json.clone().into_bytes()) }),
        )
        .route(
            "/docs",
            get(|| async { asset("text/html; charset=utf-8", DOCS_HTML.as_bytes().to_vec()) }),
        )
        .route(
            "/docs/{file}",
            get(
                |axum::extract::Path(file): axum::extract::Path<String>| async move {
                    let (kind, body): (&str, &[u8]) = match file.as_str() {
                        "swagger-ui-bundle.js" => ("text/javascript; charset=utf-8", SWAGGER_JS),
                        "swagger-ui.css" => ("text/css; charset=utf-8", SWAGGER_CSS),
                        "init.js" => ("text/javascript; charset=utf-8", DOCS_INIT.as_bytes()),
                        "LICENSE" => ("text/plain; charset=utf-8", SWAGGER_LICENSE),
                        "NOTICE" => ("text/plain; charset=utf-8", SWAGGER_NOTICE),
                        _ => return crate::Error::NotFound.into_response(),
                    };
                    asset(kind, body.to_vec())
                },
            ),
        )
}

/// The document as served. utoipa 5.5 writes a Link Object's fields in
/// snake_case (`operation_id`); OpenAPI spells them in camelCase.
pub fn to_json(doc: &OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).unwrap_or_default();
    let Some(paths) = json.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return json;
    };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(|l| l.as_object_mut()))
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (snake, camel) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(snake) {
                link.insert(camel.to_owned(), value);
            }
        }
    }
    json
}

fn asset(kind: &'static str, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// Paths served but deliberately left out of the document: the docs routes
/// themselves and the operator's `/metrics` (a scraper's, not a caller's).
pub const UNDOCUMENTED_PATHS: [&str; 4] = ["/openapi.json", "/docs", "/docs/{file}", "/metrics"];

/// Every `(METHOD, path)` a router answers, read from its `Debug` text (axum
/// has no public route listing; its `Debug` names each route's path and its
/// `Allow` value). `HEAD` (implied by `GET`) is left out. Empty when axum's
/// `Debug` text changes shape: callers must treat that as a failure.
pub fn routed_operations(router: &Router) -> Vec<(String, String)> {
    let text = format!("{router:?}");
    // The fallback router (after the path router) holds `/` and the catch-all.
    let text = text.split("fallback_router:").next().unwrap_or_default();
    let mut paths = std::collections::HashMap::new();
    let mut allows = std::collections::HashMap::new();
    // `RouteId(3): "/v1/ocr"` in the node's paths.
    let mut rest = text;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at + "RouteId(".len()..];
        let Some(close) = rest.find(')') else { break };
        let id = rest[..close].to_owned();
        let after = &rest[close + 1..];
        if let Some(path) = after.strip_prefix(": \"") {
            if let Some(end) = path.find('"') {
                paths.insert(id, path[..end].to_owned());
            }
        } else if let Some(route) = after.strip_prefix(": MethodRouter(") {
            // The first `allow_header` after this route's start is its own.
            if let Some(a) = route.find("allow_header: Bytes(b\"") {
                let value = &route[a + "allow_header: Bytes(b\"".len()..];
                if let Some(end) = value.find('"') {
                    allows.insert(id, value[..end].to_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (id, path) in paths {
        if path.contains("__private__") {
            continue;
        }
        let allow = allows.get(&id).map(String::as_str).unwrap_or("");
        for method in allow.split(',').filter(|m| !m.is_empty() && *m != "HEAD") {
            out.push((method.to_owned(), path.clone()));
        }
    }
    out.sort();
    out
}

/// Every `(METHOD, path)` the document describes.
pub fn documented_operations(doc: &OpenApi) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                out.push((method.to_owned(), path.clone()));
            }
        }
    }
    out.sort();
    out
}
