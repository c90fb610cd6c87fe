use axum::Router;
use axum::routing::get;
use folio_testing::TestApp;
use shared::auth::AuthUser;
use shared::config::Function;

async fn app() -> TestApp {
    TestApp::spawn(Function::Quiz, &[], |state| {
        Router::new()
            .route("/v1/me", get(|user: AuthUser| async move { user.user_id }))
            .with_state(state)
    })
    .await
}

#[tokio::test]
async fn a_valid_bearer_token_reaches_the_handler_as_its_subject() {
    let app = app().await;
    let r = app.get("/v1/me", Some(&app.token("alice"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.bytes, b"alice");
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_problems_with_www_authenticate() {
    let app = app().await;
    for header in [
        None,
        Some("Basic YWxpY2U6cHc="),
        Some("Bearer "),
        Some("Bearer not.a.jwt"),
    ] {
        let mut request = http::Request::get("/v1/me");
        if let Some(h) = header {
            request = request.header("authorization", h);
        }
        let r = app
            .call(request.body(axum::body::Body::empty()).expect("request"))
            .await;
        r.assert_problem(401, "unauthorized");
        assert_eq!(
            r.headers["www-authenticate"], "Bearer error=\"invalid_token\"",
            "{header:?}"
        );
    }
}
