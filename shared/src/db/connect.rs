//! Connecting: folio's transport rules on top of the URL, start-up
//! parameters every pooler accepts, the request-path pool, and which errors
//! mean "the database is not there (yet)" rather than a bug.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};

use crate::config::{DatabaseConfig, Pooler, is_loopback_host};

/// Connection options from a URL, with folio's transport rules: an explicit
/// `sslmode` in the URL wins; else a non-loopback host gets `verify-full`
/// (sqlx's `require` checks no certificate), or `prefer` when
/// `ALLOW_INSECURE_TRANSPORT=true` (a compose network's plaintext Postgres).
/// Errors never contain the URL.
pub fn connect_options(
    url: &SecretString,
    config: &DatabaseConfig,
) -> anyhow::Result<PgConnectOptions> {
    let raw = url.expose_secret();
    let mut options = PgConnectOptions::from_str(raw)
        .map_err(|_| anyhow::anyhow!("the database URL cannot be parsed"))?;
    let has_sslmode = url::Url::parse(raw)
        .map(|u| u.query_pairs().any(|(k, _)| k == "sslmode"))
        .unwrap_or(false);
    let local = options.get_host().starts_with('/') || is_loopback_host(options.get_host());
    if !has_sslmode && !local {
        options = options.ssl_mode(if config.allow_insecure_transport {
            PgSslMode::Prefer
        } else {
            PgSslMode::VerifyFull
        });
    }
    let cache = match config.pooler {
        Pooler::None => config.statement_cache_capacity,
        // Statements are unnamed there: nothing to cache.
        Pooler::Transaction => 0,
    };
    Ok(options
        .statement_cache_capacity(cache)
        // A start-up parameter poolers may refuse ("unsupported startup
        // parameter: extra_float_digits", PgBouncer without it in
        // `ignore_startup_parameters`). Postgres 12+ already prints floats
        // exactly by default, and prepared statements return binary.
        .extra_float_digits(None)
        .application_name("folio")
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500)))
}

/// The request-path pool. Connects on first use, never at start-up. A
/// server that refuses connections (a Neon compute waking, a Postgres still
/// starting) is retried with backoff until `DATABASE_ACQUIRE_TIMEOUT_SECS`,
/// then the caller gets 503 (see `is_unavailable`). Switches the process to
/// unnamed statements for a transaction pooler (see `unit`).
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let options = connect_options(&config.url, config)?;
    if config.pooler == Pooler::Transaction {
        super::unit::use_unnamed_statements();
    }
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(0)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(60)))
        .connect_lazy_with(options))
}

/// True for errors that mean the database cannot be reached right now (the
/// caller gets 503 with `Retry-After`): no connection in time, network and
/// TLS failures, a server starting, shutting down or out of connections
/// (SQLSTATE classes 08 and 57P, 53300), and Neon's proxy while it wakes a
/// suspended compute ("Couldn't connect to compute node").
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            code.starts_with("08")
                || code.starts_with("57P")
                || code == "53300"
                || is_waking_message(db.message())
        }
        _ => false,
    }
}

/// A connection refused by Neon's proxy while it wakes the compute.
pub(super) fn is_waking(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if is_waking_message(db.message()))
}

/// Neon's proxy while a suspended compute starts.
fn is_waking_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("couldn't connect to compute node")
        || message.contains("compute node is starting")
        || message.contains("waking")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Function};

    fn db_config(vars: &[(&str, &str)]) -> DatabaseConfig {
        Config::from_vars(
            Function::Health,
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .expect("config")
        .database
    }

    fn ssl_mode(vars: &[(&str, &str)]) -> PgSslMode {
        let config = db_config(vars);
        connect_options(&config.url, &config)
            .expect("options")
            .get_ssl_mode()
    }

    #[test]
    fn remote_hosts_default_to_verify_full_and_local_ones_do_not() {
        let remote = [(
            "DATABASE_URL",
            "postgres://u:p@ep-x.eu-central-1.aws.neon.tech/db",
        )];
        assert!(matches!(ssl_mode(&remote), PgSslMode::VerifyFull));
        let explicit = [(
            "DATABASE_URL",
            "postgres://u:p@db.example.com/db?sslmode=verify-ca",
        )];
        assert!(matches!(ssl_mode(&explicit), PgSslMode::VerifyCa));
        let local = [("DATABASE_URL", "postgres://u:p@127.0.0.1/db")];
        assert!(matches!(ssl_mode(&local), PgSslMode::Prefer));
    }

    #[test]
    fn insecure_transport_lets_a_named_host_without_sslmode_go_plaintext_if_it_must() {
        let compose = [
            ("DATABASE_URL", "postgres://folio:folio@postgres:5432/folio"),
            ("ALLOW_INSECURE_TRANSPORT", "true"),
        ];
        assert!(matches!(ssl_mode(&compose), PgSslMode::Prefer));
        let without = [("DATABASE_URL", "postgres://folio:folio@postgres:5432/folio")];
        assert!(matches!(ssl_mode(&without), PgSslMode::VerifyFull));
    }

    #[test]
    fn an_explicit_sslmode_in_the_url_wins_over_insecure_transport() {
        let vars = [
            (
                "DATABASE_URL",
                "postgres://u:p@postgres/db?sslmode=verify-full",
            ),
            ("ALLOW_INSECURE_TRANSPORT", "true"),
        ];
        assert!(matches!(ssl_mode(&vars), PgSslMode::VerifyFull));
        let vars = [
            ("DATABASE_URL", "postgres://u:p@postgres/db?sslmode=disable"),
            ("ALLOW_INSECURE_TRANSPORT", "true"),
        ];
        assert!(matches!(ssl_mode(&vars), PgSslMode::Disable));
    }

    #[test]
    fn the_pooler_is_configurable_and_detected_from_the_url() {
        let neon = [(
            "DATABASE_URL",
            "postgres://u:p@ep-x-123-pooler.eu-central-1.aws.neon.tech/db",
        )];
        assert_eq!(db_config(&neon).pooler, Pooler::Transaction);
        let forced = [
            ("DATABASE_URL", "postgres://u:p@127.0.0.1:6432/db"),
            ("DATABASE_POOLER", "transaction"),
        ];
        assert_eq!(db_config(&forced).pooler, Pooler::Transaction);
        let off = [
            (
                "DATABASE_URL",
                "postgres://u:p@ep-x-123-pooler.eu-central-1.aws.neon.tech/db",
            ),
            ("DATABASE_POOLER", "none"),
        ];
        assert_eq!(db_config(&off).pooler, Pooler::None);
        let bad = Config::from_vars(
            Function::Health,
            [
                (
                    "DATABASE_URL".to_owned(),
                    "postgres://127.0.0.1/x".to_owned(),
                ),
                ("DATABASE_POOLER".to_owned(), "sometimes".to_owned()),
            ],
        )
        .expect_err("an unknown pooler kind is refused");
        assert_eq!(bad.variables(), vec!["DATABASE_POOLER"]);
    }

    #[test]
    fn neon_waking_messages_count_as_unavailable() {
        assert!(is_waking_message("Couldn't connect to compute node"));
        assert!(!is_waking_message("relation \"quizzes\" does not exist"));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
