//! Pub/sub notices for anyone listening (a websocket gateway, a dashboard):
//! JSON events on `{prefix}notify:user:{id}` and `{prefix}notify:job:{id}`
//! (with the default prefix, `folio:notify:user:{id}`). Fire-and-forget: no
//! listener, or no Redis, loses the notice and nothing else.
//!
//! ```ignore
//! kv::notify::job(&kv, job_id, &json!({"status": "done"})).await.ok();
//! ```

use std::fmt::Display;

use serde::Serialize;

use super::{Kv, KvError};

/// The channel (before the prefix) for a user's notices.
pub fn user_channel(user_id: impl Display) -> String {
    format!("notify:user:{user_id}")
}

/// The channel (before the prefix) for a job's notices.
pub fn job_channel(job_id: impl Display) -> String {
    format!("notify:job:{job_id}")
}

/// Publishes `event` as JSON to the user's channel; returns how many
/// subscribers received it.
pub async fn user(kv: &Kv, user_id: impl Display, event: &impl Serialize) -> Result<i64, KvError> {
    publish(kv, &user_channel(user_id), event).await
}

/// Publishes `event` as JSON to the job's channel; returns how many
/// subscribers received it.
pub async fn job(kv: &Kv, job_id: impl Display, event: &impl Serialize) -> Result<i64, KvError> {
    publish(kv, &job_channel(job_id), event).await
}

async fn publish(kv: &Kv, channel: &str, event: &impl Serialize) -> Result<i64, KvError> {
    let body = serde_json::to_vec(event)
        .map_err(|e| KvError::Protocol(format!("the event cannot be serialized: {e}")))?;
    kv.publish(channel, &body).await
}
