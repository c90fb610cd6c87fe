//! The contract every transport keeps. Each function takes a fixture over one
//! transport; `main.rs` runs each against all three. What is built on the
//! seam (counters, cache-aside, the limiter) is in `contract/built_on.rs`,
//! the limiter under clock skew in `contract/skew.rs`.

mod built_on;
mod skew;

pub use built_on::*;
pub use skew::*;

use std::time::Duration;

use shared::kv::{Cmd, KvError, Reply, Script, counters, notify};

use crate::support::{Fixture, Kind};

pub async fn binary_values_survive_and_keys_carry_the_prefix(f: &mut Fixture) {
    let value: Vec<u8> = (0..=255u8).rev().chain(0..=255u8).collect();
    f.kv.set("blob", &value, None).await.expect("set");
    assert_eq!(f.kv.get("blob").await.expect("get"), Some(value.clone()));
    let stored: Option<Vec<u8>> = redis::cmd("GET")
        .arg(format!("{}blob", f.prefix.prefix))
        .query(&mut f.raw())
        .expect("raw get");
    assert_eq!(
        stored,
        Some(value),
        "stored under the prefix, byte for byte"
    );
    // Values written by someone else (not UTF-8) read back the same way.
    let _: () = redis::cmd("SET")
        .arg(format!("{}raw", f.prefix.prefix))
        .arg(&[0xff_u8, 0xfe, 0, 1][..])
        .query(&mut f.raw())
        .expect("raw set");
    assert_eq!(
        f.kv.get("raw").await.expect("get"),
        Some(vec![0xff, 0xfe, 0, 1])
    );
    f.kv.set("empty", b"", None).await.expect("set empty");
    assert_eq!(f.kv.get("empty").await.expect("get"), Some(Vec::new()));
}

pub async fn missing_keys_read_as_nothing(f: &mut Fixture) {
    assert_eq!(f.kv.get("missing").await.expect("get"), None);
    assert_eq!(f.kv.ttl("missing").await.expect("ttl"), None);
    assert_eq!(
        f.kv.del(&["missing", "also-missing"]).await.expect("del"),
        0
    );
    assert_eq!(counters::total(&f.kv, "never").await.expect("total"), 0);
}

pub async fn ttls_are_kept_and_keys_expire(f: &mut Fixture) {
    f.kv.set("long", b"x", Some(Duration::from_secs(30)))
        .await
        .expect("set");
    let ttl = f.kv.ttl("long").await.expect("ttl").expect("has a ttl");
    assert!(
        ttl > Duration::from_secs(25) && ttl <= Duration::from_secs(30),
        "{ttl:?}"
    );
    f.kv.set("short", b"x", Some(Duration::from_millis(60)))
        .await
        .expect("set");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(f.kv.get("short").await.expect("get"), None);
    f.kv.set("forever", b"x", None).await.expect("set");
    assert_eq!(f.kv.ttl("forever").await.expect("ttl"), None);
}

pub async fn pipelines_answer_in_order_with_per_command_errors(f: &mut Fixture) {
    let kv = &f.kv;
    let replies = kv
        .pipeline(
            &[
                Cmd::new("SET").arg(kv.key("a")).arg("1"),
                Cmd::new("INCR").arg(kv.key("a")),
                Cmd::new("HSET").arg(kv.key("a")).arg("f").arg("v"),
                Cmd::new("GET").arg(kv.key("a")),
                Cmd::new("GET").arg(kv.key("nothing")),
                Cmd::new("RPUSH").arg(kv.key("l")).arg("x").arg("y"),
                Cmd::new("LRANGE").arg(kv.key("l")).arg("0").arg("-1"),
            ],
            false,
        )
        .await
        .expect("pipeline");
    assert_eq!(replies.len(), 7);
    assert!(
        replies[0].as_ref().is_ok_and(Reply::is_ok),
        "{:?}",
        replies[0]
    );
    assert_eq!(replies[1], Ok(Reply::Int(2)));
    assert!(
        matches!(&replies[2], Err(KvError::Server(m)) if m.starts_with("WRONGTYPE")),
        "{:?}",
        replies[2]
    );
    assert_eq!(replies[3], Ok(Reply::Bytes(b"2".to_vec())));
    assert_eq!(replies[4], Ok(Reply::Nil));
    assert_eq!(replies[5], Ok(Reply::Int(2)));
    assert_eq!(
        replies[6],
        Ok(Reply::Array(vec![
            Reply::Bytes(b"x".to_vec()),
            Reply::Bytes(b"y".to_vec())
        ]))
    );
    // A single command that the server refuses is an error of that command.
    let refused = kv.query(Cmd::new("INCR").arg(kv.key("l"))).await;
    assert!(matches!(refused, Err(KvError::Server(m)) if m.starts_with("WRONGTYPE")));
}

