//! Fan-out of long documents: an `ocr` job whose document has more OCR pages
//! than `OCR_FANOUT_PAGES` splits it into page-range `ocr-part` jobs, which
//! any number of ticks (processes, instances) claim side by side.
//!
//! - **Split** (the parent's first attempt): one transaction records the
//!   fan-out (`ocr_fanouts`), enqueues the parts (idempotency key
//!   `{parent}:{part}`) and puts the parent back in the queue, far ahead
//!   (`RECHECK`), its attempt not counted. Fenced by the parent's lease.
//! - **Part**: recognises its pages through the pipeline's page-range entry
//!   (`ocr::recognise_pages`); its finishing transaction stores the pages
//!   (`ocr_fanout_pages`), bumps `parts_done` and, if it was the last,
//!   wakes the parent (`run_at = now()`), and marks the part succeeded, all
//!   or nothing, fenced by the part's lease. Retries are per part.
//! - **Assembly** (the parent woken): with the fan-out row locked, either
//!   some part is dead (the parent fails, naming its pages), or parts are
//!   still out (the parent waits again: a part finishing meanwhile either
//!   committed before the lock, and is counted here, or waits for it and
//!   then finds the parent queued and wakes it), or all are in: the pages
//!   are joined in page order and the owner's document is recorded in the
//!   transaction that marks the parent succeeded (the queue's ordinary
//!   completion), and `assemblies` is bumped in it: it can only ever be 1.
//!
//! The parent also wakes every `RECHECK` by itself, so a part that died
//! without a word (its last attempt lost to a crash) still fails the
//! document. Rows go with the parent job (purge, `ON DELETE CASCADE`).

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::job::{Payload, job_error};
use super::service::{OcrService, answer_of};
use super::store::{self, DocumentRow, NewResult};
use super::{Document, Outcome, Page, Progress, ProgressFn, Recognised};
use crate::jobs::{self, JobContext, JobError, JobEvent, JobHandler, NewJob};

/// The parts' job kind.
pub const PART_KIND: &str = "ocr-part";

/// How often a waiting parent looks at its parts even if none woke it.
const RECHECK: Duration = Duration::from_secs(60);

/// A part's payload: the parent's, plus its pages (0-based, end exclusive).
#[derive(Debug, Serialize, Deserialize)]
struct PartPayload {
    parent: Uuid,
    part: i32,
    first: u32,
    end: u32,
    #[serde(flatten)]
    document: Payload,
}

/// A recorded fan-out.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Fanout {
    pub result_key: String,
    pub sha256: String,
    pub kind: String,
    pub page_count: i32,
    pub parts_total: i32,
    pub parts_done: i32,
    pub assemblies: i32,
    pub created_at: DateTime<Utc>,
}

/// Where a fanned-out document stands, counted across its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FanoutProgress {
    pub pages_done: i64,
    pub pages_total: i32,
    pub parts_done: i32,
    pub parts_total: i32,
}

/// The fan-out of job `parent`, if it was split.
pub async fn find(db: &PgPool, parent: Uuid) -> Result<Option<Fanout>, sqlx::Error> {
    let mut unit = crate::db::unit(db).await?;
    let row = crate::db::query_as(
        "SELECT result_key, sha256, kind, page_count, parts_total, parts_done, assemblies, created_at
         FROM ocr_fanouts WHERE parent_id = $1",
    )
    .bind(parent)
    .fetch_optional(&mut *unit)
    .await?;
    unit.commit().await?;
    Ok(row)
}

