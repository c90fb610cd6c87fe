//! The WORKER_* settings: defaults, values, and one error naming every bad one.

use std::time::Duration;

use shared::config::{Config, Function};

fn vars(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars = vec![
        (
            "DATABASE_URL".to_owned(),
            "postgres://u@127.0.0.1/x".to_owned(),
        ),
        (
            "WORKER_TICK_TOKEN".to_owned(),
            "0123456789abcdef".to_owned(),
        ),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    vars
}

#[test]
fn worker_settings_have_defaults_read_durations_and_name_every_bad_value() {
    let w = Config::from_vars(Function::WorkerTick, vars(&[]))
        .expect("defaults")
        .worker;
    assert_eq!(w.tick_budget, Duration::from_secs(50));
    assert_eq!((w.batch_size, w.concurrency), (100, 4));
    assert_eq!(w.lease_grace, Duration::from_secs(15));
    assert_eq!(w.retention, Duration::from_secs(86_400));
    assert_eq!(
        (w.retry_base, w.retry_max),
        (Duration::from_secs(2), Duration::from_secs(3600))
    );

    let w = Config::from_vars(
        Function::WorkerTick,
        vars(&[
            ("WORKER_TICK_BUDGET", "2.5s"),
            ("WORKER_BATCH_SIZE", "5000"),
            ("WORKER_CONCURRENCY", "16"),
            ("WORKER_LEASE_GRACE", "500ms"),
            ("WORKER_RETENTION", "3600"),
            ("WORKER_RETRY_BASE", "100ms"),
            ("WORKER_RETRY_MAX", "1m"),
        ]),
    )
    .expect("values")
    .worker;
    assert_eq!(w.tick_budget, Duration::from_millis(2500));
    assert_eq!((w.batch_size, w.concurrency), (5000, 16));
    assert_eq!(w.lease_grace, Duration::from_millis(500));
    assert_eq!(w.retention, Duration::from_secs(3600));
    assert_eq!(
        (w.retry_base, w.retry_max),
        (Duration::from_millis(100), Duration::from_secs(60))
    );

    let err = Config::from_vars(
        Function::WorkerTick,
        vars(&[
            ("WORKER_TICK_BUDGET", "10ms"),
            ("WORKER_BATCH_SIZE", "0"),
            ("WORKER_CONCURRENCY", "many"),
            ("WORKER_RETRY_BASE", "10"),
            ("WORKER_RETRY_MAX", "5"),
        ]),
    )
    .expect_err("bad values");
    let mut names = err.variables();
    names.sort_unstable();
    assert_eq!(
        names,
        vec![
            "WORKER_BATCH_SIZE",
            "WORKER_CONCURRENCY",
            "WORKER_RETRY_MAX",
            "WORKER_TICK_BUDGET"
        ]
    );
}
