//! `GET /v1/ocr/documents/{id}/pdf`: the searchable PDF, read back by PDFium
//! and by Poppler's `pdftotext` (a reader folio does not use), whose text must
//! be the recognised text.

use std::io::Write;
use std::process::{Command, Stdio};

use folio_testing::samples::{self, PageKind};

use super::*;

/// The text `pdftotext` finds in `pdf`, page by page; `None` (after saying so
/// loudly) when Poppler is not installed and tools are not required.
fn pdftotext(pdf: &[u8]) -> Option<Vec<String>> {
    let child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        let required = std::env::var_os("FOLIO_REQUIRE_TOOLS").is_some_and(|v| v == "1")
            || std::env::var_os("CI").is_some();
        assert!(
            !required,
            "pdftotext (Debian poppler-utils) is required here"
        );
        eprintln!("\n!!! SKIPPED the pdftotext check: poppler-utils is not installed\n");
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pdf)
        .expect("write pdf");
    let out = child.wait_with_output().expect("pdftotext");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Some(pages)
}

/// Uploads `bytes`, fetches the document's searchable PDF and checks it.
async fn searchable_of(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    ct: &str,
) -> (TestResponse, Vec<u8>) {
    let r = post_raw(app, "", Some(token), bytes, ct).await;
    assert_eq!(r.status, 200, "body: {}", r.json);
    assert!(
        r.json["pages"][0].get("words").is_none(),
        "words only when asked"
    );
    let id = r.json["document_id"].as_str().expect("id").to_owned();
    let started = std::time::Instant::now();
    let pdf = app
        .get(&format!("/v1/ocr/documents/{id}/pdf"), Some(token))
        .await;
    eprintln!(
        "searchable PDF of {} page(s): {} bytes in {:?}",
        r.json["page_count"],
        pdf.bytes.len(),
        started.elapsed()
    );
    assert_eq!(
        pdf.status,
        200,
        "body: {}",
        String::from_utf8_lossy(&pdf.bytes)
    );
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    let disposition = pdf.headers["content-disposition"].to_str().expect("ascii");
    assert!(
        disposition.contains(&format!("folio-{id}.pdf")),
        "{disposition}"
    );
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    (r, pdf.bytes)
}

/// The share of `known`'s words a search of `found` finds (whitespace
/// ignored, as viewers' searches match across the gaps between words).
fn words_found(known: &str, found: &str) -> f64 {
    let haystack: String = found.chars().filter(|c| !c.is_whitespace()).collect();
    let words: Vec<&str> = known.split_whitespace().collect();
    let hits = words.iter().filter(|w| haystack.contains(**w)).count();
    hits as f64 / words.len().max(1) as f64
}

/// PDFium's reading of every page of `pdf`.
fn pdfium_texts(app: &TestApp, pdf: &[u8]) -> Vec<String> {
    let ocr = shared::ocr::Ocr::global(&app.state.config.ocr);
    let pdfium = shared::ocr::pdfium(ocr).expect("pdfium");
    shared::ocr::searchable::pdfium_text(pdfium, pdf).expect("pdfium reads it")
}

#[tokio::test]
async fn a_scanned_pdf_becomes_searchable_and_keeps_its_text_layer_pages() {
    let app = app(&[]).await;
    let token = app.token("scanner");
    let texts = [samples::page_text(31), samples::page_text(32)];
    let original = samples::pdf(&[
        (texts[0].clone(), PageKind::Scanned { dpi: 300 }),
        (texts[1].clone(), PageKind::Text),
    ])
    .expect("pdf");
    let (answer, pdf) = searchable_of(&app, &token, original, "application/pdf").await;
    assert_eq!(answer.json["pages"][0]["source"], "ocr");
    assert_eq!(answer.json["pages"][1]["source"], "text_layer");
    let recognised = page_texts(&answer);

    let by_pdfium = pdfium_texts(&app, &pdf);
    assert_eq!(by_pdfium.len(), 2);
    assert_cer_below(&recognised[0], &by_pdfium[0], 0.02);
    assert_cer_below(&texts[1], &by_pdfium[1], 0.001);
    if let Some(by_poppler) = pdftotext(&pdf) {
        assert_eq!(by_poppler.len(), 2, "{by_poppler:?}");
        assert_cer_below(&recognised[0], &by_poppler[0], 0.02);
        assert_cer_below(&texts[0], &by_poppler[0], 0.03);
        assert_cer_below(&texts[1], &by_poppler[1], 0.001);
    }
}

#[tokio::test]
async fn an_image_upload_becomes_a_searchable_pdf_page() {
    let app = app(&[]).await;
    let token = app.token("photographer");
    let text = samples::paragraph(5);
    let png = samples::png(&scan_of(&text)).expect("png");
    let (answer, pdf) = searchable_of(&app, &token, png, "image/png").await;
    let recognised = page_texts(&answer);
    let by_pdfium = pdfium_texts(&app, &pdf);
    assert_eq!(by_pdfium.len(), 1);
    assert_cer_below(&recognised[0], &by_pdfium[0], 0.02);
    if let Some(by_poppler) = pdftotext(&pdf) {
        assert_eq!(by_poppler.len(), 1);
        assert_cer_below(&text, &by_poppler[0], 0.03);
    }
}

