//! Redis, the accelerator: one `Kv` handle over interchangeable transports
//! (TCP through the `redis` crate; Upstash REST lives beside it). Redis is never
//! the only copy of anything a user would miss, so callers treat every
//! `KvError` as "serve uncached".
//!
//! Keys and channels get the configured prefix here, in one place, so no key
//! escapes it (tests run side by side on one server with a prefix each).

mod tcp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::{RedisBackend, RedisConfig};

pub use tcp::TcpTransport;

/// One command: its words, binary-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub args: Vec<Vec<u8>>,
}

impl Cmd {
    pub fn new(name: &str) -> Self {
        Cmd {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    pub fn name(&self) -> String {
        self.args
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }
}

/// A reply, independent of the transport that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bytes(Vec<u8>),
    /// A simple status such as `OK` or `PONG`.
    Status(String),
    Array(Vec<Reply>),
}

impl Reply {
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Reply::Bytes(b) => Some(b),
            Reply::Status(s) => Some(s.into_bytes()),
            Reply::Int(i) => Some(i.to_string().into_bytes()),
            Reply::Nil | Reply::Array(_) => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            Reply::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Reply::Status(s) => s.parse().ok(),
            Reply::Nil | Reply::Array(_) => None,
        }
    }
}

/// Why a Redis call failed. Never carries a URL, password or token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KvError {
    /// No Redis is configured.
    #[error("redis is not configured")]
    Disabled,
    /// Could not reach the server in time (down, refused, timed out, TLS failed).
    #[error("redis is unavailable: {0}")]
    Unavailable(String),
    /// The server answered with an error (`NOSCRIPT`, `OOM`, wrong type…).
    #[error("redis error: {0}")]
    Server(String),
    /// The answer could not be understood.
    #[error("redis protocol error: {0}")]
    Protocol(String),
}

impl KvError {
    /// Redis refuses writes when full (`OOM`, or Upstash's limits): treated
    /// like "down" by callers, never a 5xx.
    pub fn is_no_script(&self) -> bool {
        matches!(self, KvError::Server(m) if m.starts_with("NOSCRIPT"))
    }
}

/// A way to send commands to Redis. Implementations apply no key prefix.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// `tcp` or `rest`, as readiness reports it.
    fn backend(&self) -> &'static str;

    /// Sends `cmds` in one round trip and returns one result per command.
    /// `atomic` asks for MULTI/EXEC semantics. An error for the whole batch
    /// (unreachable server) is the outer `Err`; a command the server refused
    /// is its own inner `Err`.
    async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError>;
}

/// The handle every function holds. Cheap to clone.
#[derive(Clone)]
pub struct Kv {
    transport: Option<Arc<dyn Transport>>,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv")
            .field("backend", &self.backend())
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Kv {
    /// Builds the handle the configuration asks for. Connects lazily.
    pub fn from_config(config: &RedisConfig) -> anyhow::Result<Kv> {
        let transport: Option<Arc<dyn Transport>> = match &config.backend {
            RedisBackend::Tcp { url } => Some(Arc::new(TcpTransport::new(url, config)?)),
            RedisBackend::Rest { .. } => {
                anyhow::bail!("the Upstash REST backend is not available in this build")
            }
            RedisBackend::Disabled => None,
        };
        Ok(Kv {
            transport,
            prefix: config.key_prefix.clone().into(),
        })
    }

    /// A handle over any transport (tests, emulators).
    pub fn with_transport(transport: Arc<dyn Transport>, prefix: &str) -> Kv {
        Kv {
            transport: Some(transport),
            prefix: prefix.into(),
        }
    }

    /// A handle that has no Redis: every call fails with `KvError::Disabled`.
    pub fn disabled() -> Kv {
        Kv {
            transport: None,
            prefix: "".into(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.transport.as_ref().map_or("none", |t| t.backend())
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `prefix + key`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn transport(&self) -> Result<&Arc<dyn Transport>, KvError> {
        self.transport.as_ref().ok_or(KvError::Disabled)
    }

    /// Sends already prefixed commands in one round trip.
    pub async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        self.transport()?.pipeline(cmds, atomic).await
    }

    /// One command (already prefixed).
    pub async fn query(&self, cmd: Cmd) -> Result<Reply, KvError> {
        let mut replies = self.pipeline(std::slice::from_ref(&cmd), false).await?;
        replies
            .pop()
            .unwrap_or_else(|| Err(KvError::Protocol("no reply".into())))
    }

    pub async fn ping(&self) -> Result<(), KvError> {
        match self.query(Cmd::new("PING")).await? {
            Reply::Status(s) if s == "PONG" => Ok(()),
            Reply::Bytes(b) if b == b"PONG" => Ok(()),
            other => Err(KvError::Protocol(format!(
                "unexpected PING reply {other:?}"
            ))),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self
            .query(Cmd::new("GET").arg(self.key(key)))
            .await?
            .into_bytes())
    }

    /// `SET key value [PX ttl]`.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), KvError> {
        let mut cmd = Cmd::new("SET").arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd = cmd.arg("PX").arg(ttl.as_millis().max(1).to_string());
        }
        self.query(cmd).await.map(drop)
    }

    /// Deletes keys; returns how many existed.
    pub async fn del(&self, keys: &[&str]) -> Result<i64, KvError> {
        let mut cmd = Cmd::new("DEL");
        for key in keys {
            cmd = cmd.arg(self.key(key));
        }
        self.query(cmd)
            .await?
            .as_int()
            .ok_or_else(|| KvError::Protocol("DEL answered no integer".into()))
    }

    pub async fn incr_by(&self, key: &str, by: i64) -> Result<i64, KvError> {
        self.query(Cmd::new("INCRBY").arg(self.key(key)).arg(by.to_string()))
            .await?
            .as_int()
            .ok_or_else(|| KvError::Protocol("INCRBY answered no integer".into()))
    }

    /// Remaining time to live; `None` when the key is missing or has none.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, KvError> {
        let ms = self
            .query(Cmd::new("PTTL").arg(self.key(key)))
            .await?
            .as_int()
            .ok_or_else(|| KvError::Protocol("PTTL answered no integer".into()))?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Publishes to `prefix + channel`; returns the number of receivers.
    pub async fn publish(&self, channel: &str, message: &[u8]) -> Result<i64, KvError> {
        self.query(Cmd::new("PUBLISH").arg(self.key(channel)).arg(message))
            .await?
            .as_int()
            .ok_or_else(|| KvError::Protocol("PUBLISH answered no integer".into()))
    }
}
