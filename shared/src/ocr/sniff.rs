//! The document type, from the bytes alone (the `Content-Type` header is never
//! trusted). Anything that is not PDF, PNG, JPEG, TIFF or WebP is refused with a
//! word on what it looks like instead.

use serde::{Deserialize, Serialize};

use super::OcrError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Webp,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Png => "PNG",
            Kind::Jpeg => "JPEG",
            Kind::Tiff => "TIFF",
            Kind::Webp => "WebP",
        }
    }
}

/// PDF readers accept the header anywhere in the first KiB (some generators
/// put junk before it); so do we.
const PDF_HEADER_WINDOW: usize = 1024;

pub fn sniff(bytes: &[u8]) -> Result<Kind, OcrError> {
    if bytes.is_empty() {
        return Err(OcrError::Empty);
    }
    let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"II+\0")
        || bytes.starts_with(b"MM\0+")
    {
        Some(Kind::Tiff)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Kind::Webp)
    } else if find(&bytes[..bytes.len().min(PDF_HEADER_WINDOW)], b"%PDF-").is_some() {
        Some(Kind::Pdf)
    } else {
        None
    };
    kind.ok_or_else(|| {
        OcrError::Unsupported(format!(
            "the body looks like {}, not a PDF, PNG, JPEG, TIFF or WebP document",
            describe(bytes)
        ))
    })
}

/// A guess at what an unsupported body is, for the error's detail.
fn describe(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    let lower: Vec<u8> = head
        .iter()
        .map(u8::to_ascii_lowercase)
        .skip_while(|b| b.is_ascii_whitespace() || *b == 0xEF || *b == 0xBB || *b == 0xBF)
        .collect();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        "a ZIP archive (DOCX, ODT and EPUB are ZIP archives too)"
    } else if head.starts_with(b"GIF8") {
        "a GIF image"
    } else if head.starts_with(b"BM") {
        "a BMP image"
    } else if find(&lower, b"<svg").is_some() {
        "an SVG image"
    } else if lower.starts_with(b"<!doctype html") || find(&lower, b"<html").is_some() {
        "an HTML page"
    } else if lower.starts_with(b"<?xml") {
        "an XML document"
    } else if is_text(head) {
        "plain text"
    } else {
        "binary data of an unknown kind"
    }
}

/// UTF-8 without NULs; a character cut off at the end of the window is fine.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    valid && !head.contains(&0)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
