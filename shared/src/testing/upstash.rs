//! A local Upstash REST emulator, so the REST backend runs offline and in
//! tests: an axum server that speaks the protocol (`POST /`, `/pipeline`,
//! `/multi-exec`, bearer token, `Upstash-Encoding: base64`,
//! `upstash-sync-token`) against a real Redis through the TCP transport. It
//! keeps the quirks of serverless-redis-http that users meet locally: only an
//! exact `Content-Type: application/json` is accepted, and with base64
//! encoding every string is encoded, `OK` too. Over plain HTTP, or over
//! HTTPS with a certificate of the caller's choosing (`start_tls`), as Upstash
//! itself answers. Scripts are held to `allow-key-locking`'s rules (declared
//! keys only; see `upstash/scripts.rs`). Also a dev binary:
//! `cargo run -p folio-shared --example upstash-emulator`.

mod scripts;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use http::{HeaderMap, StatusCode, header};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{RedisBackend, RedisConfig};
use crate::kv::{Cmd, Kv, KvError, Reply};
use crate::testing::redis_server::TlsFiles;

struct Emulator {
    kv: Kv,
    scripts: scripts::ScriptGate,
    token: String,
    next_sync: AtomicU64,
    seen_sync: Mutex<Vec<String>>,
}

/// A running emulator; stops when dropped.
pub struct UpstashEmulator {
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<Emulator>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl UpstashEmulator {
    /// Serves on a free loopback port in front of `redis_url`, accepting `token`.
    pub async fn start(redis_url: &str, token: &str) -> anyhow::Result<UpstashEmulator> {
        Self::start_on("127.0.0.1:0".parse()?, redis_url, token).await
    }

    /// Serves HTTPS on a free loopback port, presenting `files.cert` (valid
    /// for 127.0.0.1 and localhost); clients must trust `files.ca`.
    pub async fn start_tls(
        redis_url: &str,
        token: &str,
        files: &TlsFiles,
    ) -> anyhow::Result<UpstashEmulator> {
        crate::install_crypto_provider();
        let acceptor = tls::acceptor(&files.cert, &files.key)?;
        Self::start_with("127.0.0.1:0".parse()?, redis_url, token, Some(acceptor)).await
    }

    pub async fn start_on(
        addr: SocketAddr,
        redis_url: &str,
        token: &str,
    ) -> anyhow::Result<UpstashEmulator> {
        Self::start_with(addr, redis_url, token, None).await
    }

    async fn start_with(
        addr: SocketAddr,
        redis_url: &str,
        token: &str,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> anyhow::Result<UpstashEmulator> {
        crate::install_crypto_provider();
        let config = RedisConfig {
            backend: RedisBackend::Tcp {
                url: SecretString::from(redis_url.to_owned()),
            },
            // Keys arrive complete: no prefix of our own.
            key_prefix: String::new(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            tls_ca_file: None,
            cache_max_value_bytes: crate::kv::DEFAULT_CACHE_MAX_VALUE_BYTES,
        };
        let kv = Kv::from_config(&config)?;
        let state = Arc::new(Emulator {
            scripts: scripts::ScriptGate::new(redis_url, kv.clone())?,
            kv,
            token: token.to_owned(),
            next_sync: AtomicU64::new(1),
            seen_sync: Mutex::new(Vec::new()),
        });
        let mut emulator = UpstashEmulator {
            addr,
            tls,
            state,
            stop: None,
            task: None,
        };
        emulator.serve().await?;
        Ok(emulator)
    }

    async fn serve(&mut self) -> anyhow::Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        self.addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(self.state.clone());
        let stopped = async {
            let _ = stopped.await;
        };
        self.task = Some(match self.tls.clone() {
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            }),
            Some(acceptor) => {
                let listener = tls::TlsListener {
                    tcp: listener,
                    acceptor,
                };
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await;
                })
            }
        });
        self.stop = Some(stop);
        Ok(())
    }

    /// `http://127.0.0.1:<port>`, or `https://…` when serving TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `upstash-sync-token` values clients sent, in order.
    pub fn sync_tokens_seen(&self) -> Vec<String> {
        self.state
            .seen_sync
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Stops serving, closing every client connection.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Stops, then serves again on the same port: clients' pooled
    /// connections are gone, as when a server restarts mid-run.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.serve().await
    }
}

impl Drop for UpstashEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The emulator's routes over `state`.
fn router(state: Arc<Emulator>) -> Router {
    Router::new()
        .route(
            "/",
            post(single).get(|| async { "Welcome to the folio Upstash emulator" }),
        )
        .route("/pipeline", post(pipeline))
        .route("/multi-exec", post(multi_exec))
        .with_state(state)
}

