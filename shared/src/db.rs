//! Postgres: the source of truth. A lazily connecting pool over rustls (so a
//! cold start costs no round trip), the embedded migrations, the schema
//! version readiness reports, and what keeps every statement safe behind a
//! transaction-mode pooler (`unit`, `query*`: see `db/unit.rs`).

mod connect;
mod migrate;
mod unit;

pub use connect::{connect_options, is_unavailable, pool};
pub use migrate::{migrate, migrate_in_transaction};
pub use unit::use_unnamed_statements;
pub use unit::{Unit, query, query_as, query_scalar, unit, unnamed_statements};

/// The embedded migrations (`shared/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The newest applied migration, `None` before the first.
pub async fn schema_version(pool: &sqlx::PgPool) -> Result<Option<i64>, sqlx::Error> {
    let mut conn = unit(pool).await?;
    let version = schema_version_on(&mut conn).await?;
    conn.commit().await?;
    Ok(version)
}

pub(crate) async fn schema_version_on(
    conn: &mut sqlx::PgConnection,
) -> Result<Option<i64>, sqlx::Error> {
    let exists: bool = query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(None);
    }
    query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
}
