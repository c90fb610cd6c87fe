//! Notices and counters about job status changes, through Redis. Hints only:
//! Postgres holds the truth, so a Redis error is logged at debug and dropped.
//! All of it goes through `publish_events`, the one place to change how
//! notices are sent.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::kv::{Cmd, Kv};

/// A job's status change, as published on `notify:job:{id}` and, when it has
/// an owner, `notify:user:{owner}`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct JobEvent {
    #[serde(rename = "job_id")]
    pub id: Uuid,
    pub kind: String,
    #[serde(skip)]
    pub owner_id: Option<String>,
    /// `running`, `queued` (retry or rescue), `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(default)]
    pub progress: Option<Value>,
}

/// Publishes `events` and adds `counters` (`("succeeded", 3)` bumps
/// `counters:jobs.succeeded` by 3) in one pipelined round trip.
pub async fn publish_events(kv: &Kv, events: Vec<JobEvent>, counters: &[(&str, u64)]) {
    let mut cmds = Vec::with_capacity(events.len() * 2 + counters.len());
    for event in &events {
        let Ok(message) = serde_json::to_vec(event) else {
            continue;
        };
        if let Some(owner) = &event.owner_id {
            cmds.push(
                Cmd::new("PUBLISH")
                    .arg(kv.key(&format!("notify:user:{owner}")))
                    .arg(&message),
            );
        }
        cmds.push(
            Cmd::new("PUBLISH")
                .arg(kv.key(&format!("notify:job:{}", event.id)))
                .arg(message),
        );
    }
    for (name, n) in counters.iter().filter(|(_, n)| *n > 0) {
        cmds.push(
            Cmd::new("INCRBY")
                .arg(kv.key(&format!("counters:jobs.{name}")))
                .arg(n.to_string()),
        );
    }
    if cmds.is_empty() {
        return;
    }
    match kv.pipeline(&cmds, false).await {
        Ok(replies) => {
            if let Some(Err(e)) = replies.into_iter().find(Result::is_err) {
                tracing::debug!(error = %e, "job notices: redis refused a command");
            }
        }
        Err(e) => tracing::debug!(error = %e, "job notices: redis unavailable"),
    }
}

/// One batch of notices: events and counter increments.
type Batch = (Vec<JobEvent>, Vec<(&'static str, u64)>);

/// Sends a tick's notices in order, off the tick's path: one task drains a
/// queue of batches, so "running" is always published before "succeeded".
pub(crate) struct Notices {
    tx: tokio::sync::mpsc::UnboundedSender<Batch>,
    task: tokio::task::JoinHandle<()>,
}

impl Notices {
    pub(crate) fn start(kv: Kv) -> Notices {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Batch>();
        let task = tokio::spawn(async move {
            while let Some((events, counters)) = rx.recv().await {
                publish_events(&kv, events, &counters).await;
            }
        });
        Notices { tx, task }
    }

    pub(crate) fn send(&self, events: Vec<JobEvent>, counters: Vec<(&'static str, u64)>) {
        if events.is_empty() && counters.iter().all(|(_, n)| *n == 0) {
            return;
        }
        let _ = self.tx.send((events, counters));
    }

    /// Waits up to `wait` for the queue to drain; what is left is dropped
    /// (notices are hints, never worth delaying the tick's answer).
    pub(crate) async fn finish(self, wait: std::time::Duration) {
        let Notices { tx, mut task } = self;
        drop(tx);
        if tokio::time::timeout(wait, &mut task).await.is_err() {
            task.abort();
        }
    }
}
