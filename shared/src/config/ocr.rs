//! The OCR pipeline's settings: limits, defaults and where Tesseract's data
//! and `libpdfium.so` are (see docs/ocr.md).

use std::time::Duration;

use super::env::Env;

/// The OCR pipeline's limits and engine settings. Read by every function
/// (worker-tick runs OCR jobs too); the defaults need no variable at all.
#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// Largest accepted document (`OCR_MAX_BYTES`, 20 MiB), enforced while streaming.
    pub max_bytes: usize,
    /// Most pages in one document (`OCR_MAX_PAGES`, 200).
    pub max_pages: u32,
    /// Most pixels in one page or image (`OCR_MAX_PIXELS`, 50 million).
    pub max_pixels: u64,
    /// `mode=auto` answers synchronously up to this many pages (`OCR_SYNC_MAX_PAGES`, 5).
    pub sync_max_pages: u32,
    /// Render resolution when the caller gives none (`OCR_DEFAULT_DPI`, 300; 72–600).
    pub default_dpi: u16,
    /// Languages when the caller gives none (`OCR_DEFAULT_LANG`, `eng`).
    pub default_lang: String,
    /// Tesseract engines working at once (`OCR_WORKERS`; 0 = one per core).
    pub workers: usize,
    /// Where the `*.traineddata` files are (`OCR_TESSDATA_DIR`, else
    /// `TESSDATA_PREFIX`, else the Debian/Ubuntu and `/usr/local` locations).
    pub tessdata_dir: Option<String>,
    /// `libpdfium.so`, or the folder holding it (`PDFIUM_LIB_PATH`; else next to
    /// the executable, then the system library path).
    pub pdfium_lib_path: Option<String>,
    /// How long Redis keeps a recognised result (`OCR_CACHE_TTL_SECS`, 1 day).
    pub cache_ttl: Duration,
    /// Originals up to this size are kept for `GET /v1/ocr/documents/{id}/pdf`
    /// (`OCR_KEEP_ORIGINAL_MAX_BYTES`, 20 MiB; 0 keeps none).
    pub keep_original_max_bytes: usize,
    /// Largest searchable PDF answered (`OCR_PDF_MAX_BYTES`, 32 MiB).
    pub pdf_max_bytes: usize,
    /// PDF worker processes (`OCR_PDF_WORKERS`; 0 = PDF work in the serving
    /// process, serialised; unset = one per document the engine works on at
    /// once, i.e. 2 × the OCR workers).
    pub pdf_workers: Option<usize>,
    /// Longest one PDF step (open, plan, render one page) may take in a worker
    /// before it is killed and the document refused (`OCR_PDF_TIMEOUT`, 60 s).
    pub pdf_timeout: Duration,
    /// Longest Tesseract may take on one page before the page is abandoned and
    /// the document refused (`OCR_PAGE_TIMEOUT`, 60 s).
    pub page_timeout: Duration,
    /// An async document with more pages needing OCR than this is split into
    /// page-range jobs of this many pages, run by any number of ticks at once
    /// (`OCR_FANOUT_PAGES`, 8; 0 = never split).
    pub fanout_pages: u32,
    /// Longest a `GET /v1/ocr/jobs/{id}/events` stream stays open
    /// (`OCR_EVENTS_MAX_SECS`, 300); the client reconnects with `Last-Event-ID`.
    pub events_max: Duration,
}

pub(super) fn ocr_config(env: &mut Env) -> OcrConfig {
    let default_dpi = env.parse_or("OCR_DEFAULT_DPI", 300_u16);
    if !(72..=600).contains(&default_dpi) {
        env.invalid("OCR_DEFAULT_DPI", "must be between 72 and 600");
    }
    let config = OcrConfig {
        max_bytes: env.parse_or("OCR_MAX_BYTES", 20 * 1024 * 1024),
        max_pages: env.parse_or("OCR_MAX_PAGES", 200),
        max_pixels: env.parse_or("OCR_MAX_PIXELS", 50_000_000),
        sync_max_pages: env.parse_or("OCR_SYNC_MAX_PAGES", 5),
        default_dpi,
        default_lang: env
            .string("OCR_DEFAULT_LANG")
            .unwrap_or_else(|| "eng".to_owned()),
        workers: env.parse_or("OCR_WORKERS", 0),
        tessdata_dir: env
            .string("OCR_TESSDATA_DIR")
            .or_else(|| env.string("TESSDATA_PREFIX")),
        pdfium_lib_path: env.string("PDFIUM_LIB_PATH"),
        cache_ttl: env.seconds_or("OCR_CACHE_TTL_SECS", 86_400.0),
        keep_original_max_bytes: env.parse_or("OCR_KEEP_ORIGINAL_MAX_BYTES", 20 * 1024 * 1024),
        pdf_max_bytes: env.parse_or("OCR_PDF_MAX_BYTES", 32 * 1024 * 1024),
        pdf_workers: env
            .string("OCR_PDF_WORKERS")
            .is_some()
            .then(|| env.parse_or("OCR_PDF_WORKERS", 0)),
        pdf_timeout: env.seconds_or("OCR_PDF_TIMEOUT", 60.0),
        page_timeout: env.seconds_or("OCR_PAGE_TIMEOUT", 60.0),
        fanout_pages: env.parse_or("OCR_FANOUT_PAGES", 8),
        events_max: env.seconds_or("OCR_EVENTS_MAX_SECS", 300.0),
    };
    if config.events_max.is_zero() {
        env.invalid("OCR_EVENTS_MAX_SECS", "must be greater than 0");
    }
    for (name, zero) in [
        ("OCR_PDF_TIMEOUT", config.pdf_timeout.is_zero()),
        ("OCR_PAGE_TIMEOUT", config.page_timeout.is_zero()),
    ] {
        if zero {
            env.invalid(name, "must be greater than 0 seconds");
        }
    }
    for (name, zero) in [
        ("OCR_MAX_BYTES", config.max_bytes == 0),
        ("OCR_MAX_PAGES", config.max_pages == 0),
        ("OCR_MAX_PIXELS", config.max_pixels == 0),
        ("OCR_PDF_MAX_BYTES", config.pdf_max_bytes == 0),
    ] {
        if zero {
            env.invalid(name, "must be greater than 0");
        }
    }
    config
}
