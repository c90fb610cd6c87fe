//! Documents with known text, made on the spot for the tests and the benchmark
//! (no fixture files): PDFs with a text layer, scanned PDFs (each page a JPEG
//! of the rendered text, as a scanner makes them), mixed PDFs, and PNG, JPEG,
//! multi-page TIFF and WebP images; plus the hostile ones that only need a
//! header (a huge PNG, one whose header lies). PDFs are built with PDFium
//! itself, images with the pure-Rust encoders the decoders come with.

pub mod captures;
mod hostile;
pub mod print;
mod prose;
mod scanner;

use std::io::Cursor;

use anyhow::Context;
use image::{ExtendedColorType, ImageEncoder};
use pdfium_render::prelude::*;

pub use hostile::{encrypt_pdf, huge_png, lying_png};
pub use prose::{page_text, paragraph};

/// Letter paper, in points.
const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const MARGIN: f32 = 72.0;
const FONT_SIZE: f32 = 12.0;
const LINE_HEIGHT: f32 = 16.0;
/// Characters per line: Times at 12 pt fits about 85 in 6.5 inches.
const LINE_CHARS: usize = 78;

/// How a page of a sample PDF is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// Real text objects (a text layer).
    Text,
    /// A JPEG of the rendered text at this many dpi, as a scanner makes it
    /// (skewed 0.3°, noisy), and no text layer.
    Scanned { dpi: u16 },
}

/// The process's PDFium (the same one the engine uses).
fn pdfium() -> anyhow::Result<&'static Pdfium> {
    let configured = std::env::var("PDFIUM_LIB_PATH").ok();
    super::pdfium_library(configured.as_deref()).map_err(|e| anyhow::anyhow!(e))
}

/// Wraps `text` into lines of at most `LINE_CHARS` characters.
pub fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > LINE_CHARS {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A PDF whose pages hold `pages` (text), each made as `kinds` says.
pub fn pdf(pages: &[(String, PageKind)]) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    for (number, (text, kind)) in pages.iter().enumerate() {
        match kind {
            PageKind::Text => add_text_page(&mut document, text, PAGE_HEIGHT)?,
            PageKind::Scanned { dpi } => {
                let clean = render_text(text, *dpi, PAGE_HEIGHT)?;
                let scan = scanner::scan(&clean, 0.3, 8, number as u64);
                add_image_page(&mut document, &jpeg(&scan, 75)?)?;
            }
        }
    }
    document.save_to_bytes().context("save pdf")
}

/// A PDF of `count` pages of `width` × `height` points whose first page is a
/// blank scan (one white image over the whole page, so it needs OCR); the
/// others are empty (read from their empty text layer).
pub fn blank_pdf(count: u32, width: f32, height: f32) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    let size = PdfPagePaperSize::new_custom(PdfPoints::new(width), PdfPoints::new(height));
    let white = jpeg(&image::GrayImage::from_pixel(8, 8, image::Luma([255])), 90)?;
    for number in 0..count {
        let image = if number == 0 {
            let mut image =
                PdfPageImageObject::new_from_jpeg_reader(&document, Cursor::new(white.clone()))
                    .context("image object")?;
            image.scale(width, height).context("scale")?;
            Some(image)
        } else {
            None
        };
        let mut page = document
            .pages_mut()
            .create_page_at_end(size)
            .context("page")?;
        if let Some(image) = image {
            page.objects_mut()
                .add_image_object(image)
                .context("add image")?;
        }
    }
    document.save_to_bytes().context("save pdf")
}

/// A PDF of `count` pages of `width` × `height` points with nothing on them
/// (no text, no image): born-digital blank pages.
pub fn empty_pdf(count: u32, width: f32, height: f32) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    let size = PdfPagePaperSize::new_custom(PdfPoints::new(width), PdfPoints::new(height));
    for _ in 0..count {
        document
            .pages_mut()
            .create_page_at_end(size)
            .context("page")?;
    }
    document.save_to_bytes().context("save pdf")
}

