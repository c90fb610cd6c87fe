//! Applying the embedded migrations, on a direct connection or through a
//! transaction-mode pooler.
//!
//! sqlx's migrator serialises concurrent runs with a session advisory lock,
//! which a transaction pooler cannot hold (the session is not ours between
//! transactions). Through a pooler, with no `DATABASE_DIRECT_URL`, folio
//! applies every pending migration itself inside ONE transaction that holds
//! `pg_advisory_xact_lock` on the same key sqlx locks, and records them in
//! `_sqlx_migrations` exactly as sqlx does, so either path accepts a
//! database the other migrated and `schema_version` agrees.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection};

use super::{MIGRATOR, connect_options};
use crate::config::{DatabaseConfig, Pooler};

/// Applies every pending migration: with sqlx's migrator over one dedicated
/// connection to `DATABASE_DIRECT_URL` (or to `DATABASE_URL` when no pooler is
/// in the way), else in one locked transaction through the pooler
/// (`migrate_in_transaction`). Retries the connection with backoff for up
/// to `wait`, since a suspended Neon compute takes a moment to wake.
/// Returns the schema version now in force.
pub async fn migrate(config: &DatabaseConfig, wait: Duration) -> anyhow::Result<i64> {
    let (url, pooled) = match &config.direct_url {
        Some(direct) => (direct, false),
        None => (&config.url, config.pooler == Pooler::Transaction),
    };
    if config.pooler == Pooler::Transaction {
        super::unit::use_unnamed_statements();
    }
    let options = connect_options(url, config)?;
    // One connection, held for the whole run (sqlx's lock is per session).
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(
            config
                .connect_timeout
                .min(wait)
                .max(Duration::from_millis(200)),
        )
        .connect_lazy_with(options);
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    let mut conn = loop {
        match pool.acquire().await {
            Ok(conn) => break conn,
            Err(e) if started.elapsed() < wait => {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
            }
            Err(e) => anyhow::bail!("cannot connect to the database for migrations: {e}"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(3));
    };
    let version = if pooled {
        let version = migrate_in_transaction(&mut conn).await?;
        drop(conn);
        version
    } else {
        // Back to the pool of one, which the migrator then holds.
        drop(conn);
        MIGRATOR.run(&pool).await?;
        let mut tx = pool.begin().await?;
        let version = super::schema_version_on(&mut tx).await?.unwrap_or(0);
        tx.commit().await?;
        version
    };
    pool.close().await;
    tracing::info!(
        schema_version = version,
        through_pooler = pooled,
        "migrations applied"
    );
    Ok(version)
}

/// Applies every pending migration in one transaction holding the
/// migration lock as a transaction-scoped advisory lock: safe through a
/// transaction pooler, and concurrent runs wait for each other. All
/// statements are unnamed. Refuses a database that is dirty, has a
/// migration this build does not know, or one whose checksum differs (as
/// sqlx does), and a migration marked `-- no-transaction`. Returns the
/// schema version now in force.
pub async fn migrate_in_transaction(conn: &mut PgConnection) -> anyhow::Result<i64> {
    let mut tx = conn.begin().await?;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .persistent(false)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .persistent(false)
        .bind(lock_id(&database))
        .execute(&mut *tx)
        .await?;
    tx.execute(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
             success BOOLEAN NOT NULL,
             checksum BYTEA NOT NULL,
             execution_time BIGINT NOT NULL
         )",
    )
    .await?;
    let applied: Vec<(i64, Vec<u8>, bool)> =
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")
            .persistent(false)
            .fetch_all(&mut *tx)
            .await?;
    if let Some((version, _, _)) = applied.iter().find(|(_, _, success)| !success) {
        anyhow::bail!("migration {version} is partially applied (dirty); fix it by hand");
    }
    let known: HashMap<i64, &[u8]> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, &*m.checksum))
        .collect();
    for (version, checksum, _) in &applied {
        match known.get(version) {
            None => anyhow::bail!(
                "the database has migration {version}, which this build does not know"
            ),
            Some(ours) if *ours != checksum.as_slice() => {
                anyhow::bail!("migration {version} was applied with different contents")
            }
            Some(_) => {}
        }
    }
    for m in MIGRATOR.iter() {
        if m.migration_type.is_down_migration() || applied.iter().any(|(v, _, _)| *v == m.version) {
            continue;
        }
        if m.no_tx {
            anyhow::bail!(
                "migration {} must run outside a transaction; set DATABASE_DIRECT_URL",
                m.version
            );
        }
        let started = Instant::now();
        tx.execute(m.sql.clone())
            .await
            .with_context(|| format!("migration {} ({}) failed", m.version, m.description))?;
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, TRUE, $3, $4)",
        )
        .persistent(false)
        .bind(m.version)
        .bind(&*m.description)
        .bind(&*m.checksum)
        .bind(i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .persistent(false)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(version.unwrap_or(0))
}

/// The advisory-lock key sqlx's migrator takes for `database`, so a run
/// through the pooler and one through the direct endpoint exclude each other.
fn lock_id(database: &str) -> i64 {
    0x3d32_ad9e * i64::from(crc32(database.as_bytes()))
}

/// CRC-32 (ISO-HDLC, the zlib one), as sqlx's lock key uses.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_key_is_sqlx_s_crc32_based_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(lock_id("folio"), 0x3d32_ad9e * i64::from(crc32(b"folio")));
    }
}
