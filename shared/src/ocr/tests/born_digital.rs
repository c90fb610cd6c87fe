//! Born-digital pages with little or no text: a blank page, a title page, a
//! page number are read from their text layer, not rendered and recognised.

use std::sync::atomic::AtomicBool;

use super::super::pdf::{self, PagePlan};
use super::super::samples::{self, PageKind};
use super::*;

fn plan(bytes: &[u8]) -> Vec<PagePlan> {
    let pdfium = pdf::library(None).expect("pdfium");
    let document = pdf::open(pdfium, bytes).expect("open");
    let options = options("eng");
    pdf::plan(
        &document,
        options.force_ocr,
        options.dpi,
        limits(),
        &AtomicBool::new(false),
    )
    .expect("plan")
}

#[test]
fn blank_title_and_page_number_pages_are_text_layer_pages() {
    let bytes = samples::pdf(&[
        (String::new(), PageKind::Text),
        ("Chapter One".into(), PageKind::Text),
        ("12".into(), PageKind::Text),
        (samples::page_text(0), PageKind::Text),
    ])
    .expect("pdf");
    let plans = plan(&bytes);
    let texts: Vec<&str> = plans
        .iter()
        .map(|p| match p {
            PagePlan::Text(text) => text.as_str(),
            PagePlan::Render { .. } => "<rendered>",
        })
        .collect();
    assert_eq!(&texts[..3], ["", "Chapter One", "12"]);
    assert!(texts[3].len() > 1000);
    let empty = samples::empty_pdf(2, 612.0, 792.0).expect("pdf");
    assert!(
        plan(&empty)
            .iter()
            .all(|p| matches!(p, PagePlan::Text(t) if t.is_empty()))
    );
}

#[test]
fn a_blank_scan_and_a_short_stamp_over_a_scan_still_go_to_ocr() {
    let blank_scan = samples::blank_pdf(1, 612.0, 792.0).expect("pdf");
    assert!(matches!(plan(&blank_scan)[..], [PagePlan::Render { .. }]));
    let scan =
        samples::pdf(&[(samples::paragraph(2), PageKind::Scanned { dpi: 100 })]).expect("pdf");
    let stamped = samples::stamp(&scan, "Page 3").expect("stamp");
    assert!(matches!(plan(&stamped)[..], [PagePlan::Render { .. }]));
}
