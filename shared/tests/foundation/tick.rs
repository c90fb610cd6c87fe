//! Signed scheduler calls: Google OIDC ID tokens (Cloud Scheduler's
//! `oidcToken`) verified through a real local JWKS endpoint, beside the
//! shared tick token.

use folio_testing::TEST_TICK_TOKEN;
use folio_testing::jwks_server::JwksServer;
use serde_json::{Value, json};
use shared::auth::tick::TickAuth;
use shared::config::{Config, Function};

use super::jwks::{now, rsa};

const AUDIENCE: &str = "https://folio-worker-tick-abc123-ew.a.run.app/v1/worker/tick";
const SCHEDULER: &str = "folio-scheduler@my-project.iam.gserviceaccount.com";

fn tick_auth(jwks_url: &str, with_token: bool) -> TickAuth {
    let mut vars = vec![
        ("DATABASE_URL", "postgres://127.0.0.1/x"),
        ("WORKER_TICK_OIDC_AUDIENCE", AUDIENCE),
        ("WORKER_TICK_OIDC_EMAILS", SCHEDULER),
        ("WORKER_TICK_OIDC_JWKS_URL", jwks_url),
    ];
    if with_token {
        vars.push(("WORKER_TICK_TOKEN", TEST_TICK_TOKEN));
    }
    let vars = vars.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = Config::from_vars(Function::WorkerTick, vars).expect("config");
    TickAuth::new(&config).expect("tick auth")
}

fn headers(bearer: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        "authorization",
        format!("Bearer {bearer}").parse().expect("header"),
    );
    h
}

fn google(extra: Value) -> Value {
    let mut c = json!({"aud": AUDIENCE, "azp": "1234567890", "email": SCHEDULER,
        "email_verified": true, "exp": now() + 3600, "iat": now(),
        "iss": "https://accounts.google.com", "sub": "1234567890"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

#[tokio::test]
async fn a_cloud_scheduler_oidc_token_from_an_allowed_account_may_tick() {
    let (key, _) = rsa("google-kid");
    let server = JwksServer::start(&[&key]).await;
    let auth = tick_auth(&server.url, true);
    auth.authorize(&headers(&key.sign(&google(json!({})))))
        .await
        .expect("signed scheduler call");
    auth.authorize(&headers(
        &key.sign(&google(json!({"iss": "accounts.google.com"}))),
    ))
    .await
    .expect("Google's short issuer form");
    auth.authorize(&headers(TEST_TICK_TOKEN))
        .await
        .expect("the shared token still works");
    // Without the shared token, the OIDC path alone is enough to configure.
    let oidc_only = tick_auth(&server.url, false);
    oidc_only
        .authorize(&headers(&key.sign(&google(json!({})))))
        .await
        .expect("oidc only");
    assert!(
        oidc_only
            .authorize(&headers(TEST_TICK_TOKEN))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn oidc_tokens_for_another_audience_issuer_or_account_may_not_tick() {
    let (key, _) = rsa("google-kid");
    let (stranger, _) = rsa("google-kid");
    let server = JwksServer::start(&[&key]).await;
    let auth = tick_auth(&server.url, true);
    let cases = [
        key.sign(&google(
            json!({"aud": "https://elsewhere.example/v1/worker/tick"}),
        )),
        key.sign(&google(json!({"iss": "https://evil.example"}))),
        key.sign(&google(
            json!({"email": "someone@my-project.iam.gserviceaccount.com"}),
        )),
        key.sign(&google(json!({"email_verified": false}))),
        key.sign(&google(json!({"exp": now() - 600}))),
        stranger.sign(&google(json!({}))),
        "not-the-token".to_owned(),
    ];
    for token in cases {
        let err = auth.authorize(&headers(&token)).await.expect_err("refused");
        assert_eq!(err.status(), 401, "{err:?}");
    }
}