pub async fn atomic_batches_apply_together(f: &mut Fixture) {
    let kv = &f.kv;
    let replies = kv
        .pipeline(
            &[
                Cmd::new("INCR").arg(kv.key("n")),
                Cmd::new("INCRBY").arg(kv.key("n")).arg("10"),
                Cmd::new("PEXPIRE").arg(kv.key("n")).arg("60000"),
            ],
            true,
        )
        .await
        .expect("multi/exec");
    assert_eq!(
        replies,
        vec![Ok(Reply::Int(1)), Ok(Reply::Int(11)), Ok(Reply::Int(1))]
    );
}

pub async fn scripts_run_by_sha_after_falling_back_to_eval(f: &mut Fixture) {
    // A script no server has seen: the first call meets NOSCRIPT.
    let source: &'static str = Box::leak(
        format!(
            "-- {}\nredis.call('SET', KEYS[1], ARGV[1]) return redis.call('STRLEN', KEYS[1])",
            uuid::Uuid::new_v4()
        )
        .into_boxed_str(),
    );
    let script = Script::new(source);
    let before =
        f.kv.query(script.evalsha(&[f.kv.key("s")], &[b"abc"]))
            .await;
    assert!(
        before.as_ref().is_err_and(KvError::is_no_script),
        "{before:?}"
    );
    let reply = f.kv.eval(&script, &["s"], &[b"abcd"]).await.expect("eval");
    assert_eq!(reply, Reply::Int(4));
    // Now cached: EVALSHA alone works.
    let again =
        f.kv.query(script.evalsha(&[f.kv.key("s")], &[b"ab"]))
            .await
            .expect("evalsha");
    assert_eq!(again, Reply::Int(2));
    assert_eq!(f.kv.get("s").await.expect("get"), Some(b"ab".to_vec()));
}

pub async fn publish_reaches_a_subscriber_of_the_prefixed_channel(f: &mut Fixture) {
    let pattern = format!("{}notify:*", f.prefix.prefix);
    let mut conn = f.raw();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let listener = std::thread::spawn(move || {
        let mut pubsub = conn.as_pubsub();
        pubsub.psubscribe(&pattern).expect("psubscribe");
        ready_tx.send(()).expect("ready");
        pubsub
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        (0..3)
            .map(|_| {
                let msg = pubsub.get_message().expect("message");
                (
                    msg.get_channel_name().to_owned(),
                    msg.get_payload_bytes().to_vec(),
                )
            })
            .collect::<Vec<_>>()
    });
    ready_rx.recv().expect("subscribed");
    assert_eq!(
        f.kv.publish("notify:raw", &[0, 0xff])
            .await
            .expect("publish"),
        1
    );
    let event = serde_json::json!({"status": "done"});
    assert_eq!(notify::job(&f.kv, 42, &event).await.expect("job"), 1);
    assert_eq!(notify::user(&f.kv, "u-1", &event).await.expect("user"), 1);
    let got = tokio::task::spawn_blocking(move || listener.join().expect("listener"))
        .await
        .expect("join");
    let p = &f.prefix.prefix;
    assert_eq!(got[0], (format!("{p}notify:raw"), vec![0, 0xff]));
    assert_eq!(got[1].0, format!("{p}notify:job:42"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got[1].1).expect("json"),
        event
    );
    assert_eq!(got[2].0, format!("{p}notify:user:u-1"));
}

pub async fn the_next_command_succeeds_after_the_server_drops_the_connection(f: &mut Fixture) {
    f.kv.set("k", b"before", None).await.expect("set");
    match f.kind {
        Kind::Tcp | Kind::Tls => {
            let id =
                f.kv.query(Cmd::new("CLIENT").arg("ID"))
                    .await
                    .expect("client id")
                    .as_int()
                    .expect("int");
            let killed: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query(&mut f.raw())
                .expect("kill");
            assert_eq!(killed, 1);
        }
        Kind::Rest => {
            // The REST endpoint restarts: every pooled HTTP connection is gone.
            f.emulator
                .as_mut()
                .expect("emulator")
                .restart()
                .await
                .expect("restart");
        }
    }
    assert_eq!(
        f.kv.get("k").await.expect("get after the drop"),
        Some(b"before".to_vec())
    );
    f.kv.set("k", b"after", None)
        .await
        .expect("set after the drop");
}
