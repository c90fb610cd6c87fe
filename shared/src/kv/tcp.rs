//! Redis over TCP (`redis://`, `rediss://`) through the `redis` crate: one
//! multiplexed connection manager per process that reconnects by itself,
//! explicit connect and response timeouts (a `rediss://` URL pointed at a
//! plaintext server would otherwise hang), and one retry of a batch that
//! failed because the connection dropped.

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Value};
use secrecy::{ExposeSecret, SecretString};

use super::{Cmd, KvError, Reply, Transport};
use crate::config::RedisConfig;

pub struct TcpTransport {
    manager: ConnectionManager,
    /// For subscriptions, which need a connection of their own.
    client: redis::Client,
    connect_timeout: std::time::Duration,
}

impl TcpTransport {
    /// Prepares the manager; the first command connects.
    pub fn new(url: &SecretString, config: &RedisConfig) -> anyhow::Result<Self> {
        let client = match &config.tls_ca_file {
            Some(path) => redis::Client::build_with_tls(
                url.expose_secret(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(super::tls::root_bundle(path)?),
                },
            ),
            None => redis::Client::open(url.expose_secret()),
        }
        .map_err(|e| anyhow::anyhow!("REDIS_URL is not usable: {}", describe(&e)))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(std::time::Duration::from_secs(2));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| {
                anyhow::anyhow!("cannot prepare the redis connection: {}", describe(&e))
            })?;
        Ok(TcpTransport {
            manager,
            client,
            connect_timeout: config.connect_timeout,
        })
    }

    async fn send(&self, cmds: &[Cmd], atomic: bool) -> Result<Vec<Value>, RedisError> {
        let mut pipe = redis::pipe();
        if atomic {
            pipe.atomic();
        }
        pipe.ignore_errors();
        for cmd in cmds {
            let mut c = redis::Cmd::new();
            for arg in &cmd.args {
                c.arg(arg.as_slice());
            }
            pipe.add_command(c);
        }
        let mut conn = self.manager.clone();
        pipe.query_async(&mut conn).await
    }
}

#[async_trait]
impl Transport for TcpTransport {
    fn backend(&self) -> &'static str {
        "tcp"
    }

    async fn subscribe(&self, channel: &str) -> Result<super::Subscription, KvError> {
        use futures::StreamExt;
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, RedisError>(pubsub)
        };
        let pubsub = tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| KvError::Unavailable("subscribing timed out".into()))?
            .map_err(into_kv_error)?;
        Ok(pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec())
            .boxed())
    }

    async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        let values = match self.send(cmds, atomic).await {
            Ok(values) => values,
            // The manager reconnects in the background after a drop, but the
            // command that met the dead socket fails: send it once more. Not
            // after a timeout: a server that does not answer would only cost
            // the caller a second timeout (the breaker counts it instead).
            Err(e) if !e.is_timeout() && (e.is_connection_dropped() || e.is_io_error()) => {
                tracing::debug!(error = %describe(&e), "redis connection dropped; retrying once");
                self.send(cmds, atomic).await.map_err(into_kv_error)?
            }
            Err(e) => return Err(into_kv_error(e)),
        };
        if values.len() != cmds.len() {
            return Err(KvError::Protocol(format!(
                "{} replies for {} commands",
                values.len(),
                cmds.len()
            )));
        }
        Ok(values.into_iter().map(convert).collect())
    }
}

fn convert(value: Value) -> Result<Reply, KvError> {
    Ok(match value {
        Value::Nil => Reply::Nil,
        Value::Int(i) => Reply::Int(i),
        Value::BulkString(b) => Reply::Bytes(b),
        Value::SimpleString(s) => Reply::Status(s),
        Value::Okay => Reply::Status("OK".to_owned()),
        Value::Boolean(b) => Reply::Int(i64::from(b)),
        Value::Double(d) => Reply::Bytes(d.to_string().into_bytes()),
        Value::VerbatimString { text, .. } => Reply::Bytes(text.into_bytes()),
        Value::Array(items) | Value::Set(items) => {
            Reply::Array(items.into_iter().map(convert).collect::<Result<_, _>>()?)
        }
        Value::Map(pairs) => Reply::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [convert(k), convert(v)])
                .collect::<Result<_, _>>()?,
        ),
        Value::Attribute { data, .. } => convert(*data)?,
        Value::ServerError(err) => {
            let e: RedisError = err.into();
            return Err(KvError::Server(server_message(&e)));
        }
        other => return Err(KvError::Protocol(format!("unsupported reply {other:?}"))),
    })
}

fn server_message(e: &RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_owned(),
        _ => describe(e),
    }
}

fn into_kv_error(e: RedisError) -> KvError {
    if e.is_io_error() || e.is_timeout() || e.is_connection_refusal() || e.is_connection_dropped() {
        KvError::Unavailable(describe(&e))
    } else if e.code().is_some() {
        KvError::Server(server_message(&e))
    } else {
        KvError::Unavailable(describe(&e))
    }
}

/// The error without anything from the URL: redis-rs errors name the kind and
/// a short description, never the password, but keep it to the kind to be sure.
fn describe(e: &RedisError) -> String {
    let kind = format!("{:?}", e.kind());
    if e.is_timeout() {
        format!("{kind}: timed out")
    } else if e.is_connection_refusal() {
        format!("{kind}: connection refused")
    } else {
        kind
    }
}
