//! The guard on every Lua script folio sends (`kv::script::catalogue`): each
//! must run unchanged on Upstash under `allow-key-locking`, on ElastiCache
//! (serverless and cluster mode) and on Redis 7. The scripts run through
//! folio's own code (the limiter over TCP and REST, binary writes over REST)
//! on a throwaway Redis watched with `MONITOR`: every key a script's commands
//! touch, as the server's `COMMAND GETKEYS` names it, must have been declared
//! in `KEYS`, and no script may read the server clock or the keyspace. Each
//! captured call is then replayed on a one-node cluster under the `#!lua`
//! shebang, where Redis refuses keys outside the declared slot. A source scan
//! fails on a script missing from the catalogue.

mod monitor;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use folio_testing::TestDb;
use folio_testing::redis_server::RedisServer;
use folio_testing::upstash::UpstashEmulator;
use monitor::{Invocation, Monitor};
use shared::auth::Identity;
use shared::auth::sessions::{Clock, Sessions};
use shared::config::{RateLimitConfig, SessionConfig};
use shared::kv::{Cmd, Kv, script};
use shared::limits::{Policy, RateLimiter};

use crate::support::{REST_TOKEN, kv_from};

/// Commands a portable script must not run: the server clock (refused by
/// ElastiCache Serverless) and database-wide ones (refused by Upstash under
/// `allow-key-locking`, and meaningless on one node of a cluster).
const FORBIDDEN: &[&str] = &[
    "TIME",
    "KEYS",
    "SCAN",
    "RANDOMKEY",
    "DBSIZE",
    "FLUSHDB",
    "FLUSHALL",
    "SWAPDB",
];

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn exercise_limiter(kv: Kv, who: &str) {
    let limiter = RateLimiter::new(
        kv,
        RateLimitConfig {
            ocr_per_min: 10,
            quiz_per_min: 10,
            fail_open: false,
        },
    );
    let policy = Policy {
        name: "guard",
        limit: 2,
        period: Duration::from_secs(60),
    };
    let decisions = [
        limiter.check_policy(&policy, who).await.allowed(),
        limiter.check_policy(&policy, who).await.allowed(),
        limiter.check_policy(&policy, who).await.allowed(),
    ];
    assert_eq!(decisions, [true, true, false], "allowed, allowed, refused");
}

/// Sends every catalogued script the way folio does, to `server`.
async fn run_folio_scripts(server: &RedisServer) {
    let prefix = format!("guard:{}:", uuid::Uuid::new_v4().simple());
    let url = server.url();
    let tcp = kv_from(&vars(&[("REDIS_URL", &url), ("REDIS_KEY_PREFIX", &prefix)]));
    exercise_limiter(tcp, "over-tcp").await;
    let emulator = UpstashEmulator::start(&url, REST_TOKEN)
        .await
        .expect("emulator");
    let rest = kv_from(&vars(&[
        ("UPSTASH_REDIS_REST_URL", &emulator.url()),
        ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN),
        ("REDIS_KEY_PREFIX", &prefix),
    ]));
    exercise_limiter(rest.clone(), "over-rest").await;
    rest.set("blob", &[0xff, 0, 1], Some(Duration::from_secs(60)))
        .await
        .expect("binary SET over REST");
    assert_eq!(rest.get("blob").await.expect("get"), Some(vec![0xff, 0, 1]));
    // Two keys in one command share a slot through a {tag}.
    let mset = Cmd::new("MSET")
        .arg(rest.key("{pair}a"))
        .arg([0xfe_u8])
        .arg(rest.key("{pair}b"))
        .arg("plain");
    rest.query(mset).await.expect("binary MSET over REST");
    rest.publish("chan", &[0xff, 0xfe])
        .await
        .expect("binary PUBLISH over REST");
    exercise_sessions(rest).await;
}

