//! The limiter with instances whose clocks disagree: the script counts with
//! the caller's clock (no `TIME`), so skew must stay bounded. With limit L per
//! period P (one request back every P / L), a clock N ms off shifts what a
//! caller gets by at most ceil(N / (P / L)) requests, and a clock far ahead
//! costs a caller at most one period, never the hours it is ahead by.

use std::time::Duration;

use shared::limits::{Decision, Policy, RateLimiter};

use crate::support::Fixture;

/// 10 per minute: one request back every 6 s.
fn ten_per_minute() -> Policy {
    Policy {
        name: "skew",
        limit: 10,
        period: Duration::from_secs(60),
    }
}

fn limiter(kv: shared::kv::Kv) -> RateLimiter {
    RateLimiter::new(
        kv,
        shared::config::RateLimitConfig {
            ocr_per_min: 10,
            quiz_per_min: 10,
            fail_open: false,
        },
    )
}

async fn allowed_in_a_row(limiter: &RateLimiter, policy: &Policy, who: &str) -> u32 {
    let mut allowed = 0;
    while limiter.check_policy(policy, who).await.allowed() {
        allowed += 1;
        assert!(allowed <= 2 * policy.limit, "the limiter never refuses");
    }
    allowed
}

pub async fn a_clock_running_ahead_gains_at_most_the_skew_in_requests(f: &mut Fixture) {
    let policy = ten_per_minute();
    let honest = limiter(f.kv.clone());
    // 12 s ahead: two intervals of 6 s.
    let fast = limiter(f.another_instance()).with_clock_offset_ms(12_000);
    assert_eq!(allowed_in_a_row(&honest, &policy, "c").await, 10);
    // The honest instance's TAT is 12 s older on the fast clock: two more.
    assert_eq!(allowed_in_a_row(&fast, &policy, "c").await, 2);
    // And one running behind gains nothing: it sees the quota spent.
    let slow = limiter(f.another_instance()).with_clock_offset_ms(-12_000);
    let Decision::Limited(q) = slow.check_policy(&policy, "c").await else {
        panic!("a slow clock must not reopen a spent quota");
    };
    assert!(q.retry_after <= Duration::from_secs(6), "{q:?}");
}

pub async fn a_clock_far_ahead_costs_a_caller_at_most_one_period(f: &mut Fixture) {
    let policy = ten_per_minute();
    let hour_ahead = limiter(f.kv.clone()).with_clock_offset_ms(3_600_000);
    assert!(hour_ahead.check_policy(&policy, "d").await.allowed());
    // Its TAT is an hour in the future for a correct clock; clamped to one
    // period, which reads as a spent quota with one request back in 6 s.
    let honest = limiter(f.another_instance());
    let Decision::Limited(q) = honest.check_policy(&policy, "d").await else {
        panic!("a TAT clamped to now + period is a spent quota");
    };
    assert!(q.retry_after <= Duration::from_secs(6), "{q:?}");
    assert!(q.reset <= policy.period, "{q:?}");
    // The key itself expires within one period of the server's clock.
    let ttl = f.kv.ttl("rl:skew:d").await.expect("pttl").expect("a ttl");
    assert!(ttl <= policy.period, "{ttl:?}");
}
