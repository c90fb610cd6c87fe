//! Why a document could not be recognised, and how each reason reaches the
//! caller: the caller's mistakes are 4xx with a detail that helps fix them, a
//! missing engine is 503, anything else is a logged 500.

use std::time::Duration;

use crate::Error;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("the request body is empty; send a PDF, PNG, JPEG, TIFF or WebP document")]
    Empty,
    /// Not one of the accepted types; says what it looks like instead.
    #[error("{0}")]
    Unsupported(String),
    #[error("the PDF is protected by a password; send it without encryption")]
    Encrypted,
    #[error("{0}")]
    BrokenPdf(String),
    #[error("{0}")]
    BrokenImage(String),
    #[error(
        "the document has {} pages; at most {max} are accepted",
        found.map_or_else(|| format!("more than {max}"), |n| n.to_string())
    )]
    TooManyPages { found: Option<u32>, max: u32 },
    #[error(
        "page {page} would be {width} × {height} pixels ({:.1} Mpx); at most {:.1} Mpx are accepted{}",
        (*width as f64) * (*height as f64) / 1e6,
        *max as f64 / 1e6,
        if *rendered { "; lower `dpi`" } else { "" }
    )]
    TooManyPixels {
        page: u32,
        width: u64,
        height: u64,
        max: u64,
        /// True for PDF pages, whose size depends on `dpi`.
        rendered: bool,
    },
    #[error("unknown language(s) {}; installed: {}", unknown.join(", "), installed.join(", "))]
    UnknownLanguage {
        unknown: Vec<String>,
        installed: Vec<String>,
    },
    #[error("{0}")]
    BadLanguage(String),
    /// `libpdfium` could not be loaded (the reason is logged, not shown).
    #[error("the PDF engine is unavailable")]
    PdfUnavailable,
    /// Tesseract could not start for a language set.
    #[error("the OCR engine could not start for `{0}`")]
    TesseractUnavailable(String),
    /// A page or a PDF took longer than its time limit (`OCR_PAGE_TIMEOUT`,
    /// `OCR_PDF_TIMEOUT`); the work was abandoned, the process goes on.
    #[error("{0}")]
    TooSlow(String),
    /// The caller went away; nobody sees this.
    #[error("recognition was cancelled")]
    Cancelled,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<OcrError> for Error {
    fn from(err: OcrError) -> Self {
        let detail = err.to_string();
        match err {
            OcrError::Empty | OcrError::BadLanguage(_) => Error::BadRequest(detail),
            OcrError::Unsupported(_) => Error::UnsupportedMediaType(detail),
            OcrError::Encrypted => Error::unprocessable("encrypted-pdf", detail),
            OcrError::BrokenPdf(_) => Error::unprocessable("broken-pdf", detail),
            OcrError::BrokenImage(_) => Error::unprocessable("broken-image", detail),
            OcrError::TooManyPages { .. } => Error::unprocessable("too-many-pages", detail),
            OcrError::TooManyPixels { .. } => Error::unprocessable("too-many-pixels", detail),
            OcrError::UnknownLanguage { .. } => Error::unprocessable("unknown-language", detail),
            OcrError::TooSlow(_) => Error::unprocessable("too-slow", detail),
            OcrError::PdfUnavailable => Error::Unavailable {
                what: "the PDF engine",
                retry_after: Duration::from_secs(60),
            },
            OcrError::TesseractUnavailable(_) => Error::Unavailable {
                what: "the OCR engine",
                retry_after: Duration::from_secs(60),
            },
            OcrError::Cancelled => {
                Error::Internal(anyhow::anyhow!("OCR cancelled while still awaited"))
            }
            OcrError::Internal(e) => Error::Internal(e),
        }
    }
}