/// A session checked twice: the first check finds no copy in Redis and asks
/// Postgres, the second is the one-round-trip path through the script.
async fn exercise_sessions(kv: Kv) {
    let db = TestDb::new().await;
    let config = SessionConfig {
        enabled: true,
        id_claim: "sid".into(),
        required: false,
        idle_timeout: Duration::from_secs(1800),
        max_age: Duration::from_secs(7 * 86400),
        persist_every: Duration::from_secs(300),
        idle_fail_open: true,
    };
    let sessions = Sessions::new(db.pool.clone(), kv, config, Clock::system());
    let who = Identity {
        user_id: "guard-user}{".into(),
        session_id: Some("guard-session".into()),
        issued_at: Some(chrono::Utc::now().timestamp()),
        admin: false,
        claims: Default::default(),
    };
    for _ in 0..2 {
        let session = sessions
            .check(&who, &axum::http::HeaderMap::new())
            .await
            .expect("a live session");
        assert_eq!(session.as_deref(), Some("guard-session"));
    }
}

/// The keys `call` touches, as the server itself reads them.
fn keys_of(con: &mut redis::Connection, call: &[Vec<u8>]) -> Vec<Vec<u8>> {
    if call.len() < 2 {
        return Vec::new(); // A bare command (TIME, PING) names no key.
    }
    let mut cmd = redis::cmd("COMMAND");
    cmd.arg("GETKEYS");
    for word in call {
        cmd.arg(word.as_slice());
    }
    match cmd.query::<Vec<Vec<u8>>>(con) {
        Ok(keys) => keys,
        Err(e) if e.to_string().contains("no key arguments") => Vec::new(),
        Err(e) => panic!("COMMAND GETKEYS failed for {call:?}: {e}"),
    }
}

/// What breaks portability in one script run, in words.
fn violations(con: &mut redis::Connection, run: &Invocation) -> Vec<String> {
    let mut found = Vec::new();
    for call in &run.calls {
        let name = String::from_utf8_lossy(&call[0]).to_ascii_uppercase();
        if FORBIDDEN.contains(&name.as_str()) {
            found.push(format!("script {} runs {name}", run.sha));
        }
        for key in keys_of(con, call) {
            if !run.keys.contains(&key) {
                found.push(format!(
                    "script {} touches undeclared key {:?} ({name})",
                    run.sha,
                    String::from_utf8_lossy(&key)
                ));
            }
        }
    }
    found
}

