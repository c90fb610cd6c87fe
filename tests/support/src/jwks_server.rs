//! A real local JWKS endpoint for tests: an axum server on a free loopback
//! port serving the public halves of keys the test holds, counting every
//! fetch, and able to rotate keys, answer 503 or change its `Cache-Control`.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};

/// A signing key with its `kid`, from a PKCS#8 PEM private key (RSA, P-256
/// or Ed25519; tests generate them).
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    /// The public key as a JWK (with `kid`, `alg`, `use: sig`).
    pub jwk: serde_json::Value,
}

impl TestKey {
    /// An Ed25519 key from its PKCS#8 PEM and its raw 32-byte public key
    /// (jsonwebtoken derives the public half only from PKCS#8 v1 documents).
    pub fn ed25519(kid: &str, pem: &str, public_raw: &[u8]) -> TestKey {
        use base64::Engine;
        let encoding = EncodingKey::from_ed_pem(pem.as_bytes()).expect("an Ed25519 PKCS#8 key");
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_raw);
        TestKey {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding,
            jwk: serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}),
        }
    }

    pub fn from_pkcs8_pem(kid: &str, alg: Algorithm, pem: &str) -> TestKey {
        let encoding = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            other => panic!("TestKey does not do {other:?}"),
        }
        .expect("a PKCS#8 private key");
        let jwk = Jwk::from_encoding_key(&encoding, alg).expect("public JWK");
        let mut jwk = serde_json::to_value(jwk).expect("jwk json");
        jwk["kid"] = kid.into();
        jwk["use"] = "sig".into();
        TestKey {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// A token with this key's `kid` and algorithm over `claims`.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }

    /// A token with the given header `kid` (which may name no key).
    pub fn sign_as(&self, kid: &str, claims: &serde_json::Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

#[derive(Default)]
struct Shared {
    keys: Mutex<Vec<serde_json::Value>>,
    cache_control: Mutex<String>,
    down: AtomicBool,
    fetches: AtomicU64,
}

/// The running server; stops when dropped.
pub struct JwksServer {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    /// Serves `keys` at `http://127.0.0.1:<free port>/jwks.json`.
    pub async fn start(keys: &[&TestKey]) -> JwksServer {
        let shared = Arc::new(Shared::default());
        *lock(&shared.cache_control) = "public, max-age=3600".to_owned();
        let server = {
            let shared = shared.clone();
            Router::new().route(
                "/jwks.json",
                get(move || {
                    let shared = shared.clone();
                    async move {
                        shared.fetches.fetch_add(1, Ordering::SeqCst);
                        if shared.down.load(Ordering::SeqCst) {
                            return StatusCode::SERVICE_UNAVAILABLE.into_response();
                        }
                        let body = serde_json::json!({"keys": *lock(&shared.keys)});
                        let cache = lock(&shared.cache_control).clone();
                        ([("cache-control", cache)], axum::Json(body)).into_response()
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, server).await;
        });
        let this = JwksServer {
            url: format!("http://{addr}/jwks.json"),
            shared,
            task,
        };
        this.set_keys(keys);
        this
    }

    /// Replaces the published keys (rotation).
    pub fn set_keys(&self, keys: &[&TestKey]) {
        *lock(&self.shared.keys) = keys.iter().map(|k| k.jwk.clone()).collect();
    }

    pub fn set_cache_control(&self, value: &str) {
        *lock(&self.shared.cache_control) = value.to_owned();
    }

    /// While down, every fetch is answered 503.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
    }

    /// Requests received so far.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
