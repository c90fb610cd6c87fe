use std::time::Duration;

use folio_testing::{TestDb, database_url_for};
use shared::config::{Config, Function};

fn db_config(url: &str) -> shared::config::DatabaseConfig {
    Config::from_vars(
        Function::Health,
        [("DATABASE_URL".to_owned(), url.to_owned())],
    )
    .expect("config")
    .database
}

#[tokio::test]
async fn concurrent_migration_runs_are_safe_and_agree_on_the_version() {
    // An empty database of its own (not from the template).
    let db = TestDb::new().await;
    let name = format!("{}_fresh", db.name);
    let admin = sqlx::PgPool::connect(&folio_testing::database_url())
        .await
        .expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await
        .expect("create");
    let config = db_config(&database_url_for(&name));

    let runs = (0..4).map(|_| {
        let config = config.clone();
        tokio::spawn(async move { shared::db::migrate(&config, Duration::from_secs(10)).await })
    });
    let versions: Vec<i64> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("migrate"))
        .collect();
    let newest = shared::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations");
    assert!(versions.iter().all(|v| *v == newest), "{versions:?}");

    let pool = shared::db::pool(&config).expect("pool");
    assert_eq!(
        shared::db::schema_version(&pool).await.expect("version"),
        Some(newest)
    );
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("drop");
    admin.close().await;
}

#[tokio::test]
async fn the_pool_connects_lazily_and_times_out_when_postgres_is_down() {
    let config = Config::from_vars(
        Function::Health,
        [
            (
                "DATABASE_URL".to_owned(),
                "postgres://u:p@127.0.0.1:1/nope".to_owned(),
            ),
            ("DATABASE_ACQUIRE_TIMEOUT_SECS".to_owned(), "0.5".to_owned()),
        ],
    )
    .expect("config");
    // Building the pool must not touch the network.
    let pool = shared::db::pool(&config.database).expect("lazy pool");
    let started = std::time::Instant::now();
    let err = shared::db::schema_version(&pool)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    let mapped: shared::Error = err.into();
    assert_eq!(mapped.status(), 503);
}

#[tokio::test]
async fn migrating_an_unreachable_database_gives_up_after_its_wait() {
    let config = db_config("postgres://u:p@127.0.0.1:1/nope");
    let started = std::time::Instant::now();
    let err = shared::db::migrate(&config, Duration::from_millis(600))
        .await
        .expect_err("down");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !err.to_string().contains(":p@"),
        "no credentials in errors: {err}"
    );
}
