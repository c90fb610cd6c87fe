//! The OCR service: the engine behind a content-addressed cache (Redis, then
//! Postgres, then work), and the answers built from it. The HTTP handler and
//! the OCR job both go through here, so both give the same answer shape and
//! share one cache.

use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use super::store::{self, DocumentRow, NewResult};
use super::{
    Accept, Document, Inspection, Limits, Ocr, OcrError, Options, Outcome, Page, ProgressFn,
    Recognised,
};
use crate::Error;
use crate::config::OcrConfig;
use crate::kv::Kv;
use crate::state::AppState;

/// Bumped when a change to the engine changes results, so old ones stop matching.
const RESULT_VERSION: &str = "v2";

/// The 200 answer (`POST /v1/ocr`, `GET /v1/ocr/documents/{id}`, a finished job's `result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OcrAnswer {
    pub document_id: Uuid,
    pub sha256: String,
    pub page_count: u32,
    pub lang: String,
    pub cached: bool,
    pub elapsed_ms: u64,
    /// The page texts joined by form feeds.
    pub text: String,
    pub pages: Vec<Page>,
}

/// The cache key of `document` recognised with `options`.
pub fn result_key(document: &Document, options: &Options) -> String {
    let kind = serde_json::to_value(document.kind())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    format!(
        "{RESULT_VERSION}:{}:{kind}:{}",
        document.sha256(),
        options.cache_key(document.kind())
    )
}

/// What the service needs; cheap to build per request.
#[derive(Clone)]
pub struct OcrService {
    pub db: PgPool,
    pub kv: Kv,
    pub config: OcrConfig,
    pub ocr: &'static Ocr,
}

impl OcrService {
    pub fn new(state: &AppState) -> Self {
        OcrService {
            db: state.db.clone(),
            kv: state.kv.clone(),
            config: state.config.ocr.clone(),
            ocr: Ocr::global(&state.config.ocr),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits::from(&self.config)
    }

    /// A stored result for `key`: Redis first, then Postgres (copying it back
    /// into Redis). Redis trouble only costs speed; Postgres trouble is an error.
    pub async fn cached(&self, key: &str) -> Result<Option<Recognised>, Error> {
        if let Some(result) = store::cache_get(&self.kv, key).await {
            crate::metrics::cache_lookup("ocr_redis", true);
            return Ok(Some(result));
        }
        crate::metrics::cache_lookup("ocr_redis", false);
        let found = store::find_result(&self.db, key).await?;
        crate::metrics::cache_lookup("ocr_postgres", found.is_some());
        if let Some(result) = &found {
            store::cache_put(&self.kv, key, result, self.config.cache_ttl).await;
        }
        Ok(found)
    }

    /// Counts pages and checks every limit, recognising nothing.
    pub async fn inspect(
        &self,
        document: &Document,
        options: &Options,
    ) -> Result<Inspection, OcrError> {
        super::inspect(self.ocr, document, options, self.limits()).await
    }

    /// Recognises `document` and stores the result under `key` (Postgres,
    /// then Redis).
    pub async fn recognise(
        &self,
        key: &str,
        document: &Document,
        options: &Options,
        progress: Option<ProgressFn>,
    ) -> Result<Recognised, Error> {
        match self
            .recognise_if(key, document, options, progress, Box::new(|_| true))
            .await?
        {
            Outcome::Recognised(result) => Ok(result),
            Outcome::Declined(_) => Err(Error::Internal(anyhow::anyhow!("declined unasked"))),
        }
    }

    /// Like `recognise`, but asks `accept` first, once every limit has been
    /// checked and the pages counted (`ocr::recognise_if`).
    pub async fn recognise_if(
        &self,
        key: &str,
        document: &Document,
        options: &Options,
        progress: Option<ProgressFn>,
        accept: Accept,
    ) -> Result<Outcome, Error> {
        let started = Instant::now();
        // Words are always kept with the stored result (the searchable PDF
        // lays them over the original); answers show them only when asked.
        let mut with_words = options.clone();
        with_words.words = true;
        let outcome = super::recognise_if(
            self.ocr,
            document,
            &with_words,
            self.limits(),
            progress,
            accept,
        )
        .await?;
        let Outcome::Recognised(result) = &outcome else {
            return Ok(outcome);
        };
        let work_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            pages = result.page_count,
            ocr_pages = result.ocr_pages(),
            work_ms,
            "document recognised"
        );
        let kind = key.split(':').nth(2).unwrap_or_default();
        store::save_result(
            &self.db,
            &NewResult {
                key,
                sha256: document.sha256(),
                kind,
                recognised: result,
                work_ms,
            },
        )
        .await?;
        store::cache_put(&self.kv, key, result, self.config.cache_ttl).await;
        Ok(outcome)
    }

