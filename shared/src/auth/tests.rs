use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

use super::*;
use crate::config::{Config, Function};

const SECRET: &str = "test-secret-test-secret-test-secret!";

fn authenticator(extra: &[(&str, &str)]) -> Authenticator {
    let mut vars = vec![
        (
            "DATABASE_URL".to_owned(),
            "postgres://127.0.0.1/x".to_owned(),
        ),
        ("JWT_SECRET_KEY".to_owned(), SECRET.to_owned()),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let config = Config::from_vars(Function::Quiz, vars).expect("config");
    Authenticator::new(config.jwt.as_ref().expect("jwt")).expect("authenticator")
}

fn token(alg: Algorithm, secret: &str, claims: serde_json::Value) -> String {
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn reason(result: Result<Identity, Error>) -> String {
    match result {
        Err(Error::Unauthorized(why)) => why,
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_token_names_its_subject() {
    let auth = authenticator(&[]);
    let t = mint_hs256(SECRET, "user-1", Duration::from_secs(60)).expect("mint");
    assert_eq!(auth.verify(&t).await.expect("valid").user_id, "user-1");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let auth = authenticator(&[]);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(format!(r#"{{"sub":"mallory","exp":{}}}"#, now() + 600));
    for t in [format!("{header}.{body}."), format!("{header}.{body}")] {
        reason(auth.verify(&t).await);
    }
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let auth = authenticator(&[]);
    let t = token(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"sub": "u", "exp": now() - 3600}),
    );
    assert_eq!(reason(auth.verify(&t).await), "the token has expired");
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_refused() {
    let auth = authenticator(&[]);
    let t = token(
        Algorithm::HS256,
        "another-secret-another-secret-another",
        serde_json::json!({"sub": "u", "exp": now() + 600}),
    );
    assert_eq!(
        reason(auth.verify(&t).await),
        "the token's signature does not verify"
    );
}

#[tokio::test]
async fn the_algorithm_is_pinned_by_config_not_by_the_token() {
    let auth = authenticator(&[]);
    let t = token(
        Algorithm::HS512,
        SECRET,
        serde_json::json!({"sub": "u", "exp": now() + 600}),
    );
    reason(auth.verify(&t).await);
}

#[tokio::test]
async fn exp_and_sub_are_required() {
    let auth = authenticator(&[]);
    let no_exp = token(Algorithm::HS256, SECRET, serde_json::json!({"sub": "u"}));
    reason(auth.verify(&no_exp).await);
    let no_sub = token(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"exp": now() + 600}),
    );
    reason(auth.verify(&no_sub).await);
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let auth = authenticator(&[
        ("JWT_ISSUER", "https://id.folio.dev"),
        ("JWT_AUDIENCE", "folio"),
    ]);
    let good = token(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"sub": "u", "exp": now() + 600, "iss": "https://id.folio.dev", "aud": "folio"}),
    );
    auth.verify(&good).await.expect("matching iss and aud");
    let wrong_iss = token(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"sub": "u", "exp": now() + 600, "iss": "https://evil", "aud": "folio"}),
    );
    assert_eq!(
        reason(auth.verify(&wrong_iss).await),
        "the token has the wrong issuer"
    );
    let wrong_aud = token(
        Algorithm::HS256,
        SECRET,
        serde_json::json!({"sub": "u", "exp": now() + 600, "iss": "https://id.folio.dev", "aud": "other"}),
    );
    assert_eq!(
        reason(auth.verify(&wrong_aud).await),
        "the token has the wrong audience"
    );
}
