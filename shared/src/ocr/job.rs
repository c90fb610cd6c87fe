//! The `ocr` job kind: long documents (`mode=async`, or `mode=auto` past
//! `OCR_SYNC_MAX_PAGES`) are stored as an upload and recognised by
//! `worker-tick`. The upload and its job commit in one transaction; the job
//! reports progress page by page, records the owner's document and keeps the
//! 200 answer as its result. The upload goes when the job finishes (the
//! queue's purge), or at its expiry. A document with more OCR pages than
//! `OCR_FANOUT_PAGES` is split into page-range parts instead (`fanout`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::service::OcrService;
use super::{Document, Options, Progress, ProgressFn};
use crate::error::Error;
use crate::jobs::{self, JobContext, JobError, JobHandler, NewJob};

pub const KIND: &str = "ocr";

/// What the job needs besides the bytes: the options as the caller gave them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Payload {
    pub(super) upload_id: Uuid,
    pub(super) lang: String,
    force_ocr: bool,
    dpi: u16,
    #[serde(default = "yes")]
    rotate_pages: bool,
    #[serde(default)]
    words: bool,
}

impl Payload {
    pub(super) fn parse(ctx: &JobContext) -> Result<(Payload, String), JobError> {
        let payload: Payload = serde_json::from_value(ctx.payload().clone())
            .map_err(|e| JobError::Permanent(format!("the job's payload is malformed: {e}")))?;
        let owner = ctx
            .owner_id()
            .ok_or_else(|| JobError::Permanent("the job has no owner".into()))?
            .to_owned();
        Ok((payload, owner))
    }

    pub(super) fn options(&self, service: &OcrService) -> Result<Options, JobError> {
        let lang = service
            .ocr
            .lang(&self.lang)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        Ok(Options {
            lang,
            force_ocr: self.force_ocr,
            dpi: self.dpi,
            rotate_pages: self.rotate_pages,
            words: self.words,
        })
    }

    /// The uploaded document, sniffed (off the runtime).
    pub(super) async fn document(&self, ctx: &JobContext) -> Result<Document, JobError> {
        let mut unit = crate::db::unit(ctx.db()).await?;
        let upload = jobs::uploads::load(&mut *unit, self.upload_id).await?;
        unit.commit().await?;
        let upload = upload.ok_or_else(|| {
            JobError::Permanent("the upload has expired; send the document again".into())
        })?;
        tokio::task::spawn_blocking(move || Document::from_bytes(upload.content.into()))
            .await
            .map_err(|e| JobError::Retry(format!("the recogniser stopped: {e}")))?
            .map_err(|e| JobError::Permanent(e.to_string()))
    }
}

/// How a failed recognition ends the attempt: a broken document fails the
/// job, anything else is retried.
pub(super) fn job_error(e: Error) -> JobError {
    match e {
        Error::Unprocessable { detail, .. } | Error::UnsupportedMediaType(detail) => {
            JobError::Permanent(detail)
        }
        Error::Unavailable { what, .. } => JobError::Retry(format!("{what} is unavailable")),
        other => {
            tracing::warn!(error = %other, "ocr job failed");
            JobError::Retry("recognition failed; it will be retried".into())
        }
    }
}

fn yes() -> bool {
    true
}

/// Stores `document` and enqueues its job, both or neither, with its own
/// webhook URL when `callback_url` is given. Returns the job id.
pub async fn enqueue(
    service: &OcrService,
    owner: &str,
    document: &Document,
    options: &Options,
    keep_upload: Duration,
    callback_url: Option<&str>,
) -> Result<Uuid, Error> {
    let mut tx = service.db.begin().await?;
    let upload_id =
        jobs::uploads::store(&mut tx, owner, None, document.bytes(), None, keep_upload).await?;
    let payload = Payload {
        upload_id,
        lang: options.lang.as_str().to_owned(),
        force_ocr: options.force_ocr,
        dpi: options.dpi,
        rotate_pages: options.rotate_pages,
        words: options.words,
    };
    let mut job = NewJob::new(
        KIND,
        serde_json::to_value(&payload).map_err(anyhow::Error::from)?,
    );
    job.owner_id = Some(owner.to_owned());
    job.max_attempts = 3;
    let job_id = jobs::enqueue(&mut tx, &job).await?.id;
    crate::db::query("UPDATE uploads SET job_id = $1 WHERE id = $2")
        .bind(job_id)
        .bind(upload_id)
        .execute(&mut *tx)
        .await?;
    if let Some(url) = callback_url {
        crate::webhooks::attach_callback(&mut tx, job_id, url).await?;
    }
    tx.commit().await?;
    Ok(job_id)
}

/// The handler `worker-tick` registers under `ocr`.
pub struct OcrJob {
    service: Arc<OcrService>,
    timeout: Duration,
}

impl OcrJob {
    /// `timeout` bounds one attempt; it must fit in a tick (`WORKER_TICK_BUDGET`).
    pub fn new(service: OcrService, timeout: Duration) -> OcrJob {
        OcrJob {
            service: Arc::new(service),
            timeout,
        }
    }
}

#[async_trait]
impl JobHandler for OcrJob {
    async fn run(&self, ctx: JobContext) -> Result<Option<Value>, JobError> {
        let started = Instant::now();
        let (payload, owner) = Payload::parse(&ctx)?;
        // Woken again after a split: wait for the parts, or assemble.
        if let Some(fanout) = super::fanout::find(ctx.db(), ctx.id()).await? {
            return super::fanout::resume(&self.service, &ctx, &payload, &owner, fanout).await;
        }
        let document = payload.document(&ctx).await?;
        let options = payload.options(&self.service)?;
        let per_part = self.service.config.fanout_pages;
        if per_part > 0 {
            let key = super::service::result_key(&document, &options);
            if self
                .service
                .cached(&key)
                .await
                .map_err(job_error)?
                .is_none()
            {
                let inspection = self
                    .service
                    .inspect(&document, &options)
                    .await
                    .map_err(|e| job_error(e.into()))?;
                if inspection.ocr_pages > per_part {
                    super::fanout::split(
                        &ctx,
                        &payload,
                        &owner,
                        &document,
                        &key,
                        inspection.page_count,
                        per_part,
                    )
                    .await?;
                    return Ok(None);
                }
            }
        }

        // Pages finish on blocking threads; their progress reaches the job
        // row (fenced by the lease) through a channel.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Progress>();
        let progress: ProgressFn = Arc::new(move |p| {
            let _ = tx.send(p);
        });
        let reporter = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    let _ = ctx
                        .progress(json!({"pages_done": p.pages_done, "pages_total": p.pages_total}))
                        .await;
                }
            })
        };
        let outcome = tokio::select! {
            outcome = self.service.process(&owner, &document, &options, Some(progress), started) => outcome,
            () = ctx.cancelled() => return Err(JobError::Retry("the attempt ran out of time".into())),
        };
        reporter.abort();
        let answer = outcome.map_err(job_error)?;
        Ok(Some(
            serde_json::to_value(answer).map_err(anyhow::Error::from)?,
        ))
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