/// Pages done across the parts of `parent` (a finished part counts all its
/// pages, a running one what it has reported); `None` if it was not split.
pub async fn progress(db: &PgPool, parent: Uuid) -> Result<Option<FanoutProgress>, sqlx::Error> {
    let mut unit = crate::db::unit(db).await?;
    let row: Option<(i64, i32, i32, i32)> = crate::db::query_as(
        "SELECT COALESCE(SUM(CASE WHEN j.status = 'succeeded' THEN p.end_page - p.first_page
                                  ELSE LEAST(GREATEST(COALESCE((j.progress->>'pages_done')::int, 0), 0),
                                             p.end_page - p.first_page) END), 0)::int8,
                f.page_count, f.parts_done, f.parts_total
         FROM ocr_fanouts f
         LEFT JOIN ocr_fanout_parts p ON p.parent_id = f.parent_id
         LEFT JOIN jobs j ON j.id = p.job_id
         WHERE f.parent_id = $1
         GROUP BY f.parent_id",
    )
    .bind(parent)
    .fetch_optional(&mut *unit)
    .await?;
    unit.commit().await?;
    Ok(row.map(
        |(pages_done, pages_total, parts_done, parts_total)| FanoutProgress {
            pages_done,
            pages_total,
            parts_done,
            parts_total,
        },
    ))
}

/// The page ranges `page_count` pages are cut into, `per_part` each.
pub fn ranges(page_count: u32, per_part: u32) -> Vec<Range<u32>> {
    let per_part = per_part.max(1);
    (0..page_count.div_ceil(per_part))
        .map(|i| i * per_part..((i + 1) * per_part).min(page_count))
        .collect()
}

/// Splits the parent's document into parts and puts the parent back to wait.
pub(super) async fn split(
    ctx: &JobContext,
    payload: &Payload,
    owner: &str,
    document: &Document,
    key: &str,
    page_count: u32,
    per_part: u32,
) -> Result<(), JobError> {
    let parent = ctx.id();
    let parts = ranges(page_count, per_part);
    let kind = key.split(':').nth(2).unwrap_or_default();
    let mut tx = ctx.begin().await?;
    crate::db::query(
        "INSERT INTO ocr_fanouts (parent_id, result_key, sha256, kind, page_count, parts_total)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (parent_id) DO NOTHING",
    )
    .bind(parent)
    .bind(key)
    .bind(document.sha256())
    .bind(kind)
    .bind(page_count as i32)
    .bind(parts.len() as i32)
    .execute(&mut *tx)
    .await?;
    for (part, range) in parts.iter().enumerate() {
        let body = PartPayload {
            parent,
            part: part as i32,
            first: range.start,
            end: range.end,
            document: payload.clone(),
        };
        let mut job = NewJob::new(
            PART_KIND,
            serde_json::to_value(&body).map_err(anyhow::Error::from)?,
        )
        .owner(owner)
        .max_attempts(3);
        job.idempotency_key = Some(format!("{parent}:{part}"));
        let enqueued = jobs::enqueue(&mut tx, &job).await?;
        crate::db::query(
            "INSERT INTO ocr_fanout_parts (parent_id, part, job_id, first_page, end_page)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(parent)
        .bind(part as i32)
        .bind(enqueued.id)
        .bind(range.start as i32)
        .bind(range.end as i32)
        .execute(&mut *tx)
        .await?;
    }
    let progress = json!({"pages_done": 0, "pages_total": page_count,
                          "parts_done": 0, "parts_total": parts.len()});
    ctx.requeue_in(tx, later(RECHECK), Some(progress)).await?;
    tracing::info!(job.id = %parent, pages = page_count, parts = parts.len(), "ocr document fanned out");
    Ok(())
}

fn later(wait: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(60))
}

