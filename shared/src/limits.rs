//! Rate limits per caller and route family (OCR, quiz), shared by every
//! instance through Redis: one `EVALSHA` of a GCRA script per check, which
//! answers allowed/remaining/reset atomically (never N+1 in a window, however
//! many instances). Callers already refused are refused in-process until their
//! retry moment, without a Redis call. With Redis down the limiter fails open
//! (default, logged) or closed (`RATE_LIMIT_FAIL_OPEN=false`: 503).
//!
//! The script reads no server clock (`TIME` is refused by ElastiCache
//! Serverless): each instance passes its own wall clock, and the script
//! bounds what a skewed clock can do (see `limits/gcra.lua` and
//! docs/redis.md).
//!
//! Handlers get it as a layer: `.route_layer(limits::layer(&state, Family::Ocr))`.

mod blocked;
mod layer;

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::RateLimitConfig;
use crate::kv::degraded::DegradedLog;
use crate::kv::{Kv, KvError, Reply, Script};

pub use layer::{RateLimitLayer, RateLimitService, identify, layer};

/// The GCRA script's source (also listed in `kv::script::catalogue`).
pub(crate) const GCRA_SOURCE: &str = include_str!("limits/gcra.lua");

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA_SOURCE));

/// The route families that carry their own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Ocr,
    Quiz,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Ocr => "ocr",
            Family::Quiz => "quiz",
        }
    }
}

/// `limit` requests per `period`, spread evenly (GCRA): a full quota can be
/// spent at once, then one request comes back every `period / limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub name: &'static str,
    pub limit: u32,
    pub period: Duration,
}

/// What the limiter knows after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    /// The window the limit is counted over.
    pub period: Duration,
    pub remaining: u32,
    /// Until the caller is back to a full quota.
    pub reset: Duration,
    /// Until the next request would be allowed (zero when allowed now).
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed(Quota),
    Limited(Quota),
    /// Redis could not be asked and the limiter fails open: let it through.
    Unchecked,
    /// Redis could not be asked and the limiter fails closed: refuse (503).
    Unavailable,
    /// This family has no limit configured (`RATE_LIMIT_*_PER_MIN=0`).
    Unlimited,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        matches!(
            self,
            Decision::Allowed(_) | Decision::Unchecked | Decision::Unlimited
        )
    }
}

