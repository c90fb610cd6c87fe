//! OCR: PDFs and images to text. The type is sniffed from the bytes; a PDF page
//! whose text layer holds real text is read as is, every other page is rendered
//! (or decoded) to 8-bit gray and recognised by Tesseract in a process-wide pool
//! of single-threaded engines. Every limit is checked before the work it bounds.
//!
//! `recognise` is the engine's one entry point (the HTTP handler and the OCR
//! job both call it); `service` adds the content-addressed cache around it and
//! `store` holds its SQL.

pub mod cer;
mod engine;
mod error;
pub mod fanout;
pub mod job;
mod langs;
mod orient;
pub(crate) mod pdf;
mod pdfworker;
mod pipeline;
pub mod quality;
pub(crate) mod raster;
mod readiness;
mod scale;
pub mod searchable;
pub mod service;
pub(crate) mod sniff;
pub mod store;
pub mod words;

#[cfg(test)]
mod tests;
// The sample documents live in the dev-only `folio-testing` crate; the engine's
// own unit tests compile the same source here, since they reach private parts.
#[cfg(test)]
#[allow(dead_code)] // the unit tests use only some of the generators
#[path = "../../tests/support/src/samples/mod.rs"]
pub(crate) mod samples;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::OcrConfig;

pub use engine::{Ocr, ensure_single_threaded_omp};

/// The process's PDFium, bound on first use (from `PDFIUM_LIB_PATH`, else next
/// to the executable, else the system library path). For tools and tests that
/// make or inspect PDFs beside the engine; the error says what was tried.
pub fn pdfium_library(
    configured: Option<&str>,
) -> Result<&'static pdfium_render::prelude::Pdfium, String> {
    pdf::library(configured)
}
pub use error::OcrError;
pub use langs::Lang;
pub use pdfworker::serve_pdf_worker_if_asked;
pub use quality::Quality;
pub use readiness::{OcrCheck, readiness};
pub use scale::Scale;
pub use sniff::Kind;

/// A document whose type was sniffed from its bytes.
#[derive(Debug, Clone)]
pub struct Document {
    bytes: Bytes,
    kind: Kind,
    sha256: String,
}

impl Document {
    /// Sniffs and hashes `bytes` (CPU work: call it off the async runtime for
    /// large bodies). Empty → `OcrError::Empty`; unsupported → `OcrError::Unsupported`.
    pub fn from_bytes(bytes: Bytes) -> Result<Document, OcrError> {
        let kind = sniff::sniff(&bytes)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Document {
            bytes,
            kind,
            sha256,
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Lowercase hex SHA-256 of the bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// What the caller asked for; everything here can change the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub lang: Lang,
    pub force_ocr: bool,
    /// Render resolution for PDF pages that need OCR (72–600).
    pub dpi: u16,
    /// Find which way is up on every OCR page and turn it (`rotate_pages`).
    pub rotate_pages: bool,
    /// Keep per-word results (`include=words`).
    pub words: bool,
}

impl Options {
    /// The part of the cache key these options contribute for `kind`: options
    /// that cannot change the result of that kind are left out, so an image
    /// sent with another `dpi` still hits the cache.
    pub fn cache_key(&self, kind: Kind) -> String {
        match kind {
            Kind::Pdf => format!(
                "lang={};force_ocr={};dpi={};rotate={};words={}",
                self.lang,
                u8::from(self.force_ocr),
                self.dpi,
                u8::from(self.rotate_pages),
                u8::from(self.words)
            ),
            _ => format!(
                "lang={};rotate={};words={}",
                self.lang,
                u8::from(self.rotate_pages),
                u8::from(self.words)
            ),
        }
    }
}

/// The limits that bound one document's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_pages: u32,
    pub max_pixels: u64,
}

impl From<&OcrConfig> for Limits {
    fn from(config: &OcrConfig) -> Self {
        Limits {
            max_pages: config.max_pages,
            max_pixels: config.max_pixels,
        }
    }
}

/// Where a page's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    TextLayer,
    Ocr,
}

/// One page of the answer (`pages[]` in the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page {
    /// 1-based.
    pub page: u32,
    pub source: Source,
    pub text: String,
    /// Tesseract's mean word confidence, 0–1; `None` for text-layer pages.
    pub confidence: Option<f32>,
    pub width_px: Option<u32>,
    pub height_px: Option<u32>,
    /// Clockwise degrees an OCR page was turned before recognition (EXIF
    /// orientation aside): 0, 90, 180 or 270.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<u16>,
    /// How far the OCR page's lines were skewed (positive = clockwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_degrees: Option<f32>,
    /// How well an OCR page read (see `quality`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// The OCR page's words, in reading order (only with `include=words`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<words::Word>>,
}

impl Page {
    /// An OCR page whose quality is below the documented thresholds.
    pub fn low_quality(&self) -> bool {
        self.quality.is_some_and(|q| q.low_quality)
    }
}

/// A recognised document: what the cache stores and every answer is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recognised {
    pub page_count: u32,
    pub lang: String,
    pub pages: Vec<Page>,
}

impl Recognised {
    /// The page texts joined by form feeds.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.pages.iter().map(|p| p.text.as_str()).collect();
        texts.join("\u{c}")
    }

    /// How many pages went through Tesseract.
    pub fn ocr_pages(&self) -> usize {
        self.pages
            .iter()
            .filter(|p| p.source == Source::Ocr)
            .count()
    }
}

/// What `inspect` learns without recognising anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    pub page_count: u32,
    /// Pages that need Tesseract (the others have a usable text layer).
    pub ocr_pages: u32,
}

/// Progress of one document, reported after every finished page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    pub pages_done: u32,
    pub pages_total: u32,
}

