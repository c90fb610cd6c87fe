//! `folio-local`: every function's routes on one port, for running folio on a
//! laptop without Docker (see `scripts/dev.sh`).
//!
//! `folio-local`              serve everything on $PORT (default 8000) and tick
//!                            the job queue every FOLIO_LOCAL_TICK_EVERY (2 s)
//! `folio-local token SUB`    print a one-day HS256 token for SUB, signed with JWT_SECRET_KEY
//! `folio-local token SUB --admin`  the same with the `admin` role (the flags' admin API)

use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use shared::AppState;
use shared::config::Function;

#[tokio::main]
async fn main() -> ExitCode {
    // Before anything else: OpenMP reads its thread limit when libtesseract
    // loads, and this binary runs OCR jobs.
    // A PDF worker (this binary re-executed) serves its requests and exits here.
    shared::ocr::serve_pdf_worker_if_asked();
    shared::ocr::ensure_single_threaded_omp();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve_with_ticker().await,
        ["token", sub] => print_token(sub, false),
        ["token", sub, "--admin"] => print_token(sub, true),
        _ => {
            eprintln!("usage: folio-local [token SUBJECT [--admin]]");
            ExitCode::from(2)
        }
    }
}

/// Like `shared::run_function`, plus the worker ticker in the background
/// (every `FOLIO_LOCAL_TICK_EVERY`, default 2 s). On SIGTERM/SIGINT the server
/// drains, then the tick in hand finishes or gives its jobs back.
async fn serve_with_ticker() -> ExitCode {
    let config = match shared::load_config(Function::Local) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let every = std::env::var("FOLIO_LOCAL_TICK_EVERY")
        .ok()
        .and_then(|v| shared::config::parse_duration(&v))
        .unwrap_or(Duration::from_secs(2));
    let mut ticker = None;
    let served = shared::start(
        config,
        |state| {
            ticker = Some(folio_worker_tick::ticker::spawn(&state, every));
            routes(state)
        },
        openapi(),
    )
    .await;
    if let Some(ticker) = ticker {
        let _ = ticker.await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "folio-local stopped");
            ExitCode::FAILURE
        }
    }
}

fn routes(state: AppState) -> Router {
    Router::new()
        .merge(folio_health::router(state.clone()))
        .merge(folio_ocr::router(state.clone()))
        .merge(folio_quiz::router(state.clone()))
        .merge(folio_worker_tick::router(state))
}

/// The document of `routes`: every function's, merged (no `/events`: the
/// local gateway is never on Lambda).
fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = folio_health::openapi();
    doc.merge(folio_ocr::openapi());
    doc.merge(folio_quiz::openapi());
    doc.merge(folio_worker_tick::openapi(false));
    doc
}

