//! Cache-aside: `kv.get_or_compute(key, ttl, loader)`. Values are typed and
//! stored as JSON (serde; readable from any language, no pickles). In one
//! process, concurrent misses on one key run the loader once and share its
//! answer (single flight). Values over the configured size are served but not
//! stored. Redis down ⇒ the loader runs and the caller still gets its answer,
//! marked `Degraded`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::Kv;
use super::degraded::DegradedLog;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheStatus {
    /// Found in Redis.
    Hit,
    /// Computed by this caller's loader (and stored when it fit).
    Miss,
    /// Computed by a concurrent caller's loader in this process.
    Shared,
    /// Redis could not be used: computed without it.
    Degraded,
}

/// A value and where it came from.
#[derive(Debug, Clone)]
pub struct Cached<T> {
    pub value: T,
    pub status: CacheStatus,
}

impl<T> Cached<T> {
    pub fn into_inner(self) -> T {
        self.value
    }
}

/// Per-process cache state, shared by every clone of a `Kv`.
pub(super) struct CacheState {
    max_value_bytes: usize,
    flights: Mutex<HashMap<String, watch::Receiver<Flight>>>,
    degraded: DegradedLog,
}

#[derive(Clone)]
enum Flight {
    Running,
    Done(Arc<[u8]>),
    Failed,
}

enum Role<'a> {
    Leader(Lead<'a>),
    Follower(watch::Receiver<Flight>),
}

/// The right to run the loader for a key; tells followers how it went, and
/// "failed" if dropped before (the loader erred or the caller went away).
struct Lead<'a> {
    state: &'a CacheState,
    key: String,
    sender: watch::Sender<Flight>,
}

impl CacheState {
    pub(super) fn new(max_value_bytes: usize) -> Self {
        CacheState {
            max_value_bytes,
            flights: Mutex::new(HashMap::new()),
            degraded: DegradedLog::new(),
        }
    }

    fn join(&self, key: &str) -> Role<'_> {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = flights.get(key) {
            return Role::Follower(rx.clone());
        }
        let (sender, rx) = watch::channel(Flight::Running);
        flights.insert(key.to_owned(), rx);
        Role::Leader(Lead {
            state: self,
            key: key.to_owned(),
            sender,
        })
    }
}

impl Lead<'_> {
    fn finish(self, bytes: Arc<[u8]>) {
        self.sender.send_replace(Flight::Done(bytes));
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let mut flights = self.state.flights.lock().unwrap_or_else(|p| p.into_inner());
        flights.remove(&self.key);
        drop(flights);
        self.sender.send_if_modified(|f| {
            let running = matches!(f, Flight::Running);
            if running {
                *f = Flight::Failed;
            }
            running
        });
    }
}

impl Kv {
    /// The value under `key` (prefixed) if Redis has it, else `loader`'s,
    /// which is then stored for `ttl`. A loader error is returned as is and
    /// nothing is stored; concurrent callers waiting on it then try their own.
    /// Never fails because of Redis.
    pub async fn get_or_compute<T, E, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        loader: F,
    ) -> Result<Cached<T>, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut degraded = false;
        match self.get(key).await {
            Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(value) => {
                    crate::metrics::cache_lookup("kv", true);
                    return Ok(Cached {
                        value,
                        status: CacheStatus::Hit,
                    });
                }
                Err(e) => tracing::debug!(error = %e, "cached value no longer parses; recomputing"),
            },
            Ok(None) => {}
            Err(e) => {
                degraded = true;
                self.cache
                    .degraded
                    .warn("redis unavailable; cache-aside serves uncached", &e);
            }
        }
        crate::metrics::cache_lookup("kv", false);
        let flight_key = self.key(key);
        let lead = loop {
            match self.cache.join(&flight_key) {
                Role::Leader(lead) => break lead,
                Role::Follower(mut rx) => {
                    let outcome = rx
                        .wait_for(|f| !matches!(f, Flight::Running))
                        .await
                        .map(|f| f.clone());
                    if let Ok(Flight::Done(bytes)) = outcome
                        && let Ok(value) = serde_json::from_slice(&bytes)
                    {
                        let status = if degraded {
                            CacheStatus::Degraded
                        } else {
                            CacheStatus::Shared
                        };
                        return Ok(Cached { value, status });
                    }
                    // The leader failed: lead ourselves (or follow a newer leader).
                }
            }
        };
        let value = loader().await?;
        match serde_json::to_vec(&value) {
            Ok(bytes) if degraded => lead.finish(bytes.into()),
            Ok(bytes) if bytes.len() > self.cache.max_value_bytes => {
                tracing::debug!(
                    bytes = bytes.len(),
                    limit = self.cache.max_value_bytes,
                    "value too large to cache; served uncached"
                );
                lead.finish(bytes.into());
            }
            Ok(bytes) => {
                if let Err(e) = self.set(key, &bytes, Some(ttl)).await {
                    degraded = true;
                    self.cache
                        .degraded
                        .warn("redis unavailable; cache-aside could not store", &e);
                }
                lead.finish(bytes.into());
            }
            Err(e) => tracing::warn!(error = %e, "value cannot be serialized; not cached"),
        }
        let status = if degraded {
            CacheStatus::Degraded
        } else {
            CacheStatus::Miss
        };
        Ok(Cached { value, status })
    }

    /// Drops a cached value (after the source of truth changed).
    pub async fn invalidate(&self, key: &str) -> Result<(), super::KvError> {
        self.del(&[key]).await.map(drop)
    }
}
