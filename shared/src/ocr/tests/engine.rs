//! The whole engine on real documents: Tesseract through the worker pool,
//! character error rate against the known text, progress, cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::super::samples::{self, PageKind};
use super::*;

fn document(bytes: Vec<u8>) -> Document {
    Document::from_bytes(bytes.into()).expect("sniffed")
}

fn counter() -> (Arc<AtomicU32>, ProgressFn) {
    let done = Arc::new(AtomicU32::new(0));
    let seen = done.clone();
    let progress: ProgressFn = Arc::new(move |p: Progress| {
        seen.store(p.pages_done, Ordering::SeqCst);
    });
    (done, progress)
}

#[tokio::test]
async fn a_scanned_page_is_recognised_close_to_its_known_text() {
    let text = samples::page_text(1);
    let bytes = samples::pdf(&[(text.clone(), PageKind::Scanned { dpi: 300 })]).expect("pdf");
    let (done, progress) = counter();
    let result = recognise(
        ocr(),
        &document(bytes),
        &options("eng"),
        limits(),
        Some(progress),
    )
    .await
    .expect("recognised");
    let page = &result.pages[0];
    assert_eq!(page.source, Source::Ocr);
    assert_eq!((page.width_px, page.height_px), (Some(2550), Some(3300)));
    let rate = cer::cer(&text, &page.text);
    assert!(rate < 0.02, "CER {rate:.4}: {}", page.text);
    assert!(
        page.confidence.is_some_and(|c| c > 0.8),
        "{:?}",
        page.confidence
    );
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_mixed_pdf_keeps_its_page_order_and_says_where_each_text_came_from() {
    let texts = [
        samples::page_text(2),
        samples::paragraph(6),
        samples::page_text(3),
    ];
    let bytes = samples::pdf(&[
        (texts[0].clone(), PageKind::Text),
        (texts[1].clone(), PageKind::Scanned { dpi: 300 }),
        (texts[2].clone(), PageKind::Text),
    ])
    .expect("pdf");
    let (done, progress) = counter();
    let result = recognise(
        ocr(),
        &document(bytes),
        &options("eng"),
        limits(),
        Some(progress),
    )
    .await
    .expect("recognised");
    let sources: Vec<Source> = result.pages.iter().map(|p| p.source).collect();
    assert_eq!(sources, [Source::TextLayer, Source::Ocr, Source::TextLayer]);
    assert_eq!(result.pages[0].confidence, None);
    for (page, text) in result.pages.iter().zip(&texts) {
        assert!(cer::cer(text, &page.text) < 0.02, "page {}", page.page);
    }
    assert_eq!(result.text().matches('\u{c}').count(), 2);
    assert_eq!(done.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_image_is_recognised_at_the_resolution_tesseract_estimates() {
    let text = samples::paragraph(7);
    let page = samples::render_text(&text, 300, samples::fitted_height(&text)).expect("render");
    let bytes = samples::png(&page).expect("png");
    let result = recognise(ocr(), &document(bytes), &options("eng"), limits(), None)
        .await
        .expect("recognised");
    let rate = cer::cer(&text, &result.pages[0].text);
    assert!(rate < 0.02, "CER {rate:.4}: {}", result.pages[0].text);
}

#[tokio::test]
async fn dropping_the_request_stops_the_remaining_pages() {
    let pages: Vec<(String, PageKind)> = (0..4)
        .map(|i| (samples::page_text(10 + i), PageKind::Scanned { dpi: 200 }))
        .collect();
    let bytes = samples::pdf(&pages).expect("pdf");
    let (done, progress) = counter();
    let (document, options) = (document(bytes), options("eng"));
    let work = recognise(ocr(), &document, &options, limits(), Some(progress));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), work)
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        done.load(Ordering::SeqCst) < 4,
        "every page was still recognised"
    );
    // The pool is still there for the next document.
    let text = samples::paragraph(8);
    let image = samples::render_text(&text, 300, samples::fitted_height(&text)).expect("render");
    let next = Document::from_bytes(samples::png(&image).expect("png").into()).expect("png");
    let next = recognise(ocr(), &next, &options, limits(), None)
        .await
        .expect("recognised after a cancellation");
    assert!(cer::cer(&text, &next.pages[0].text) < 0.02);
}
