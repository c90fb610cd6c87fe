//! JWT parsing and checking. Even first byte: the rest is a raw token (header,
//! signature and algorithm handling). Odd: the rest is a claims object signed
//! with the deployment's own secret, so the claims checks behind a valid
//! signature are reached too. A token is accepted or refused with a 401
//! reason; never a panic.
#![no_main]

use std::sync::OnceLock;

use jsonwebtoken::{EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use shared::auth::Authenticator;

const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    })
}

fn authenticator() -> &'static Authenticator {
    static AUTH: OnceLock<Authenticator> = OnceLock::new();
    AUTH.get_or_init(|| {
        let config = shared::config::Config::from_vars(
            shared::config::Function::Ocr,
            [
                ("DATABASE_URL", "postgres://127.0.0.1/unused"),
                ("JWT_SECRET_KEY", SECRET),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .expect("config");
        Authenticator::new(config.jwt.as_ref().expect("jwt config")).expect("authenticator")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let token = if mode & 1 == 0 {
        let Ok(token) = std::str::from_utf8(rest) else {
            return;
        };
        token.to_owned()
    } else {
        let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest) else {
            return;
        };
        let Ok(token) = jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        ) else {
            return;
        };
        token
    };
    if let Err(e) = runtime().block_on(authenticator().verify(&token)) {
        let _ = e.to_string();
    }
});
