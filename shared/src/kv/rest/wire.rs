//! Upstash REST on the wire: commands as JSON arrays of strings, answers as
//! `{"result": …}` / `{"error": …}` with strings base64-encoded
//! (`Upstash-Encoding: base64`), and which commands may be resent.
//!
//! JSON strings carry only UTF-8, so a command with a non-UTF-8 argument is
//! sent as `EVAL` of a small script that base64-decodes the marked arguments
//! inside Redis and runs the original command: binary values survive writes
//! too, at the cost of one script run (cache values are JSON and never need it).
//! The command's keys go in `KEYS`, never in `ARGV`: Upstash refuses a script
//! that touches undeclared keys under `allow-key-locking`, and so does a
//! cluster when they hash elsewhere. Only commands whose key positions are
//! known here can be wrapped; any other with a binary argument is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::super::{Cmd, KvError, Reply};

/// Rebuilds one command from `KEYS` and `ARGV` and runs it. ARGV[1] is the
/// plan, one letter per word of the command: `k` the next key (from `KEYS`),
/// `b` the next argument base64-decoded, `s` the next argument as it is.
pub(crate) const BINARY_ARGS_SCRIPT: &str = r"
local digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local value = {}
for i = 1, 64 do value[digits:byte(i)] = i - 1 end
local function decode(s)
  local out, n = {}, 0
  for i = 1, #s, 4 do
    local a, b, c, d = s:byte(i, i + 3)
    local v = value[a] * 262144 + value[b] * 4096 + (value[c] or 0) * 64 + (value[d] or 0)
    local x, y, z = math.floor(v / 65536), math.floor(v / 256) % 256, v % 256
    n = n + 1
    if c == 61 then out[n] = string.char(x)
    elseif d == 61 then out[n] = string.char(x, y)
    else out[n] = string.char(x, y, z) end
  end
  return table.concat(out)
end
local plan, words, key, arg = ARGV[1], {}, 0, 1
for i = 1, #plan do
  local kind = plan:byte(i)
  if kind == 107 then
    key = key + 1
    words[i] = KEYS[key]
  else
    arg = arg + 1
    if kind == 98 then words[i] = decode(ARGV[arg]) else words[i] = ARGV[arg] end
  end
end
return redis.call(unpack(words))
";

/// The JSON array for one command; an error for a binary command whose keys
/// this module cannot name, or a key that is not UTF-8.
pub(crate) fn encode(cmd: &Cmd) -> Result<Vec<String>, KvError> {
    let mut plain = Vec::with_capacity(cmd.args.len());
    for arg in &cmd.args {
        match std::str::from_utf8(arg) {
            Ok(s) => plain.push(s.to_owned()),
            Err(_) => return encode_binary(cmd),
        }
    }
    Ok(plain)
}

/// Which words of `cmd` (0 is the name) are keys, for the commands folio may
/// send with a binary argument; `None` for any other command.
fn key_positions(cmd: &Cmd) -> Option<Vec<usize>> {
    let words = cmd.args.len();
    Some(match cmd.name().as_str() {
        "PUBLISH" | "ECHO" | "PING" => Vec::new(),
        "DEL" | "UNLINK" | "EXISTS" | "MGET" | "TOUCH" => (1..words).collect(),
        "MSET" | "MSETNX" => (1..words).step_by(2).collect(),
        "SET" | "SETNX" | "SETEX" | "PSETEX" | "GETSET" | "APPEND" | "SETRANGE" | "HSET"
        | "HSETNX" | "HMSET" | "HGET" | "HMGET" | "HDEL" | "HEXISTS" | "LPUSH" | "RPUSH"
        | "LREM" | "SADD" | "SREM" | "SISMEMBER" | "ZADD" | "ZREM" | "ZSCORE" | "XADD" => {
            vec![1]
        }
        _ => return None,
    })
}

fn encode_binary(cmd: &Cmd) -> Result<Vec<String>, KvError> {
    let name = cmd.name();
    let positions = key_positions(cmd).ok_or_else(|| {
        KvError::Protocol(format!(
            "{name} with a binary argument cannot be sent over REST"
        ))
    })?;
    let mut plan = String::with_capacity(cmd.args.len());
    let mut keys = Vec::new();
    let mut args = Vec::with_capacity(cmd.args.len());
    for (i, arg) in cmd.args.iter().enumerate() {
        match std::str::from_utf8(arg) {
            Ok(s) if positions.contains(&i) => {
                plan.push('k');
                keys.push(s.to_owned());
            }
            Err(_) if positions.contains(&i) => {
                return Err(KvError::Protocol(format!(
                    "{name} with a key that is not UTF-8 cannot be sent over REST"
                )));
            }
            Ok(s) => {
                plan.push('s');
                args.push(s.to_owned());
            }
            Err(_) => {
                plan.push('b');
                args.push(B64.encode(arg));
            }
        }
    }
    let mut out = vec![
        "EVAL".to_owned(),
        BINARY_ARGS_SCRIPT.to_owned(),
        keys.len().to_string(),
    ];
    out.extend(keys);
    out.push(plan);
    out.extend(args);
    Ok(out)
}

