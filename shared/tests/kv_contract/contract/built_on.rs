//! The contract of what is built on the seam, on every transport: counters,
//! cache-aside and the rate limiter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared::kv::{CacheStatus, counters};
use shared::limits::{Decision, Policy, RateLimiter};

use crate::support::Fixture;

pub async fn counters_keep_totals_and_a_daily_hash_with_a_ttl(f: &mut Fixture) {
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().expect("yesterday");
    assert_eq!(
        counters::bump(&f.kv, "ocr.pages", 3).await.expect("bump"),
        3
    );
    assert_eq!(
        counters::bump(&f.kv, "ocr.pages", 2).await.expect("bump"),
        5
    );
    counters::bump(&f.kv, "quiz.created", 1)
        .await
        .expect("bump");
    counters::bump_on(&f.kv, yesterday, "ocr.pages", 7)
        .await
        .expect("bump");
    assert_eq!(
        counters::total(&f.kv, "ocr.pages").await.expect("total"),
        12
    );
    let day = counters::day(&f.kv, today).await.expect("day");
    assert_eq!(day.get("ocr.pages"), Some(&5));
    assert_eq!(day.get("quiz.created"), Some(&1));
    assert_eq!(
        counters::day(&f.kv, yesterday)
            .await
            .expect("day")
            .get("ocr.pages"),
        Some(&7)
    );
    let key = format!("count:day:{}", today.format("%Y-%m-%d"));
    let ttl =
        f.kv.ttl(&key)
            .await
            .expect("ttl")
            .expect("the day hash expires");
    assert!(ttl > counters::DAY_TTL - Duration::from_secs(60) && ttl <= counters::DAY_TTL);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Summary {
    title: String,
    pages: u32,
    tags: Vec<String>,
}

fn summary() -> Summary {
    Summary {
        title: "Ünïcode ✓".into(),
        pages: 3,
        tags: vec!["a".into(), "b".into()],
    }
}

pub async fn cache_aside_serves_typed_values_and_stores_them_with_a_ttl(f: &mut Fixture) {
    let ttl = Duration::from_secs(120);
    let first =
        f.kv.get_or_compute("sum:1", ttl, || async { Ok::<_, String>(summary()) })
            .await
            .expect("first");
    assert_eq!((first.value, first.status), (summary(), CacheStatus::Miss));
    let second =
        f.kv.get_or_compute("sum:1", ttl, || async {
            Err::<Summary, _>("must not run".to_owned())
        })
        .await
        .expect("second");
    assert_eq!((second.value, second.status), (summary(), CacheStatus::Hit));
    // Stored as JSON (any language can read it), with the TTL.
    let stored = f.kv.get("sum:1").await.expect("get").expect("stored");
    assert_eq!(
        serde_json::from_slice::<Summary>(&stored).expect("json"),
        summary()
    );
    let left = f.kv.ttl("sum:1").await.expect("ttl").expect("ttl");
    assert!(left > Duration::from_secs(110) && left <= ttl);
    // A loader error is returned and nothing is stored.
    let failed =
        f.kv.get_or_compute("sum:2", ttl, || async { Err::<Summary, _>("boom") })
            .await;
    assert_eq!(failed.err(), Some("boom"));
    assert_eq!(f.kv.get("sum:2").await.expect("get"), None);
}

pub async fn concurrent_misses_on_one_key_run_the_loader_once(f: &mut Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let calls = (0..16).map(|_| {
        let kv = f.kv.clone();
        let runs = runs.clone();
        tokio::spawn(async move {
            kv.get_or_compute("hot", Duration::from_secs(60), || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok::<_, String>(summary())
            })
            .await
        })
    });
    let results = futures::future::join_all(calls).await;
    for result in results {
        assert_eq!(result.expect("task").expect("value").value, summary());
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "one loader run for 16 misses"
    );
}

pub async fn values_over_the_size_cap_are_served_but_not_stored(f: &mut Fixture) {
    let kv = f.kv.clone().with_cache_max_value_bytes(64);
    let big = "x".repeat(100);
    let got = kv
        .get_or_compute("big", Duration::from_secs(60), || async {
            Ok::<_, ()>(big.clone())
        })
        .await
        .expect("value");
    assert_eq!(got.value, big);
    assert_eq!(kv.get("big").await.expect("get"), None, "not stored");
    let small = kv
        .get_or_compute("small", Duration::from_secs(60), || async {
            Ok::<_, ()>(1u8)
        })
        .await
        .expect("value");
    assert_eq!(small.status, CacheStatus::Miss);
    assert_eq!(kv.get("small").await.expect("get"), Some(b"1".to_vec()));
}

fn policy(limit: u32) -> Policy {
    Policy {
        name: "test",
        limit,
        period: Duration::from_secs(60),
    }
}

fn limiter(kv: shared::kv::Kv) -> RateLimiter {
    RateLimiter::new(
        kv,
        shared::config::RateLimitConfig {
            ocr_per_min: 10,
            quiz_per_min: 5,
            fail_open: true,
        },
    )
}

pub async fn exactly_the_limit_is_allowed_across_two_instances_under_concurrency(f: &mut Fixture) {
    let limit = 7;
    let instances = [limiter(f.kv.clone()), limiter(f.another_instance())];
    let checks = (0..40).map(|i| {
        let limiter = instances[i % 2].clone();
        tokio::spawn(async move { limiter.check_policy(&policy(limit), "user:a").await })
    });
    let decisions: Vec<Decision> = futures::future::join_all(checks)
        .await
        .into_iter()
        .map(|d| d.expect("task"))
        .collect();
    let allowed = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Allowed(_)))
        .count();
    let limited = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Limited(_)))
        .count();
    assert_eq!((allowed, limited), (7, 33), "{decisions:?}");
    let mut remaining: Vec<u32> = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Allowed(q) => Some(q.remaining),
            _ => None,
        })
        .collect();
    remaining.sort_unstable();
    assert_eq!(remaining, vec![0, 1, 2, 3, 4, 5, 6]);
    // Another caller has a quota of its own.
    let other = instances[0].check_policy(&policy(limit), "user:b").await;
    assert!(
        matches!(other, Decision::Allowed(q) if q.remaining == 6),
        "{other:?}"
    );
}

pub async fn a_refused_caller_is_refused_in_process_until_its_retry_moment(f: &mut Fixture) {
    // 2 per 2 s: one request comes back every second.
    let fast = Policy {
        name: "fast",
        limit: 2,
        period: Duration::from_secs(2),
    };
    let limiter = limiter(f.kv.clone());
    for _ in 0..2 {
        assert!(limiter.check_policy(&fast, "c").await.allowed());
    }
    let Decision::Limited(q) = limiter.check_policy(&fast, "c").await else {
        panic!("the third request is over the limit");
    };
    assert!(q.retry_after > Duration::ZERO && q.retry_after <= Duration::from_secs(1));
    // Refused again without asking Redis: with Redis unreachable the answer
    // is still "limited", not "unchecked".
    let key = f.kv.key("rl:fast:c");
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query(&mut f.raw())
        .expect("del");
    assert!(matches!(
        limiter.check_policy(&fast, "c").await,
        Decision::Limited(_)
    ));
    // Past the retry moment Redis is asked again (and, with the key gone, allows).
    tokio::time::sleep(q.retry_after + Duration::from_millis(20)).await;
    assert!(matches!(
        limiter.check_policy(&fast, "c").await,
        Decision::Allowed(_)
    ));
}
