//! How long a tick may run: `WORKER_TICK_BUDGET`, shortened by every deadline
//! the platform imposes, each less a margin to write the answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use tokio::time::Instant;

/// A caller may say how long it will wait for the answer: a duration in
/// milliseconds from when the request arrives (not a point in time, so a
/// fixed header on a Cloud Scheduler job can carry its attempt deadline).
pub const CALLER_DEADLINE_HEADER: &str = "x-folio-deadline-ms";

/// Lambda gives the invocation deadline in ms since the Unix epoch; the
/// cargo-lambda emulator sends a bare duration (`600000`). No real deadline
/// lies before September 2001 (10^12 ms), so a smaller value is read as
/// milliseconds from now instead of as a deadline long past, which would
/// leave the tick no time at all.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

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
    /// Lambda's invocation deadline, in ms since the Unix epoch (or, below
    /// `EPOCH_MS_FLOOR`, ms from now: what emulators send).
    pub lambda_deadline_ms: Option<u64>,
    /// What the caller said it waits (`x-folio-deadline-ms`).
    pub caller_wait: Option<Duration>,
}

impl Limits {
    /// The caller's `x-folio-deadline-ms`: `None` when absent; 400 when it
    /// is not a whole number of milliseconds up to a day (a Unix time, as
    /// an older version of the docs said, is refused rather than read as a
    /// wait of decades).
    pub fn caller_wait_from(headers: &HeaderMap) -> Result<Option<Duration>, shared::Error> {
        let Some(raw) = headers.get(CALLER_DEADLINE_HEADER) else {
            return Ok(None);
        };
        raw.to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms <= MAX_CALLER_WAIT_MS)
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| {
                shared::Error::BadRequest(format!(
                    "{CALLER_DEADLINE_HEADER} is how long the caller waits, in milliseconds (at most {MAX_CALLER_WAIT_MS}), not a point in time"
                ))
            })
    }
}

/// The longest wait `x-folio-deadline-ms` may give: a day.
const MAX_CALLER_WAIT_MS: u64 = 24 * 3600 * 1000;

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
        let until = if deadline_ms < EPOCH_MS_FLOOR {
            Duration::from_millis(deadline_ms)
        } else {
            Duration::from_millis(deadline_ms.saturating_sub(now_ms))
        };
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
    fn an_emulators_relative_lambda_deadline_is_read_as_time_from_now() {
        // cargo-lambda's Runtime API sends `lambda-runtime-deadline-ms: 600000`.
        let relative = Limits {
            budget: Duration::from_secs(50),
            lambda_deadline_ms: Some(600_000),
            ..Limits::default()
        };
        assert_eq!(
            remaining(relative, SystemTime::now()),
            Duration::from_secs(50)
        );
        let short = Limits {
            lambda_deadline_ms: Some(12_000),
            ..relative
        };
        assert_eq!(remaining(short, SystemTime::now()), Duration::from_secs(10));
    }

    #[test]
    fn the_caller_deadline_header_is_a_wait_in_milliseconds_and_nothing_else() {
        let mut h = HeaderMap::new();
        assert_eq!(Limits::caller_wait_from(&h).ok(), Some(None));
        h.insert(CALLER_DEADLINE_HEADER, "1500".parse().expect("value"));
        assert_eq!(
            Limits::caller_wait_from(&h).ok(),
            Some(Some(Duration::from_millis(1500)))
        );
        for bad in ["soon", "-5", "1.5", "1796250366001"] {
            h.insert(CALLER_DEADLINE_HEADER, bad.parse().expect("value"));
            let e = Limits::caller_wait_from(&h).expect_err(bad);
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
    }
}
