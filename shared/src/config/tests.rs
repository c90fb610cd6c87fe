use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn one_error_names_every_bad_or_missing_variable() {
    let err = Config::from_vars(
        Function::Ocr,
        vars(&[
            ("PORT", "eighty"),
            ("LOG_FORMAT", "xml"),
            ("REQUEST_TIMEOUT_SECS", "soon"),
        ]),
    )
    .expect_err("config with four problems must fail");
    let names = err.variables();
    for expected in [
        "PORT",
        "DATABASE_URL",
        "JWT_SECRET_KEY",
        "LOG_FORMAT",
        "REQUEST_TIMEOUT_SECS",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn health_needs_only_a_database() {
    let config = Config::from_vars(
        Function::Health,
        vars(&[("DATABASE_URL", "postgres://u:p@127.0.0.1/db")]),
    )
    .expect("health starts with just a database");
    assert_eq!(config.port, 8080);
    assert!(matches!(config.redis.backend, RedisBackend::Disabled));
}

#[test]
fn secrets_never_reach_debug_or_errors() {
    let config = Config::from_vars(
        Function::Ocr,
        vars(&[
            ("DATABASE_URL", "postgres://u:hunter2-db@127.0.0.1/db"),
            ("REDIS_URL", "redis://:hunter2-redis@127.0.0.1:6379"),
            ("JWT_SECRET_KEY", GOOD_SECRET),
        ]),
    )
    .expect("valid config");
    let printed = format!("{config:?}");
    for secret in ["hunter2-db", "hunter2-redis", GOOD_SECRET] {
        assert!(!printed.contains(secret), "{secret} leaked into Debug");
    }

    let err = Config::from_vars(
        Function::Health,
        vars(&[("DATABASE_URL", "mysql://u:hunter2@db.example.com/x")]),
    )
    .expect_err("wrong scheme");
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn plaintext_to_a_remote_host_is_refused_unless_allowed() {
    let remote = [
        (
            "DATABASE_URL",
            "postgres://u:p@db.example.com/x?sslmode=disable",
        ),
        ("REDIS_URL", "redis://cache.example.com:6379"),
    ];
    let err = Config::from_vars(Function::Health, vars(&remote)).expect_err("insecure");
    assert_eq!(err.variables(), vec!["DATABASE_URL", "REDIS_URL"]);

    let mut allowed = vars(&remote);
    allowed.push(("ALLOW_INSECURE_TRANSPORT".into(), "true".into()));
    Config::from_vars(Function::Health, allowed).expect("explicitly allowed");

    Config::from_vars(
        Function::Health,
        vars(&[
            ("DATABASE_URL", "postgres://u:p@db.example.com/x"),
            ("REDIS_URL", "rediss://cache.example.com:6379"),
        ]),
    )
    .expect("TLS to a remote host is fine");
}

#[test]
fn redis_backends_are_chosen_by_variables_alone() {
    let rest = Config::from_vars(
        Function::Health,
        vars(&[
            ("DATABASE_URL", "postgres://127.0.0.1/x"),
            ("UPSTASH_REDIS_REST_URL", "https://eu1.example.io"),
            ("UPSTASH_REDIS_REST_TOKEN", "tok"),
        ]),
    )
    .expect("rest config");
    assert_eq!(rest.redis.backend.name(), "rest");

    let both = Config::from_vars(
        Function::Health,
        vars(&[
            ("DATABASE_URL", "postgres://127.0.0.1/x"),
            ("REDIS_URL", "redis://127.0.0.1"),
            ("UPSTASH_REDIS_REST_URL", "https://eu1.example.io"),
            ("UPSTASH_REDIS_REST_TOKEN", "tok"),
        ]),
    );
    assert!(both.is_err(), "two backends at once is ambiguous");
}

#[test]
fn short_secrets_are_rejected() {
    let err = Config::from_vars(
        Function::WorkerTick,
        vars(&[
            ("DATABASE_URL", "postgres://127.0.0.1/x"),
            ("JWT_SECRET_KEY", "short"),
            ("WORKER_TICK_TOKEN", "short"),
        ]),
    )
    .expect_err("short secrets");
    assert_eq!(err.variables(), vec!["JWT_SECRET_KEY", "WORKER_TICK_TOKEN"]);
}

#[test]
fn durations_accept_units() {
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("2.5s"), Some(Duration::from_millis(2500)));
    assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
    assert_eq!(parse_duration("-1"), None);
    assert_eq!(parse_duration("soon"), None);
}

fn health_with(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut all = vec![("DATABASE_URL", "postgres://u:p@127.0.0.1/db")];
    all.extend_from_slice(extra);
    Config::from_vars(Function::Health, vars(&all))
}

#[test]
fn the_log_format_follows_the_platform_unless_set() {
    let format = |extra: &[(&str, &str)]| health_with(extra).expect("valid").log_format;
    assert_eq!(format(&[]), LogFormat::Json);
    assert_eq!(format(&[("K_SERVICE", "ocr")]), LogFormat::Gcp);
    assert_eq!(
        format(&[("AWS_LAMBDA_FUNCTION_NAME", "ocr")]),
        LogFormat::Lambda
    );
    assert_eq!(
        format(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "ocr"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text")
        ]),
        LogFormat::Pretty
    );
    assert_eq!(
        format(&[("K_SERVICE", "ocr"), ("LOG_FORMAT", "pretty")]),
        LogFormat::Pretty
    );
    assert_eq!(format(&[("LOG_FORMAT", "lambda")]), LogFormat::Lambda);
    assert_eq!(format(&[("LOG_FORMAT", "gcp")]), LogFormat::Gcp);
    let project = health_with(&[("GOOGLE_CLOUD_PROJECT", "folio-prod")]).expect("valid");
    assert_eq!(project.gcp_project.as_deref(), Some("folio-prod"));
}

#[test]
fn prometheus_metrics_refuse_to_start_without_a_long_enough_token() {
    let err = health_with(&[("METRICS_ENABLED", "true")]).expect_err("no token");
    assert!(err.variables().contains(&"METRICS_TOKEN"), "{err}");
    let err = health_with(&[("METRICS_ENABLED", "true"), ("METRICS_TOKEN", "short")])
        .expect_err("short token");
    assert!(err.variables().contains(&"METRICS_TOKEN"), "{err}");
    assert!(
        !err.to_string().contains("short"),
        "the token is echoed: {err}"
    );

    let on =
        health_with(&[("METRICS_ENABLED", "true"), ("METRICS_TOKEN", GOOD_SECRET)]).expect("valid");
    assert!(on.metrics.enabled);
    assert_eq!(on.metrics.format, MetricsFormat::Prometheus);
    assert!(!format!("{on:?}").contains(GOOD_SECRET), "token in Debug");

    // Off by default; EMF (Lambda's default) needs no token.
    assert!(!health_with(&[]).expect("valid").metrics.enabled);
    let lambda = health_with(&[
        ("METRICS_ENABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", "f"),
    ])
    .expect("EMF needs no token");
    assert_eq!(lambda.metrics.format, MetricsFormat::Emf);
    assert_eq!(lambda.metrics.namespace, "folio");
    let err = health_with(&[("METRICS_FORMAT", "statsd")]).expect_err("unknown format");
    assert!(err.variables().contains(&"METRICS_FORMAT"));
}

#[test]
fn fetch_settings_are_read_and_bad_ones_named() {
    let base = [
        ("DATABASE_URL", "postgres://u:p@127.0.0.1/db"),
        ("JWT_SECRET_KEY", GOOD_SECRET),
    ];
    let config = Config::from_vars(
        Function::Ocr,
        vars(&[
            base[0],
            base[1],
            ("FETCH_ALLOW", "files.corp, 10.20.0.0/16, ::1"),
            ("FETCH_MAX_BYTES", "1000"),
            ("FETCH_TIMEOUT_SECS", "2.5"),
        ]),
    )
    .expect("config");
    assert_eq!(config.fetch.allow.len(), 3);
    assert_eq!(config.fetch.max_bytes, 1000);
    assert_eq!(config.fetch.timeout, Duration::from_millis(2500));
    assert_eq!(config.fetch.max_redirects, 5);
    let defaults = Config::from_vars(Function::Ocr, vars(&base)).expect("config");
    assert!(defaults.fetch.allow.is_empty());
    assert_eq!(defaults.fetch.max_bytes, 30 * 1024 * 1024);

    let err = Config::from_vars(
        Function::Ocr,
        vars(&[
            base[0],
            base[1],
            ("FETCH_ALLOW", "10.0.0.0/40"),
            ("FETCH_MAX_BYTES", "0"),
            ("FETCH_MAX_REDIRECTS", "50"),
            ("WEBHOOK_MAX_ATTEMPTS", "0"),
            ("FETCH_CONNECT_TIMEOUT_SECS", "1ms"),
        ]),
    )
    .expect_err("bad fetch settings");
    let names = err.variables();
    for expected in [
        "FETCH_ALLOW",
        "FETCH_MAX_BYTES",
        "FETCH_MAX_REDIRECTS",
        "WEBHOOK_MAX_ATTEMPTS",
        "FETCH_CONNECT_TIMEOUT_SECS",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}
