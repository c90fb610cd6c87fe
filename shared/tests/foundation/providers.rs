//! One token of each identity provider's shape, signed by a local key served
//! from a local JWKS endpoint, checked with the settings docs/auth.md gives.

use axum::Router;
use axum::routing::get;
use folio_testing::jwks_server::JwksServer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shared::auth::{AdminUser, AuthUser};

use super::jwks::{authenticator, ec, now, refused, rsa};

#[tokio::test]
async fn supabase_tokens_verify_with_the_project_secret_and_with_its_asymmetric_keys() {
    let key = ec("supabase-ec");
    let server = JwksServer::start(&[&key]).await;
    let secret = "super-secret-jwt-token-with-at-least-32-characters";
    let iss = "https://abcdefgh.supabase.co/auth/v1";
    let auth = authenticator(&[
        ("JWT_PROVIDER", "supabase"),
        ("JWT_SECRET_KEY", secret),
        ("JWT_JWKS_URL", &server.url),
        ("JWT_ISSUER", iss),
    ]);
    let user = json!({"iss": iss, "sub": "8d0f3a52-0000-4000-8000-000000000001", "aud": "authenticated",
        "exp": now() + 3600, "iat": now(), "email": "a@example.com", "phone": "",
        "app_metadata": {"provider": "email", "role": "admin"}, "user_metadata": {},
        "role": "authenticated", "aal": "aal1", "session_id": "5b9c1e0e-0000-4000-8000-000000000002",
        "is_anonymous": false});
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &user,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign");
    for token in [hs256, key.sign(&user)] {
        let id = auth.verify(&token).await.expect("supabase user token");
        assert_eq!(id.user_id, "8d0f3a52-0000-4000-8000-000000000001");
        assert_eq!(
            id.session_id.as_deref(),
            Some("5b9c1e0e-0000-4000-8000-000000000002")
        );
        assert!(id.admin, "app_metadata.role = admin");
    }
    // The project's anon key: role anon, no user, no `authenticated` audience.
    let anon = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": "supabase", "ref": "abcdefgh", "role": "anon", "iat": now(), "exp": now() + 3600}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign");
    refused(auth.verify(&anon).await);
}

#[tokio::test]
async fn auth0_access_tokens_verify_with_their_api_audience_and_namespaced_roles() {
    let (key, _) = rsa("auth0-kid");
    let server = JwksServer::start(&[&key]).await;
    let auth = authenticator(&[
        ("JWT_PROVIDER", "auth0"),
        ("JWT_JWKS_URL", &server.url),
        ("JWT_ISSUER", "https://folio-dev.eu.auth0.com/"),
        ("JWT_AUDIENCE", "https://api.folio.dev"),
        ("JWT_ADMIN_CLAIM", "https://folio.dev/roles"),
    ]);
    let token = |aud: Value, roles: Value| {
        key.sign(
            &json!({"iss": "https://folio-dev.eu.auth0.com/", "sub": "auth0|65f0c0ffee",
            "aud": aud, "iat": now(), "exp": now() + 86400, "scope": "openid profile",
            "azp": "kTtX7cl1entId", "sid": "auth0-session-1", "https://folio.dev/roles": roles}),
        )
    };
    let id = auth
        .verify(&token(
            json!([
                "https://api.folio.dev",
                "https://folio-dev.eu.auth0.com/userinfo"
            ]),
            json!(["admin"]),
        ))
        .await
        .expect("auth0 access token");
    assert_eq!((id.user_id.as_str(), id.admin), ("auth0|65f0c0ffee", true));
    assert_eq!(id.session_id.as_deref(), Some("auth0-session-1"));
    let id = auth
        .verify(&token(json!("https://api.folio.dev"), json!([])))
        .await
        .expect("valid");
    assert!(!id.admin);
    refused(
        auth.verify(&token(json!("https://other.api"), json!([])))
            .await,
    );
}

#[tokio::test]
async fn cognito_access_and_id_tokens_are_told_apart_by_token_use_and_client() {
    let (key, _) = rsa("cognito-kid");
    let server = JwksServer::start(&[&key]).await;
    let iss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI";
    let vars = [
        ("JWT_PROVIDER", "cognito"),
        ("JWT_JWKS_URL", server.url.as_str()),
        ("JWT_ISSUER", iss),
        ("JWT_AUDIENCE", "4l2clientid"),
    ];
    let auth = authenticator(&vars);
    let access = |client: &str| {
        key.sign(
            &json!({"sub": "a1b2c3d4-0000", "cognito:groups": ["admin"], "iss": iss,
            "client_id": client, "origin_jti": "origin-1", "event_id": "e", "token_use": "access",
            "scope": "aws.cognito.signin.user.admin", "auth_time": now(), "exp": now() + 3600,
            "iat": now(), "jti": "jti-1", "username": "alice"}),
        )
    };
    let id_token = key.sign(&json!({"sub": "a1b2c3d4-0000", "aud": "4l2clientid", "iss": iss,
        "email_verified": true, "token_use": "id", "auth_time": now(), "origin_jti": "origin-1",
        "cognito:username": "alice", "exp": now() + 3600, "iat": now(), "jti": "jti-2", "email": "a@example.com"}));
    let a = auth
        .verify(&access("4l2clientid"))
        .await
        .expect("access token");
    assert!(a.admin, "cognito:groups holds admin");
    assert_eq!(
        a.session_id.as_deref(),
        Some("origin-1"),
        "one login, one session"
    );
    let i = auth.verify(&id_token).await.expect("id token");
    assert_eq!(i.session_id.as_deref(), Some("origin-1"));
    assert_eq!(
        refused(auth.verify(&access("another-client")).await),
        "the token has the wrong audience"
    );
    let only_access = authenticator(&[
        vars[0],
        vars[1],
        vars[2],
        vars[3],
        ("JWT_TOKEN_USE", "access"),
    ]);
    assert_eq!(
        refused(only_access.verify(&id_token).await),
        "the token's token_use is not accepted"
    );
}

