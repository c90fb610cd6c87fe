//! Cache-aside behaviour that needs no particular transport.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shared::kv::{CacheStatus, Kv};

use crate::support::{Fixture, Kind};

#[tokio::test]
async fn without_redis_the_loader_runs_and_the_answer_is_marked_degraded() {
    let kv = Kv::disabled();
    for _ in 0..2 {
        let got = kv
            .get_or_compute("k", Duration::from_secs(5), || async {
                Ok::<_, ()>(41 + 1)
            })
            .await
            .expect("value");
        assert_eq!((got.value, got.status), (42, CacheStatus::Degraded));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leading_loader_fails_a_waiting_caller_runs_its_own() {
    let f = Fixture::new(Kind::Tcp).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let leader = {
        let kv = f.kv.clone();
        let runs = runs.clone();
        tokio::spawn(async move {
            kv.get_or_compute("k", Duration::from_secs(60), || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                Err::<u32, _>("leader failed")
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let follower =
        f.kv.get_or_compute("k", Duration::from_secs(60), || async {
            Ok::<_, &str>(7u32)
        })
        .await
        .expect("follower's own value");
    assert_eq!((follower.value, follower.status), (7, CacheStatus::Miss));
    assert!(leader.await.expect("task").is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_no_longer_parses_is_recomputed_and_replaced() {
    let f = Fixture::new(Kind::Tcp).await;
    f.kv.set("shape", b"{\"old\":true}", None)
        .await
        .expect("set");
    let got =
        f.kv.get_or_compute("shape", Duration::from_secs(60), || async {
            Ok::<_, ()>(vec![1, 2])
        })
        .await
        .expect("value");
    assert_eq!((got.value, got.status), (vec![1, 2], CacheStatus::Miss));
    assert_eq!(
        f.kv.get("shape").await.expect("get"),
        Some(b"[1,2]".to_vec())
    );
}
