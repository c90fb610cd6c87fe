//! Webhooks per the Standard Webhooks specification: when a job of a
//! notified kind finishes (succeeded, or failed for good), a `webhook` job
//! is enqueued in the same transaction as the finishing write, and delivered
//! at least once through the durable queue with its backoff. Every attempt
//! carries the same `webhook-id`, a fresh `webhook-timestamp` and
//! `webhook-signature` = `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`
//! keyed with the owner's secret. Deliveries go through the same SSRF guard
//! as URL fetches. Design notes: docs/webhooks.md.

pub mod delivery;
pub mod endpoints;
pub mod sign;

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jobs::{self, JobEvent, JobView, NewJob};

pub use delivery::WebhookJob;
pub use endpoints::Endpoint;

/// The job kind that delivers one webhook.
pub const KIND: &str = "webhook";

/// Job kinds whose end is announced. (A webhook job's own end never is.)
pub const NOTIFIED_KINDS: &[&str] = &["ocr"];

/// Attempts a delivery job is enqueued with; the handler gives up earlier,
/// at `WEBHOOK_MAX_ATTEMPTS`, so the setting applies to queued jobs too.
const QUEUE_MAX_ATTEMPTS: i32 = 100;

/// What a delivery job carries: everything that must be the same on every
/// attempt (the id, the exact body), and where to send it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub webhook_id: String,
    pub url: String,
    /// The exact bytes to send and sign, as text.
    pub body: String,
}

/// An OCR job as its owner sees it: what `GET /v1/ocr/jobs/{id}` answers, and
/// a webhook's `data`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    pub job_id: Uuid,
    /// `queued`, `running`, `succeeded` or `failed`.
    #[schema(pattern = "^(queued|running|succeeded|failed)$")]
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    /// `{"pages_done", "pages_total"}` once the job has started.
    #[schema(value_type = Option<crate::ocr::Progress>)]
    pub progress: Option<Value>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// The 200 answer of `POST /v1/ocr`, once `succeeded`.
    #[schema(value_type = Option<crate::ocr::service::OcrAnswer>)]
    pub result: Option<Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub fn status_document(job: &JobView) -> JobStatus {
    JobStatus {
        job_id: job.id,
        status: job.status.clone(),
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        progress: job.progress.clone(),
        error: job.last_error.clone(),
        result: job.result.clone(),
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

/// Records `url` as job `job_id`'s own callback; call in the transaction
/// that enqueues the job.
pub async fn attach_callback(
    conn: &mut PgConnection,
    job_id: Uuid,
    url: &str,
) -> Result<(), sqlx::Error> {
    crate::db::query("INSERT INTO webhook_callbacks (job_id, url) VALUES ($1, $2)")
        .bind(job_id)
        .bind(url)
        .execute(conn)
        .await?;
    Ok(())
}

/// The finishing writes' hook: for every event that ends a job of a
/// notified kind, enqueues its webhook on `conn`, inside the finishing
/// transaction. Enqueues nothing when the owner has no webhook.
pub async fn jobs_finished(
    conn: &mut PgConnection,
    events: &[JobEvent],
) -> Result<usize, sqlx::Error> {
    let ids: Vec<Uuid> = events
        .iter()
        .filter(|e| {
            (e.status == "succeeded" || e.status == "failed")
                && e.owner_id.is_some()
                && NOTIFIED_KINDS.contains(&e.kind.as_str())
        })
        .map(|e| e.id)
        .collect();
    finished(conn, &ids).await
}

/// The same for one job by id, for a finishing path that has no event
/// (an assembly step, say). Idempotent: a job's webhook is enqueued once.
pub async fn job_finished(conn: &mut PgConnection, id: Uuid) -> Result<usize, sqlx::Error> {
    finished(conn, &[id]).await
}

#[derive(sqlx::FromRow)]
struct Finished {
    #[sqlx(flatten)]
    job: JobView,
    target: String,
}

async fn finished(conn: &mut PgConnection, ids: &[Uuid]) -> Result<usize, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let rows: Vec<Finished> = crate::db::query_as(
        "SELECT j.id, j.kind, j.owner_id, j.status, j.attempts, j.max_attempts, j.payload,
                j.progress, j.result, j.last_error, j.run_at, j.created_at, j.updated_at,
                j.finished_at, coalesce(c.url, e.url) AS target
         FROM jobs j
         JOIN webhook_endpoints e ON e.owner_id = j.owner_id
         LEFT JOIN webhook_callbacks c ON c.job_id = j.id
         WHERE j.id = ANY($1) AND j.kind = ANY($2)
           AND j.status IN ('succeeded', 'failed')
           AND coalesce(c.url, e.url) IS NOT NULL",
    )
    .bind(ids)
    .bind(NOTIFIED_KINDS)
    .fetch_all(&mut *conn)
    .await?;
    let mut enqueued = 0;
    for row in rows {
        let job = &row.job;
        let envelope = json!({
            "type": format!("{}.job.{}", job.kind, job.status),
            "timestamp": job.finished_at.unwrap_or(job.updated_at),
            "data": status_document(job),
        });
        let delivery = Delivery {
            webhook_id: format!("msg_{}", Uuid::now_v7().simple()),
            url: row.target.clone(),
            body: envelope.to_string(),
        };
        let payload = serde_json::to_value(&delivery).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let mut new = NewJob::new(KIND, payload)
            .max_attempts(QUEUE_MAX_ATTEMPTS)
            .idempotency_key(&format!("finished:{}", job.id));
        new.owner_id = job.owner_id.clone();
        if jobs::enqueue(&mut *conn, &new).await?.created {
            enqueued += 1;
        }
    }
    Ok(enqueued)
}
