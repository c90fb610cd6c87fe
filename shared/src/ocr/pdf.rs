//! PDF through PDFium (`pdfium-render`): the library is bound once per process
//! (from `PDFIUM_LIB_PATH`, a file or a folder; else next to the executable;
//! else the system library path), a missing library is an error, never a
//! panic. Each page is planned before any is rendered: the text layer when it
//! holds real text, else a render whose pixel count is checked from the page
//! size first.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use pdfium_render::prelude::*;

use super::engine::GrayImage;
use super::pipeline::clean_text;
use super::sniff::find;
use super::{Limits, OcrError};

/// Below this many letters and digits a text layer is not "real text".
const MIN_TEXT_CHARS: usize = 10;
/// A page with less text than this whose images cover most of it is a scan
/// with a stamp or header in text: OCR it.
const SHORT_TEXT_CHARS: usize = 200;
/// Images covering this share of a page with little text make it an OCR page.
const IMAGE_WORTH_READING: f32 = 0.05;
/// This many vector shapes on a page with little text make it an OCR page.
const SHAPES_WORTH_READING: usize = 200;
/// Where a complete PDF's last `%%EOF` must be.
const EOF_WINDOW: usize = 2048;

static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();

/// The process's PDFium, bound on first use. The error says what was tried
/// (for logs and readiness; HTTP answers say only "unavailable").
pub(crate) fn library(configured: Option<&str>) -> Result<&'static Pdfium, String> {
    PDFIUM
        .get_or_init(|| {
            let bound = bind(configured);
            match &bound {
                Ok(_) => tracing::info!("PDFium bound"),
                Err(why) => tracing::error!(error = %why, "PDFium unavailable"),
            }
            bound
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn bind(configured: Option<&str>) -> Result<Pdfium, String> {
    if let Some(path) = configured {
        let path = Path::new(path);
        let file = if path.is_dir() {
            Pdfium::pdfium_platform_library_name_at_path(path)
        } else {
            path.to_path_buf()
        };
        return Pdfium::bind_to_library(&file)
            .map(Pdfium::new)
            .map_err(|e| format!("PDFIUM_LIB_PATH does not point at a usable libpdfium: {e}"));
    }
    let beside_exe: Option<PathBuf> = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .map(Pdfium::pdfium_platform_library_name_at_path)
        })
        .filter(|file| file.is_file());
    if let Some(file) = beside_exe
        && let Ok(bindings) = Pdfium::bind_to_library(&file)
    {
        return Ok(Pdfium::new(bindings));
    }
    Pdfium::bind_to_system_library()
        .map(Pdfium::new)
        .map_err(|e| {
            format!(
                "libpdfium.so is neither next to the executable nor on the system library path \
                 (install it with scripts/fetch-pdfium.sh /usr/local/lib, or set PDFIUM_LIB_PATH): {e}"
            )
        })
}

/// Opens a PDF; a password, a broken file or a truncated one is the caller's 422.
pub(crate) fn open<'a>(pdfium: &'a Pdfium, bytes: &'a [u8]) -> Result<PdfDocument<'a>, OcrError> {
    complete(bytes)?;
    pdfium
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(opening_error)
}

/// `open`, for a document the PDF worker owns.
pub(crate) fn open_owned(pdfium: &Pdfium, bytes: Vec<u8>) -> Result<PdfDocument<'_>, OcrError> {
    complete(&bytes)?;
    pdfium
        .load_pdf_from_byte_vec(bytes, None)
        .map_err(opening_error)
}

/// PDFium quietly repairs a cut-off file and shows whatever pages survived:
/// refuse it instead, since the caller would silently lose text.
fn complete(bytes: &[u8]) -> Result<(), OcrError> {
    if find(&bytes[bytes.len().saturating_sub(EOF_WINDOW)..], b"%%EOF").is_none() {
        return Err(OcrError::BrokenPdf(
            "the PDF is truncated: it does not end with an %%EOF marker".into(),
        ));
    }
    Ok(())
}

fn opening_error(e: PdfiumError) -> OcrError {
    match e {
        PdfiumError::PdfiumLibraryInternalError(
            PdfiumInternalError::PasswordError | PdfiumInternalError::SecurityError,
        ) => OcrError::Encrypted,
        PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::FormatError) => {
            OcrError::BrokenPdf("the PDF cannot be parsed: its structure is damaged".into())
        }
        other => OcrError::BrokenPdf(format!("the PDF cannot be opened ({other:?})")),
    }
}

/// What to do with one page.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum PagePlan {
    Text(String),
    Render { width: u32, height: u32 },
}

