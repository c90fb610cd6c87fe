//! Provider keys through a real local JWKS endpoint: algorithms, rotation,
//! fetch bounds, the endpoint going down, and the attacks on key choice.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use folio_testing::jwks_server::{JwksServer, TestKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shared::Error;
use shared::auth::{Authenticator, Identity};
use shared::config::{Config, Function};

pub fn rsa(kid: &str) -> (TestKey, rcgen::KeyPair) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
    (
        TestKey::from_pkcs8_pem(kid, Algorithm::RS256, &pair.serialize_pem()),
        pair,
    )
}

pub fn ec(kid: &str) -> TestKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("ec key");
    TestKey::from_pkcs8_pem(kid, Algorithm::ES256, &pair.serialize_pem())
}

pub fn ed(kid: &str) -> TestKey {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("ed25519 key");
    TestKey::ed25519(kid, &pair.serialize_pem(), pair.public_key_raw())
}

/// An authenticator built from configuration variables, as `main` would.
pub fn authenticator(vars: &[(&str, &str)]) -> Authenticator {
    let mut all = vec![(
        "DATABASE_URL".to_owned(),
        "postgres://127.0.0.1/x".to_owned(),
    )];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Config::from_vars(Function::Quiz, all).expect("config");
    shared::install_crypto_provider();
    Authenticator::new(config.jwt.as_ref().expect("jwt")).expect("authenticator")
}

pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("time")
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "alice", "exp": now() + 600, "iat": now(),
        "iss": "https://id.test", "aud": "folio"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

fn jwks_auth(server: &JwksServer, interval: &str) -> Authenticator {
    authenticator(&[
        ("JWT_JWKS_URL", &server.url),
        ("JWT_ISSUER", "https://id.test"),
        ("JWT_AUDIENCE", "folio"),
        ("JWT_JWKS_REFRESH_INTERVAL", interval),
        ("JWT_JWKS_CACHE_MIN", "0"),
    ])
}

