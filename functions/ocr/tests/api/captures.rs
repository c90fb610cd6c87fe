//! What people actually send, through `POST /v1/ocr` with default parameters:
//! phone photos behind an EXIF orientation, pages fed upside down, and
//! born-digital PDFs whose blank and title pages have nothing for OCR.

use folio_testing::samples::captures::{self, Capture};
use folio_testing::samples::{self, PageKind};
use serde_json::Value;

use super::*;

#[tokio::test]
async fn a_born_digital_pdf_with_fourteen_near_empty_pages_is_read_in_sync_mode() {
    let app = app(&[]).await;
    // Six pages of prose; the other fourteen a title, a blank page or a page number.
    let pages: Vec<(String, PageKind)> = (0..20)
        .map(|i| {
            let text = match i {
                3 | 6 | 9 | 13 | 16 | 19 => samples::paragraph(i),
                _ if i % 3 == 0 => format!("Chapter {i}"),
                _ if i % 3 == 1 => String::new(),
                _ => format!("{}", i + 1),
            };
            (text, PageKind::Text)
        })
        .collect();
    let near_empty = pages.iter().filter(|(t, _)| t.len() < 20).count();
    assert_eq!(near_empty, 14);
    let pdf = samples::pdf(&pages).expect("pdf");
    let r = post_raw(
        &app,
        "mode=sync",
        Some(&app.token("u")),
        pdf,
        "application/pdf",
    )
    .await;
    let texts = page_texts(&r);
    assert_eq!(texts.len(), 20);
    let sources: Vec<&str> = r.json["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["source"].as_str().unwrap_or_default())
        .collect();
    assert!(sources.iter().all(|s| *s == "text_layer"), "{sources:?}");
    assert_eq!(texts[0], "Chapter 0");
    assert_eq!(texts[1], "");
    assert_eq!(texts[2], "3");
}

#[tokio::test]
async fn a_sideways_phone_photo_and_an_upside_down_scan_read_upright_with_their_rotation() {
    let app = app(&[]).await;
    let token = app.token("u");
    for (kind, rotation, content_type) in [
        (Capture::ExifSideways, 0, "image/jpeg"),
        (Capture::UpsideDownScan, 180, "application/pdf"),
    ] {
        let text = captures::text_for(kind, 1);
        let sample = captures::capture(kind, &text, 3).expect("capture");
        let r = post_raw(&app, "", Some(&token), sample.bytes, content_type).await;
        let texts = page_texts(&r);
        assert_cer_below(&text, &texts[0], 0.03);
        let page = &r.json["pages"][0];
        assert_eq!(page["rotation"], rotation, "{}: {page}", kind.name());
        assert_eq!(page["quality"]["low_quality"], false, "{page}");
        assert!(page["skew_degrees"].is_number(), "{page}");
    }
}

#[tokio::test]
async fn with_rotate_pages_false_an_upside_down_scan_is_flagged_as_reading_poorly() {
    let app = app(&[]).await;
    let token = app.token("u");
    let text = captures::text_for(Capture::UpsideDownScan, 2);
    let sample = captures::capture(Capture::UpsideDownScan, &text, 5).expect("capture");
    let r = post_raw(
        &app,
        "rotate_pages=false",
        Some(&token),
        sample.bytes,
        "application/pdf",
    )
    .await;
    page_texts(&r);
    let page = &r.json["pages"][0];
    assert_eq!(page["rotation"], 0);
    assert_eq!(page["quality"]["low_quality"], true, "{page}");
    let bad = post_raw(
        &app,
        "rotate_pages=maybe",
        Some(&token),
        vec![1],
        "image/png",
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.json);
    assert!(
        bad.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("rotate_pages")),
        "{}",
        bad.json
    );
    let _: &Value = &bad.json;
}

#[tokio::test]
async fn include_words_gives_each_word_with_its_confidence_and_box_in_reading_order() {
    let app = app(&[]).await;
    let token = app.token("u");
    let text =
        "Every morning the baker opened the shutters at six.\nThe train left the station late.";
    let png = samples::png(&scan_of(text)).expect("png");
    let r = post_raw(
        &app,
        "include=words",
        Some(&token),
        png.clone(),
        "image/png",
    )
    .await;
    page_texts(&r);
    let page = &r.json["pages"][0];
    let words = page["words"].as_array().expect("words");
    let read: Vec<&str> = words.iter().filter_map(|w| w["text"].as_str()).collect();
    let known: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(read, known, "{page}");
    let (width, height) = (
        page["width_px"].as_f64().expect("width"),
        page["height_px"].as_f64().expect("height"),
    );
    for word in words {
        let confidence = word["confidence"].as_f64().expect("confidence");
        assert!((0.5..=1.0).contains(&confidence), "{word}");
        let left = word["bbox_px"]["left"].as_f64().expect("left");
        let fraction = word["bbox"]["left"].as_f64().expect("fraction");
        assert!((left / width - fraction).abs() < 0.001, "{word}");
        let top = word["bbox_px"]["top"].as_f64().expect("top");
        assert!(top < height, "{word}");
    }
    // The second line's words come after the first's and sit lower.
    assert_eq!(words[0]["line"], 1);
    assert_eq!(words[known.len() - 1]["line"], 2);
    assert!(
        words[known.len() - 1]["bbox_px"]["top"].as_f64() > words[0]["bbox_px"]["top"].as_f64()
    );
    // Without the parameter the answer has no words.
    let plain = post_raw(&app, "", Some(&token), png, "image/png").await;
    assert!(plain.json["pages"][0].get("words").is_none());
    let bad = post_raw(&app, "include=lines", Some(&token), vec![1], "image/png").await;
    assert_eq!(bad.status, 400);
}