/// Called after each page; must be cheap (hand the value to a channel).
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Milliseconds one page's preparation takes (the look at its small copy, then
/// all of it: light, turn, deskew), for the benchmark.
pub fn preparation_ms(page: &image::GrayImage, rotate: bool) -> (f64, f64) {
    let image = engine::GrayImage {
        width: page.width(),
        height: page.height(),
        stride: page.width() as usize,
        pixels: page.as_raw().clone(),
    };
    let started = std::time::Instant::now();
    let _ = orient::analyse(&image, rotate);
    let analysed = started.elapsed().as_secs_f64() * 1000.0;
    let started = std::time::Instant::now();
    let _ = orient::prepare(&image, rotate);
    (analysed, started.elapsed().as_secs_f64() * 1000.0)
}

/// How folio would size `page` for Tesseract (its measured x-height and the
/// reduction applied), and how many specks it would paint over: for the tests
/// and the benchmark.
pub fn recognition_scale(page: &image::GrayImage) -> (Scale, usize) {
    let image = engine::GrayImage {
        width: page.width(),
        height: page.height(),
        stride: page.width() as usize,
        pixels: page.as_raw().clone(),
    };
    let (_, scale, specks) = scale::prepare(&image, true);
    (scale, specks)
}

/// Opens the document and checks every limit (page count, pixels per page)
/// without rendering or recognising anything: milliseconds, on a blocking thread.
pub async fn inspect(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
) -> Result<Inspection, OcrError> {
    let document = document.clone();
    let options = options.clone();
    let cancel = Cancel::new();
    let flag = cancel.flag();
    blocking(move || pipeline::inspect(ocr, &document, &options, limits, &flag)).await
}

/// Recognises every page of `document`: text layer where it holds real text
/// (unless `force_ocr`), Tesseract elsewhere, pages spread over the engine pool.
/// `progress` is called after every finished page. Dropping the future stops
/// the work at the next page.
pub async fn recognise(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
    progress: Option<ProgressFn>,
) -> Result<Recognised, OcrError> {
    match recognise_if(ocr, document, options, limits, progress, Box::new(|_| true)).await? {
        Outcome::Recognised(result) => Ok(result),
        Outcome::Declined(_) => Err(anyhow::anyhow!("declined without being asked").into()),
    }
}

/// Decides, from what the document turned out to be, whether to recognise it now.
pub type Accept = Box<dyn FnOnce(&Inspection) -> bool + Send>;

/// What `recognise_if` did.
#[derive(Debug)]
pub enum Outcome {
    Recognised(Recognised),
    /// `accept` said no; nothing was rendered or recognised.
    Declined(Inspection),
}

/// `recognise`, but first checks every limit and asks `accept` (with the page
/// counts) whether to go on: one pass over the document where `inspect`
/// followed by `recognise` would open it twice.
pub async fn recognise_if(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
    progress: Option<ProgressFn>,
    accept: Accept,
) -> Result<Outcome, OcrError> {
    recognise_pages(ocr, document, options, limits, progress, accept, None).await
}

/// `recognise_if` for the 0-based pages `range` only (all of them when
/// `None`): a fan-out part's share of a long document. The answer holds just
/// those pages, numbered as in the whole document; every limit is still
/// checked against the whole document.
pub async fn recognise_pages(
    ocr: &'static Ocr,
    document: &Document,
    options: &Options,
    limits: Limits,
    progress: Option<ProgressFn>,
    accept: Accept,
    range: Option<std::ops::Range<usize>>,
) -> Result<Outcome, OcrError> {
    // Waiting here is bounded by the request's deadline.
    let _turn = ocr
        .documents
        .acquire()
        .await
        .map_err(|_| anyhow::anyhow!("the OCR engine is shutting down"))?;
    let document = document.clone();
    let options = options.clone();
    let cancel = Cancel::new();
    let flag = cancel.flag();
    let result = blocking(move || {
        let progress = progress.as_deref();
        pipeline::recognise(
            ocr, &document, &options, limits, progress, &flag, accept, range,
        )
    })
    .await;
    drop(cancel);
    result
}

/// `original` as a searchable PDF (see `searchable::build`), built on a
/// blocking thread with the process's PDFium.
pub async fn searchable_pdf(
    ocr: &'static Ocr,
    kind: Kind,
    original: Bytes,
    pages: Vec<Page>,
    limits: Limits,
) -> Result<Vec<u8>, OcrError> {
    // Counts as a document's work, like a recognition: bounded in number.
    let _turn = ocr
        .documents
        .acquire()
        .await
        .map_err(|_| anyhow::anyhow!("the OCR engine is shutting down"))?;
    blocking(move || {
        let pdfium =
            pdf::library(ocr.pdfium_path.as_deref()).map_err(|_| OcrError::PdfUnavailable)?;
        searchable::build(pdfium, kind, &original, &pages, limits)
    })
    .await
}

/// The process's PDFium, for tests and tools that read PDFs back.
pub fn pdfium(ocr: &'static Ocr) -> Result<&'static pdfium_render::prelude::Pdfium, OcrError> {
    pdf::library(ocr.pdfium_path.as_deref()).map_err(|_| OcrError::PdfUnavailable)
}

/// Runs CPU work on tokio's blocking pool inside the caller's span.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, OcrError> + Send + 'static,
) -> Result<T, OcrError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|e| OcrError::Internal(anyhow::anyhow!("OCR task failed: {e}")))?
}

/// Sets the shared flag when dropped, so a request that went away (deadline,
/// disconnect) stops its document's work at the next page.
struct Cancel(Arc<AtomicBool>);

impl Cancel {
    fn new() -> Self {
        Cancel(Arc::new(AtomicBool::new(false)))
    }

    fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
