use folio_e2e::run_to_end;
use folio_testing::{database_url, database_url_for};

#[tokio::test]
async fn worker_tick_migrate_applies_migrations_and_concurrent_runs_are_safe() {
    let name = format!("folio_e2e_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&database_url()).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin)
        .await
        .expect("create");
    let vars = vec![("DATABASE_URL".to_owned(), database_url_for(&name))];

    let runs: Vec<_> = (0..3)
        .map(|_| {
            let vars = vars.clone();
            std::thread::spawn(move || run_to_end("worker-tick", &vars, &["migrate"]))
        })
        .collect();
    let newest = shared::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations");
    for run in runs {
        let (status, stdout, stderr) = run.join().expect("thread");
        assert!(status.success(), "stdout: {stdout}\nstderr: {stderr}");
        assert!(
            stdout.contains(&format!("schema version {newest}")),
            "{stdout}"
        );
    }

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("drop");
}

#[test]
fn worker_tick_rejects_unknown_arguments() {
    let (status, _, stderr) = run_to_end("worker-tick", &[], &["--frobnicate"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("usage"));
}
