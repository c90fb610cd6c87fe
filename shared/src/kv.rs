//! Redis, the accelerator: one `Kv` handle over interchangeable transports
//! (TCP through the `redis` crate, or Upstash's REST protocol), chosen by
//! configuration alone. Redis is never the only copy of anything a user would
//! miss, so callers treat every `KvError` as "serve uncached".
//!
//! Keys and channels get the configured prefix here, in one place, so no key
//! escapes it (tests run side by side on one server with a prefix each).
//! Built on top: scripts (`script`), cache-aside (`cache`), counters and
//! pub/sub notices (`counters`, `notify`).

pub mod breaker;
pub mod cache;
pub mod counters;
pub(crate) mod degraded;
pub mod notify;
pub(crate) mod rest;
pub mod script;
mod tcp;
mod tls;
mod types;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::{RedisBackend, RedisConfig};

pub use breaker::{BreakerConfig, BreakerState};
pub use cache::{CacheStatus, Cached};
pub use rest::RestTransport;
pub use script::Script;
pub use tcp::TcpTransport;
pub use types::{Cmd, KvError, Reply};

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

    /// Subscribes to `channel` (prefixed already) on a connection of its
    /// own: the messages' payloads, until the connection drops. Transports
    /// without pub/sub (REST) refuse.
    async fn subscribe(&self, channel: &str) -> Result<Subscription, KvError> {
        let _ = channel;
        Err(KvError::Protocol(format!(
            "the {} transport cannot subscribe",
            self.backend()
        )))
    }
}

/// Messages on a subscribed channel; ends when the connection drops.
pub type Subscription = futures::stream::BoxStream<'static, Vec<u8>>;

/// The handle every function holds. Cheap to clone; clones share the
/// transport and the in-process cache state.
#[derive(Clone)]
pub struct Kv {
    transport: Option<Arc<dyn Transport>>,
    prefix: Arc<str>,
    cache: Arc<cache::CacheState>,
    breaker: Arc<breaker::Breaker>,
}

impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv")
            .field("backend", &self.backend())
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The largest value cache-aside writes when no configuration says otherwise.
pub const DEFAULT_CACHE_MAX_VALUE_BYTES: usize = 1024 * 1024;

impl Kv {
    /// Builds the handle the configuration asks for: TCP for `REDIS_URL`,
    /// REST for `UPSTASH_REDIS_REST_URL` + `_TOKEN`. Connects lazily.
    pub fn from_config(config: &RedisConfig) -> anyhow::Result<Kv> {
        let transport: Option<Arc<dyn Transport>> = match &config.backend {
            RedisBackend::Tcp { url } => Some(Arc::new(TcpTransport::new(url, config)?)),
            RedisBackend::Rest { url, token } => {
                Some(Arc::new(RestTransport::new(url, token, config)?))
            }
            RedisBackend::Disabled => None,
        };
        Ok(Kv {
            transport,
            prefix: config.key_prefix.clone().into(),
            cache: Arc::new(cache::CacheState::new(config.cache_max_value_bytes)),
            breaker: Arc::new(breaker::Breaker::new(config.breaker)),
        })
    }

    /// A handle over any transport (tests, emulators, benchmarks).
    pub fn with_transport(transport: Arc<dyn Transport>, prefix: &str) -> Kv {
        Kv {
            transport: Some(transport),
            prefix: prefix.into(),
            cache: Arc::new(cache::CacheState::new(DEFAULT_CACHE_MAX_VALUE_BYTES)),
            breaker: Arc::new(breaker::Breaker::new(BreakerConfig::default())),
        }
    }

    /// A handle that has no Redis: every call fails with `KvError::Disabled`
    /// (cache-aside then runs every loader; see `cache`).
    pub fn disabled() -> Kv {
        Kv {
            transport: None,
            prefix: "".into(),
            cache: Arc::new(cache::CacheState::new(DEFAULT_CACHE_MAX_VALUE_BYTES)),
            breaker: Arc::new(breaker::Breaker::new(BreakerConfig::default())),
        }
    }

    /// The same handle with another cap on cached values.
    pub fn with_cache_max_value_bytes(mut self, max: usize) -> Kv {
        self.cache = Arc::new(cache::CacheState::new(max));
        self
    }

    /// The same handle with another breaker tuning (fresh, closed).
    pub fn with_breaker(mut self, config: BreakerConfig) -> Kv {
        self.breaker = Arc::new(breaker::Breaker::new(config));
        self
    }

    /// Whether calls currently reach Redis (`closed`) or fail fast (`open`,
    /// `half_open` while a background probe is out).
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// How long the breaker has been open; `None` while closed.
    pub fn breaker_open_for(&self) -> Option<Duration> {
        self.breaker.open_for()
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

    /// Sends already prefixed commands in one round trip. Over REST a
    /// non-atomic pipeline is one HTTP request (`/pipeline`) and an atomic one
    /// goes to `/multi-exec`.
    pub async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        let transport = self.transport()?;
        if let breaker::Admit::Refuse { probe } = self.breaker.admit() {
            if probe {
                self.breaker.probe(Arc::clone(transport));
            }
            return Err(self.breaker.refusal());
        }
        let outcome = transport.pipeline(cmds, atomic).await;
        self.breaker.record(&outcome);
        outcome
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
        int(self.query(cmd).await?, "DEL")
    }

    pub async fn incr_by(&self, key: &str, by: i64) -> Result<i64, KvError> {
        let cmd = Cmd::new("INCRBY").arg(self.key(key)).arg(by.to_string());
        int(self.query(cmd).await?, "INCRBY")
    }

    /// Remaining time to live; `None` when the key is missing or has none.
    pub async fn ttl(&self, key: &str) -> Result<Option<Duration>, KvError> {
        let ms = int(
            self.query(Cmd::new("PTTL").arg(self.key(key))).await?,
            "PTTL",
        )?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// Publishes to `prefix + channel`; returns the number of receivers.
    /// Listens on `channel` (the prefix is added): see `Transport::subscribe`.
    pub async fn subscribe(&self, channel: &str) -> Result<Subscription, KvError> {
        self.transport()?.subscribe(&self.key(channel)).await
    }

    pub async fn publish(&self, channel: &str, message: &[u8]) -> Result<i64, KvError> {
        let cmd = Cmd::new("PUBLISH").arg(self.key(channel)).arg(message);
        int(self.query(cmd).await?, "PUBLISH")
    }

    /// Runs a Lua script in one round trip: `EVALSHA`, and on `NOSCRIPT`
    /// (a fresh or flushed server) `EVAL`, which also caches it. `keys` get the
    /// prefix; `args` are passed as they are.
    pub async fn eval(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<Reply, KvError> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        match self.query(script.evalsha(&keys, args)).await {
            Err(e) if e.is_no_script() => {
                tracing::debug!(
                    script.sha = script.sha(),
                    "redis lacks the script; sending it"
                );
                self.query(script.eval(&keys, args)).await
            }
            other => other,
        }
    }
}

fn int(reply: Reply, what: &str) -> Result<i64, KvError> {
    reply
        .as_int()
        .ok_or_else(|| KvError::Protocol(format!("{what} answered no integer")))
}
