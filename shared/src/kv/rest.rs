//! Redis over Upstash's REST protocol, through `reqwest` (rustls): one command
//! is one `POST /`, a pipeline one `POST /pipeline`, an atomic batch one
//! `POST /multi-exec`. Answers are asked for in base64 so binary values
//! survive; the `upstash-sync-token` of each answer goes with the next request
//! (read-your-writes across replicas). Errors never carry the token or the URL.
//! Batches are resent, with backoff, only when the request never left
//! (connection failed) or every command in it is idempotent.

pub(crate) mod wire;

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderValue, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{Cmd, KvError, Reply, Transport};
use crate::config::RedisConfig;

const SYNC_TOKEN: &str = "upstash-sync-token";
/// Attempts per batch, the first included.
const ATTEMPTS: u32 = 3;

pub struct RestTransport {
    client: reqwest::Client,
    base: String,
    token: SecretString,
    sync_token: Mutex<Option<HeaderValue>>,
}

impl RestTransport {
    /// Prepares the HTTP client; nothing is sent until the first command.
    pub fn new(url: &str, token: &SecretString, config: &RedisConfig) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.connect_timeout + config.response_timeout)
            .pool_idle_timeout(Duration::from_secs(50));
        if let Some(path) = &config.tls_ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("REDIS_TLS_CA_FILE cannot be read: {}", e.kind()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| {
                anyhow::anyhow!("REDIS_TLS_CA_FILE is not a PEM certificate bundle")
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .build()
            .map_err(|_| anyhow::anyhow!("cannot build the Upstash REST client"))?;
        Ok(RestTransport {
            client,
            base: url.trim_end_matches('/').to_owned(),
            token: token.clone(),
            sync_token: Mutex::new(None),
        })
    }

    /// Never lets the token through, whatever the server put in a message.
    fn scrub(&self, message: String) -> String {
        let token = self.token.expose_secret();
        if token.is_empty() {
            message
        } else {
            message.replace(token, "[redacted]")
        }
    }

    async fn send_once(&self, path: &str, body: &Value) -> Result<(StatusCode, Value), Failure> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Failure::Final(KvError::Protocol(format!("cannot encode: {e}"))))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| {
                Failure::Final(KvError::Unauthorized(
                    "the token is not a valid header value".into(),
                ))
            })?;
        auth.set_sensitive(true);
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .header("upstash-encoding", "base64")
            .body(body);
        let sync = self.sync_token.lock().ok().and_then(|t| t.clone());
        if let Some(sync) = sync {
            request = request.header(SYNC_TOKEN, sync);
        }
        let response = request.send().await.map_err(Failure::from_reqwest)?;
        if let Some(sync) = response.headers().get(SYNC_TOKEN)
            && let Ok(mut slot) = self.sync_token.lock()
        {
            *slot = Some(sync.clone());
        }
        let status = response.status();
        let bytes = response.bytes().await.map_err(Failure::from_reqwest)?;
        if status.is_server_error() {
            return Err(Failure::Retryable(KvError::Unavailable(format!(
                "the REST endpoint answered HTTP {}",
                status.as_u16()
            ))));
        }
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, json))
    }

    /// Sends with retries as the batch allows, and maps the HTTP status.
    async fn send(&self, path: &str, body: Value, resendable: bool) -> Result<Value, KvError> {
        let mut attempt = 0;
        let (status, json) = loop {
            attempt += 1;
            match self.send_once(path, &body).await {
                Ok(answer) => break answer,
                Err(failure) => {
                    let (e, may_retry) = match failure {
                        Failure::NotSent(e) => (e, true),
                        Failure::Retryable(e) => (e, resendable),
                        Failure::Final(e) => (e, false),
                    };
                    if !may_retry || attempt >= ATTEMPTS {
                        return Err(e);
                    }
                    tracing::debug!(error = %e, attempt, "upstash request failed; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        };
        let message = || {
            let m = json
                .get("error")
                .and_then(Value::as_str)
                .map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_owned);
            self.scrub(m)
        };
        match status {
            s if s.is_success() => Ok(json),
            StatusCode::BAD_REQUEST if path.is_empty() && json.get("error").is_some() => Ok(json),
            StatusCode::BAD_REQUEST => Err(KvError::Server(message())),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(KvError::Unauthorized(format!("HTTP {}", status.as_u16())))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(KvError::Unavailable(format!(
                "over the provider's request limit: {}",
                message()
            ))),
            _ => Err(KvError::Protocol(message())),
        }
    }
}

/// Why one attempt failed, and whether it may be tried again.
enum Failure {
    /// The request never reached the server: safe to resend anything.
    NotSent(KvError),
    /// The server may have run it: resend only idempotent batches.
    Retryable(KvError),
    Final(KvError),
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Failure {
        // `without_url`: the error's text never names the endpoint.
        let e = e.without_url();
        if untrusted_certificate(&e) {
            // Resending cannot help: fail at once, and say what to change.
            Failure::Final(KvError::Unavailable(
                "the REST endpoint's TLS certificate is not trusted \
                 (REDIS_TLS_CA_FILE names a CA to trust beside the public roots)"
                    .into(),
            ))
        } else if e.is_connect() {
            Failure::NotSent(KvError::Unavailable(
                "cannot connect to the REST endpoint".into(),
            ))
        } else if e.is_timeout() {
            Failure::Retryable(KvError::Unavailable("the REST endpoint timed out".into()))
        } else {
            Failure::Retryable(KvError::Unavailable("the REST request failed".into()))
        }
    }
}

/// True when rustls refused the server's certificate somewhere down `e`'s
/// causes (an unknown issuer, a name mismatch, an expired certificate).
fn untrusted_certificate(e: &reqwest::Error) -> bool {
    let refused = |err: &(dyn std::error::Error + 'static)| {
        matches!(
            err.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_))
        )
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        // An io::Error hides the error it wraps from `source()`, and hyper
        // wraps rustls's in two of them.
        let mut inner = err;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            inner = wrapped;
        }
        if refused(err) || refused(inner) {
            return true;
        }
        cause = err.source();
    }
    false
}