    /// Records `owner`'s upload and builds its answer.
    pub async fn answer(
        &self,
        owner: &str,
        key: &str,
        document: &Document,
        result: Recognised,
        cached: bool,
        started: Instant,
    ) -> Result<OcrAnswer, Error> {
        let row = DocumentRow {
            id: Uuid::now_v7(),
            owner_id: owner.to_owned(),
            result_key: key.to_owned(),
            sha256: document.sha256().to_owned(),
            kind: key.split(':').nth(2).unwrap_or_default().to_owned(),
            lang: result.lang.clone(),
            page_count: result.page_count,
            cached,
            elapsed_ms: started.elapsed().as_millis() as u64,
            created_at: Utc::now(),
        };
        if document.bytes().len() <= self.config.keep_original_max_bytes {
            store::keep_original(&self.db, document.sha256(), &row.kind, document.bytes()).await?;
        }
        store::insert_document(&self.db, &row).await?;
        Ok(answer_of(&row, result))
    }

    /// The whole way for one upload, for a caller that has already decided to
    /// work now (the sync route, the OCR job): cache, else recognise; then
    /// record the owner's document. `progress` hears of every page.
    pub async fn process(
        &self,
        owner: &str,
        document: &Document,
        options: &Options,
        progress: Option<ProgressFn>,
        started: Instant,
    ) -> Result<OcrAnswer, Error> {
        let key = result_key(document, options);
        if let Some(result) = self.cached(&key).await? {
            return self
                .answer(owner, &key, document, result, true, started)
                .await;
        }
        let result = self.recognise(&key, document, options, progress).await?;
        self.answer(owner, &key, document, result, false, started)
            .await
    }

    /// `owner`'s document `id` in the 200 shape, as it was answered; 404 for
    /// anyone else.
    pub async fn document(&self, owner: &str, id: Uuid) -> Result<OcrAnswer, Error> {
        let (row, result) = store::find_document(&self.db, owner, id)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(answer_of(&row, result))
    }

    /// `owner`'s document `id` as a searchable PDF (its original with an
    /// invisible text layer on the OCR pages). 404 for anyone else; 422
    /// `original-unavailable` when the original was not kept, and
    /// `pdf-too-large` when it or the PDF is over `OCR_PDF_MAX_BYTES`.
    pub async fn searchable_pdf(&self, owner: &str, id: Uuid) -> Result<Vec<u8>, Error> {
        let (row, result) = store::find_document(&self.db, owner, id)
            .await?
            .ok_or(Error::NotFound)?;
        let max = self.config.pdf_max_bytes;
        let too_large = |what: &str, size: u64| {
            Error::unprocessable(
                "pdf-too-large",
                format!("the {what} is {size} bytes; searchable PDFs are given up to {max} bytes"),
            )
        };
        let unavailable = || {
            Error::unprocessable(
                "original-unavailable",
                "the original of this document was not kept (it was too large or recognised \
                 before originals were kept); send it again to get a searchable PDF",
            )
        };
        let size = store::original_size(&self.db, &row.sha256)
            .await?
            .ok_or_else(unavailable)?;
        if size > max as u64 {
            return Err(too_large("original", size));
        }
        let original = store::find_original(&self.db, &row.sha256)
            .await?
            .ok_or_else(unavailable)?;
        let kind: super::Kind = serde_json::from_value(serde_json::Value::String(row.kind.clone()))
            .map_err(|_| Error::Internal(anyhow::anyhow!("unknown stored kind {}", row.kind)))?;
        let pdf =
            super::searchable_pdf(self.ocr, kind, original.into(), result.pages, self.limits())
                .await?;
        if pdf.len() > max {
            return Err(too_large("searchable PDF", pdf.len() as u64));
        }
        Ok(pdf)
    }
}

/// Whether the options a result key names asked for words.
fn key_includes_words(key: &str) -> bool {
    key.split(';').any(|part| part.ends_with("words=1"))
}

pub(crate) fn answer_of(row: &DocumentRow, mut result: Recognised) -> OcrAnswer {
    if !key_includes_words(&row.result_key) {
        for page in &mut result.pages {
            page.words = None;
        }
    }
    OcrAnswer {
        document_id: row.id,
        sha256: row.sha256.clone(),
        page_count: result.page_count,
        lang: result.lang.clone(),
        cached: row.cached,
        elapsed_ms: row.elapsed_ms,
        text: result.text(),
        pages: result.pages,
    }
}
