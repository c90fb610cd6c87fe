//! Unit tests of the OCR engine: sniffing, languages, the CER helper and text
//! cleaning here; images, PDFs and the Tesseract pool in their own modules.

mod born_digital;
mod captures;
mod engine;
mod images;
mod pdfs;

use super::cer::{cer, tally};
use super::pipeline::clean_text;
use super::sniff::sniff;
use super::*;

/// The configuration every engine test uses: all defaults.
pub(super) fn config() -> OcrConfig {
    let vars =
        [("DATABASE_URL", "postgres://u@127.0.0.1/x")].map(|(k, v)| (k.to_owned(), v.to_owned()));
    crate::config::Config::from_vars(crate::config::Function::Health, vars)
        .expect("default config")
        .ocr
}

pub(super) fn ocr() -> &'static Ocr {
    Ocr::global(&config())
}

pub(super) fn limits() -> Limits {
    Limits::from(&config())
}

pub(super) fn options(lang: &str) -> Options {
    Options {
        lang: ocr().lang(lang).expect("installed language"),
        force_ocr: false,
        dpi: 300,
        rotate_pages: true,
        words: false,
    }
}

#[test]
fn every_accepted_type_is_told_by_its_first_bytes() {
    let cases: [(&[u8], Kind); 7] = [
        (b"%PDF-1.7\n", Kind::Pdf),
        (b"\xEF\xBB\xBF junk before %PDF-1.4", Kind::Pdf),
        (b"\x89PNG\r\n\x1a\n....", Kind::Png),
        (b"\xFF\xD8\xFF\xE0..JFIF", Kind::Jpeg),
        (b"II*\0\x08\0\0\0", Kind::Tiff),
        (b"MM\0*\0\0\0\x08", Kind::Tiff),
        (b"RIFF\x10\0\0\0WEBPVP8L", Kind::Webp),
    ];
    for (bytes, kind) in cases {
        assert_eq!(sniff(bytes).expect("accepted"), kind);
    }
}

