//! The OCR part of `/health/ready`: Tesseract's version, whether PDFium is
//! bound, and the installed languages. Starts no Tesseract engine (binding
//! PDFium is a `dlopen`, done once), so it stays cheap enough for every probe.
//! Never shows a file path.

use serde::Serialize;

use super::Ocr;
use super::engine::tesseract_version;
use super::pdf;
use crate::config::OcrConfig;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OcrCheck {
    pub ok: bool,
    pub tesseract: String,
    pub pdfium: bool,
    pub languages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Can this process recognise documents? Not ok when PDFium cannot be loaded,
/// no language is installed, or the default language is not among them.
pub fn readiness(config: &OcrConfig) -> OcrCheck {
    let ocr = Ocr::global(config);
    let languages = ocr.languages().to_vec();
    let pdfium = pdf::library(ocr.pdfium_path.as_deref()).is_ok();
    let default_installed = config
        .default_lang
        .split('+')
        .all(|l| languages.iter().any(|i| i == l));
    let error = if !pdfium {
        Some("libpdfium could not be loaded (see the log; PDFIUM_LIB_PATH)".to_owned())
    } else if languages.is_empty() {
        Some("no Tesseract language is installed (tesseract-ocr-eng)".to_owned())
    } else if !default_installed {
        Some("OCR_DEFAULT_LANG names a language that is not installed".to_owned())
    } else {
        None
    };
    OcrCheck {
        ok: error.is_none(),
        tesseract: tesseract_version(),
        pdfium,
        languages,
        error,
    }
}
