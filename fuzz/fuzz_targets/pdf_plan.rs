//! The PDF planning path: open with PDFium (truncation and encryption checks
//! first), then plan every page against the page and pixel caps. PDFium itself
//! is not instrumented; what is fuzzed is folio's side of it. Needs
//! `PDFIUM_LIB_PATH` (or libpdfium on the library path).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::ocr::Limits;

fn limits() -> Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    *LIMITS.get_or_init(|| shared::fuzzing::default_limits().expect("default limits"))
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks text-layer planning or forced OCR.
    let Some((&first, pdf)) = data.split_first() else {
        return;
    };
    let outcome = shared::fuzzing::pdf_plan(pdf, limits(), first & 1 == 1)
        .expect("PDFium is not available: set PDFIUM_LIB_PATH");
    if let Ok(pages) = outcome {
        assert!(
            pages >= 1 && pages <= limits().max_pages as usize,
            "{pages} pages"
        );
    }
});
