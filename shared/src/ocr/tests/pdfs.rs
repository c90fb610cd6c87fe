//! PDFs: the page count and every render size are checked before any page is
//! rendered; the text layer is taken where it holds real text.

use std::sync::atomic::AtomicBool;

use super::super::pdf::{self, PagePlan};
use super::super::samples::{self, PageKind};
use super::*;

fn plan(bytes: &[u8], options: &Options, limits: Limits) -> Result<Vec<PagePlan>, OcrError> {
    let pdfium = pdf::library(None).map_err(|_| OcrError::PdfUnavailable)?;
    let document = pdf::open(pdfium, bytes)?;
    pdf::plan(
        &document,
        options.force_ocr,
        options.dpi,
        limits,
        &AtomicBool::new(false),
    )
}

#[test]
fn a_thousand_page_pdf_is_refused_from_its_page_count() {
    let bytes = samples::blank_pdf(1000, 612.0, 792.0).expect("pdf");
    match plan(&bytes, &options("eng"), limits()) {
        Err(OcrError::TooManyPages { found, max }) => {
            assert_eq!((found, max), (Some(1000), 200));
        }
        other => panic!("expected TooManyPages, got {:?}", other.map(|p| p.len())),
    }
}

#[test]
fn an_enormous_page_is_refused_from_its_size_before_rendering() {
    let bytes = samples::blank_pdf(1, 14_400.0, 14_400.0).expect("pdf");
    match plan(&bytes, &options("eng"), limits()) {
        Err(OcrError::TooManyPixels {
            page: 1,
            width,
            rendered: true,
            ..
        }) => assert_eq!(width, 60_000),
        other => panic!("expected TooManyPixels, got {:?}", other.map(|p| p.len())),
    }
    // The same page at a lower resolution fits.
    let mut low = options("eng");
    low.dpi = 24;
    assert!(plan(&bytes, &low, limits()).is_ok());
}

#[test]
fn the_text_layer_is_taken_unless_ocr_is_forced_and_scans_are_rendered() {
    let text = samples::page_text(0);
    let bytes = samples::pdf(&[
        (text.clone(), PageKind::Text),
        (samples::paragraph(3), PageKind::Scanned { dpi: 100 }),
    ])
    .expect("pdf");
    let plans = plan(&bytes, &options("eng"), limits()).expect("plan");
    match &plans[..] {
        [PagePlan::Text(found), PagePlan::Render { width, height }] => {
            assert!(cer::cer(&text, found) < 0.001, "{found}");
            assert_eq!((*width, *height), (2550, 3300));
        }
        _ => panic!("unexpected plan"),
    }
    let mut forced = options("eng");
    forced.force_ocr = true;
    let plans = plan(&bytes, &forced, limits()).expect("plan");
    assert!(plans.iter().all(|p| matches!(p, PagePlan::Render { .. })));
}

#[test]
fn truncated_garbage_and_encrypted_pdfs_are_refused() {
    let good = samples::pdf(&[(samples::paragraph(4), PageKind::Text)]).expect("pdf");
    let truncated = &good[..good.len() / 2];
    assert!(matches!(
        plan(truncated, &options("eng"), limits()),
        Err(OcrError::BrokenPdf(_))
    ));
    let mut garbage = b"%PDF-1.7\n".to_vec();
    garbage.extend((0..5000_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    garbage.extend_from_slice(b"\n%%EOF\n");
    assert!(matches!(
        plan(&garbage, &options("eng"), limits()),
        Err(OcrError::BrokenPdf(_))
    ));
    let encrypted = samples::encrypt_pdf(&good, "secret").expect("qpdf encrypts");
    assert!(matches!(
        plan(&encrypted, &options("eng"), limits()),
        Err(OcrError::Encrypted)
    ));
}

#[test]
fn a_scan_with_a_short_text_stamp_is_still_recognised() {
    // A scanned page whose only text object is a short header.
    let scan =
        samples::pdf(&[(samples::paragraph(5), PageKind::Scanned { dpi: 100 })]).expect("pdf");
    let stamped = samples::stamp(&scan, "CONFIDENTIAL copy 12").expect("stamp");
    let plans = plan(&stamped, &options("eng"), limits()).expect("plan");
    assert!(matches!(plans[..], [PagePlan::Render { .. }]));
}
