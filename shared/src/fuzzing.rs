//! Narrow entry points for the fuzz targets in `fuzz/` (not an API: hidden
//! from the docs, and nothing in the functions calls them). Each runs one
//! parser exactly as a request would reach it and returns its verdict; the
//! fuzzer looks for panics, hangs and runaway allocations, never for a
//! particular answer.

use std::sync::atomic::AtomicBool;

use crate::kv::{Cmd, KvError, Reply};
use crate::ocr::{Kind, Limits, OcrError};

/// The limits a default deployment applies (`OCR_MAX_PAGES`, `OCR_MAX_PIXELS`).
pub fn default_limits() -> anyhow::Result<Limits> {
    let config = crate::config::Config::from_vars(
        crate::config::Function::Ocr,
        [
            ("DATABASE_URL", "postgres://127.0.0.1/unused"),
            // The ocr function needs a token key to start; any will do here.
            ("JWT_SECRET_KEY", "fuzz-secret-fuzz-secret-fuzz-secret-0123"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )?;
    Ok(Limits::from(&config.ocr))
}

/// Type sniffing of an uploaded body.
pub fn sniff(bytes: &[u8]) -> Result<Kind, OcrError> {
    crate::ocr::sniff::sniff(bytes)
}

/// Sniffing, then the header checks of an image (size against the pixel cap,
/// every TIFF directory) that run before anything is decoded.
pub fn image_header(bytes: &[u8], limits: Limits) -> Result<u32, OcrError> {
    match sniff(bytes)? {
        Kind::Pdf => Ok(0),
        kind => crate::ocr::raster::inspect(kind, bytes, limits),
    }
}

/// Opening a PDF and planning every page (text layer or render, with the page
/// and pixel checks), as `inspect` does before any page is rendered. `None`
/// when PDFium cannot be bound (`PDFIUM_LIB_PATH`).
pub fn pdf_plan(bytes: &[u8], limits: Limits, force_ocr: bool) -> Option<Result<usize, OcrError>> {
    let pdfium = crate::ocr::pdf::library(std::env::var("PDFIUM_LIB_PATH").ok().as_deref()).ok()?;
    let cancel = AtomicBool::new(false);
    Some(
        crate::ocr::pdf::open(pdfium, bytes)
            .and_then(|document| crate::ocr::pdf::plan(&document, force_ocr, 300, limits, &cancel))
            .map(|plans| plans.len()),
    )
}

/// Decoding a REST answer body as the Upstash transport does: one
/// `{"result"|"error": …}` object, or an array of them (a pipeline).
pub fn upstash_answer(body: &[u8], base64: bool) -> Vec<Result<Reply, KvError>> {
    use crate::kv::rest::wire;
    match serde_json::from_slice::<serde_json::Value>(body) {
        Err(_) => Vec::new(),
        Ok(serde_json::Value::Array(items)) => {
            items.into_iter().map(|v| wire::entry(v, base64)).collect()
        }
        Ok(value) => vec![wire::entry(value, base64)],
    }
}

/// Encoding a command for the REST protocol (binary arguments go through
/// the base64-decoding script wrapper).
pub fn upstash_encode(cmd: &Cmd) -> Result<Vec<String>, KvError> {
    crate::kv::rest::wire::encode(cmd)
}
