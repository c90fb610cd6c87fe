//! Postgres: the source of truth. A lazily connecting pool over rustls (so a
//! cold start costs no round trip), the embedded migrations, and the schema
//! version readiness reports.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};

use crate::config::{DatabaseConfig, is_loopback_host};

/// The embedded migrations (`shared/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection options from a URL, with folio's transport rules: a non-loopback
/// host with no `sslmode` in its URL gets `verify-full` (sqlx's `require`
/// checks no certificate). Errors never contain the URL.
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
        options = options.ssl_mode(PgSslMode::VerifyFull);
    }
    Ok(options
        .statement_cache_capacity(config.statement_cache_capacity)
        .application_name("folio")
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500)))
}

/// The request-path pool. Connects on first use, never at start-up.
pub fn pool(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let options = connect_options(&config.url, config)?;
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(0)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(Some(Duration::from_secs(60)))
        .connect_lazy_with(options))
}

/// Applies every pending migration over one dedicated connection to the
/// direct endpoint (a pooler in transaction mode cannot hold sqlx's session
/// advisory lock, which is what makes concurrent runs safe). Retries the
/// connection with backoff for up to `wait`, since a suspended Neon compute
/// takes a moment to wake. Returns the schema version now in force.
pub async fn migrate(config: &DatabaseConfig, wait: Duration) -> anyhow::Result<i64> {
    let url = config.direct_url.as_ref().unwrap_or(&config.url);
    let options = connect_options(url, config)?;
    // One connection, held by the migrator for the whole run (its lock is
    // per session).
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(
            config
                .connect_timeout
                .min(wait)
                .max(Duration::from_millis(200)),
        )
        .connect_lazy_with(options);
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match pool.acquire().await {
            Ok(_) => break,
            Err(e) if started.elapsed() < wait => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
            }
            Err(e) => anyhow::bail!("cannot connect to the database for migrations: {e}"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(3));
    }
    MIGRATOR.run(&pool).await?;
    let version = schema_version(&pool).await?.unwrap_or(0);
    pool.close().await;
    tracing::info!(schema_version = version, "migrations applied");
    Ok(version)
}

/// The newest applied migration, `None` before the first.
pub async fn schema_version(pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    schema_version_on(&mut conn).await
}

async fn schema_version_on(conn: &mut sqlx::PgConnection) -> Result<Option<i64>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Function};

    fn db_config(url: &str) -> DatabaseConfig {
        Config::from_vars(
            Function::Health,
            [("DATABASE_URL".to_owned(), url.to_owned())],
        )
        .expect("config")
        .database
    }

    #[test]
    fn remote_hosts_default_to_verify_full_and_local_ones_do_not() {
        let remote = db_config("postgres://u:p@ep-x.eu-central-1.aws.neon.tech/db");
        let opts = connect_options(&remote.url, &remote).expect("options");
        assert!(matches!(opts.get_ssl_mode(), PgSslMode::VerifyFull));

        let explicit = db_config("postgres://u:p@db.example.com/db?sslmode=verify-ca");
        let opts = connect_options(&explicit.url, &explicit).expect("options");
        assert!(matches!(opts.get_ssl_mode(), PgSslMode::VerifyCa));

        let local = db_config("postgres://u:p@127.0.0.1/db");
        let opts = connect_options(&local.url, &local).expect("options");
        assert!(matches!(opts.get_ssl_mode(), PgSslMode::Prefer));
    }
}