#[tokio::test]
async fn the_searchable_pdf_is_the_owners_only_and_says_when_the_original_is_gone() {
    let app = app(&[]).await;
    let owner = app.token("owner");
    let text = samples::page_text(33);
    let original = samples::pdf(&[(text, PageKind::Text)]).expect("pdf");
    let r = post_raw(&app, "", Some(&owner), original, "application/pdf").await;
    let id = r.json["document_id"].as_str().expect("id").to_owned();
    let uri = format!("/v1/ocr/documents/{id}/pdf");
    app.get(&uri, Some(&app.token("stranger")))
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/ocr/documents/nope/pdf", Some(&owner))
        .await
        .assert_problem(404, "not-found");
    assert_eq!(app.get(&uri, None).await.status, 401);

    shared::db::query("DELETE FROM document_originals")
        .execute(&app.sql)
        .await
        .expect("forget originals");
    app.get(&uri, Some(&owner))
        .await
        .assert_problem(422, "original-unavailable");
}

#[tokio::test]
async fn a_searchable_pdf_over_the_limit_is_refused_with_422() {
    let app = app(&[("OCR_PDF_MAX_BYTES", "1000")]).await;
    let owner = app.token("owner");
    let original = samples::pdf(&[(samples::page_text(34), PageKind::Text)]).expect("pdf");
    let r = post_raw(&app, "", Some(&owner), original, "application/pdf").await;
    let id = r.json["document_id"].as_str().expect("id").to_owned();
    app.get(&format!("/v1/ocr/documents/{id}/pdf"), Some(&owner))
        .await
        .assert_problem(422, "pdf-too-large");
}

/// Turns `flag` off in Postgres and makes the app look again at once.
async fn turn_off(app: &TestApp, flag: shared::flags::Flag) {
    let off = shared::flags::Setting {
        enabled: false,
        rollout_percent: 100,
    };
    shared::flags::store::put(&app.sql, flag, &off, "test")
        .await
        .expect("store flag");
    app.state.flags.expire();
}

#[tokio::test]
async fn the_searchable_pdf_and_async_ocr_follow_their_feature_flags() {
    let app = app(&[]).await;
    let token = app.token("flagged");
    let original = samples::pdf(&[(samples::page_text(35), PageKind::Text)]).expect("pdf");
    let r = post_raw(&app, "", Some(&token), original.clone(), "application/pdf").await;
    let id = r.json["document_id"].as_str().expect("id").to_owned();
    let uri = format!("/v1/ocr/documents/{id}/pdf");
    assert_eq!(app.get(&uri, Some(&token)).await.status, 200);
    // Other bytes: the same ones would be answered from the cache.
    let other = samples::pdf(&[(samples::page_text(36), PageKind::Text)]).expect("pdf");
    let queued = post_raw(&app, "mode=async", Some(&token), other, "application/pdf").await;
    assert_eq!(queued.status, 202, "{}", queued.json);

    turn_off(&app, shared::flags::Flag::SearchablePdf).await;
    app.get(&uri, Some(&token))
        .await
        .assert_problem(422, "feature-disabled");
    turn_off(&app, shared::flags::Flag::AsyncOcr).await;
    post_raw(
        &app,
        "mode=async",
        Some(&token),
        original.clone(),
        "application/pdf",
    )
    .await
    .assert_problem(422, "feature-disabled");
    // `auto` still answers what it can answer synchronously.
    let sync = post_raw(&app, "mode=auto", Some(&token), original, "application/pdf").await;
    assert_eq!(sync.status, 200, "{}", sync.json);
}

#[tokio::test]
async fn turned_pages_and_photos_give_a_text_layer_that_reads_in_order() {
    use folio_testing::samples::captures::{self, Capture};
    let app = app(&[]).await;
    let token = app.token("turner");
    for (kind, content_type) in [
        (Capture::UpsideDownScan, "application/pdf"),
        (Capture::SidewaysScan, "application/pdf"),
        (Capture::SidewaysRotated, "application/pdf"),
        (Capture::ExifSideways, "image/jpeg"),
    ] {
        let text = captures::text_for(kind, 3);
        let sample = captures::capture(kind, &text, 7).expect("capture");
        let (answer, pdf) = searchable_of(&app, &token, sample.bytes, content_type).await;
        let recognised = page_texts(&answer);
        let by_pdfium = pdfium_texts(&app, &pdf);
        let name = kind.name();
        if let Ok(dir) = std::env::var("FOLIO_DEBUG_PDF_DIR") {
            std::fs::write(format!("{dir}/{}.pdf", kind.slug()), &pdf).expect("debug pdf");
            eprintln!("{name}: {}", answer.json["pages"][0]["rotation"]);
        }
        // PDFium's text extraction keeps no reading order for words whose
        // baseline runs up or down the page's user space (a turned page), so
        // check it finds every word (what a viewer's search needs); Poppler
        // reads it in order.
        let found = words_found(&recognised[0], &by_pdfium[0]);
        assert!(
            found > 0.97,
            "{name}: PDFium finds {found} of the words\n{}",
            by_pdfium[0]
        );
        if let Some(by_poppler) = pdftotext(&pdf) {
            let rate = shared::ocr::cer::cer(&text, &by_poppler[0]);
            assert!(
                rate < 0.04,
                "{name}: pdftotext CER {rate}\n{}",
                by_poppler[0]
            );
        }
    }
}