#[tokio::test]
async fn firebase_id_tokens_verify_with_the_project_as_audience() {
    let (key, _) = rsa("firebase-kid");
    let server = JwksServer::start(&[&key]).await;
    let auth = authenticator(&[
        ("JWT_PROVIDER", "firebase"),
        ("JWT_JWKS_URL", &server.url),
        ("JWT_ISSUER", "https://securetoken.google.com/folio-prod"),
        ("JWT_AUDIENCE", "folio-prod"),
    ]);
    let token = |aud: &str| {
        key.sign(
            &json!({"iss": "https://securetoken.google.com/folio-prod", "aud": aud,
            "auth_time": 1_767_000_000, "user_id": "fbUid123", "sub": "fbUid123", "iat": now(),
            "exp": now() + 3600, "email": "a@example.com", "email_verified": true, "admin": true,
            "firebase": {"identities": {}, "sign_in_provider": "password"}}),
        )
    };
    let id = auth
        .verify(&token("folio-prod"))
        .await
        .expect("firebase token");
    assert_eq!(id.user_id, "fbUid123");
    assert!(id.admin, "custom claim admin: true");
    assert_eq!(
        id.session_id.as_deref(),
        Some("1767000000"),
        "auth_time marks one sign-in"
    );
    refused(auth.verify(&token("someone-elses-project")).await);
}

#[tokio::test]
async fn clerk_session_tokens_verify_and_their_authorized_party_is_checked() {
    let (key, _) = rsa("ins_clerk");
    let server = JwksServer::start(&[&key]).await;
    let auth = authenticator(&[
        ("JWT_PROVIDER", "clerk"),
        ("JWT_JWKS_URL", &server.url),
        ("JWT_ISSUER", "https://folio.clerk.accounts.dev"),
        ("JWT_AUTHORIZED_PARTIES", "https://app.folio.dev"),
    ]);
    let token = |azp: &str| {
        key.sign(
            &json!({"azp": azp, "exp": now() + 60, "iat": now(), "nbf": now() - 10,
            "iss": "https://folio.clerk.accounts.dev", "sid": "sess_2abc", "sub": "user_2xyz",
            "org_role": "org:admin", "v": 2}),
        )
    };
    let id = auth
        .verify(&token("https://app.folio.dev"))
        .await
        .expect("clerk token");
    assert_eq!(id.session_id.as_deref(), Some("sess_2abc"));
    assert!(id.admin);
    assert_eq!(
        refused(auth.verify(&token("https://evil.example")).await),
        "the token's authorized party (azp) is not accepted"
    );
}

#[tokio::test]
async fn the_user_claim_is_configurable() {
    let (key, _) = rsa("k");
    let server = JwksServer::start(&[&key]).await;
    let auth = authenticator(&[("JWT_JWKS_URL", &server.url), ("JWT_USER_CLAIM", "email")]);
    let t = key.sign(&json!({"sub": "x", "email": "a@example.com", "exp": now() + 60}));
    assert_eq!(
        auth.verify(&t).await.expect("valid").user_id,
        "a@example.com"
    );
    let t = key.sign(&json!({"sub": "x", "exp": now() + 60}));
    assert_eq!(
        refused(auth.verify(&t).await),
        "the token's subject is not usable"
    );
}

#[tokio::test]
async fn an_admin_route_answers_403_to_a_valid_token_without_the_role() {
    use tower::ServiceExt;
    let (key, _) = rsa("k");
    let server = JwksServer::start(&[&key]).await;
    let auth = std::sync::Arc::new(authenticator(&[("JWT_JWKS_URL", &server.url)]));
    let app = Router::new()
        .route(
            "/ops",
            get(|AdminUser(u): AdminUser| async move { u.user_id }),
        )
        .route("/me", get(|u: AuthUser| async move { u.user_id }))
        .with_state(auth);
    let call = |path: &'static str, claims: Value| {
        let app = app.clone();
        let token = key.sign(&claims);
        async move {
            let request = http::Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .expect("request");
            let response = app.oneshot(request).await.expect("infallible");
            (
                response.status().as_u16(),
                response.headers().get("content-type").cloned(),
            )
        }
    };
    let admin = json!({"sub": "root", "roles": ["admin"], "exp": now() + 60});
    let plain = json!({"sub": "bob", "roles": ["user"], "exp": now() + 60});
    assert_eq!(call("/ops", admin).await.0, 200);
    let (status, content_type) = call("/ops", plain.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(content_type.expect("type"), shared::error::PROBLEM_JSON);
    assert_eq!(call("/me", plain).await.0, 200);
}

#[tokio::test]
async fn a_cold_start_with_the_provider_down_answers_503_with_retry_after_over_http() {
    use tower::ServiceExt;
    let (key, _) = rsa("k");
    let server = JwksServer::start(&[&key]).await;
    server.set_down(true);
    let auth = std::sync::Arc::new(authenticator(&[("JWT_JWKS_URL", &server.url)]));
    let app = Router::new()
        .route("/me", get(|u: AuthUser| async move { u.user_id }))
        .with_state(auth);
    let request = http::Request::get("/me")
        .header(
            "authorization",
            format!(
                "Bearer {}",
                key.sign(&json!({"sub": "a", "exp": now() + 60}))
            ),
        )
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert!(server.fetches() >= 1, "the endpoint was asked");
}
