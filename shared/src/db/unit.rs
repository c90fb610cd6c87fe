//! Statements that survive a transaction-mode pooler without prepared-statement
//! support (PgBouncer before 1.21, Supabase's transaction pooler, RDS Proxy).
//!
//! sqlx prepares a statement with arguments in one round trip (Parse,
//! Describe, Sync) and runs it in a second (Bind, Execute, Sync). Such a pooler
//! may hand each round trip a different server connection unless a
//! transaction is open, and sqlx's named statements (`sqlx_s_N`, never closed
//! when the statement cache is off) outlive the transaction that made them.
//! So in pooler mode every statement is unnamed (`query*` here) and every
//! unit of work runs inside one explicit transaction (`unit`), which pins one
//! server connection from BEGIN to COMMIT. On a direct connection (the
//! default) statements stay named and cached and `unit` is a plain pooled
//! connection: no extra round trip.
//!
//! The mode is process-wide and only ever switches on (`db::pool` switches it
//! for a `DATABASE_POOLER=transaction` pool): an unnamed statement is correct
//! everywhere, only slower. Trap: `.map()`/`.try_map()` on a sqlx query
//! forgets `persistent(false)` (sqlx's `Map` reports itself persistent), so
//! folio's SQL uses `query_as`/`query_scalar` instead.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{FromRow, PgConnection, PgPool, Postgres, SqlSafeStr, Transaction};

static UNNAMED: AtomicBool = AtomicBool::new(false);

/// Switches this process to pooler mode (unnamed statements, one transaction
/// per unit of work). There is no way back: see the module notes.
pub fn use_unnamed_statements() {
    UNNAMED.store(true, Ordering::Relaxed);
}

/// True once this process talks to a transaction-mode pooler.
pub fn unnamed_statements() -> bool {
    UNNAMED.load(Ordering::Relaxed)
}

/// `sqlx::query`, unnamed in pooler mode.
pub fn query<'q>(sql: impl SqlSafeStr) -> Query<'q, Postgres, PgArguments> {
    sqlx::query(sql).persistent(!unnamed_statements())
}

/// `sqlx::query_as`, unnamed in pooler mode.
pub fn query_as<'q, O>(sql: impl SqlSafeStr) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).persistent(!unnamed_statements())
}

/// `sqlx::query_scalar`, unnamed in pooler mode.
pub fn query_scalar<'q, O>(sql: impl SqlSafeStr) -> QueryScalar<'q, Postgres, O, PgArguments>
where
    (O,): for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_scalar(sql).persistent(!unnamed_statements())
}

/// One unit of work on one connection: in pooler mode an explicit
/// transaction, else a plain pooled connection. Use it as `&mut *unit` and
/// end it with `commit()`: a unit dropped without it is rolled back in
/// pooler mode (writes lost), so every writer commits.
pub struct Unit(Held);

enum Held {
    Tx(Transaction<'static, Postgres>),
    Conn(PoolConnection<Postgres>),
}

/// Starts a unit of work on `pool` (see `Unit`). While Neon's proxy says the
/// compute is still waking, retries with backoff within the pool's acquire
/// timeout (the pool itself retries refused connections the same way).
pub async fn unit(pool: &PgPool) -> Result<Unit, sqlx::Error> {
    let started = Instant::now();
    let budget = pool.options().get_acquire_timeout();
    let mut delay = Duration::from_millis(100);
    loop {
        let held = if unnamed_statements() {
            pool.begin().await.map(Held::Tx)
        } else {
            pool.acquire().await.map(Held::Conn)
        };
        match held {
            Err(e) if super::connect::is_waking(&e) && started.elapsed() + delay < budget => {
                tracing::debug!(
                    retry_in_ms = delay.as_millis() as u64,
                    "database compute waking"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            held => return held.map(Unit),
        }
    }
}

impl Unit {
    /// Ends the unit: commits its transaction in pooler mode.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.0 {
            Held::Tx(tx) => tx.commit().await,
            Held::Conn(_) => Ok(()),
        }
    }
}

impl Deref for Unit {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match &self.0 {
            Held::Tx(tx) => tx,
            Held::Conn(conn) => conn,
        }
    }
}

impl DerefMut for Unit {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.0 {
            Held::Tx(tx) => tx,
            Held::Conn(conn) => conn,
        }
    }
}
