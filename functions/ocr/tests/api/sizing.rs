//! The resolution a page is read at (issue 15): large print is reduced to the
//! x-height Tesseract needs, small print is read as it is, and specks of dust
//! are painted over without touching punctuation. Each page is also read
//! through the engine and held to a character error rate bound.

use folio_testing::samples::print::{self, Type};
use shared::config::{Config, Function};
use shared::ocr::cer::cer;
use shared::ocr::{Document, Limits, Ocr, Options, recognise, recognition_scale};

fn ocr_config() -> shared::config::OcrConfig {
    let vars =
        [("DATABASE_URL", "postgres://u@127.0.0.1/x")].map(|(k, v)| (k.to_owned(), v.to_owned()));
    Config::from_vars(Function::Health, vars)
        .expect("default config")
        .ocr
}

/// The top of a page of prose at `kind` (a whole page of small print takes
/// Tesseract seconds; twenty lines are enough to judge).
fn lines(kind: Type, seed: usize) -> Vec<String> {
    let mut lines = print::page_lines(kind, seed);
    lines.truncate(20);
    lines
}

/// One scanned page of prose at `kind` and `dpi` (with `specks` specks), its
/// known text, and folio's reading of it as a PNG.
async fn read(
    kind: Type,
    dpi: u16,
    specks: usize,
    seed: usize,
) -> (image::GrayImage, String, String) {
    let lines = lines(kind, seed);
    let page = print::scan(
        &print::render(&lines, kind, dpi).expect("render"),
        dpi,
        specks,
        seed as u64,
    );
    let config = ocr_config();
    let ocr = Ocr::global(&config);
    let options = Options {
        lang: ocr.lang("eng").expect("eng installed"),
        force_ocr: false,
        dpi: 300,
        rotate_pages: true,
        words: false,
    };
    let png = folio_testing::samples::png(&page).expect("png");
    let document = Document::from_bytes(png.into()).expect("sniffed");
    let result = recognise(ocr, &document, &options, Limits::from(&config), None)
        .await
        .expect("recognised");
    (page, lines.join("\n"), result.text())
}

#[tokio::test]
async fn small_print_is_read_at_its_full_resolution() {
    let (page, known, found) = read(Type::SMALL, 300, 0, 3).await;
    let (scale, _) = recognition_scale(&page);
    let x = scale.x_height.expect("an x-height");
    // 7.5 pt Times at 300 dpi: about 14 px.
    assert!((11.0..17.0).contains(&x), "x-height {x}");
    assert_eq!(scale.factor, 1.0, "small print must not be reduced");
    let rate = cer(&known, &found);
    assert!(rate <= 0.01, "small print CER {rate:.4}");
}

#[tokio::test]
async fn large_print_is_reduced_to_the_target_x_height_and_reads_as_well() {
    // Dense 10.5 pt at 400 dpi: an x-height of about 26 px.
    let (page, known, found) = read(Type::DENSE, 400, 0, 5).await;
    let (scale, _) = recognition_scale(&page);
    let x = scale.x_height.expect("an x-height");
    assert!((22.0..30.0).contains(&x), "x-height {x}");
    let reduced_to = x * scale.factor;
    assert!(
        (11.0..13.0).contains(&reduced_to),
        "reduced to {reduced_to} px (factor {})",
        scale.factor
    );
    let rate = cer(&known, &found);
    assert!(rate <= 0.01, "large print CER {rate:.4}");
}

#[tokio::test]
async fn specks_are_painted_over_and_punctuation_is_kept() {
    let lines = lines(Type::DENSE, 9);
    let clean = print::render(&lines, Type::DENSE, 300).expect("render");
    // A clean page: every full stop, comma and i-dot sits by a letter.
    let (_, removed) = recognition_scale(&print::scan(&clean, 300, 0, 9));
    assert!(removed <= 2, "{removed} specks found on a clean page");
    // 120 specks: the lightest and the one-pixel ones fade in the JPEG, some
    // land on or next to the text; the dark ones in the open are removed.
    let (_, removed) = recognition_scale(&print::scan(&clean, 300, 120, 9));
    assert!(
        (25..=120).contains(&removed),
        "{removed} of 120 specks removed"
    );
    let (_, known, found) = read(Type::DENSE, 300, 120, 9).await;
    let rate = cer(&known, &found);
    assert!(rate <= 0.005, "speckled page CER {rate:.4}");
}
