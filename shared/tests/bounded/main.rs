//! Bounded work per page: `OCR_PAGE_TIMEOUT` abandons a recognition that
//! runs too long (the page's document is refused as too slow, within the
//! limit rather than after Tesseract finishes) and the engine keeps its full
//! strength for the next documents. Each test is its own process under
//! nextest, so each gets its own engine (`Ocr::global`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use shared::config::{Config, Function};
use shared::ocr::{Document, Limits, Ocr, OcrError, Options};

fn engine(page_timeout: &str) -> (&'static Ocr, Limits) {
    let vars = [
        ("DATABASE_URL", "postgres://u@127.0.0.1/x"),
        ("OCR_PAGE_TIMEOUT", page_timeout),
        ("OCR_WORKERS", "1"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let config = Config::from_vars(Function::Health, vars)
        .expect("config")
        .ocr;
    (Ocr::global(&config), Limits::from(&config))
}

fn options(ocr: &Ocr) -> Options {
    Options {
        lang: ocr.lang("eng").expect("eng installed"),
        force_ocr: false,
        dpi: 300,
        rotate_pages: false,
        words: false,
    }
}

/// A tall page dense with text: many seconds of Tesseract.
fn heavy_page() -> Document {
    let text: Vec<String> = (0..30).map(folio_testing::samples::paragraph).collect();
    let text = text.join("\n");
    let height = folio_testing::samples::fitted_height(&text);
    let image = folio_testing::samples::render_text(&text, 200, height).expect("render");
    Document::from_bytes(Bytes::from(
        folio_testing::samples::png(&image).expect("png"),
    ))
    .expect("document")
}

fn light_page(words: &str) -> Document {
    let image = folio_testing::samples::render_text(words, 150, 60.0).expect("render");
    Document::from_bytes(Bytes::from(
        folio_testing::samples::png(&image).expect("png"),
    ))
    .expect("document")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_past_its_time_limit_is_refused_in_time_and_the_engine_goes_on() {
    let (ocr, limits) = engine("1s");
    let options = options(ocr);
    let heavy = heavy_page();

    let started = Instant::now();
    let outcome = shared::ocr::recognise(ocr, &heavy, &options, limits, None).await;
    let took = started.elapsed();
    match outcome {
        Err(OcrError::TooSlow(detail)) => {
            assert!(detail.contains("page 1"), "{detail}");
            let problem = shared::Error::from(OcrError::TooSlow(detail));
            assert_eq!(problem.status(), 422);
        }
        other => panic!("expected TooSlow, got {:?}", other.map(|r| r.page_count)),
    }
    // Decoding and the engine's start are outside the limit.
    assert!(took < Duration::from_secs(6), "refused after {took:?}");

    // The abandoned worker was replaced: a light page is read at once, while
    // the abandoned recognition may still be running.
    let started = Instant::now();
    let light = shared::ocr::recognise(ocr, &light_page("still reading"), &options, limits, None)
        .await
        .expect("a light page after the heavy one");
    assert!(
        light.text().to_lowercase().contains("still"),
        "{}",
        light.text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_within_the_limit_are_untouched() {
    let (ocr, limits) = engine("30s");
    let result = shared::ocr::recognise(
        ocr,
        &light_page("within the limit"),
        &options(ocr),
        limits,
        None,
    )
    .await
    .expect("recognised");
    assert!(
        result.text().to_lowercase().contains("limit"),
        "{}",
        result.text()
    );
}

#[test]
fn a_zero_or_unreadable_time_limit_is_a_configuration_error() {
    for (name, value) in [
        ("OCR_PAGE_TIMEOUT", "0"),
        ("OCR_PAGE_TIMEOUT", "soon"),
        ("OCR_PDF_TIMEOUT", "0s"),
        ("OCR_PDF_WORKERS", "many"),
    ] {
        let vars = [("DATABASE_URL", "postgres://u@127.0.0.1/x"), (name, value)]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let error = Config::from_vars(Function::Health, vars).expect_err(name);
        assert!(
            error.variables().contains(&name),
            "{name}={value}: {:?}",
            error.problems
        );
    }
}

/// Inputs the fuzzers found (`fuzz/regressions/<target>-*`), replayed on every
/// run: planning a PDF either refuses it or plans at least one page.
#[test]
fn pdf_planning_regressions_from_fuzzing_stay_fixed() {
    let limits = shared::fuzzing::default_limits().expect("default limits");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.starts_with("pdf_plan-") {
            continue;
        }
        let data = std::fs::read(&path).expect("read the input");
        // As in the target: the first byte picks forced OCR.
        let Some((&first, pdf)) = data.split_first() else {
            continue;
        };
        let outcome = shared::fuzzing::pdf_plan(pdf, limits, first & 1 == 1)
            .expect("PDFium is available (PDFIUM_LIB_PATH)");
        if let Ok(pages) = outcome {
            assert!(pages >= 1, "{name}: planned {pages} pages and no error");
        }
        replayed += 1;
    }
    assert!(replayed > 0, "no pdf_plan regressions in {}", dir.display());
}
