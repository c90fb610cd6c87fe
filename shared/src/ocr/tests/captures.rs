//! Real-world captures through the whole engine: each kind reads within a
//! character error rate bound, turned upright first and its light evened out.

use super::super::samples::captures::{self, Capture};
use super::*;

/// Recognises one capture of `kind` with default options (its language).
async fn read(kind: Capture, rotate_pages: bool) -> (String, Page) {
    let text = captures::text_for(kind, 0);
    let sample = captures::capture(kind, &text, 7).expect("capture");
    let document = Document::from_bytes(sample.bytes.into()).expect("sniffed");
    let mut options = options(kind.lang());
    options.rotate_pages = rotate_pages;
    let mut result = recognise(ocr(), &document, &options, limits(), None)
        .await
        .expect("recognised");
    (text, result.pages.remove(0))
}

fn assert_reads(kind: Capture, text: &str, page: &Page, bound: f64) {
    let rate = cer::cer(text, &page.text);
    assert!(
        rate <= bound,
        "{}: CER {:.4} above {bound}: {}",
        kind.name(),
        rate,
        page.text
    );
    assert!(!page.low_quality(), "{}: {:?}", kind.name(), page.quality);
}

#[tokio::test]
async fn phone_photos_stored_sideways_or_upside_down_read_through_their_exif_orientation() {
    for kind in [Capture::ExifSideways, Capture::ExifUpsideDown] {
        let (text, page) = read(kind, true).await;
        assert_reads(kind, &text, &page, 0.03);
        // The tag put them upright; nothing was left to turn.
        assert_eq!(page.rotation, Some(0), "{}", kind.name());
        // Letter width at 200 dpi: the page as shown, not as stored.
        assert_eq!(page.width_px, Some(1700), "{}", kind.name());
    }
}

#[tokio::test]
async fn scans_fed_upside_down_or_sideways_are_turned_upright_before_reading() {
    for (kind, turned) in [
        (Capture::UpsideDownScan, 180),
        (Capture::SidewaysScan, 270),
        (Capture::SidewaysRotated, 0),
    ] {
        let (text, page) = read(kind, true).await;
        assert_reads(kind, &text, &page, 0.03);
        assert_eq!(page.rotation, Some(turned), "{}", kind.name());
    }
}

#[tokio::test]
async fn with_rotate_pages_off_an_upside_down_scan_stays_as_it_is_and_is_flagged() {
    let (text, page) = read(Capture::UpsideDownScan, false).await;
    assert_eq!(page.rotation, Some(0));
    assert!(cer::cer(&text, &page.text) > 0.3, "{}", page.text);
    assert!(page.low_quality(), "{:?}", page.quality);
}

#[tokio::test]
async fn skewed_scans_are_levelled_and_their_skew_reported() {
    for degrees in [2.0_f32, 6.0] {
        let kind = Capture::Skewed(degrees);
        let (text, page) = read(kind, true).await;
        assert_reads(kind, &text, &page, 0.03);
        let skew = page.skew_degrees.expect("skew reported");
        assert!((skew - degrees).abs() <= 0.5, "{degrees}° read as {skew}°");
    }
}

#[tokio::test]
async fn a_shadowed_low_contrast_photo_and_a_bilevel_fax_read_within_three_percent() {
    for kind in [Capture::Shadowed, Capture::Fax] {
        let (text, page) = read(kind, true).await;
        assert_reads(kind, &text, &page, 0.03);
    }
}

#[tokio::test]
async fn indonesian_reads_with_ind_and_with_eng_plus_ind() {
    if !ocr().languages().iter().any(|l| l == "ind") {
        eprintln!(
            "\n!!! SKIPPED: Tesseract's Indonesian model (ind) is not installed; \
             scripts/install-deps.sh installs tesseract-ocr-ind !!!\n"
        );
        return;
    }
    let (text, page) = read(Capture::Indonesian, true).await;
    assert_reads(Capture::Indonesian, &text, &page, 0.03);
    let sample = captures::capture(Capture::Indonesian, &text, 7).expect("capture");
    let document = Document::from_bytes(sample.bytes.into()).expect("sniffed");
    let result = recognise(ocr(), &document, &options("eng+ind"), limits(), None)
        .await
        .expect("recognised");
    assert_eq!(result.lang, "eng+ind");
    let rate = cer::cer(&text, &result.pages[0].text);
    assert!(rate <= 0.03, "eng+ind CER {rate:.4}");
}

#[test]
fn noise_from_a_page_read_the_wrong_way_is_not_word_like() {
    let noise = "IO UOTIIIIP IY} VsNVd SUTYLU IO} polozoid YAOM 9Y} JO WHIOJ _____} SUBST ,WIO.]";
    let quality = Quality::of(noise, 0.9);
    assert!(quality.low_quality, "{quality:?}");
    let prose = samples::paragraph(3);
    let quality = Quality::of(&prose, 0.9);
    assert!(!quality.low_quality, "{quality:?}");
    assert!(quality.word_share.is_some_and(|s| s > 0.9), "{quality:?}");
    assert!(Quality::of(&prose, 0.4).low_quality);
}

#[tokio::test]
async fn a_page_turned_by_mistake_is_read_again_as_it_stood() {
    // No capitals, ascenders or i-dots, many descenders: upright, it looks
    // upside down to the ink test; the reading decides.
    let text = "gray syrup on young grapes, soggy mangoes and sponge cream. \
                a savory grocery query, pepper jars and a canary on a pony. \
                many easy games on a grove, cargo prayers, murky spruce.\n\
                your young pup grows over summer as grapes may. \
                pour syrup over mangoes, space copy, gossamer yarn and pepper.";
    let page = samples::render_text(text, 300, samples::fitted_height(text)).expect("render");
    let gray = super::super::engine::GrayImage {
        width: page.width(),
        height: page.height(),
        stride: page.width() as usize,
        pixels: page.as_raw().clone(),
    };
    // The ink test alone would turn it over…
    assert_eq!(super::super::orient::analyse(&gray, true).quarter_turns, 2);
    let document = Document::from_bytes(samples::png(&page).expect("png").into()).expect("png");
    let result = recognise(ocr(), &document, &options("eng"), limits(), None)
        .await
        .expect("recognised");
    let page = &result.pages[0];
    let rate = cer::cer(text, &page.text);
    assert!(rate <= 0.03, "CER {rate:.4}: {}", page.text);
    // …but the page is read as it stood.
    assert_eq!(page.rotation, Some(0));
}

#[tokio::test]
async fn a_tiff_page_is_put_upright_by_its_orientation_tag() {
    let text = samples::paragraph(5);
    let page = samples::render_text(&text, 200, samples::fitted_height(&text)).expect("render");
    let stored = image::imageops::rotate180(&page);
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut encoder = tiff::encoder::TiffEncoder::new(&mut out).expect("encoder");
        let mut image = encoder
            .new_image::<tiff::encoder::colortype::Gray8>(stored.width(), stored.height())
            .expect("image");
        image
            .encoder()
            .write_tag(tiff::tags::Tag::Orientation, 3_u16)
            .expect("orientation");
        image.write_data(stored.as_raw()).expect("pixels");
    }
    let document = Document::from_bytes(out.into_inner().into()).expect("tiff");
    let result = recognise(ocr(), &document, &options("eng"), limits(), None)
        .await
        .expect("recognised");
    let page = &result.pages[0];
    let rate = cer::cer(&text, &page.text);
    assert!(rate <= 0.03, "CER {rate:.4}: {}", page.text);
    // The tag put it upright; nothing was guessed.
    assert_eq!(page.rotation, Some(0));
}
