use std::time::{Duration, Instant};

use shared::config::{Config, Function};
use shared::kv::{Cmd, Kv, KvError, Reply};
use shared::testing::{TestPrefix, redis_url};

fn kv_for(url: &str, prefix: &str) -> Kv {
    shared::install_crypto_provider();
    let config = Config::from_vars(
        Function::Health,
        [
            (
                "DATABASE_URL".to_owned(),
                "postgres://127.0.0.1/x".to_owned(),
            ),
            ("REDIS_URL".to_owned(), url.to_owned()),
            ("REDIS_KEY_PREFIX".to_owned(), prefix.to_owned()),
            ("REDIS_CONNECT_TIMEOUT_SECS".to_owned(), "0.5".to_owned()),
        ],
    )
    .expect("config");
    Kv::from_config(&config.redis).expect("kv")
}

fn raw() -> redis::Connection {
    redis::Client::open(redis_url())
        .expect("client")
        .get_connection()
        .expect("raw connection")
}

#[tokio::test]
async fn values_are_binary_safe_and_keys_carry_the_prefix() {
    let p = TestPrefix::new();
    let kv = kv_for(&redis_url(), &p.prefix);
    let value: Vec<u8> = (0..=255u8).collect();
    kv.set("blob", &value, None).await.expect("set");
    assert_eq!(kv.get("blob").await.expect("get"), Some(value.clone()));
    assert_eq!(kv.get("missing").await.expect("get"), None);

    let stored: Option<Vec<u8>> = redis::cmd("GET")
        .arg(format!("{}blob", p.prefix))
        .query(&mut raw())
        .expect("raw get");
    assert_eq!(stored, Some(value), "the key lives under the prefix");
    let unprefixed: Option<Vec<u8>> = redis::cmd("GET")
        .arg("blob")
        .query(&mut raw())
        .expect("raw get");
    assert_eq!(unprefixed, None);
}

#[tokio::test]
async fn ttls_counters_deletes_and_pipelines_work() {
    let p = TestPrefix::new();
    let kv = kv_for(&redis_url(), &p.prefix);
    kv.set("short", b"x", Some(Duration::from_secs(30)))
        .await
        .expect("set");
    let ttl = kv.ttl("short").await.expect("ttl").expect("has ttl");
    assert!(ttl <= Duration::from_secs(30) && ttl > Duration::from_secs(25));
    assert_eq!(kv.ttl("missing").await.expect("ttl"), None);

    assert_eq!(kv.incr_by("n", 2).await.expect("incr"), 2);
    assert_eq!(kv.incr_by("n", 3).await.expect("incr"), 5);
    assert_eq!(kv.del(&["n", "short", "missing"]).await.expect("del"), 2);

    let replies = kv
        .pipeline(
            &[
                Cmd::new("SET").arg(kv.key("a")).arg("1"),
                Cmd::new("INCR").arg(kv.key("a")),
                Cmd::new("HSET").arg(kv.key("a")).arg("f").arg("v"),
                Cmd::new("GET").arg(kv.key("a")),
            ],
            false,
        )
        .await
        .expect("pipeline");
    assert_eq!(replies[0], Ok(Reply::Status("OK".into())));
    assert_eq!(replies[1], Ok(Reply::Int(2)));
    assert!(
        matches!(&replies[2], Err(KvError::Server(m)) if m.starts_with("WRONGTYPE")),
        "{:?}",
        replies[2]
    );
    assert_eq!(replies[3], Ok(Reply::Bytes(b"2".to_vec())));
}

#[tokio::test]
async fn the_connection_manager_survives_the_server_dropping_the_connection() {
    let p = TestPrefix::new();
    let kv = kv_for(&redis_url(), &p.prefix);
    kv.set("k", b"before", None).await.expect("set");
    let id = kv
        .query(Cmd::new("CLIENT").arg("ID"))
        .await
        .expect("client id")
        .as_int()
        .expect("int");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut raw())
        .expect("kill");
    assert_eq!(killed, 1);
    // The next command meets the dead socket; one retry on a fresh connection succeeds.
    assert_eq!(
        kv.get("k").await.expect("get after drop"),
        Some(b"before".to_vec())
    );
    let new_id = kv
        .query(Cmd::new("CLIENT").arg("ID"))
        .await
        .expect("client id")
        .as_int();
    assert_ne!(new_id, Some(id));
}

#[tokio::test]
async fn an_unreachable_server_fails_fast_instead_of_hanging() {
    let kv = kv_for("redis://127.0.0.1:1", "x:");
    let started = Instant::now();
    assert!(matches!(kv.ping().await, Err(KvError::Unavailable(_))));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn rediss_to_a_plaintext_server_times_out_instead_of_hanging() {
    let url = redis_url().replacen("redis://", "rediss://", 1);
    let kv = kv_for(&url, "x:");
    let started = Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(10), kv.ping())
        .await
        .expect("must not hang");
    assert!(matches!(result, Err(KvError::Unavailable(_))), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn publish_reaches_a_subscriber_on_the_prefixed_channel() {
    let p = TestPrefix::new();
    let kv = kv_for(&redis_url(), &p.prefix);
    let channel = format!("{}notify:job:1", p.prefix);
    let (tx, rx) = std::sync::mpsc::channel();
    let listener = std::thread::spawn(move || {
        let mut conn = raw();
        let mut pubsub = conn.as_pubsub();
        pubsub.subscribe(&channel).expect("subscribe");
        tx.send(()).expect("ready");
        pubsub
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let msg = pubsub.get_message().expect("message");
        msg.get_payload::<String>().expect("payload")
    });
    rx.recv().expect("subscribed");
    assert_eq!(
        kv.publish("notify:job:1", b"done").await.expect("publish"),
        1
    );
    assert_eq!(listener.join().expect("thread"), "done");
}