fn backoff(attempt: u32) -> Duration {
    let base = 25u64 << attempt.min(6);
    Duration::from_millis(base / 2 + rand::random_range(0..=base))
}

#[async_trait]
impl Transport for RestTransport {
    fn backend(&self) -> &'static str {
        "rest"
    }

    async fn pipeline(
        &self,
        cmds: &[Cmd],
        atomic: bool,
    ) -> Result<Vec<Result<Reply, KvError>>, KvError> {
        let resendable = cmds.iter().all(wire::idempotent);
        if let [cmd] = cmds
            && !atomic
        {
            let json = self
                .send("", Value::from(wire::encode(cmd)?), resendable)
                .await?;
            return Ok(vec![
                wire::entry(json, true).map_err(|e| self.scrub_error(e)),
            ]);
        }
        let words = cmds
            .iter()
            .map(wire::encode)
            .collect::<Result<Vec<_>, _>>()?;
        let body = Value::Array(words.into_iter().map(Value::from).collect());
        let path = if atomic { "/multi-exec" } else { "/pipeline" };
        let Value::Array(entries) = self.send(path, body, resendable).await? else {
            return Err(KvError::Protocol(
                "a pipeline answer that is not an array".into(),
            ));
        };
        if entries.len() != cmds.len() {
            return Err(KvError::Protocol(format!(
                "{} answers for {} commands",
                entries.len(),
                cmds.len()
            )));
        }
        Ok(entries
            .into_iter()
            .map(|e| wire::entry(e, true).map_err(|e| self.scrub_error(e)))
            .collect())
    }
}

impl RestTransport {
    fn scrub_error(&self, e: KvError) -> KvError {
        match e {
            KvError::Server(m) => KvError::Server(self.scrub(m)),
            KvError::Protocol(m) => KvError::Protocol(self.scrub(m)),
            other => other,
        }
    }
}