#[test]
fn other_types_are_refused_with_what_they_look_like() {
    let cases: [(&[u8], &str); 6] = [
        (b"<!DOCTYPE html><html><body>hi", "HTML"),
        (
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">",
            "SVG",
        ),
        (b"PK\x03\x04\x14\0\0\0", "ZIP"),
        (b"just some words in a text file\n", "plain text"),
        (b"GIF89a\x01\0", "GIF"),
        (b"\0\x01\x02\x03\xFE\xFD", "unknown"),
    ];
    for (bytes, word) in cases {
        match sniff(bytes) {
            Err(OcrError::Unsupported(detail)) => {
                assert!(detail.contains(word), "{detail:?} should mention {word}")
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
    assert!(matches!(sniff(b""), Err(OcrError::Empty)));
    // The header must be near the start, not anywhere.
    let mut late = vec![b' '; 4096];
    late.extend_from_slice(b"%PDF-1.7");
    assert!(matches!(sniff(&late), Err(OcrError::Unsupported(_))));
}

#[test]
fn languages_must_all_be_installed_and_unknown_ones_are_named() {
    let installed = vec!["eng".to_owned(), "ind".to_owned()];
    assert_eq!(Lang::parse("eng", &installed).expect("eng").as_str(), "eng");
    assert_eq!(
        Lang::parse(" ind+eng ", &installed).expect("pair").as_str(),
        "ind+eng"
    );
    match Lang::parse("eng+xyz+../../etc", &installed) {
        Err(OcrError::UnknownLanguage { unknown, installed }) => {
            assert_eq!(unknown, ["xyz", "../../etc"]);
            assert_eq!(installed, ["eng", "ind"]);
        }
        other => panic!("expected UnknownLanguage, got {other:?}"),
    }
    for bad in [
        "",
        "eng+",
        "+eng",
        "eng++ind",
        "eng+eng",
        "eng+ind+eng+ind+eng",
    ] {
        assert!(
            matches!(Lang::parse(bad, &installed), Err(OcrError::BadLanguage(_))),
            "{bad:?} should be a bad language"
        );
    }
}

#[test]
fn the_installed_languages_come_from_the_tessdata_folder() {
    let languages = ocr().languages();
    assert!(languages.iter().any(|l| l == "eng"), "{languages:?}");
    assert!(
        !languages.iter().any(|l| l == "osd"),
        "osd is not a language"
    );
}

#[test]
fn character_error_rate_counts_edits_against_the_known_text() {
    assert_eq!(cer("hello world", "hello world"), 0.0);
    assert!((cer("abcdefghij", "abcdefghiX") - 0.1).abs() < 1e-9);
    assert!((cer("abcdefghij", "abcdefghi") - 0.1).abs() < 1e-9);
    assert!((cer("abcdefghij", "abcdefghijkl") - 0.2).abs() < 1e-9);
    assert_eq!(cer("abc", ""), 1.0);
    assert_eq!(cer("", ""), 0.0);
    // Layout and typography are not content.
    assert_eq!(cer("a  b\n\nc", " a b c\n"), 0.0);
    assert_eq!(
        cer(
            "\"don't\" - fine",
            "\u{201C}don\u{2019}t\u{201D} \u{2014} \u{FB01}ne"
        ),
        0.0
    );
    let pages = [tally("abcd", "abcd"), tally("abcdef", "abXdef")];
    let total: cer::Tally = pages.into_iter().sum();
    assert_eq!((total.edits, total.reference_chars), (1, 10));
}

#[test]
fn text_is_cleaned_the_same_way_for_both_sources() {
    assert_eq!(
        clean_text("  line one  \r\nline two\r\r\n\n\n\nnext\u{0}\u{c}\n"),
        "line one\nline two\n\nnext"
    );
    assert_eq!(clean_text("\n\n \t \n"), "");
}

#[test]
fn options_that_cannot_change_an_image_result_stay_out_of_its_cache_key() {
    let mut a = options("eng");
    let mut b = a.clone();
    b.dpi = 150;
    b.force_ocr = true;
    assert_eq!(a.cache_key(Kind::Png), b.cache_key(Kind::Png));
    assert_ne!(a.cache_key(Kind::Pdf), b.cache_key(Kind::Pdf));
    a.force_ocr = true;
    assert_ne!(a.cache_key(Kind::Pdf), b.cache_key(Kind::Pdf));
}

#[test]
fn readiness_reports_tesseract_pdfium_and_languages_without_starting_an_engine() {
    let check = readiness(&config());
    assert!(check.ok, "{check:?}");
    assert!(check.pdfium);
    assert!(check.tesseract.starts_with(char::is_numeric), "{check:?}");
    assert!(check.languages.iter().any(|l| l == "eng"));
    let json = serde_json::to_value(&check).expect("json");
    assert_eq!(json["ok"], true);
    assert!(json.get("error").is_none());
}

#[test]
fn ocr_settings_default_sensibly_and_bad_ones_are_named() {
    let config = config();
    assert_eq!(
        (config.max_bytes, config.max_pages, config.max_pixels),
        (20 * 1024 * 1024, 200, 50_000_000)
    );
    assert_eq!((config.sync_max_pages, config.default_dpi), (5, 300));
    assert_eq!(config.default_lang, "eng");
    let vars = [
        ("DATABASE_URL", "postgres://u@127.0.0.1/x"),
        ("OCR_DEFAULT_DPI", "2000"),
        ("OCR_MAX_PAGES", "0"),
        ("OCR_MAX_PIXELS", "lots"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let err = crate::config::Config::from_vars(crate::config::Function::Health, vars)
        .expect_err("three bad OCR settings");
    assert_eq!(
        err.variables(),
        ["OCR_DEFAULT_DPI", "OCR_MAX_PIXELS", "OCR_MAX_PAGES"]
    );
}
