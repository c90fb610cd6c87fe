//! Searchable PDFs: the original document with an invisible text layer (text
//! render mode 3, "neither fill nor stroke") laid over every OCR page, each
//! recognised word stretched over the box Tesseract found it in, so viewers
//! can search and select what the scan shows. Text-layer pages are left as
//! they are. Images become one PDF page each (gray, 300 dpi).
//!
//! `build` is self-contained (bytes and pages in, bytes out, on the calling
//! thread) so it can run wherever PDFium work is isolated.

use pdfium_render::prelude::*;

use super::words::Word;
use super::{Kind, Limits, OcrError, Page, Source, pdf, raster};

/// The resolution an image is assumed to have when it becomes a PDF page.
const IMAGE_DPI: f32 = 300.0;
/// Boxes smaller than this (in points) carry no usable text size.
const MIN_BOX_PT: f32 = 0.5;

/// `original` (a PDF or an image of `kind`) with an invisible text layer on
/// every page of `pages` whose source is OCR. Pages recognised without words
/// (older results) get their text as evenly spaced invisible lines, still
/// searchable. Fails when the original cannot be read again or PDFium cannot
/// write the result; checks `limits` before decoding images.
pub fn build(
    pdfium: &Pdfium,
    kind: Kind,
    original: &[u8],
    pages: &[Page],
    limits: Limits,
) -> Result<Vec<u8>, OcrError> {
    let mut document = match kind {
        Kind::Pdf => pdf::open(pdfium, original)?,
        _ => images_as_pdf(pdfium, kind, original, limits)?,
    };
    let font = document.fonts_mut().helvetica();
    for page in pages.iter().filter(|p| p.source == Source::Ocr) {
        let Some(index) = page.page.checked_sub(1) else {
            continue;
        };
        let index = PdfPageIndex::try_from(index).map_err(|_| anyhow::anyhow!("page index"))?;
        let mut target = document.pages().get(index).map_err(|e| {
            OcrError::BrokenPdf(format!("page {} cannot be read ({e:?})", page.page))
        })?;
        overlay(&document, &mut target, font, page)?;
    }
    document
        .save_to_bytes()
        .map_err(|e| anyhow::anyhow!("PDFium could not write the searchable PDF: {e:?}").into())
}

/// One page per image (every TIFF directory), decoded the way recognition
/// saw it (EXIF orientation applied) and placed at `IMAGE_DPI`.
fn images_as_pdf<'a>(
    pdfium: &'a Pdfium,
    kind: Kind,
    bytes: &[u8],
    limits: Limits,
) -> Result<PdfDocument<'a>, OcrError> {
    let count = raster::inspect(kind, bytes, limits)?;
    let mut document = pdfium
        .create_new_pdf()
        .map_err(|e| anyhow::anyhow!("PDFium could not start a PDF: {e:?}"))?;
    for index in 0..count as usize {
        let image = raster::decode(kind, bytes, index, limits)?;
        let (w_pt, h_pt) = (
            image.width as f32 * 72.0 / IMAGE_DPI,
            image.height as f32 * 72.0 / IMAGE_DPI,
        );
        // PDFium wants a stride of whole 4-byte words; copy row by row.
        let stride = (image.width as usize).div_ceil(4) * 4;
        let mut buffer = vec![0u8; stride * image.height as usize];
        for (row, out) in buffer.chunks_exact_mut(stride).enumerate() {
            let start = row * image.stride;
            out[..image.width as usize]
                .copy_from_slice(&image.pixels[start..start + image.width as usize]);
        }
        let pixels = |v: u32| Pixels::try_from(v).map_err(|_| anyhow::anyhow!("image too large"));
        let bitmap = PdfBitmap::from_bytes(
            pixels(image.width)?,
            pixels(image.height)?,
            PdfBitmapFormat::Gray,
            &mut buffer,
        )
        .map_err(|e| anyhow::anyhow!("PDFium refused the page's pixels: {e:?}"))?;
        let mut page = document
            .pages_mut()
            .create_page_at_end(PdfPagePaperSize::Custom(
                PdfPoints::new(w_pt),
                PdfPoints::new(h_pt),
            ))
            .map_err(|e| anyhow::anyhow!("PDFium could not add a page: {e:?}"))?;
        let mut object = PdfPageImageObject::new(&document)
            .map_err(|e| anyhow::anyhow!("PDFium could not make an image: {e:?}"))?;
        object
            .set_bitmap(&bitmap)
            .map_err(|e| anyhow::anyhow!("PDFium could not fill an image: {e:?}"))?;
        object
            .scale(w_pt, h_pt)
            .map_err(|e| anyhow::anyhow!("PDFium could not place an image: {e:?}"))?;
        page.objects_mut()
            .add_image_object(object)
            .map_err(|e| anyhow::anyhow!("PDFium could not add an image: {e:?}"))?;
    }
    Ok(document)
}

/// The page's user-space box and how it is shown, so a box in the displayed
/// page (fractions, origin top left) maps to user space.
struct Frame {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    /// Clockwise degrees the page is shown turned by (`/Rotate`).
    rotate: u16,
}

impl Frame {
    fn shown_size(&self) -> (f32, f32) {
        let (w, h) = (self.x1 - self.x0, self.y1 - self.y0);
        if self.rotate.is_multiple_of(180) {
            (w, h)
        } else {
            (h, w)
        }
    }

    /// User-space point of the displayed point (`u`, `v`), fractions from the
    /// top-left corner.
    fn point(&self, u: f32, v: f32) -> (f32, f32) {
        let (w, h) = (self.x1 - self.x0, self.y1 - self.y0);
        match self.rotate {
            90 => (self.x0 + v * w, self.y0 + u * h),
            180 => (self.x1 - u * w, self.y0 + v * h),
            270 => (self.x1 - v * w, self.y1 - u * h),
            _ => (self.x0 + u * w, self.y1 - v * h),
        }
    }
}

