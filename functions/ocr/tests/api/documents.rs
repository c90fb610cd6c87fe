//! Real documents of every accepted kind, recognised through the HTTP API and
//! checked against their known text.

use folio_testing::samples::{self, PageKind};

use super::*;

#[tokio::test]
async fn a_text_layer_pdf_is_read_without_ocr_and_matches_its_text() {
    let app = app(&[]).await;
    let token = app.token("reader");
    let texts = [samples::page_text(20), samples::page_text(21)];
    let pdf = samples::pdf(&[
        (texts[0].clone(), PageKind::Text),
        (texts[1].clone(), PageKind::Text),
    ])
    .expect("pdf");
    let r = post_raw(&app, "", Some(&token), pdf, "application/pdf").await;
    let found = page_texts(&r);
    for (known, found) in texts.iter().zip(&found) {
        assert_cer_below(known, found, 0.001);
    }
    let json = &r.json;
    assert_eq!(json["page_count"], 2);
    assert_eq!(json["lang"], "eng");
    assert_eq!(json["cached"], false);
    assert_eq!(json["text"].as_str(), Some(found.join("\u{c}").as_str()));
    for page in json["pages"].as_array().expect("pages") {
        assert_eq!(page["source"], "text_layer");
        assert!(page["confidence"].is_null() && page["width_px"].is_null());
    }
    let id = uuid::Uuid::parse_str(json["document_id"].as_str().expect("id")).expect("uuid");
    let owner: String = shared::db::query_scalar("SELECT owner_id FROM documents WHERE id = $1")
        .bind(id)
        .fetch_one(&app.sql)
        .await
        .expect("documents row");
    assert_eq!(owner, "reader");
}

#[tokio::test]
async fn a_scanned_pdf_is_recognised_close_to_its_known_text() {
    let app = app(&[]).await;
    let text = samples::page_text(22);
    let pdf = samples::pdf(&[(text.clone(), PageKind::Scanned { dpi: 300 })]).expect("pdf");
    let r = post_raw(&app, "", Some(&app.token("u")), pdf, "application/pdf").await;
    let found = page_texts(&r);
    assert_cer_below(&text, &found[0], 0.02);
    let page = &r.json["pages"][0];
    assert_eq!(page["source"], "ocr");
    assert_eq!(
        (page["width_px"].as_u64(), page["height_px"].as_u64()),
        (Some(2550), Some(3300))
    );
    assert!(
        page["confidence"]
            .as_f64()
            .is_some_and(|c| c > 0.8 && c <= 1.0)
    );
}

#[tokio::test]
async fn a_mixed_pdf_takes_each_page_from_where_its_text_is() {
    let app = app(&[]).await;
    let texts = [samples::paragraph(11), samples::paragraph(12)];
    let pdf = samples::pdf(&[
        (texts[0].clone(), PageKind::Scanned { dpi: 300 }),
        (texts[1].clone(), PageKind::Text),
    ])
    .expect("pdf");
    let r = post_raw(
        &app,
        "dpi=300",
        Some(&app.token("u")),
        pdf,
        "application/pdf",
    )
    .await;
    let found = page_texts(&r);
    assert_eq!(r.json["pages"][0]["source"], "ocr");
    assert_eq!(r.json["pages"][1]["source"], "text_layer");
    assert_cer_below(&texts[0], &found[0], 0.02);
    assert_cer_below(&texts[1], &found[1], 0.001);
}

#[tokio::test]
async fn force_ocr_recognises_a_page_that_has_a_text_layer() {
    let app = app(&[]).await;
    let text = samples::paragraph(13);
    let pdf = samples::pdf(&[(text.clone(), PageKind::Text)]).expect("pdf");
    let r = post_raw(
        &app,
        "force_ocr=true",
        Some(&app.token("u")),
        pdf,
        "application/pdf",
    )
    .await;
    let found = page_texts(&r);
    assert_eq!(r.json["pages"][0]["source"], "ocr");
    assert_cer_below(&text, &found[0], 0.02);
}

#[tokio::test]
async fn png_jpeg_and_webp_images_are_recognised_whatever_the_content_type_says() {
    let app = app(&[]).await;
    let token = app.token("u");
    for (i, encode) in [
        samples::png as fn(&image::GrayImage) -> anyhow::Result<Vec<u8>>,
        |img| samples::jpeg(img, 90),
        samples::webp,
    ]
    .into_iter()
    .enumerate()
    {
        let text = samples::paragraph(14 + i);
        let bytes = encode(&scan_of(&text)).expect("encode");
        // The header is a hint only: a wrong one changes nothing.
        let r = post_raw(&app, "", Some(&token), bytes, "application/pdf").await;
        let found = page_texts(&r);
        assert_eq!(r.json["pages"][0]["source"], "ocr");
        assert_cer_below(&text, &found[0], 0.02);
    }
}

#[tokio::test]
async fn a_multi_page_tiff_gives_one_page_each() {
    let app = app(&[]).await;
    let texts = [samples::paragraph(17), samples::paragraph(18)];
    let pages: Vec<_> = texts.iter().map(|t| scan_of(t)).collect();
    let tiff = samples::tiff(&pages).expect("tiff");
    let r = post_raw(&app, "", Some(&app.token("u")), tiff, "image/tiff").await;
    let found = page_texts(&r);
    assert_eq!(r.json["page_count"], 2);
    for (known, found) in texts.iter().zip(&found) {
        assert_cer_below(known, found, 0.02);
    }
}

#[tokio::test]
async fn a_multipart_upload_is_read_from_its_file_part() {
    let app = app(&[]).await;
    let text = samples::paragraph(19);
    let pdf = samples::pdf(&[(text.clone(), PageKind::Text)]).expect("pdf");
    let r = post_multipart(
        &app,
        "lang=eng",
        &app.token("u"),
        &[("note", b"ignored".as_slice()), ("file", &pdf)],
    )
    .await;
    let found = page_texts(&r);
    assert_cer_below(&text, &found[0], 0.001);
}

#[tokio::test]
async fn every_route_wants_a_token() {
    let app = app(&[]).await;
    let pdf = samples::pdf(&[(samples::paragraph(1), PageKind::Text)]).expect("pdf");
    post_raw(&app, "", None, pdf, "application/pdf")
        .await
        .assert_problem(401, "unauthorized");
    app.get(&format!("/v1/ocr/documents/{}", uuid::Uuid::now_v7()), None)
        .await
        .assert_problem(401, "unauthorized");
}
