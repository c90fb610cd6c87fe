//! Images: sizes come from the header and are checked before any decoding;
//! hostile headers and cut-off files are the caller's 4xx.

use super::super::raster;
use super::super::samples;
use super::*;

fn small_limits(max_pixels: u64) -> Limits {
    Limits {
        max_pages: 5,
        max_pixels,
    }
}

#[test]
fn a_huge_png_is_refused_from_its_header_before_decoding() {
    let bytes = samples::huge_png(20_000, 20_000).expect("png");
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes", bytes.len());
    let started = std::time::Instant::now();
    match raster::decode(Kind::Png, &bytes, 0, limits()) {
        Err(OcrError::TooManyPixels { width, height, .. }) => {
            assert_eq!((width, height), (20_000, 20_000));
        }
        other => panic!("expected TooManyPixels, got {:?}", other.map(|_| ())),
    }
    assert!(
        started.elapsed().as_millis() < 500,
        "decoding was not skipped"
    );
}

#[test]
fn a_png_whose_header_lies_about_its_size_never_allocates_the_lie() {
    let lie = samples::lying_png(60_000, 60_000).expect("png");
    assert!(matches!(
        raster::inspect(Kind::Png, &lie, limits()),
        Err(OcrError::TooManyPixels { .. })
    ));
    // Within the limit, the missing pixel data is a broken image, not a crash.
    let lie = samples::lying_png(3_000, 3_000).expect("png");
    assert!(matches!(
        raster::decode(Kind::Png, &lie, 0, limits()),
        Err(OcrError::BrokenImage(_))
    ));
}

#[test]
fn a_truncated_jpeg_is_a_broken_image() {
    let page = samples::render_text(&samples::paragraph(1), 150, 200.0).expect("render");
    let jpeg = samples::jpeg(&page, 80).expect("jpeg");
    for cut in [jpeg.len() / 2, 200, 20] {
        let result = raster::decode(Kind::Jpeg, &jpeg[..cut], 0, limits());
        assert!(
            matches!(result, Err(OcrError::BrokenImage(_))),
            "cut at {cut}: {:?}",
            result.map(|_| ())
        );
    }
    assert!(raster::decode(Kind::Jpeg, &jpeg, 0, limits()).is_ok());
}

#[test]
fn every_format_decodes_to_the_same_gray_pixels() {
    let page = samples::render_text(&samples::paragraph(2), 100, 150.0).expect("render");
    for (kind, bytes) in [
        (Kind::Png, samples::png(&page).expect("png")),
        (Kind::Webp, samples::webp(&page).expect("webp")),
        (
            Kind::Tiff,
            samples::tiff(std::slice::from_ref(&page)).expect("tiff"),
        ),
    ] {
        let gray = raster::decode(kind, &bytes, 0, limits()).expect("decodes");
        assert_eq!((gray.width, gray.height), page.dimensions(), "{kind:?}");
        assert_eq!(gray.pixels, *page.as_raw(), "{kind:?} is lossless");
    }
}

#[test]
fn a_multi_page_tiff_has_one_page_per_directory_and_obeys_the_page_limit() {
    let pages: Vec<_> = (0..3)
        .map(|i| image::GrayImage::from_pixel(40 + i, 30, image::Luma([200])))
        .collect();
    let tiff = samples::tiff(&pages).expect("tiff");
    assert_eq!(
        raster::inspect(Kind::Tiff, &tiff, small_limits(10_000)).expect("pages"),
        3
    );
    let third = raster::decode(Kind::Tiff, &tiff, 2, small_limits(10_000)).expect("page 3");
    assert_eq!((third.width, third.height), (42, 30));
    let two_pages = Limits {
        max_pages: 2,
        max_pixels: 10_000,
    };
    assert!(matches!(
        raster::inspect(Kind::Tiff, &tiff, two_pages),
        Err(OcrError::TooManyPages {
            found: None,
            max: 2
        })
    ));
    match raster::inspect(Kind::Tiff, &tiff, small_limits(1_000)) {
        Err(OcrError::TooManyPixels { page: 1, .. }) => {}
        other => panic!("expected TooManyPixels on page 1, got {other:?}"),
    }
}

#[test]
fn transparency_is_laid_over_white() {
    let mut rgba = image::RgbaImage::from_pixel(4, 1, image::Rgba([0, 0, 0, 0]));
    rgba.put_pixel(1, 0, image::Rgba([0, 0, 0, 255]));
    let gray = raster::to_gray(image::DynamicImage::ImageRgba8(rgba));
    assert_eq!(gray.pixels, [255, 0, 255, 255]);
}

#[test]
fn garbage_after_a_valid_signature_is_a_broken_image() {
    for (kind, bytes) in [
        (Kind::Png, b"\x89PNG\r\n\x1a\nnot really a png".to_vec()),
        (Kind::Jpeg, b"\xFF\xD8\xFF\xE0 nope".to_vec()),
        (Kind::Tiff, b"II*\0\xFF\xFF\xFF\x7F".to_vec()),
        (Kind::Webp, b"RIFF\x10\0\0\0WEBPVP8 xx".to_vec()),
    ] {
        let result = raster::decode(kind, &bytes, 0, limits());
        assert!(
            matches!(result, Err(OcrError::BrokenImage(_))),
            "{kind:?}: {:?}",
            result.map(|_| ())
        );
    }
}
