//! Through PgBouncer as Debian ships it (1.18: transaction mode, a pool of 4,
//! no prepared-statement support, `extra_float_digits` not ignored), started
//! by `scripts/services.sh` and named by `TEST_POOLER_URL`: the functions
//! under load and migrations without a direct URL.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use folio_e2e::{Running, free_port, run_to_end};
use folio_testing::{TEST_JWT_SECRET, database_url, database_url_for, pooler_url_for};
use serde_json::{Value, json};

use crate::World;

const CLIENTS: usize = 32;
const ROUNDS: usize = 3;
const TEXT: &str = "Photosynthesis converts light energy into chemical energy. Chlorophyll \
    absorbs red and blue light in the chloroplasts of plant cells. Carbon dioxide and water \
    become glucose and oxygen during the Calvin cycle. Stomata regulate the exchange of gases \
    between the leaf and the atmosphere. Mitochondria release the stored energy through \
    cellular respiration in nearly every living cell.";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quiz_and_ocr_under_32_clients_through_pgbouncer_answer_every_request() {
    let world = World::new().await;
    let pooled = pooler_url_for(&world.db.name);
    let vars = world.vars(&[
        ("DATABASE_URL", &pooled),
        ("DATABASE_POOLER", "transaction"),
        ("DATABASE_MAX_CONNECTIONS", "16"),
        ("RATE_LIMIT_OCR_PER_MIN", "100000"),
        ("RATE_LIMIT_QUIZ_PER_MIN", "100000"),
        ("RUST_LOG", "warn"),
    ]);
    let mut local = Running::start("folio-local", free_port(), &vars, &[]);
    local.wait_ready().await;
    let base = Arc::new(local.url(""));
    let client = reqwest::Client::new();
    let line = folio_testing::samples::render_text("pooled reading", 150, 60.0).expect("render");
    let png = Arc::new(folio_testing::samples::png(&line).expect("png"));
    let token = Arc::new(
        shared::auth::mint_hs256(TEST_JWT_SECRET, "pooled-reader", Duration::from_secs(3600))
            .expect("token"),
    );
    // The first recognition fills the cache; the load reads it.
    let warm = client
        .post(format!("{base}/v1/ocr"))
        .bearer_auth(&*token)
        .body(png.as_ref().clone())
        .send()
        .await
        .expect("warm-up OCR");
    assert_eq!(
        warm.status(),
        200,
        "{}",
        warm.text().await.unwrap_or_default()
    );

    let sent = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, base, token, png) = (client.clone(), base.clone(), token.clone(), png.clone());
        let (sent, failures) = (sent.clone(), failures.clone());
        tasks.spawn(async move {
            let check = |what: &str, status: u16, want: u16, body: &str| {
                sent.fetch_add(1, Ordering::Relaxed);
                if status != want {
                    failures
                        .lock()
                        .expect("failures")
                        .push(format!("{what}: {status} {body}"));
                }
            };
            for _ in 0..ROUNDS {
                let r = client
                    .post(format!("{base}/v1/quizzes"))
                    .bearer_auth(&*token)
                    .json(&json!({"source": {"text": TEXT}, "question_count": 3}))
                    .send()
                    .await
                    .expect("create");
                let status = r.status().as_u16();
                let quiz: Value = r.json().await.unwrap_or(Value::Null);
                check("create", status, 201, &quiz.to_string());
                let Some(id) = quiz["quiz_id"].as_str() else {
                    continue;
                };
                let r = client
                    .get(format!("{base}/v1/quizzes/{id}"))
                    .bearer_auth(&*token)
                    .send()
                    .await
                    .expect("read");
                check("read", r.status().as_u16(), 200, "");
                let questions = quiz["questions"].as_array().map_or(0, Vec::len);
                let r = client
                    .post(format!("{base}/v1/quizzes/{id}/attempts"))
                    .bearer_auth(&*token)
                    .json(&json!({"answers": vec![0; questions]}))
                    .send()
                    .await
                    .expect("attempt");
                let status = r.status().as_u16();
                check("attempt", status, 201, &r.text().await.unwrap_or_default());
                let r = client
                    .post(format!("{base}/v1/ocr"))
                    .bearer_auth(&*token)
                    .body(png.as_ref().clone())
                    .send()
                    .await
                    .expect("ocr");
                let status = r.status().as_u16();
                check("ocr", status, 200, &r.text().await.unwrap_or_default());
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("client task");
    }
    let sent = sent.load(Ordering::Relaxed);
    let failures = failures.lock().expect("failures").clone();
    eprintln!(
        "through pgbouncer: {sent} requests from {CLIENTS} clients in {:.1} s, {} failed",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert_eq!(sent, CLIENTS * ROUNDS * 4, "every request was sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed, first: {:?}; log:\n{}",
        failures.len(),
        failures.first(),
        local.output()
    );
}

/// A fresh database of the test's own (no template), dropped by the guard.
struct FreshDb {
    name: String,
}

impl FreshDb {
    async fn new() -> FreshDb {
        let name = format!("folio_e2e_{}", uuid::Uuid::new_v4().simple());
        admin(&format!("CREATE DATABASE \"{name}\"")).await;
        FreshDb { name }
    }

    async fn migrations(&self) -> Vec<(i64, bool)> {
        let pool = sqlx::PgPool::connect(&database_url_for(&self.name))
            .await
            .expect("connect");
        let rows = sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("migration rows");
        pool.close().await;
        rows
    }

    async fn drop(self) {
        admin(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name)).await;
    }
}

async fn admin(sql: &str) {
    let pool = sqlx::PgPool::connect(&database_url()).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .expect("admin statement");
    pool.close().await;
}

fn migrate(vars: Vec<(String, String)>) -> std::thread::JoinHandle<(bool, String)> {
    std::thread::spawn(move || {
        let (status, stdout, stderr) = run_to_end("worker-tick", &vars, &["migrate"]);
        (
            status.success(),
            format!("stdout: {stdout}\nstderr: {stderr}"),
        )
    })
}

fn newest() -> i64 {
    shared::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations")
}

#[tokio::test]
async fn concurrent_migrations_through_pgbouncer_without_a_direct_url_apply_each_once() {
    let db = FreshDb::new().await;
    let vars = vec![
        ("DATABASE_URL".to_owned(), pooler_url_for(&db.name)),
        ("DATABASE_POOLER".to_owned(), "transaction".to_owned()),
    ];
    let runs: Vec<_> = (0..3).map(|_| migrate(vars.clone())).collect();
    for run in runs {
        let (ok, output) = run.join().expect("thread");
        assert!(ok, "{output}");
        assert!(
            output.contains(&format!("schema version {}", newest())),
            "{output}"
        );
    }
    let rows = db.migrations().await;
    let expected: Vec<(i64, bool)> = shared::db::MIGRATOR
        .iter()
        .map(|m| (m.version, true))
        .collect();
    assert_eq!(
        rows, expected,
        "each migration recorded once, as sqlx records it"
    );
    // sqlx's own migrator (the direct path) accepts what the pooled one wrote.
    let direct = sqlx::PgPool::connect(&database_url_for(&db.name))
        .await
        .expect("direct");
    shared::db::MIGRATOR
        .run(&direct)
        .await
        .expect("sqlx accepts the pooled migrator's records");
    direct.close().await;
    db.drop().await;
}

#[tokio::test]
async fn migrations_through_the_direct_url_and_then_the_pooler_agree() {
    let db = FreshDb::new().await;
    let direct = vec![
        ("DATABASE_URL".to_owned(), pooler_url_for(&db.name)),
        ("DATABASE_POOLER".to_owned(), "transaction".to_owned()),
        ("DATABASE_DIRECT_URL".to_owned(), database_url_for(&db.name)),
    ];
    let (ok, output) = migrate(direct).join().expect("thread");
    assert!(ok, "{output}");
    assert!(
        output.contains(&format!("schema version {}", newest())),
        "{output}"
    );
    let pooled = vec![
        ("DATABASE_URL".to_owned(), pooler_url_for(&db.name)),
        ("DATABASE_POOLER".to_owned(), "transaction".to_owned()),
    ];
    let (ok, output) = migrate(pooled).join().expect("thread");
    assert!(ok, "the pooled migrator accepts sqlx's records: {output}");
    assert!(
        output.contains(&format!("schema version {}", newest())),
        "{output}"
    );
    assert_eq!(
        db.migrations().await.len(),
        shared::db::MIGRATOR.iter().count()
    );
    db.drop().await;
}