/// Runs `source` as a Redis 7 shebang script on a cluster node, as captured.
fn replay(con: &mut redis::Connection, source: &str, run: &Invocation) -> Result<(), String> {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(format!("#!lua\n{source}")).arg(run.keys.len());
    for word in run.keys.iter().chain(&run.args) {
        cmd.arg(word.as_slice());
    }
    cmd.query::<redis::Value>(con)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn connect(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .expect("client")
        .get_connection()
        .expect("connection")
}

fn sha(source: &str) -> String {
    sha1_smol::Sha1::from(source).digest().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_script_declares_its_keys_reads_no_clock_and_runs_on_a_cluster() {
    shared::install_crypto_provider();
    let server = RedisServer::start().expect("redis-server");
    let watch = Monitor::start(server.port());
    run_folio_scripts(&server).await;
    let runs = watch.finish();
    let catalogue = script::catalogue();
    let mut con = connect(&server);
    let mut problems = Vec::new();
    for run in &runs {
        if !catalogue.iter().any(|(_, source)| sha(source) == run.sha) {
            problems.push(format!("script {} is not in the catalogue", run.sha));
        }
        problems.extend(violations(&mut con, run));
    }
    let ran: BTreeSet<&str> = runs.iter().map(|r| r.sha.as_str()).collect();
    for (name, source) in &catalogue {
        if !ran.contains(sha(source).as_str()) {
            problems.push(format!("{name} never ran: give the guard a call of it"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let cluster = RedisServer::start_cluster().expect("cluster-mode redis-server");
    let mut node = connect(&cluster);
    for run in &runs {
        let (name, source) = catalogue
            .iter()
            .find(|(_, source)| sha(source) == run.sha)
            .expect("catalogued");
        if let Err(e) = replay(&mut node, source, run) {
            problems.push(format!("{name} refused by a cluster node: {e}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn the_guard_catches_an_undeclared_key_the_server_clock_and_keys_of_two_slots() {
    let server = RedisServer::start().expect("redis-server");
    let watch = Monitor::start(server.port());
    let mut con = connect(&server);
    // The shape of the old REST binary wrapper: the key travels in ARGV.
    let undeclared = "return redis.call('SET', ARGV[1], ARGV[2])";
    let _: String = redis::cmd("EVAL")
        .arg(undeclared)
        .arg(0)
        .arg("k")
        .arg("v")
        .query(&mut con)
        .expect("plain Redis runs it");
    let clock = "return redis.call('TIME')";
    let _: Vec<String> = redis::cmd("EVAL")
        .arg(clock)
        .arg(0)
        .query(&mut con)
        .expect("plain Redis runs it");
    let runs = watch.finish();
    let found: Vec<String> = runs
        .iter()
        .flat_map(|run| violations(&mut con, run))
        .collect();
    assert!(
        found.iter().any(|v| v.contains("undeclared key \"k\"")),
        "{found:?}"
    );
    assert!(found.iter().any(|v| v.ends_with("runs TIME")), "{found:?}");

    // "a" and "b" hash to different slots.
    let cluster = RedisServer::start_cluster().expect("cluster-mode redis-server");
    let mut node = connect(&cluster);
    let two_slots = Invocation {
        sha: String::new(),
        keys: vec![b"a".to_vec(), b"b".to_vec()],
        args: Vec::new(),
        calls: Vec::new(),
    };
    let e = replay(&mut node, "return redis.call('GET', KEYS[1])", &two_slots)
        .expect_err("declared keys of two slots");
    assert!(e.to_ascii_uppercase().contains("CROSSSLOT"), "{e}");
    let elsewhere = Invocation {
        keys: vec![b"a".to_vec()],
        args: vec![b"b".to_vec()],
        ..two_slots
    };
    let source = "redis.call('GET', KEYS[1]) return redis.call('GET', ARGV[1])";
    let e = replay(&mut node, source, &elsewhere).expect_err("an undeclared key elsewhere");
    assert!(e.contains("same slot"), "{e}");
    // The same calls with keys of one slot pass: the refusals above are the
    // slots', not the replay's.
    let one_slot = Invocation {
        keys: vec![b"{t}a".to_vec()],
        args: vec![b"{t}b".to_vec()],
        ..elsewhere
    };
    replay(&mut node, source, &one_slot).expect("keys of one slot");
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "lua") {
            out.push(path);
        }
    }
}

fn redis_calls(text: &str) -> usize {
    text.matches("redis.call(").count() + text.matches("redis.pcall(").count()
}

#[test]
fn every_lua_script_in_the_code_base_is_in_the_catalogue() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let mut files = Vec::new();
    source_files(&root.join("shared/src"), &mut files);
    source_files(&root.join("shared/examples"), &mut files);
    for function in std::fs::read_dir(root.join("functions")).expect("functions/") {
        source_files(&function.expect("entry").path().join("src"), &mut files);
    }
    let catalogue = script::catalogue();
    let mut seen = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        let calls = redis_calls(&text);
        if calls == 0 {
            continue;
        }
        let mut covered = 0;
        for (name, source) in &catalogue {
            if text.contains(source) {
                covered += redis_calls(source);
                seen.insert(*name);
            }
        }
        assert_eq!(
            calls,
            covered,
            "{}: a Lua script that kv::script::catalogue does not list",
            file.strip_prefix(root).unwrap_or(file).display()
        );
    }
    let listed: BTreeSet<&str> = catalogue.iter().map(|(name, _)| *name).collect();
    assert_eq!(seen, listed, "every catalogued script is in the sources");
}