/// The parent, woken: wait again, fail, or assemble.
pub(super) async fn resume(
    service: &OcrService,
    ctx: &JobContext,
    payload: &Payload,
    owner: &str,
    fanout: Fanout,
) -> Result<Option<Value>, JobError> {
    let parent = ctx.id();
    let mut tx = ctx.begin().await?;
    let (done, total): (i32, i32) = crate::db::query_as(
        "SELECT parts_done, parts_total FROM ocr_fanouts WHERE parent_id = $1 FOR UPDATE",
    )
    .bind(parent)
    .fetch_one(&mut *tx)
    .await?;
    if done < total {
        let dead: Option<(i32, i32, Option<String>)> = crate::db::query_as(
            "SELECT p.first_page, p.end_page, j.last_error
             FROM ocr_fanout_parts p JOIN jobs j ON j.id = p.job_id
             WHERE p.parent_id = $1 AND j.status = 'failed'
             ORDER BY p.part LIMIT 1",
        )
        .bind(parent)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((first, end, error)) = dead {
            tx.rollback().await.ok();
            return Err(JobError::Permanent(format!(
                "pages {}-{end} could not be recognised: {}",
                first + 1,
                error.unwrap_or_else(|| "unknown error".into())
            )));
        }
        ctx.requeue_in(tx, later(RECHECK), None).await?;
        return Ok(None);
    }

    let rows: Vec<(i32, Json<Page>)> = crate::db::query_as(
        "SELECT page, body FROM ocr_fanout_pages WHERE parent_id = $1 ORDER BY page",
    )
    .bind(parent)
    .fetch_all(&mut *tx)
    .await?;
    let in_order = rows.len() == fanout.page_count as usize
        && rows
            .iter()
            .enumerate()
            .all(|(i, (page, _))| *page == i as i32 + 1);
    if !in_order {
        // Cannot happen while parts store their pages with their success.
        return Err(JobError::Retry(format!(
            "the parts hold {} of the document's {} pages",
            rows.len(),
            fanout.page_count
        )));
    }
    let lang = payload.options(service)?.lang.to_string();
    let recognised = Recognised {
        page_count: fanout.page_count as u32,
        lang,
        pages: rows.into_iter().map(|(_, Json(page))| page).collect(),
    };
    let elapsed_ms = (Utc::now() - fanout.created_at).num_milliseconds().max(0) as u64;
    // Content-addressed and first-writer-wins: safe outside the transaction.
    store::save_result(
        &service.db,
        &NewResult {
            key: &fanout.result_key,
            sha256: &fanout.sha256,
            kind: &fanout.kind,
            recognised: &recognised,
            work_ms: elapsed_ms,
        },
    )
    .await
    .map_err(job_error)?;
    store::cache_put(
        &service.kv,
        &fanout.result_key,
        &recognised,
        service.config.cache_ttl,
    )
    .await;
    let row = DocumentRow {
        id: Uuid::now_v7(),
        owner_id: owner.to_owned(),
        result_key: fanout.result_key.clone(),
        sha256: fanout.sha256.clone(),
        kind: fanout.kind.clone(),
        lang: recognised.lang.clone(),
        page_count: recognised.page_count,
        cached: false,
        elapsed_ms,
        created_at: Utc::now(),
    };
    store::insert_document_in(&mut tx, &row).await?;
    crate::db::query("UPDATE ocr_fanouts SET assemblies = assemblies + 1 WHERE parent_id = $1")
        .bind(parent)
        .execute(&mut *tx)
        .await?;
    let answer = answer_of(&row, recognised);
    let result = serde_json::to_value(answer).map_err(anyhow::Error::from)?;
    ctx.succeed_in(tx, Some(result)).await?;
    tracing::info!(job.id = %parent, pages = fanout.page_count, "ocr fan-out assembled");
    Ok(None)
}

/// Tells the parent's watchers (`notify:job:{parent}`) where the document stands.
async fn announce(service: &OcrService, parent: Uuid, owner: &str) {
    let Ok(Some(progress)) = progress(&service.db, parent).await else {
        return;
    };
    let event = JobEvent {
        id: parent,
        kind: super::job::KIND.to_owned(),
        owner_id: Some(owner.to_owned()),
        status: "running".into(),
        attempts: 0,
        progress: serde_json::to_value(progress).ok(),
    };
    jobs::publish_events(&service.kv, vec![event], &[]).await;
}

/// Wakes a waiting parent now (a part finished or died).
async fn wake(conn: &mut sqlx::PgConnection, parent: Uuid) -> Result<(), sqlx::Error> {
    crate::db::query(
        "UPDATE jobs SET run_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'queued' AND run_at > now()",
    )
    .bind(parent)
    .execute(conn)
    .await?;
    Ok(())
}