async fn single(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::Single).await
}

async fn pipeline(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::Pipeline).await
}

async fn multi_exec(State(s): State<Arc<Emulator>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&s, &headers, &body, Shape::MultiExec).await
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Single,
    Pipeline,
    MultiExec,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

async fn handle(s: &Emulator, headers: &HeaderMap, body: &[u8], shape: Shape) -> Response {
    if headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()) != Some(b"application/json") {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid content type. Expected application/json.",
        );
    }
    let expected = format!("Bearer {}", s.token);
    if headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()) != Some(expected.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, "Invalid token").into_response();
    }
    if let Some(seen) = headers
        .get("upstash-sync-token")
        .and_then(|v| v.to_str().ok())
        && let Ok(mut list) = s.seen_sync.lock()
    {
        list.push(seen.to_owned());
    }
    let base64 = headers.get("upstash-encoding").map(|v| v.as_bytes()) == Some(b"base64");
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not JSON");
    };
    let cmds = match shape {
        Shape::Single => command(&json).map(|c| vec![c]),
        Shape::Pipeline | Shape::MultiExec => json
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(command).collect()),
    };
    let Some(cmds) = cmds else {
        return error(StatusCode::BAD_REQUEST, "the body is not a command array");
    };
    let outcome = run(s, &cmds, shape).await;
    let sync = format!("emu-{}", s.next_sync.fetch_add(1, Ordering::Relaxed));
    let mut response = match outcome {
        Err(KvError::Server(m)) => error(StatusCode::BAD_REQUEST, &m),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error occurred internally",
        )
            .into_response(),
        Ok(mut replies) if shape == Shape::Single => match replies.pop() {
            Some(Ok(reply)) => {
                axum::Json(json!({ "result": encode(reply, base64) })).into_response()
            }
            Some(Err(e)) => error(StatusCode::BAD_REQUEST, &message(e)),
            None => error(StatusCode::INTERNAL_SERVER_ERROR, "no reply"),
        },
        Ok(replies) => {
            let entries: Vec<Value> = replies
                .into_iter()
                .map(|r| match r {
                    Ok(reply) => json!({ "result": encode(reply, base64) }),
                    Err(e) => json!({ "error": message(e) }),
                })
                .collect();
            axum::Json(Value::Array(entries)).into_response()
        }
    };
    if let Ok(value) = http::HeaderValue::from_str(&sync) {
        response.headers_mut().insert("upstash-sync-token", value);
    }
    response
}

/// Runs a batch: scripts through the key-checking gate, one by one (a
/// pipeline is not atomic, so that is what Upstash does too); a `MULTI` batch
/// as one transaction, its scripts unchecked (a documented gap).
async fn run(
    s: &Emulator,
    cmds: &[Cmd],
    shape: Shape,
) -> Result<Vec<Result<Reply, KvError>>, KvError> {
    if shape == Shape::MultiExec || !cmds.iter().any(scripts::is_script) {
        return s.kv.pipeline(cmds, shape == Shape::MultiExec).await;
    }
    let mut replies = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let reply = if scripts::is_script(cmd) {
            match s.scripts.run(cmd).await {
                Err(e) if e.is_unavailable() => return Err(e),
                other => other,
            }
        } else {
            s.kv.query(cmd.clone()).await
        };
        replies.push(reply);
    }
    Ok(replies)
}

fn message(e: KvError) -> String {
    match e {
        KvError::Server(m) | KvError::Protocol(m) => m,
        other => other.to_string(),
    }
}

fn command(value: &Value) -> Option<Cmd> {
    let words = value.as_array().filter(|a| !a.is_empty())?;
    let mut args = Vec::with_capacity(words.len());
    for word in words {
        args.push(match word {
            Value::String(s) => s.clone().into_bytes(),
            Value::Number(n) => n.to_string().into_bytes(),
            Value::Bool(b) => b.to_string().into_bytes(),
            _ => return None,
        });
    }
    Some(Cmd { args })
}

fn encode(reply: Reply, base64: bool) -> Value {
    let text = |bytes: Vec<u8>| {
        if base64 {
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    match reply {
        Reply::Nil => Value::Null,
        Reply::Int(i) => Value::from(i),
        Reply::Bytes(b) => text(b),
        Reply::Status(s) => text(s.into_bytes()),
        Reply::Array(items) => Value::Array(items.into_iter().map(|r| encode(r, base64)).collect()),
    }
}
