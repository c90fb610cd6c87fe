//! How long a tick may run: `WORKER_TICK_BUDGET`, shortened by every deadline
//! the platform imposes, each less a margin to write the answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use tokio::time::Instant;

/// A caller may say how long it will wait, in milliseconds (Cloud Scheduler
/// sends no deadline of its own: set this header on the Scheduler job to its
/// attempt deadline).
pub const CALLER_DEADLINE_HEADER: &str = "x-folio-deadline-ms";

/// Kept free after a platform deadline (Lambda's) for the answer to leave.
const PLATFORM_MARGIN: Duration = Duration::from_secs(2);
/// Kept free before a caller's or the request's own timeout.
const RESPONSE_MARGIN: Duration = Duration::from_secs(1);

/// Everything that bounds one tick.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// `WORKER_TICK_BUDGET`.
    pub budget: Duration,
    /// The HTTP request deadline (`REQUEST_TIMEOUT_SECS`), for HTTP triggers.
    pub request_timeout: Option<Duration>,
    /// Lambda's invocation deadline, in ms since the Unix epoch.
    pub lambda_deadline_ms: Option<u64>,
    /// What the caller said it waits (`x-folio-deadline-ms`).
    pub caller_wait: Option<Duration>,
}

impl Limits {
    /// The caller's `x-folio-deadline-ms`, if it is a sane number.
    pub fn caller_wait_from(headers: &HeaderMap) -> Option<Duration> {
        let ms: u64 = headers
            .get(CALLER_DEADLINE_HEADER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(Duration::from_millis(ms.min(24 * 3600 * 1000)))
    }
}

/// The longest an HTTP-triggered tick can run: the budget, inside the
/// request deadline the shared middleware enforces.
pub fn http_tick_limit(config: &shared::config::Config) -> Duration {
    remaining(
        Limits {
            budget: config.worker.tick_budget,
            request_timeout: Some(config.request_timeout),
            ..Limits::default()
        },
        SystemTime::now(),
    )
}

/// The instant the tick must be done by: the tightest of the limits.
pub fn tick_deadline(now: Instant, limits: Limits) -> Instant {
    now + remaining(limits, SystemTime::now())
}

fn remaining(limits: Limits, wall_now: SystemTime) -> Duration {
    let mut left = limits.budget;
    if let Some(timeout) = limits.request_timeout {
        left = left.min(timeout.saturating_sub(RESPONSE_MARGIN));
    }
    if let Some(wait) = limits.caller_wait {
        left = left.min(wait.saturating_sub(RESPONSE_MARGIN));
    }
    if let Some(deadline_ms) = limits.lambda_deadline_ms {
        let now_ms = wall_now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let until = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
        left = left.min(until.saturating_sub(PLATFORM_MARGIN));
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_limit_wins_less_its_margin() {
        let now = SystemTime::now();
        let now_ms = now.duration_since(UNIX_EPOCH).expect("clock").as_millis() as u64;
        let budget = Duration::from_secs(50);
        let only_budget = Limits {
            budget,
            ..Limits::default()
        };
        assert_eq!(remaining(only_budget, now), budget);

        let http = Limits {
            request_timeout: Some(Duration::from_secs(30)),
            ..only_budget
        };
        assert_eq!(remaining(http, now), Duration::from_secs(29));

        let lambda = Limits {
            lambda_deadline_ms: Some(now_ms + 10_000),
            ..http
        };
        assert_eq!(remaining(lambda, now), Duration::from_secs(8));

        let caller = Limits {
            caller_wait: Some(Duration::from_secs(5)),
            ..lambda
        };
        assert_eq!(remaining(caller, now), Duration::from_secs(4));

        let past = Limits {
            lambda_deadline_ms: Some(now_ms.saturating_sub(5_000)),
            ..only_budget
        };
        assert_eq!(remaining(past, now), Duration::ZERO);
    }

    #[test]
    fn the_caller_deadline_header_is_read_only_when_it_is_a_number() {
        let mut h = HeaderMap::new();
        assert_eq!(Limits::caller_wait_from(&h), None);
        h.insert(CALLER_DEADLINE_HEADER, "1500".parse().expect("value"));
        assert_eq!(
            Limits::caller_wait_from(&h),
            Some(Duration::from_millis(1500))
        );
        h.insert(CALLER_DEADLINE_HEADER, "soon".parse().expect("value"));
        assert_eq!(Limits::caller_wait_from(&h), None);
    }
}
