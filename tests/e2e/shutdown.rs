//! The SIGTERM grace cut-off: a request still running when
//! `SHUTDOWN_GRACE_SECS` is over does not hold the process; it exits 0 at
//! the end of the grace (Cloud Run would SIGKILL at 10 s otherwise).

use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port, silent_server};

use crate::World;

#[tokio::test]
async fn a_request_outliving_the_shutdown_grace_is_cut_off_and_the_process_exits_zero() {
    let world = World::new().await;
    // Readiness against a Postgres that never answers runs for the whole
    // 20 s check timeout: far past the 1 s grace.
    let hang = silent_server().await;
    let url = format!("postgres://folio@127.0.0.1:{hang}/x");
    let vars = world.vars(&[
        ("DATABASE_URL", &url),
        ("READINESS_TIMEOUT_SECS", "20"),
        ("SHUTDOWN_GRACE_SECS", "1"),
    ]);
    let mut function = Running::start("health", free_port(), &vars, &[]);
    function.wait_ready().await;

    let slow = tokio::spawn(reqwest::get(function.url("/health/ready")));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    function.signal("TERM");
    let status = function
        .wait_exit(Duration::from_secs(10))
        .expect("exited well before the request would have ended");
    let took = signalled.elapsed();
    assert!(
        status.success(),
        "exit status {status}; log:\n{}",
        function.output()
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "exited {took:?} after SIGTERM; the grace is 1 s"
    );
    assert!(
        function.output().contains("exiting anyway"),
        "the cut-off is logged: {}",
        function.output()
    );
    // The cut request got no answer (its connection closed with the process).
    let answer = slow.await.expect("task");
    assert!(answer.is_err(), "{answer:?}");
}
