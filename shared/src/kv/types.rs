//! The words of the Redis seam: a binary-safe command, a transport-neutral
//! reply, and the one error type every Redis call returns.

/// One command: its words, binary-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub args: Vec<Vec<u8>>,
}

impl Cmd {
    pub fn new(name: &str) -> Self {
        Cmd {
            args: vec![name.as_bytes().to_vec()],
        }
    }

    pub fn arg(mut self, arg: impl AsRef<[u8]>) -> Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// The command name, upper-cased (`GET`, `EVALSHA`…).
    pub fn name(&self) -> String {
        self.args
            .first()
            .map(|n| String::from_utf8_lossy(n).to_ascii_uppercase())
            .unwrap_or_default()
    }
}

/// A reply, independent of the transport that carried it.
///
/// A status such as `OK` arrives as `Status` over TCP and from Upstash, but as
/// `Bytes` from the local REST emulator (it encodes every string); compare
/// through [`Reply::is_ok`] and [`Reply::into_bytes`], which accept both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bytes(Vec<u8>),
    /// A simple status such as `OK` or `PONG`.
    Status(String),
    Array(Vec<Reply>),
}

impl Reply {
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Reply::Bytes(b) => Some(b),
            Reply::Status(s) => Some(s.into_bytes()),
            Reply::Int(i) => Some(i.to_string().into_bytes()),
            Reply::Nil | Reply::Array(_) => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Reply::Int(i) => Some(*i),
            Reply::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Reply::Status(s) => s.parse().ok(),
            Reply::Nil | Reply::Array(_) => None,
        }
    }

    /// True for the `OK` status, however the transport carried it.
    pub fn is_ok(&self) -> bool {
        match self {
            Reply::Status(s) => s == "OK",
            Reply::Bytes(b) => b == b"OK",
            _ => false,
        }
    }

    /// The items of an array reply (`None` for anything else).
    pub fn into_array(self) -> Option<Vec<Reply>> {
        match self {
            Reply::Array(items) => Some(items),
            _ => None,
        }
    }
}

/// Why a Redis call failed. Never carries a URL, password or token.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KvError {
    /// No Redis is configured.
    #[error("redis is not configured")]
    Disabled,
    /// Could not reach the server in time (down, refused, timed out, TLS
    /// failed, HTTP 5xx or over the provider's request quota).
    #[error("redis is unavailable: {0}")]
    Unavailable(String),
    /// The server refused the credentials (HTTP 401/403 from a REST endpoint).
    #[error("redis refused the credentials: {0}")]
    Unauthorized(String),
    /// The server answered with an error (`NOSCRIPT`, `OOM`, wrong type…).
    #[error("redis error: {0}")]
    Server(String),
    /// The answer could not be understood, or the request could not be sent
    /// as asked (a value too large for the cache, say).
    #[error("redis protocol error: {0}")]
    Protocol(String),
}

impl KvError {
    /// `NOSCRIPT`: the server does not have the script cached (yet).
    pub fn is_no_script(&self) -> bool {
        matches!(self, KvError::Server(m) if m.starts_with("NOSCRIPT"))
    }

    /// True when Redis could not be used at all (as opposed to refusing one
    /// command): the caller serves uncached and reports "degraded".
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            KvError::Disabled | KvError::Unavailable(_) | KvError::Unauthorized(_)
        )
    }
}