pub fn refused(result: Result<Identity, Error>) -> String {
    match result {
        Err(Error::Unauthorized(why)) => why,
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_verify_against_the_providers_published_keys() {
    let (r, _) = rsa("r1");
    let (e, d) = (ec("e1"), ed("d1"));
    let server = JwksServer::start(&[&r, &e, &d]).await;
    let auth = jwks_auth(&server, "30s");
    for key in [&r, &e, &d] {
        let id = auth
            .verify(&key.sign(&claims(json!({}))))
            .await
            .expect("valid");
        assert_eq!(id.user_id, "alice");
    }
    assert_eq!(server.fetches(), 1, "one fetch serves every key");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_the_old_kid_works_until_it_is_removed() {
    let (old, _) = rsa("old");
    let new = ec("new");
    let server = JwksServer::start(&[&old]).await;
    server.set_cache_control("max-age=1");
    let auth = jwks_auth(&server, "200ms");
    auth.verify(&old.sign(&claims(json!({}))))
        .await
        .expect("old key");
    server.set_keys(&[&old, &new]);
    for _ in 0..20 {
        auth.verify(&new.sign(&claims(json!({}))))
            .await
            .expect("new key");
        auth.verify(&old.sign(&claims(json!({}))))
            .await
            .expect("old key still published");
    }
    assert_eq!(server.fetches(), 2, "the new kid cost exactly one fetch");
    server.set_keys(&[&new]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The cache expired (max-age=1): the next request refetches and the
    // removed key stops working.
    auth.verify(&new.sign(&claims(json!({}))))
        .await
        .expect("new key");
    assert_eq!(
        refused(auth.verify(&old.sign(&claims(json!({})))).await),
        "the token's key id is not one of the identity provider's keys"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_at_most_one_fetch_per_refresh_interval() {
    let (key, _) = rsa("real");
    let server = JwksServer::start(&[&key]).await;
    let auth = std::sync::Arc::new(jwks_auth(&server, "30s"));
    auth.verify(&key.sign(&claims(json!({}))))
        .await
        .expect("warm");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let auth = auth.clone();
        let token = key.sign_as(&format!("random-{i}"), &claims(json!({})));
        tasks.push(tokio::spawn(async move { auth.verify(&token).await }));
    }
    for task in tasks {
        refused(task.await.expect("task"));
    }
    // And one after another, which no coalescing of concurrent requests absorbs.
    for i in 0..50 {
        let token = key.sign_as(&format!("serial-{i}"), &claims(json!({})));
        refused(auth.verify(&token).await);
    }
    assert!(
        server.fetches() <= 2,
        "{} fetches for 250 unknown kids",
        server.fetches()
    );
    auth.verify(&key.sign(&claims(json!({}))))
        .await
        .expect("real key unaffected");
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_endpoint_is_down_and_a_cold_start_is_503() {
    let (key, _) = rsa("k");
    let server = JwksServer::start(&[&key]).await;
    server.set_cache_control("max-age=0");
    let warm = jwks_auth(&server, "0s");
    warm.verify(&key.sign(&claims(json!({}))))
        .await
        .expect("warm");
    server.set_down(true);
    // Expired and the refetch fails: the keys in hand still verify.
    warm.verify(&key.sign(&claims(json!({}))))
        .await
        .expect("cached key while down");
    let cold = jwks_auth(&server, "0s");
    match cold.verify(&key.sign(&claims(json!({})))).await {
        Err(e @ Error::Unavailable { .. }) => assert_eq!(e.status(), 503),
        other => panic!("expected 503, got {other:?}"),
    }
    server.set_down(false);
    cold.verify(&key.sign(&claims(json!({}))))
        .await
        .expect("recovers once the endpoint is back");
}

#[tokio::test]
async fn an_rsa_public_key_used_as_an_hmac_secret_is_refused() {
    let (key, pair) = rsa("r");
    let pem = pair.public_key_pem();
    let forged = |kid: Option<&str>| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(pem.as_bytes()),
        )
        .expect("sign")
    };
    let server = JwksServer::start(&[&key]).await;
    // Provider keys only (no secret), provider keys beside a secret (Supabase),
    // and one pinned public key.
    let secret = "a-project-secret-a-project-secret-!!";
    let setups = [
        jwks_auth(&server, "30s"),
        authenticator(&[("JWT_JWKS_URL", &server.url), ("JWT_SECRET_KEY", secret)]),
        authenticator(&[("JWT_ALGORITHM", "RS256"), ("JWT_PUBLIC_KEY", &pem)]),
    ];
    for auth in &setups {
        for kid in [Some("r"), None] {
            refused(auth.verify(&forged(kid)).await);
        }
    }
    // The pinned key itself works.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let ok = jsonwebtoken::encode(
        &header,
        &claims(json!({})),
        &EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).expect("key"),
    )
    .expect("sign");
    setups[2]
        .verify(&ok)
        .await
        .expect("RS256 with the pinned key");
}

#[tokio::test]
async fn alg_none_and_a_kid_free_token_are_refused_when_keys_come_from_jwks() {
    let (key, _) = rsa("r");
    let server = JwksServer::start(&[&key]).await;
    let auth = jwks_auth(&server, "30s");
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"r","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    for t in [format!("{header}.{body}."), format!("{header}.{body}")] {
        refused(auth.verify(&t).await);
    }
    let mut no_kid = Header::new(Algorithm::RS256);
    no_kid.kid = None;
    let t = key.sign(&claims(json!({})));
    let parts: Vec<&str> = t.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&no_kid).expect("header")),
        parts[1],
        parts[2]
    );
    assert_eq!(
        refused(auth.verify(&swapped).await),
        "the token names no key id (kid)"
    );
}

#[tokio::test]
async fn wrong_audience_issuer_expiry_and_not_before_are_refused_with_a_small_leeway() {
    let (key, _) = rsa("r");
    let server = JwksServer::start(&[&key]).await;
    let auth = jwks_auth(&server, "30s");
    let cases = [
        (json!({"aud": "other"}), "the token has the wrong audience"),
        (
            json!({"iss": "https://evil.test"}),
            "the token has the wrong issuer",
        ),
        (json!({"exp": now() - 120}), "the token has expired"),
        (json!({"nbf": now() + 120}), "the token is not valid yet"),
    ];
    for (extra, why) in cases {
        assert_eq!(refused(auth.verify(&key.sign(&claims(extra))).await), why);
    }
    let mut no_aud = claims(json!({}));
    no_aud.as_object_mut().expect("object").remove("aud");
    assert_eq!(
        refused(auth.verify(&key.sign(&no_aud)).await),
        "the token lacks a required claim"
    );
    // Inside the 30 s leeway both ways.
    auth.verify(&key.sign(&claims(json!({"exp": now() - 5, "nbf": now() + 5}))))
        .await
        .expect("a few seconds of skew are tolerated");
}