fn print_token(sub: &str, admin: bool) -> ExitCode {
    let Ok(secret) = std::env::var("JWT_SECRET_KEY") else {
        eprintln!("folio-local token: JWT_SECRET_KEY is not set");
        return ExitCode::from(2);
    };
    let day = Duration::from_secs(24 * 3600);
    let token = if admin {
        shared::auth::mint_hs256_with_roles(&secret, sub, &["admin"], day)
    } else {
        shared::auth::mint_hs256(&secret, sub, day)
    };
    match token {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("folio-local token: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::config::{Config, Function};
    use shared::openapi::{UNDOCUMENTED_PATHS, documented_operations, routed_operations};

    fn state(function: Function) -> shared::AppState {
        state_with(function, &[("DOCS_ENABLED", "true")])
    }

    fn state_with(function: Function, extra: &[(&str, &str)]) -> shared::AppState {
        shared::install_crypto_provider();
        // The pools connect lazily: no server is reached here.
        let vars = folio_testing::test_vars(
            "postgres://folio@127.0.0.1:5432/folio_openapi_unused",
            "openapi-routes:",
            extra,
        );
        let config = Config::from_vars(function, vars).expect("test configuration");
        shared::AppState::new(config).expect("state")
    }

    /// Every routed path and method is in the document and the other way
    /// round. A route added without its `#[utoipa::path]` (and its line in
    /// the crate's `openapi()`) fails here.
    fn assert_documented(router: &axum::Router, doc: &utoipa::openapi::OpenApi, what: &str) {
        let routed: Vec<_> = routed_operations(router)
            .into_iter()
            .filter(|(_, path)| !UNDOCUMENTED_PATHS.contains(&path.as_str()))
            .collect();
        assert!(
            routed.contains(&("GET".to_owned(), "/health".to_owned())),
            "{what}: no routes read from the router's Debug text (did axum change it?)"
        );
        let documented = documented_operations(doc);
        let missing: Vec<_> = routed.iter().filter(|r| !documented.contains(r)).collect();
        let stale: Vec<_> = documented.iter().filter(|d| !routed.contains(d)).collect();
        assert!(
            missing.is_empty(),
            "{what}: routes missing from the OpenAPI document (annotate the handler with \
             #[utoipa::path] and list it in its crate's openapi()): {missing:?}"
        );
        assert!(
            stale.is_empty(),
            "{what}: documented but not routed: {stale:?}"
        );
    }

    #[tokio::test]
    async fn every_route_of_every_binary_is_in_its_document() {
        let local = state(Function::Local);
        let (router, doc) = shared::assemble(local.clone(), super::routes(local), super::openapi());
        assert_documented(&router, &doc, "folio-local");

        let ocr = state(Function::Ocr);
        let (router, doc) =
            shared::assemble(ocr.clone(), folio_ocr::router(ocr), folio_ocr::openapi());
        assert_documented(&router, &doc, "ocr");

        let quiz = state(Function::Quiz);
        let (router, doc) = shared::assemble(
            quiz.clone(),
            folio_quiz::router(quiz),
            folio_quiz::openapi(),
        );
        assert_documented(&router, &doc, "quiz");

        let health = state(Function::Health);
        let (router, doc) = shared::assemble(
            health.clone(),
            folio_health::router(health),
            folio_health::openapi(),
        );
        assert_documented(&router, &doc, "health");

        for on_lambda in [false, true] {
            let worker = state(Function::WorkerTick);
            let routes = folio_worker_tick::router_with(
                worker.clone(),
                folio_worker_tick::Options {
                    on_lambda,
                    shutdown: shared::jobs::Shutdown::new(),
                },
            );
            let (router, doc) =
                shared::assemble(worker, routes, folio_worker_tick::openapi(on_lambda));
            assert_documented(
                &router,
                &doc,
                &format!("worker-tick (on_lambda {on_lambda})"),
            );
        }
    }

    /// The HTTP API routes of `infra/aws/template.yaml`, as
    /// `(function resource, method, path)`. The template's own line shape
    /// (`Properties: {ApiId: …, Path: …, Method: …}`) is what is read.
    fn template_routes() -> Vec<(String, String, String)> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/aws/template.yaml");
        let text = std::fs::read_to_string(path).expect("infra/aws/template.yaml");
        let mut resource = String::new();
        let mut out = Vec::new();
        for line in text.lines() {
            // A resource is a key indented by exactly two spaces.
            if line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':')
            {
                resource = line.trim().trim_end_matches(':').to_owned();
            }
            let Some(props) = line
                .trim()
                .strip_prefix("Properties: {ApiId: !Ref FolioApi,")
            else {
                continue;
            };
            let field = |name: &str| {
                props
                    .split(',')
                    .find_map(|f| f.trim().trim_end_matches('}').strip_prefix(name))
                    .map(|v| v.trim().trim_matches('"').to_owned())
                    .unwrap_or_else(|| panic!("{name} in {line}"))
            };
            out.push((resource.clone(), field("Method:"), field("Path:")));
        }
        out
    }

    /// The route API Gateway's HTTP API picks for a path: an exact route
    /// first, else the greedy `{proxy+}` route with the longest prefix.
    fn route_for<'a>(
        routes: &'a [(String, String, String)],
        path: &str,
    ) -> Option<&'a (String, String, String)> {
        routes.iter().find(|(_, _, p)| p == path).or_else(|| {
            routes
                .iter()
                .filter_map(|r| {
                    let prefix = r.2.strip_suffix("{proxy+}")?;
                    (path.starts_with(prefix) && path.len() > prefix.len())
                        .then_some((prefix.len(), r))
                })
                .max_by_key(|(len, _)| *len)
                .map(|(_, r)| r)
        })
    }

    /// Every operation the deployed `health`, `ocr` and `quiz` functions
    /// document is routed by the SAM template's HTTP API to a function that
    /// serves it, and every route of the template reaches an operation.
    /// worker-tick is not on the HTTP API (its schedule invokes it directly).
    #[tokio::test]
    async fn the_sam_template_routes_every_documented_operation() {
        let routes = template_routes();
        assert!(
            routes.len() >= 8,
            "routes read from the template: {routes:?}"
        );
        let mut served = std::collections::HashMap::new();
        for (resource, function) in [
            ("HealthFunction", Function::Health),
            ("OcrFunction", Function::Ocr),
            ("QuizFunction", Function::Quiz),
        ] {
            // As deployed: DOCS_ENABLED is off outside folio-local.
            let state = state_with(function, &[]);
            let doc = match function {
                Function::Health => {
                    shared::assemble(
                        state.clone(),
                        folio_health::router(state),
                        folio_health::openapi(),
                    )
                    .1
                }
                Function::Ocr => {
                    shared::assemble(
                        state.clone(),
                        folio_ocr::router(state),
                        folio_ocr::openapi(),
                    )
                    .1
                }
                _ => {
                    shared::assemble(
                        state.clone(),
                        folio_quiz::router(state),
                        folio_quiz::openapi(),
                    )
                    .1
                }
            };
            served.insert(resource, documented_operations(&doc));
        }
        let mut unrouted = Vec::new();
        let mut used = std::collections::HashSet::new();
        for (resource, operations) in &served {
            for (method, path) in operations {
                match route_for(&routes, path) {
                    Some(route @ (target, route_method, _))
                        if (route_method == "ANY" || route_method == method)
                            && served[target.as_str()]
                                .contains(&(method.clone(), path.clone())) =>
                    {
                        used.insert(route.clone());
                    }
                    other => unrouted.push(format!("{resource}: {method} {path} → {other:?}")),
                }
            }
        }
        assert!(
            unrouted.is_empty(),
            "operations the HTTP API would not bring to a function serving them \
             (add an HttpApi event in infra/aws/template.yaml):\n{}",
            unrouted.join("\n")
        );
        let stale: Vec<_> = routes.iter().filter(|r| !used.contains(*r)).collect();
        assert!(
            stale.is_empty(),
            "routes that reach no documented operation: {stale:?}"
        );
    }

    async fn get(router: &axum::Router, path: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let request = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("request");
        let response = router.clone().oneshot(request).await.expect("answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    #[tokio::test]
    async fn docs_are_served_from_the_binary_only_when_enabled() {
        // folio-local: on by default; the page and its files come from the binary.
        let local = state_with(Function::Local, &[]);
        let (router, _) = shared::assemble(local.clone(), super::routes(local), super::openapi());
        let (status, headers, body) = get(&router, "/docs").await;
        assert_eq!(status, 200);
        let csp = headers["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"));
        let page = String::from_utf8(body).expect("html");
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "no CDN: {page}"
        );
        for asset in [
            "/docs/swagger-ui-bundle.js",
            "/docs/swagger-ui.css",
            "/docs/init.js",
        ] {
            assert!(page.contains(asset), "the page loads {asset}");
            let (status, headers, body) = get(&router, asset).await;
            assert_eq!(status, 200, "{asset}");
            assert!(headers.contains_key("content-security-policy"));
            assert!(body.len() > 100, "{asset} has content");
        }
        let (status, _, _) = get(&router, "/docs/LICENSE").await;
        assert_eq!(status, 200);
        let (status, headers, _) = get(&router, "/docs/../Cargo.toml").await;
        assert_eq!(status, 404);
        assert_eq!(headers["content-type"], "application/problem+json");
        let (status, _, body) = get(&router, "/openapi.json").await;
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(
            doc["paths"]["/v1/ocr"]["post"]["requestBody"]["content"]["multipart/form-data"]
                .is_object()
        );
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

        // A deployed function: off unless DOCS_ENABLED=true; then its own routes only.
        let ocr = state_with(Function::Ocr, &[]);
        let (router, _) =
            shared::assemble(ocr.clone(), folio_ocr::router(ocr), folio_ocr::openapi());
        for path in ["/openapi.json", "/docs", "/docs/swagger-ui-bundle.js"] {
            let (status, _, _) = get(&router, path).await;
            assert_eq!(status, 404, "{path} is off by default outside folio-local");
        }
        let ocr = state(Function::Ocr);
        let (router, _) =
            shared::assemble(ocr.clone(), folio_ocr::router(ocr), folio_ocr::openapi());
        let (status, _, body) = get(&router, "/openapi.json").await;
        assert_eq!(status, 200);
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert!(doc["paths"]["/v1/ocr"].is_object() && doc["paths"]["/v1/sessions"].is_object());
        assert!(
            doc["paths"]["/v1/quizzes"].is_null(),
            "the ocr function documents its own routes"
        );

        let local = state_with(Function::Local, &[("DOCS_ENABLED", "false")]);
        let (router, _) = shared::assemble(local.clone(), super::routes(local), super::openapi());
        let (status, _, _) = get(&router, "/docs").await;
        assert_eq!(status, 404);
    }
}