/// Counts the pages (against `max_pages`), then plans each one, checking the
/// render size of every page that needs OCR against `max_pixels`: all of it
/// before any page is rendered.
pub(crate) fn plan(
    document: &PdfDocument<'_>,
    force_ocr: bool,
    dpi: u16,
    limits: Limits,
    cancel: &AtomicBool,
) -> Result<Vec<PagePlan>, OcrError> {
    let pages = document.pages();
    let count = u32::try_from(pages.len()).unwrap_or(0);
    if count == 0 {
        return Err(OcrError::BrokenPdf("the PDF has no pages".into()));
    }
    if count > limits.max_pages {
        return Err(OcrError::TooManyPages {
            found: Some(count),
            max: limits.max_pages,
        });
    }
    let mut plans = Vec::with_capacity(count as usize);
    for (index, page) in pages.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(OcrError::Cancelled);
        }
        let number = index as u32 + 1;
        if !force_ocr && let Some(text) = text_layer(&page) {
            plans.push(PagePlan::Text(text));
            continue;
        }
        let (width, height) = pixel_size(&page, dpi)
            .ok_or_else(|| OcrError::BrokenPdf(format!("page {number} has an invalid size")))?;
        if width * height > limits.max_pixels {
            return Err(OcrError::TooManyPixels {
                page: number,
                width,
                height,
                max: limits.max_pixels,
                rendered: true,
            });
        }
        plans.push(PagePlan::Render {
            width: width as u32,
            height: height as u32,
        });
    }
    // PDFium counts the page tree's leaves but may fail to load some of them
    // (found by fuzzing: a page count with no loadable page at all).
    if plans.len() != count as usize {
        return Err(OcrError::BrokenPdf(format!(
            "page {} of {count} could not be read",
            plans.len() + 1
        )));
    }
    Ok(plans)
}

/// The page's size in pixels at `dpi`, or `None` for a nonsensical page box.
fn pixel_size(page: &PdfPage<'_>, dpi: u16) -> Option<(u64, u64)> {
    let scale = f64::from(dpi) / 72.0;
    let side = |points: f32| {
        let px = (f64::from(points) * scale).round();
        (px.is_finite() && px >= 1.0 && px <= f64::from(i32::MAX)).then_some(px as u64)
    };
    Some((side(page.width().value)?, side(page.height().value)?))
}

/// The page's text layer, unless the page has something for OCR to read.
///
/// A page with real text is taken from its text layer, except a page with a
/// little text over images covering most of it (a scan with a stamp). A page
/// with little or no text is taken from its text layer too (a title page, a
/// page number, a blank page: there is nothing more to find), unless images
/// cover a noticeable part of it or it is drawn with many vector shapes
/// (outlined text). Glyphs without a Unicode mapping always go to OCR.
fn text_layer(page: &PdfPage<'_>) -> Option<String> {
    let text = clean_text(&page.text().ok()?.all());
    let (mut visible, mut letters, mut junk) = (0_usize, 0_usize, 0_usize);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        visible += 1;
        if c.is_alphanumeric() {
            letters += 1;
        } else if c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(&c) {
            // Glyphs without a Unicode mapping come out as these.
            junk += 1;
        }
    }
    if junk > 0 && junk * 10 > visible {
        return None;
    }
    let coverage = image_coverage(page);
    let real = letters >= MIN_TEXT_CHARS && letters * 2 >= visible;
    if real {
        return (letters >= SHORT_TEXT_CHARS || coverage < 0.5).then_some(text);
    }
    let nothing_else = coverage < IMAGE_WORTH_READING && shapes(page) < SHAPES_WORTH_READING;
    nothing_else.then_some(text)
}

/// Vector path objects on the page (outlined text is drawn with many).
fn shapes(page: &PdfPage<'_>) -> usize {
    page.objects()
        .iter()
        .filter(|o| o.object_type() == PdfPageObjectType::Path)
        .take(SHAPES_WORTH_READING)
        .count()
}

/// The share of the page covered by image objects (0–1, overlaps counted twice).
fn image_coverage(page: &PdfPage<'_>) -> f32 {
    let page_area = page.width().value * page.height().value;
    if page_area <= 0.0 {
        return 0.0;
    }
    let covered: f32 = page
        .objects()
        .iter()
        .filter(|o| o.object_type() == PdfPageObjectType::Image)
        .filter_map(|o| Some(o.width().ok()?.value * o.height().ok()?.value))
        .sum();
    (covered / page_area).clamp(0.0, 1.0)
}

/// Renders one page to 8-bit gray at exactly `width` × `height`.
pub(crate) fn render(
    document: &PdfDocument<'_>,
    index: usize,
    width: u32,
    height: u32,
) -> Result<GrayImage, OcrError> {
    let page_index = PdfPageIndex::try_from(index).map_err(|_| anyhow::anyhow!("page index"))?;
    let page = document
        .pages()
        .get(page_index)
        .map_err(|e| OcrError::BrokenPdf(format!("page {} cannot be read ({e:?})", index + 1)))?;
    let (w, h) = (
        Pixels::try_from(width).map_err(|_| anyhow::anyhow!("width"))?,
        Pixels::try_from(height).map_err(|_| anyhow::anyhow!("height"))?,
    );
    // Reverse byte order is pdfium-render's default, and with it PDFium draws
    // nothing into a gray bitmap (all white, no error).
    let config = PdfRenderConfig::new()
        .set_fixed_size(w, h)
        .set_format(PdfBitmapFormat::Gray)
        .set_reverse_byte_order(false)
        .render_form_data(true);
    let bitmap = page
        .render_with_config(&config)
        .map_err(|e| anyhow::anyhow!("PDFium could not render page {}: {e:?}", index + 1))?;
    let pixels = bitmap.as_raw_bytes();
    let (width, height) = (bitmap.width() as u32, bitmap.height() as u32);
    let stride = pixels.len().checked_div(height as usize).unwrap_or(0);
    if stride < width as usize || pixels.len() < stride * height as usize {
        return Err(anyhow::anyhow!("PDFium returned a bitmap of an unexpected size").into());
    }
    Ok(GrayImage {
        width,
        height,
        stride,
        pixels,
    })
}