/// The handler `worker-tick` registers under `ocr-part`.
pub struct OcrPartJob {
    service: Arc<OcrService>,
    timeout: Duration,
}

impl OcrPartJob {
    /// `timeout` bounds one attempt, like the `ocr` kind's.
    pub fn new(service: OcrService, timeout: Duration) -> OcrPartJob {
        OcrPartJob {
            service: Arc::new(service),
            timeout,
        }
    }

    async fn recognise(&self, ctx: &JobContext, part: &PartPayload) -> Result<Vec<Page>, JobError> {
        let owner = ctx.owner_id().unwrap_or_default().to_owned();
        let document = part.document.document(ctx).await?;
        let options = part.document.options(&self.service)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let progress: ProgressFn = Arc::new(move |p| {
            let _ = tx.send(p);
        });
        let reporter = {
            let ctx = ctx.clone();
            let service = self.service.clone();
            let parent = part.parent;
            tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    if ctx
                        .progress(json!({"pages_done": p.pages_done, "pages_total": p.pages_total}))
                        .await
                        .is_ok()
                    {
                        announce(&service, parent, &owner).await;
                    }
                }
            })
        };
        let range = part.first as usize..part.end as usize;
        let work = super::recognise_pages(
            self.service.ocr,
            &document,
            &options,
            self.service.limits(),
            Some(progress),
            Box::new(|_| true),
            Some(range),
        );
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = ctx.cancelled() => {
                reporter.abort();
                return Err(JobError::Retry("the attempt ran out of time".into()));
            }
        };
        reporter.abort();
        match outcome.map_err(|e| job_error(e.into()))? {
            Outcome::Recognised(result) => Ok(result.pages),
            Outcome::Declined(_) => Err(JobError::Retry("the part was declined".into())),
        }
    }
}

#[async_trait]
impl JobHandler for OcrPartJob {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        let started = Instant::now();
        let part: PartPayload = serde_json::from_value(ctx.payload().clone())
            .map_err(|e| JobError::Permanent(format!("the job's payload is malformed: {e}")))?;
        let owner = ctx
            .owner_id()
            .ok_or_else(|| JobError::Permanent("the job has no owner".into()))?
            .to_owned();
        let pages = match self.recognise(&ctx, &part).await {
            Ok(pages) => pages,
            Err(e) => {
                let last =
                    matches!(e, JobError::Permanent(_)) || ctx.attempt() >= ctx.max_attempts();
                if last && !matches!(e, JobError::LeaseLost) {
                    // The parent fails at its next look; make that soon.
                    if let Ok(mut unit) = crate::db::unit(ctx.db()).await
                        && wake(&mut unit, part.parent).await.is_ok()
                    {
                        unit.commit().await.ok();
                    }
                }
                return Err(e);
            }
        };
        let numbers: Vec<i32> = pages.iter().map(|p| p.page as i32).collect();
        let bodies: Vec<Json<&Page>> = pages.iter().map(Json).collect();
        let mut tx = ctx.begin().await?;
        crate::db::query(
            "INSERT INTO ocr_fanout_pages (parent_id, page, body)
             SELECT $1, page, body FROM unnest($2::int4[], $3::jsonb[]) AS t(page, body)
             ON CONFLICT (parent_id, page) DO NOTHING",
        )
        .bind(part.parent)
        .bind(&numbers)
        .bind(&bodies)
        .execute(&mut *tx)
        .await?;
        let last: Option<bool> = crate::db::query_scalar(
            "UPDATE ocr_fanouts SET parts_done = parts_done + 1
             WHERE parent_id = $1 RETURNING parts_done = parts_total",
        )
        .bind(part.parent)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Err(JobError::Permanent("the document's job is gone".into()));
        };
        if last {
            wake(&mut tx, part.parent).await?;
        }
        ctx.succeed_in(
            tx,
            Some(json!({"pages": numbers.len(), "work_ms": started.elapsed().as_millis() as u64})),
        )
        .await?;
        announce(&self.service, part.parent, &owner).await;
        Ok(None)
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
