//! Lua scripts, the one way folio makes a multi-step Redis operation atomic
//! on both backends: plain `EVALSHA`/`EVAL`, no provider-specific flags.
//! `Kv::eval` sends `EVALSHA` and falls back to `EVAL` on `NOSCRIPT`.
//!
//! Every script must run unchanged on Redis 7, ElastiCache (serverless and
//! cluster mode) and Upstash: each key it touches is passed in `KEYS`, the
//! keys of one call share a hash slot (a `{tag}` in their names when there are
//! several), and it reads no server clock (`TIME`) or keyspace (`KEYS`,
//! `SCAN`). [`catalogue`] lists every script folio sends; the `kv_contract`
//! guard runs each on a real server and checks these rules.

use super::Cmd;

/// Every Lua script folio sends, by name: the guard test runs each on a real
/// server (audited and in cluster mode) and fails on one missing here.
pub fn catalogue() -> [(&'static str, &'static str); 3] {
    [
        ("limits/gcra", crate::limits::GCRA_SOURCE),
        ("kv/rest/binary-args", super::rest::wire::BINARY_ARGS_SCRIPT),
        ("auth/sessions/check", crate::auth::sessions::CHECK_SOURCE),
    ]
}

/// A script and its SHA-1, computed once.
#[derive(Debug, Clone)]
pub struct Script {
    source: &'static str,
    sha: String,
}

impl Script {
    pub fn new(source: &'static str) -> Script {
        Script {
            source,
            sha: sha1_smol::Sha1::from(source).digest().to_string(),
        }
    }

    /// The lower-case hex SHA-1 Redis knows the script by.
    pub fn sha(&self) -> &str {
        &self.sha
    }

    pub fn source(&self) -> &'static str {
        self.source
    }

    /// `EVALSHA sha numkeys keys… args…` (keys already prefixed).
    pub fn evalsha(&self, keys: &[String], args: &[&[u8]]) -> Cmd {
        with_keys_and_args(Cmd::new("EVALSHA").arg(&self.sha), keys, args)
    }

    /// `EVAL source numkeys keys… args…` (keys already prefixed).
    pub fn eval(&self, keys: &[String], args: &[&[u8]]) -> Cmd {
        with_keys_and_args(Cmd::new("EVAL").arg(self.source), keys, args)
    }
}

fn with_keys_and_args(mut cmd: Cmd, keys: &[String], args: &[&[u8]]) -> Cmd {
    cmd = cmd.arg(keys.len().to_string());
    for key in keys {
        cmd = cmd.arg(key);
    }
    for arg in args {
        cmd = cmd.arg(arg);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sha_is_the_one_redis_computes() {
        // `redis-cli SCRIPT LOAD "return 1"` answers this digest.
        let script = Script::new("return 1");
        assert_eq!(script.sha(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        let cmd = script.evalsha(&["p:k".to_owned()], &[b"a"]);
        assert_eq!(cmd.name(), "EVALSHA");
        assert_eq!(cmd.args[2], b"1");
        assert_eq!(cmd.args[3], b"p:k");
        assert_eq!(cmd.args[4], b"a");
    }
}
