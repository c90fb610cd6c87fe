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

mod protocol;
mod scripts;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::redis_server::TlsFiles;
use shared::config::{RedisBackend, RedisConfig};
use shared::kv::Kv;

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
        shared::install_crypto_provider();
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
        shared::install_crypto_provider();
        let config = RedisConfig {
            backend: RedisBackend::Tcp {
                url: SecretString::from(redis_url.to_owned()),
            },
            // Keys arrive complete: no prefix of our own.
            key_prefix: String::new(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            tls_ca_file: None,
            cache_max_value_bytes: shared::kv::DEFAULT_CACHE_MAX_VALUE_BYTES,
            // An emulator forwards faithfully: it never skips its upstream.
            breaker: shared::kv::BreakerConfig {
                failures: 0,
                ..Default::default()
            },
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
        let app = protocol::router(self.state.clone());
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