fn degrees(rotation: PdfPageRenderRotation) -> u16 {
    match rotation {
        PdfPageRenderRotation::None => 0,
        PdfPageRenderRotation::Degrees90 => 90,
        PdfPageRenderRotation::Degrees180 => 180,
        PdfPageRenderRotation::Degrees270 => 270,
    }
}

fn rotation_of(degrees: u16) -> PdfPageRenderRotation {
    match degrees % 360 {
        90 => PdfPageRenderRotation::Degrees90,
        180 => PdfPageRenderRotation::Degrees180,
        270 => PdfPageRenderRotation::Degrees270,
        _ => PdfPageRenderRotation::None,
    }
}

/// Lays `page`'s words over `target`. A page recognition turned (`rotation`)
/// is shown turned the same way, so its words read upright where the text does.
fn overlay<'a>(
    document: &PdfDocument<'a>,
    target: &mut PdfPage<'a>,
    font: PdfFontToken,
    page: &Page,
) -> Result<(), OcrError> {
    let shown = target.rotation().map(degrees).unwrap_or(0);
    let turned = page.rotation.unwrap_or(0) % 360;
    if turned != 0 {
        target.set_rotation(rotation_of(shown + turned));
    }
    let media = target
        .boundaries()
        .media()
        .map_err(|e| anyhow::anyhow!("page {} has no media box: {e:?}", page.page))?
        .bounds;
    let frame = Frame {
        x0: media.left().value,
        y0: media.bottom().value,
        x1: media.right().value,
        y1: media.top().value,
        rotate: (shown + turned) % 360,
    };
    let words = match &page.words {
        Some(words) => words.clone(),
        None => lines_as_words(&page.text),
    };
    for word in &words {
        place(document, target, font, &frame, word)?;
    }
    Ok(())
}

/// A page without word boxes: each line of its text as one "word" spanning
/// the page's width, lines spread evenly from top to bottom.
fn lines_as_words(text: &str) -> Vec<Word> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let step = 1.0 / (lines.len().max(1) as f32 + 1.0);
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| Word {
            text: line.trim().to_owned(),
            confidence: 0.0,
            bbox_px: super::words::BoxPx {
                left: 0,
                top: 0,
                width: 0,
                height: 0,
            },
            bbox: super::words::BoxFraction {
                left: 0.05,
                top: step * (i as f32 + 0.5),
                width: 0.9,
                height: step * 0.8,
            },
            line: i as u32 + 1,
        })
        .collect()
}

/// One invisible word: sized to its box's height, stretched to its width,
/// turned with the page.
fn place<'a>(
    document: &PdfDocument<'a>,
    target: &mut PdfPage<'a>,
    font: PdfFontToken,
    frame: &Frame,
    word: &Word,
) -> Result<(), OcrError> {
    let text: String = word.text.chars().filter(|c| !c.is_control()).collect();
    if text.trim().is_empty() {
        return Ok(());
    }
    let (shown_w, shown_h) = frame.shown_size();
    let b = word.bbox;
    let (box_w, box_h) = (b.width * shown_w, b.height * shown_h);
    if !(box_w >= MIN_BOX_PT && box_h >= MIN_BOX_PT) {
        return Ok(());
    }
    let mut object = PdfPageTextObject::new(document, &text, font, PdfPoints::new(box_h))
        .map_err(|e| anyhow::anyhow!("PDFium could not make a text object: {e:?}"))?;
    object
        .set_render_mode(PdfPageTextRenderMode::Invisible)
        .map_err(|e| anyhow::anyhow!("PDFium could not hide a text object: {e:?}"))?;
    // The natural advance of the word at this size, from the font's widths.
    let natural = object
        .bounds()
        .map(|q| q.to_rect().width().value)
        .unwrap_or(box_w);
    let stretch = if natural > MIN_BOX_PT {
        box_w / natural
    } else {
        1.0
    };
    // Baseline at the box's bottom edge, about a fifth of its height up to
    // leave room for descenders.
    let (x, y) = frame.point(b.left, b.top + b.height * 0.8);
    let (cos, sin) = match frame.rotate {
        90 => (0.0, 1.0),
        180 => (-1.0, 0.0),
        270 => (0.0, -1.0),
        _ => (1.0, 0.0),
    };
    object
        .transform(stretch * cos, stretch * sin, -sin, cos, x, y)
        .map_err(|e| anyhow::anyhow!("PDFium could not place a word: {e:?}"))?;
    target
        .objects_mut()
        .add_text_object(object)
        .map_err(|e| anyhow::anyhow!("PDFium could not add a word: {e:?}"))?;
    Ok(())
}

/// Reads the text of every page of a PDF through PDFium (for tests and the
/// benchmark: what a viewer's search would find).
pub fn pdfium_text(pdfium: &Pdfium, bytes: &[u8]) -> Result<Vec<String>, OcrError> {
    let document = pdf::open(pdfium, bytes)?;
    let mut texts = Vec::new();
    for page in document.pages().iter() {
        // The whole media box: `PdfPageText::all` bounds the text by the page
        // size as shown, which cuts a turned page's text short.
        let media = page
            .boundaries()
            .media()
            .map_err(|e| anyhow::anyhow!("a page has no media box: {e:?}"))?
            .bounds;
        let text = page
            .text()
            .map(|t| t.inside_rect(media))
            .map_err(|e| anyhow::anyhow!("PDFium could not read a page's text: {e:?}"))?;
        texts.push(text);
    }
    Ok(texts)
}