/// Shared by every request of a process; cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    kv: Kv,
    config: RateLimitConfig,
    blocked: blocked::Blocked,
    degraded: DegradedLog,
    /// Added to the system clock, in ms (0 in production; tests skew it).
    clock_offset_ms: i64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl RateLimiter {
    pub fn new(kv: Kv, config: RateLimitConfig) -> RateLimiter {
        tracing::info!(
            ocr_per_min = config.ocr_per_min,
            quiz_per_min = config.quiz_per_min,
            fail_open = config.fail_open,
            "rate limits {} when redis is down",
            if config.fail_open {
                "fail open"
            } else {
                "fail closed"
            },
        );
        RateLimiter {
            inner: Arc::new(Inner {
                kv,
                config,
                blocked: blocked::Blocked::default(),
                degraded: DegradedLog::new(),
                clock_offset_ms: 0,
            }),
        }
    }

    /// A limiter on the same Redis whose clock reads `offset_ms` ahead of the
    /// system clock (behind when negative): an instance with a skewed clock,
    /// for tests and simulations. It shares no in-process state with `self`.
    pub fn with_clock_offset_ms(&self, offset_ms: i64) -> RateLimiter {
        RateLimiter {
            inner: Arc::new(Inner {
                kv: self.inner.kv.clone(),
                config: self.inner.config.clone(),
                blocked: blocked::Blocked::default(),
                degraded: DegradedLog::new(),
                clock_offset_ms: offset_ms,
            }),
        }
    }

    /// This instance's clock, Unix ms: what the script counts with.
    fn now_ms(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        system.saturating_add(self.inner.clock_offset_ms)
    }

    /// The configured policy for a family; `None` when its limit is 0 (off).
    pub fn policy(&self, family: Family) -> Option<Policy> {
        let limit = match family {
            Family::Ocr => self.inner.config.ocr_per_min,
            Family::Quiz => self.inner.config.quiz_per_min,
        };
        (limit > 0).then_some(Policy {
            name: family.name(),
            limit,
            period: Duration::from_secs(60),
        })
    }

    /// Counts one request of `identifier` against `family`'s limit.
    pub async fn check(&self, family: Family, identifier: &str) -> Decision {
        match self.policy(family) {
            Some(policy) => self.check_policy(&policy, identifier).await,
            None => Decision::Unlimited,
        }
    }

    /// Counts one request of `identifier` against `policy`.
    pub async fn check_policy(&self, policy: &Policy, identifier: &str) -> Decision {
        let decision = self.decide(policy, identifier).await;
        let name = match decision {
            Decision::Allowed(_) => "allowed",
            Decision::Limited(_) => "limited",
            Decision::Unchecked => "unchecked",
            Decision::Unavailable => "unavailable",
            Decision::Unlimited => "unlimited",
        };
        crate::metrics::rate_limit(policy.name, name);
        decision
    }

    async fn decide(&self, policy: &Policy, identifier: &str) -> Decision {
        let key = format!("rl:{}:{identifier}", policy.name);
        let sent = Instant::now();
        if let Some(block) = self.inner.blocked.get(&key, sent) {
            return Decision::Limited(Quota {
                limit: policy.limit,
                period: policy.period,
                remaining: 0,
                reset: block.reset_at.saturating_duration_since(sent),
                retry_after: block.retry_at.saturating_duration_since(sent),
            });
        }
        match self.ask_redis(policy, &key).await {
            Ok(quota) if quota.retry_after.is_zero() => Decision::Allowed(quota),
            Ok(quota) => {
                self.inner
                    .blocked
                    .insert(&key, sent, quota.retry_after, quota.reset);
                Decision::Limited(quota)
            }
            Err(e) if self.inner.config.fail_open => {
                self.inner.degraded.warn(
                    "redis unavailable; rate limits fail open (RATE_LIMIT_FAIL_OPEN=true)",
                    &e,
                );
                Decision::Unchecked
            }
            Err(e) => {
                self.inner.degraded.warn(
                    "redis unavailable; rate limits fail closed (RATE_LIMIT_FAIL_OPEN=false)",
                    &e,
                );
                Decision::Unavailable
            }
        }
    }

    async fn ask_redis(&self, policy: &Policy, key: &str) -> Result<Quota, KvError> {
        let limit = policy.limit.to_string();
        let period = policy.period.as_millis().max(1).to_string();
        let now = self.now_ms().to_string();
        let reply = self
            .inner
            .kv
            .eval(
                &GCRA,
                &[key],
                &[limit.as_bytes(), period.as_bytes(), now.as_bytes()],
            )
            .await?;
        let numbers: Vec<i64> = reply
            .into_array()
            .unwrap_or_default()
            .iter()
            .map(Reply::as_int)
            .collect::<Option<_>>()
            .unwrap_or_default();
        let [allowed, remaining, retry_ms, reset_ms] = numbers[..] else {
            return Err(KvError::Protocol(
                "the rate-limit script answered oddly".into(),
            ));
        };
        let ms = |n: i64| Duration::from_millis(u64::try_from(n).unwrap_or(0));
        Ok(Quota {
            limit: policy.limit,
            period: policy.period,
            remaining: u32::try_from(remaining).unwrap_or(0),
            reset: ms(reset_ms),
            retry_after: if allowed == 1 {
                Duration::ZERO
            } else {
                ms(retry_ms).max(Duration::from_millis(1))
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_redis_the_limiter_fails_open_or_closed_as_configured() {
        let config = |fail_open| RateLimitConfig {
            ocr_per_min: 10,
            quiz_per_min: 0,
            fail_open,
        };
        let open = RateLimiter::new(Kv::disabled(), config(true));
        assert_eq!(open.check(Family::Ocr, "u").await, Decision::Unchecked);
        assert_eq!(open.check(Family::Quiz, "u").await, Decision::Unlimited);
        let closed = RateLimiter::new(Kv::disabled(), config(false));
        assert_eq!(closed.check(Family::Ocr, "u").await, Decision::Unavailable);
        assert!(!Decision::Unavailable.allowed());
    }
}
