//! Full pages of print at a chosen type size, for the speed benchmark and the
//! tests of the recognition scale: dense body text (10-11 pt, the page filled),
//! small print (7-8 pt), and scans with specks of dirt on them.

use anyhow::Context;
use pdfium_render::prelude::*;

use super::{PAGE_HEIGHT, PAGE_WIDTH, jpeg, page_text, pdfium, scanner};

const MARGIN: f32 = 54.0;

/// Type size and leading, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Type {
    pub size: f32,
    pub leading: f32,
}

impl Type {
    /// Dense body text: 10.5 pt on 12.5 pt, about 4,000 characters a page.
    pub const DENSE: Type = Type {
        size: 10.5,
        leading: 12.5,
    };
    /// Small print (footnotes, contracts): 7.5 pt on 9 pt.
    pub const SMALL: Type = Type {
        size: 7.5,
        leading: 9.0,
    };

    /// Characters per line of Times at this size across the text width.
    fn line_chars(self) -> usize {
        // Times averages about 0.45 em per character.
        ((PAGE_WIDTH - 2.0 * MARGIN) / (self.size * 0.45)) as usize
    }

    fn lines_per_page(self) -> usize {
        ((PAGE_HEIGHT - 2.0 * MARGIN) / self.leading) as usize
    }
}

/// The lines of a letter page filled with prose at `kind` (`seed` picks the
/// prose); joined with `\n` they are the page's known text.
pub fn page_lines(kind: Type, seed: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut source = 0;
    while lines.len() < kind.lines_per_page() {
        let text = page_text(seed * 16 + source);
        source += 1;
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                if !line.is_empty() && line.len() + 1 + word.len() > kind.line_chars() {
                    lines.push(std::mem::take(&mut line));
                }
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
            }
            lines.push(line);
        }
    }
    lines.truncate(kind.lines_per_page());
    lines
}

/// `lines` set in Times at `kind` on a letter page, rendered to gray at `dpi`.
pub fn render(lines: &[String], kind: Type, dpi: u16) -> anyhow::Result<image::GrayImage> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    let font = document.fonts_mut().times_roman();
    let size =
        PdfPagePaperSize::new_custom(PdfPoints::new(PAGE_WIDTH), PdfPoints::new(PAGE_HEIGHT));
    let mut page = document
        .pages_mut()
        .create_page_at_end(size)
        .context("page")?;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let y = PAGE_HEIGHT - MARGIN - kind.size - kind.leading * i as f32;
        page.objects_mut()
            .create_text_object(
                PdfPoints::new(MARGIN),
                PdfPoints::new(y),
                line,
                font,
                PdfPoints::new(kind.size),
            )
            .context("text object")?;
    }
    let scale = f32::from(dpi) / 72.0;
    let config = PdfRenderConfig::new()
        .set_fixed_size(
            (PAGE_WIDTH * scale).round() as i32,
            (PAGE_HEIGHT * scale).round() as i32,
        )
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

/// What a desk scanner makes of `page`: skewed 0.3°, sensor noise; with
/// `specks`, that many specks of dust (dark dots 1-3 px across at 300 dpi,
/// scaled to `dpi`) scattered over the page.
pub fn scan(page: &image::GrayImage, dpi: u16, specks: usize, seed: u64) -> image::GrayImage {
    let mut scan = scanner::scan(page, 0.3, 8, seed);
    let mut state = seed.wrapping_mul(0xA076_1D64_78BD_642F) | 1;
    let mut next = |bound: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % u64::from(bound.max(1))) as u32
    };
    let (w, h) = scan.dimensions();
    for _ in 0..specks {
        let (cx, cy) = (next(w), next(h));
        let radius = (1 + next(3)) as f32 * f32::from(dpi) / 300.0 / 2.0;
        let darkness = 60 + next(80) as u8;
        let r = radius.ceil() as i64;
        for dy in -r..=r {
            for dx in -r..=r {
                if ((dx * dx + dy * dy) as f32).sqrt() > radius + 0.3 {
                    continue;
                }
                let (x, y) = (i64::from(cx) + dx, i64::from(cy) + dy);
                if x >= 0 && y >= 0 && x < i64::from(w) && y < i64::from(h) {
                    let p = scan.get_pixel_mut(x as u32, y as u32);
                    p.0[0] = p.0[0].min(darkness);
                }
            }
        }
    }
    scan
}

/// A PDF of scanned pages (each a JPEG at quality 75 over the whole letter page).
pub fn scanned_pdf(scans: &[image::GrayImage]) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    for scan in scans {
        super::add_image_page(&mut document, &jpeg(scan, 75)?)?;
    }
    document.save_to_bytes().context("save pdf")
}