/// One `{"result": …}` / `{"error": …}` object.
pub(crate) fn entry(value: Value, base64: bool) -> Result<Reply, KvError> {
    match value {
        Value::Object(mut map) => {
            if let Some(error) = map.remove("error") {
                let message = match error {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                return Err(KvError::Server(message));
            }
            match map.remove("result") {
                Some(result) => reply(result, base64),
                None => Err(KvError::Protocol(
                    "an answer without result or error".into(),
                )),
            }
        }
        _ => Err(KvError::Protocol("an answer that is not an object".into())),
    }
}

/// A result value. Upstash leaves `OK` bare; serverless-redis-http encodes it
/// like any string: both become `OK`.
pub(crate) fn reply(value: Value, base64: bool) -> Result<Reply, KvError> {
    Ok(match value {
        Value::Null => Reply::Nil,
        Value::Bool(b) => Reply::Int(i64::from(b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Reply::Int(i),
            None => Reply::Bytes(n.to_string().into_bytes()),
        },
        Value::String(s) if base64 && s == "OK" => Reply::Status(s),
        Value::String(s) if base64 => match B64.decode(s.as_bytes()) {
            Ok(bytes) => Reply::Bytes(bytes),
            // Not base64: a bare status the server chose not to encode.
            Err(_) => Reply::Status(s),
        },
        Value::String(s) => Reply::Bytes(s.into_bytes()),
        Value::Array(items) => Reply::Array(
            items
                .into_iter()
                .map(|v| reply(v, base64))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(_) => return Err(KvError::Protocol("an object inside a result".into())),
    })
}

/// True when sending the command twice leaves Redis as sending it once: reads,
/// and `SET`/`DEL` without conditions. Only such batches are resent after a
/// failure that may have happened after the server got the request.
pub(super) fn idempotent(cmd: &Cmd) -> bool {
    match cmd.name().as_str() {
        "GET" | "MGET" | "EXISTS" | "TTL" | "PTTL" | "STRLEN" | "TYPE" | "HGET" | "HMGET"
        | "HGETALL" | "HLEN" | "SMEMBERS" | "SISMEMBER" | "SCARD" | "LRANGE" | "LLEN"
        | "ZRANGE" | "ZSCORE" | "ZCARD" | "PING" | "ECHO" | "DBSIZE" | "TIME" | "DEL"
        | "UNLINK" => true,
        "SET" => cmd.args.iter().skip(3).all(|a| {
            let upper = a.to_ascii_uppercase();
            upper.as_slice() != b"NX" && upper.as_slice() != b"XX" && upper.as_slice() != b"GET"
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bare_ok_and_an_encoded_ok_decode_alike() {
        let bare = entry(json!({"result": "OK"}), true).expect("bare");
        let encoded = entry(json!({"result": "T0s="}), true).expect("encoded");
        assert!(bare.is_ok() && encoded.is_ok());
        assert_eq!(bare.into_bytes(), encoded.into_bytes());
    }

    #[test]
    fn results_errors_and_nesting_decode() {
        assert_eq!(entry(json!({"result": null}), true), Ok(Reply::Nil));
        assert_eq!(entry(json!({"result": 7}), true), Ok(Reply::Int(7)));
        assert_eq!(
            entry(json!({"result": ["AP8=", 1, null]}), true),
            Ok(Reply::Array(vec![
                Reply::Bytes(vec![0, 255]),
                Reply::Int(1),
                Reply::Nil
            ]))
        );
        assert_eq!(
            entry(json!({"error": "WRONGTYPE x"}), true),
            Err(KvError::Server("WRONGTYPE x".into()))
        );
        assert!(entry(json!([1]), true).is_err());
    }

    #[test]
    fn only_binary_commands_are_wrapped_and_only_their_binary_arguments_encoded() {
        let text = Cmd::new("SET").arg("k").arg("v");
        assert_eq!(
            encode(&text),
            Ok(vec!["SET".into(), "k".into(), "v".into()])
        );
        let binary = Cmd::new("SET").arg("k").arg([0xff_u8, 0]);
        let wire = encode(&binary).expect("wrapped");
        assert_eq!(wire[0], "EVAL");
        assert_eq!(&wire[2..], ["1", "k", "skb", "SET", "/wA="]);
    }

    #[test]
    fn every_key_of_a_wrapped_command_is_declared_in_keys() {
        let mset = Cmd::new("MSET").arg("a").arg([0xff_u8]).arg("b").arg("v");
        let wire = encode(&mset).expect("wrapped");
        assert_eq!(&wire[2..], ["2", "a", "b", "skbks", "MSET", "/w==", "v"]);
        let publish = Cmd::new("PUBLISH").arg("chan").arg([0xfe_u8]);
        let wire = encode(&publish).expect("wrapped");
        assert_eq!(&wire[2..], ["0", "ssb", "PUBLISH", "chan", "/g=="]);
    }

    #[test]
    fn a_binary_command_with_unknown_keys_or_a_binary_key_is_refused() {
        let unknown = Cmd::new("LINSERT").arg("k").arg([0xff_u8]);
        assert!(matches!(encode(&unknown), Err(KvError::Protocol(m)) if m.contains("LINSERT")));
        let binary_key = Cmd::new("SET").arg([0xff_u8]).arg("v");
        assert!(matches!(encode(&binary_key), Err(KvError::Protocol(_))));
    }

    #[test]
    fn conditional_writes_and_counters_are_not_resent() {
        assert!(idempotent(&Cmd::new("GET").arg("k")));
        assert!(idempotent(
            &Cmd::new("SET").arg("k").arg("v").arg("PX").arg("5")
        ));
        assert!(!idempotent(&Cmd::new("SET").arg("k").arg("v").arg("nx")));
        assert!(!idempotent(&Cmd::new("INCR").arg("k")));
        assert!(!idempotent(&Cmd::new("EVALSHA").arg("x")));
    }
}
