//! Scripts held to Upstash's `allow-key-locking` rules, whatever their flags
//! (stricter than Upstash's default, which takes a global lock instead): a
//! script may touch only the keys passed in `KEYS`, and no database-wide
//! command (`FLUSHDB`, `KEYS`…). Redis itself does the checking: scripts run
//! on a connection of their own, signed in as an ACL user whose key patterns
//! are, for each call, exactly the declared keys, so an undeclared key is
//! refused with `NOPERM`. One script at a time, as under a global lock.

use std::time::Duration;

use secrecy::SecretString;

use shared::config::{RedisBackend, RedisConfig};
use shared::kv::{Cmd, Kv, KvError, Reply};

pub(super) struct ScriptGate {
    admin: Kv,
    runner: Kv,
    admin_url: String,
    user: String,
    password: String,
    one_at_a_time: tokio::sync::Mutex<()>,
}

/// True for the commands that run a script.
pub(super) fn is_script(cmd: &Cmd) -> bool {
    matches!(
        cmd.name().as_str(),
        "EVAL" | "EVALSHA" | "EVAL_RO" | "EVALSHA_RO"
    )
}

impl ScriptGate {
    /// Prepares the connection that signs in as a user of its own on the
    /// server behind `admin` (reached at `redis_url`).
    pub(super) fn new(redis_url: &str, admin: Kv) -> anyhow::Result<ScriptGate> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let user = format!("folio-emulator-{id}");
        let mut url = url::Url::parse(redis_url)?;
        url.set_username(&user)
            .and_then(|()| url.set_password(Some(&id)))
            .map_err(|()| anyhow::anyhow!("the emulator's Redis URL takes no credentials"))?;
        let runner = Kv::from_config(&RedisConfig {
            backend: RedisBackend::Tcp {
                url: SecretString::from(url.to_string()),
            },
            key_prefix: String::new(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
            tls_ca_file: None,
            cache_max_value_bytes: shared::kv::DEFAULT_CACHE_MAX_VALUE_BYTES,
            // An emulator forwards faithfully: it never skips its upstream.
            breaker: shared::kv::BreakerConfig {
                failures: 0,
                ..Default::default()
            },
        })?;
        Ok(ScriptGate {
            admin,
            admin_url: redis_url.to_owned(),
            runner,
            user,
            password: id,
            one_at_a_time: tokio::sync::Mutex::new(()),
        })
    }

    /// Runs one `EVAL`/`EVALSHA` allowed to touch its declared keys only.
    pub(super) async fn run(&self, cmd: &Cmd) -> Result<Reply, KvError> {
        let numkeys = cmd
            .args
            .get(2)
            .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
            .ok_or_else(|| KvError::Server("ERR value is not an integer or out of range".into()))?;
        let keys = cmd.args.get(3..3 + numkeys).ok_or_else(|| {
            KvError::Server("ERR Number of keys can't be greater than number of args".into())
        })?;
        // The whole user each time: a restarted server has forgotten it.
        let mut acl = Cmd::new("ACL")
            .arg("SETUSER")
            .arg(&self.user)
            .arg("on")
            .arg(format!(">{}", self.password))
            .arg("resetkeys")
            .arg("resetchannels")
            .arg("&*")
            .arg("+@all")
            .arg("-@dangerous");
        for key in keys {
            acl = acl.arg(pattern(key));
        }
        let _turn = self.one_at_a_time.lock().await;
        self.admin.query(acl).await?;
        match self.runner.query(cmd.clone()).await {
            Err(KvError::Server(m)) if m.contains("can't access") || m.contains("NOPERM") => {
                Err(KvError::Server(format!(
                    "ERR the script touched a key it did not pass in KEYS, or a \
                     database-wide command (Upstash refuses both under allow-key-locking): {m}"
                )))
            }
            other => other,
        }
    }
}

impl Drop for ScriptGate {
    /// Deletes the user at once (blocking, briefly): a test's runtime may be
    /// gone before a spawned task would run, and users must not pile up on a
    /// shared server.
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.admin_url.as_str()) else {
            return;
        };
        if let Ok(mut con) = client.get_connection_with_timeout(Duration::from_secs(1)) {
            let _: redis::RedisResult<i64> = redis::cmd("ACL")
                .arg("DELUSER")
                .arg(&self.user)
                .query(&mut con);
        }
    }
}

/// `~key` with the glob characters escaped: exactly this key.
fn pattern(key: &[u8]) -> Vec<u8> {
    let mut out = vec![b'~'];
    for &b in key {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}