fn add_text_page(document: &mut PdfDocument<'_>, text: &str, height: f32) -> anyhow::Result<()> {
    let font = document.fonts_mut().times_roman();
    let size = PdfPagePaperSize::new_custom(PdfPoints::new(PAGE_WIDTH), PdfPoints::new(height));
    let mut page = document
        .pages_mut()
        .create_page_at_end(size)
        .context("page")?;
    for (i, line) in wrap(text).iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let y = height - MARGIN / 2.0 - FONT_SIZE - LINE_HEIGHT * i as f32;
        page.objects_mut()
            .create_text_object(
                PdfPoints::new(MARGIN),
                PdfPoints::new(y),
                line,
                font,
                PdfPoints::new(FONT_SIZE),
            )
            .context("text object")?;
    }
    Ok(())
}

fn add_image_page(document: &mut PdfDocument<'_>, jpeg: &[u8]) -> anyhow::Result<()> {
    let mut image = PdfPageImageObject::new_from_jpeg_reader(document, Cursor::new(jpeg.to_vec()))
        .context("image object")?;
    image.scale(PAGE_WIDTH, PAGE_HEIGHT).context("scale")?;
    let size =
        PdfPagePaperSize::new_custom(PdfPoints::new(PAGE_WIDTH), PdfPoints::new(PAGE_HEIGHT));
    let mut page = document
        .pages_mut()
        .create_page_at_end(size)
        .context("page")?;
    page.objects_mut()
        .add_image_object(image)
        .context("add image")?;
    Ok(())
}

/// `pdf` with `text` written across the top of its first page (a stamp or
/// a header over a scan).
pub fn stamp(pdf: &[u8], text: &str) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium
        .load_pdf_from_byte_vec(pdf.to_vec(), None)
        .context("open pdf")?;
    let font = document.fonts_mut().helvetica();
    let mut page = document.pages().get(0).context("page 1")?;
    let top = page.height().value - MARGIN / 2.0;
    page.objects_mut()
        .create_text_object(
            PdfPoints::new(MARGIN),
            PdfPoints::new(top),
            text,
            font,
            PdfPoints::new(FONT_SIZE),
        )
        .context("stamp")?;
    drop(page);
    document.save_to_bytes().context("save pdf")
}

/// Height in points of a page that just fits `text`.
pub fn fitted_height(text: &str) -> f32 {
    wrap(text).len() as f32 * LINE_HEIGHT + MARGIN
}

/// `text` laid out on a page `height` points tall (letter width), rendered
/// to gray at `dpi`: what a scanner would see.
pub fn render_text(text: &str, dpi: u16, height: f32) -> anyhow::Result<image::GrayImage> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    add_text_page(&mut document, text, height)?;
    let page = document.pages().get(0).context("page")?;
    let scale = f32::from(dpi) / 72.0;
    let (width, height) = (
        (PAGE_WIDTH * scale).round() as i32,
        (height * scale).round() as i32,
    );
    let config = PdfRenderConfig::new()
        .set_fixed_size(width, height)
        .set_format(PdfBitmapFormat::Gray)
        .set_reverse_byte_order(false);
    let bitmap = page.render_with_config(&config).context("render")?;
    let raw = bitmap.as_raw_bytes();
    let (w, h) = (bitmap.width() as usize, bitmap.height() as usize);
    let stride = raw.len() / h.max(1);
    let pixels: Vec<u8> = raw
        .chunks(stride)
        .take(h)
        .flat_map(|row| row[..w].iter().copied())
        .collect();
    image::GrayImage::from_raw(w as u32, h as u32, pixels).context("gray image")
}

pub fn png(image: &image::GrayImage) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        ExtendedColorType::L8,
    )?;
    Ok(out)
}

pub fn jpeg(image: &image::GrayImage, quality: u8) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).write_image(
        image.as_raw(),
        image.width(),
        image.height(),
        ExtendedColorType::L8,
    )?;
    Ok(out)
}

/// Lossless WebP (the only kind the pure-Rust encoder writes), from RGB.
pub fn webp(image: &image::GrayImage) -> anyhow::Result<Vec<u8>> {
    let rgb = image::DynamicImage::ImageLuma8(image.clone()).into_rgb8();
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(
        rgb.as_raw(),
        rgb.width(),
        rgb.height(),
        ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// One TIFF holding every image as a page of its own.
pub fn tiff(pages: &[image::GrayImage]) -> anyhow::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let mut encoder = tiff::encoder::TiffEncoder::new(&mut out)?;
    for page in pages {
        encoder.write_image::<tiff::encoder::colortype::Gray8>(
            page.width(),
            page.height(),
            page.as_raw(),
        )?;
    }
    Ok(out.into_inner())
}
