//! The `webhook` job kind: one delivery attempt per run. A 2xx answer is
//! delivered; anything else (another status, a refused connection, a
//! timeout) is retried with the queue's backoff until `WEBHOOK_MAX_ATTEMPTS`.
//! Redirects are not followed. The owner's current secret signs each attempt.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::{Delivery, endpoints, sign};
use crate::config::FetchConfig;
use crate::fetch::Fetcher;
use crate::jobs::{JobContext, JobError, JobHandler};

/// The handler `worker-tick` registers under `webhook`.
pub struct WebhookJob {
    fetcher: Fetcher,
    timeout: Duration,
    max_attempts: i32,
}

impl WebhookJob {
    pub fn new(config: &FetchConfig) -> WebhookJob {
        WebhookJob {
            fetcher: Fetcher::new(config),
            timeout: config.webhook_timeout,
            max_attempts: config.webhook_max_attempts,
        }
    }
}

#[async_trait]
impl JobHandler for WebhookJob {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        let delivery: Delivery = serde_json::from_value(ctx.payload().clone())
            .map_err(|e| JobError::Permanent(format!("the webhook's payload is malformed: {e}")))?;
        let owner = ctx
            .owner_id()
            .ok_or_else(|| JobError::Permanent("the webhook has no owner".into()))?;
        let mut unit = crate::db::unit(ctx.db()).await?;
        let secret = endpoints::secret(&mut *unit, owner).await?;
        unit.commit().await?;
        let secret = secret.ok_or_else(|| {
            JobError::Permanent("the owner's webhook registration was deleted".into())
        })?;
        let timestamp = chrono::Utc::now().timestamp();
        let body = delivery.body.into_bytes();
        let signature = sign::signature(&secret, &delivery.webhook_id, timestamp, &body)
            .ok_or_else(|| JobError::Permanent("the webhook secret is malformed".into()))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in [
            ("webhook-id", delivery.webhook_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ] {
            let value = HeaderValue::from_str(&value)
                .map_err(|_| JobError::Permanent(format!("the {name} is not a header value")))?;
            headers.insert(name, value);
        }
        let last = ctx.attempt() >= self.max_attempts;
        let outcome = self
            .fetcher
            .post(&delivery.url, headers, body, self.timeout)
            .await;
        let why = match outcome {
            Ok(status) if (200..300).contains(&status) => {
                tracing::info!(
                    webhook_id = delivery.webhook_id,
                    attempt = ctx.attempt(),
                    status,
                    "webhook delivered"
                );
                return Ok(Some(json!({
                    "webhook_id": delivery.webhook_id,
                    "status": status,
                    "attempt": ctx.attempt(),
                })));
            }
            Ok(status) => format!("the receiver answered HTTP {status}"),
            Err(e) if e.is_permanent() => return Err(JobError::Permanent(e.to_string())),
            Err(e) => e.to_string(),
        };
        if last {
            Err(JobError::Permanent(format!(
                "{why}; given up after {} attempts",
                ctx.attempt()
            )))
        } else {
            Err(JobError::Retry(why))
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout + Duration::from_secs(2)
    }
}
