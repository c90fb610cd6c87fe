//! A circuit breaker in front of every transport. A Redis that accepts
//! connections but never answers (stopped, swapping, `DEBUG SLEEP`) would
//! otherwise cost every call its full response timeout, and a request makes
//! several calls. After `failures` calls in a row found Redis unavailable,
//! the breaker opens: calls fail at once with `KvError::Unavailable` (callers
//! already serve uncached on that). Once `cooldown` has passed, one `PING`
//! goes out in the background (half-open) while calls keep failing fast; its
//! answer closes the breaker, its failure opens it for another `cooldown`.
//! So a hanging Redis costs a few calls their timeout, then none, and the
//! breaker closes within about `cooldown` + one round trip of Redis answering.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Cmd, KvError, Reply, Transport};

/// How the breaker is tuned (`REDIS_BREAKER_FAILURES`, `REDIS_BREAKER_COOLDOWN_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Calls in a row that must find Redis unavailable to open it; 0 never opens.
    pub failures: u32,
    /// How long it stays open before a background probe.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failures: 3,
            cooldown: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed { failures: u32 },
    Open { since: Instant, retry_at: Instant },
    HalfOpen { since: Instant },
}

/// What readiness reports about the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// What the breaker lets a call do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Send it.
    Go,
    /// Fail it at once; `probe` says this caller must start the background probe.
    Refuse { probe: bool },
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    phase: Mutex<Phase>,
}

/// The upper bound on a background probe, whatever the transport's own timeouts.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

impl Breaker {
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            phase: Mutex::new(Phase::Closed { failures: 0 }),
        }
    }

    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        // A panic while holding this lock cannot leave the phase half-written
        // (every update is one assignment), so a poisoned lock is still good.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// How long it has been open (or half-open); `None` while closed.
    pub fn open_for(&self) -> Option<Duration> {
        match *self.lock() {
            Phase::Closed { .. } => None,
            Phase::Open { since, .. } | Phase::HalfOpen { since } => Some(since.elapsed()),
        }
    }

    pub(crate) fn admit(&self) -> Admit {
        let mut phase = self.lock();
        match *phase {
            Phase::Closed { .. } => Admit::Go,
            Phase::HalfOpen { .. } => Admit::Refuse { probe: false },
            Phase::Open { since, retry_at } => {
                if Instant::now() >= retry_at {
                    *phase = Phase::HalfOpen { since };
                    Admit::Refuse { probe: true }
                } else {
                    Admit::Refuse { probe: false }
                }
            }
        }
    }

    /// Counts a call's outcome. Only "unavailable" counts against Redis: a
    /// refused command or an odd reply means it answered.
    pub(crate) fn record<T>(&self, outcome: &Result<T, KvError>) {
        match outcome {
            Err(KvError::Unavailable(_)) => self.failed(),
            _ => self.succeeded(),
        }
    }

    fn succeeded(&self) {
        let mut phase = self.lock();
        if !matches!(*phase, Phase::Closed { failures: 0 }) {
            if !matches!(*phase, Phase::Closed { .. }) {
                tracing::info!("redis answers again; circuit breaker closed");
            }
            *phase = Phase::Closed { failures: 0 };
        }
    }

    fn failed(&self) {
        let mut phase = self.lock();
        match *phase {
            Phase::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if self.config.failures > 0 && failures >= self.config.failures {
                    let now = Instant::now();
                    tracing::warn!(
                        failures,
                        cooldown_ms = self.config.cooldown.as_millis() as u64,
                        "redis unavailable on consecutive calls; circuit breaker open"
                    );
                    *phase = Phase::Open {
                        since: now,
                        retry_at: now + self.config.cooldown,
                    };
                } else {
                    *phase = Phase::Closed { failures };
                }
            }
            // A call that was already in flight when it opened: no news.
            Phase::Open { .. } => {}
            Phase::HalfOpen { since } => {
                *phase = Phase::Open {
                    since,
                    retry_at: Instant::now() + self.config.cooldown,
                };
            }
        }
    }

    /// The probe failed or could not be started: open for another cooldown.
    fn probe_failed(&self) {
        let mut phase = self.lock();
        if let Phase::HalfOpen { since } = *phase {
            *phase = Phase::Open {
                since,
                retry_at: Instant::now() + self.config.cooldown,
            };
        }
    }

    /// The error a refused call gets.
    pub(crate) fn refusal(&self) -> KvError {
        KvError::Unavailable(format!(
            "circuit breaker open after {} failed calls in a row; probing every {} ms",
            self.config.failures,
            self.config.cooldown.as_millis()
        ))
    }

    /// Sends one `PING` through `transport` off the caller's path and
    /// records its outcome. Without a Tokio runtime the breaker simply
    /// stays open for another cooldown.
    pub(crate) fn probe(self: &Arc<Self>, transport: Arc<dyn Transport>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.probe_failed();
            return;
        };
        let breaker = Arc::clone(self);
        runtime.spawn(async move {
            let ping = [Cmd::new("PING")];
            let outcome = tokio::time::timeout(PROBE_LIMIT, transport.pipeline(&ping, false)).await;
            match outcome {
                Ok(Ok(replies)) if replies.iter().all(answered) => breaker.succeeded(),
                Ok(Ok(_)) | Ok(Err(_)) | Err(_) => breaker.probe_failed(),
            }
        });
    }
}

fn answered(reply: &Result<Reply, KvError>) -> bool {
    match reply {
        Ok(_) => true,
        Err(e) => !e.is_unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> Result<(), KvError> {
        Err(KvError::Unavailable("timed out".into()))
    }

    #[test]
    fn opens_after_the_configured_failures_in_a_row_and_only_then() {
        let b = Breaker::new(BreakerConfig {
            failures: 3,
            cooldown: Duration::from_secs(60),
        });
        b.record(&unavailable());
        b.record(&unavailable());
        b.record(&Err::<(), _>(KvError::Server("WRONGTYPE".into())));
        b.record(&unavailable());
        b.record(&unavailable());
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "an answer resets the count"
        );
        assert_eq!(b.admit(), Admit::Go);
        b.record(&unavailable());
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.admit(), Admit::Refuse { probe: false });
        assert!(b.refusal().is_unavailable());
    }

    #[test]
    fn one_caller_starts_the_probe_after_the_cooldown_and_its_outcome_decides() {
        let b = Breaker::new(BreakerConfig {
            failures: 1,
            cooldown: Duration::from_millis(20),
        });
        b.record(&unavailable());
        assert_eq!(b.admit(), Admit::Refuse { probe: false });
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.admit(), Admit::Refuse { probe: true });
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(
            b.admit(),
            Admit::Refuse { probe: false },
            "one probe at a time"
        );
        b.probe_failed();
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(b.admit(), Admit::Refuse { probe: true });
        b.succeeded();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(), Admit::Go);
    }

    #[test]
    fn zero_failures_never_opens() {
        let b = Breaker::new(BreakerConfig {
            failures: 0,
            cooldown: Duration::from_secs(1),
        });
        for _ in 0..100 {
            b.record(&unavailable());
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
