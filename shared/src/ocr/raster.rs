//! Images to 8-bit gray, with the pure-Rust decoders of the `image` and `tiff`
//! crates (memory-safe on hostile input, bounded by their limits). The size is
//! read from the header and checked against `max_pixels` before anything is
//! decoded; the decoders are then capped at that size, so a header that lies
//! cannot make them allocate more. TIFF gives one page per directory.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use tiff::decoder::{Decoder, DecodingResult};

use super::engine::GrayImage;
use super::{Kind, Limits, OcrError, orient};

/// Widest sample the decoders may produce, per pixel (RGBA, 16 bits each).
const MAX_BYTES_PER_PIXEL: u64 = 8;

/// Checks every page's size against the limits; returns the page count.
pub(crate) fn inspect(kind: Kind, bytes: &[u8], limits: Limits) -> Result<u32, OcrError> {
    match kind {
        Kind::Tiff => tiff_pages(bytes, limits),
        Kind::Png | Kind::Jpeg | Kind::Webp => {
            header_size(kind, bytes, limits)?;
            Ok(1)
        }
        Kind::Pdf => Err(anyhow::anyhow!("a PDF is not an image").into()),
    }
}

/// Decodes page `index` (0-based) to gray, checking its size first.
pub(crate) fn decode(
    kind: Kind,
    bytes: &[u8],
    index: usize,
    limits: Limits,
) -> Result<GrayImage, OcrError> {
    match kind {
        Kind::Tiff => tiff_page(bytes, index, limits),
        Kind::Png | Kind::Jpeg | Kind::Webp => {
            let (width, height) = header_size(kind, bytes, limits)?;
            let mut reader = ImageReader::with_format(Cursor::new(bytes), format(kind));
            let mut caps = image::Limits::default();
            caps.max_image_width = Some(width);
            caps.max_image_height = Some(height);
            caps.max_alloc = Some(limits.max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL));
            reader.limits(caps);
            let mut decoder = reader.into_decoder().map_err(|e| broken(kind, &e))?;
            // A camera's portrait shot is stored as landscape pixels plus an
            // EXIF Orientation tag: apply it before anything else.
            let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
            let image = DynamicImage::from_decoder(decoder).map_err(|e| broken(kind, &e))?;
            Ok(orient::apply_exif(to_gray(image), orientation))
        }
        Kind::Pdf => Err(anyhow::anyhow!("a PDF is not an image").into()),
    }
}

fn format(kind: Kind) -> ImageFormat {
    match kind {
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Webp => ImageFormat::WebP,
        _ => ImageFormat::Png,
    }
}

fn broken(kind: Kind, error: &dyn std::fmt::Display) -> OcrError {
    OcrError::BrokenImage(format!(
        "the {} image cannot be decoded: {error}",
        kind.name()
    ))
}

/// The size the header claims, checked against the pixel limit.
fn header_size(kind: Kind, bytes: &[u8], limits: Limits) -> Result<(u32, u32), OcrError> {
    // zune-jpeg fills a cut-off scan with gray and reports success; the
    // caller would silently lose the bottom of the page.
    if kind == Kind::Jpeg && !jpeg_is_complete(bytes) {
        return Err(OcrError::BrokenImage(
            "the JPEG image is truncated: it has no end-of-image marker".into(),
        ));
    }
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format(kind))
        .into_dimensions()
        .map_err(|e| broken(kind, &e))?;
    check_pixels(1, width, height, limits)?;
    Ok((width, height))
}

/// Walks the JPEG's segments and entropy-coded data to its end-of-image
/// marker. Segments are skipped by their length (so an EXIF thumbnail's own
/// marker is never mistaken for the end); in scan data `FF 00` is a stuffed
/// byte and `FF D0`–`FF D7` are restart markers.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut i = 2;
    loop {
        while i < bytes.len() && bytes[i] != 0xFF {
            i += 1;
        }
        while i < bytes.len() && bytes[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = bytes.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xD9 => return true,
            0x00 | 0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(length) = bytes.get(i..i + 2) else {
                    return false;
                };
                let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
                if length < 2 {
                    return false;
                }
                i += length;
            }
        }
    }
}

fn check_pixels(page: u32, width: u32, height: u32, limits: Limits) -> Result<(), OcrError> {
    let (width, height) = (u64::from(width), u64::from(height));
    if width == 0 || height == 0 {
        return Err(OcrError::BrokenImage(format!("page {page} has no pixels")));
    }
    if width * height > limits.max_pixels {
        return Err(OcrError::TooManyPixels {
            page,
            width,
            height,
            max: limits.max_pixels,
            rendered: false,
        });
    }
    Ok(())
}

fn tiff_decoder(bytes: &[u8], limits: Limits) -> Result<Decoder<Cursor<&[u8]>>, OcrError> {
    let mut caps = tiff::decoder::Limits::default();
    caps.decoding_buffer_size =
        usize::try_from(limits.max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL))
            .unwrap_or(usize::MAX);
    Decoder::new(Cursor::new(bytes))
        .map(|d| d.with_limits(caps))
        .map_err(|e| broken(Kind::Tiff, &e))
}

/// Walks the directories (no pixel data is read), checking each page's size.
fn tiff_pages(bytes: &[u8], limits: Limits) -> Result<u32, OcrError> {
    let mut decoder = tiff_decoder(bytes, limits)?;
    let mut pages = 0_u32;
    loop {
        pages += 1;
        if pages > limits.max_pages {
            return Err(OcrError::TooManyPages {
                found: None,
                max: limits.max_pages,
            });
        }
        let (width, height) = decoder.dimensions().map_err(|e| broken(Kind::Tiff, &e))?;
        check_pixels(pages, width, height, limits)?;
        if !decoder.more_images() {
            return Ok(pages);
        }
        decoder.next_image().map_err(|e| broken(Kind::Tiff, &e))?;
    }
}

fn tiff_page(bytes: &[u8], index: usize, limits: Limits) -> Result<GrayImage, OcrError> {
    let mut decoder = tiff_decoder(bytes, limits)?;
    decoder
        .seek_to_image(index)
        .map_err(|e| broken(Kind::Tiff, &e))?;
    let (width, height) = decoder.dimensions().map_err(|e| broken(Kind::Tiff, &e))?;
    check_pixels(index as u32 + 1, width, height, limits)?;
    let color = decoder.colortype().map_err(|e| broken(Kind::Tiff, &e))?;
    let orientation = decoder
        .find_tag(tiff::tags::Tag::Orientation)
        .ok()
        .flatten()
        .and_then(|v| v.into_u16().ok())
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let data = decoder.read_image().map_err(|e| broken(Kind::Tiff, &e))?;
    let page = index + 1;
    let unreadable = || {
        OcrError::BrokenImage(format!(
            "TIFF page {page} uses a pixel layout folio does not read ({color:?})"
        ))
    };
    use tiff::ColorType as C;
    let image = match (color, data) {
        (C::Gray(1), DecodingResult::U8(packed)) => {
            return bilevel(width, height, &packed)
                .map(|page| orient::apply_exif(page, orientation))
                .ok_or_else(unreadable);
        }
        (C::Gray(8), DecodingResult::U8(v)) => {
            image::GrayImage::from_raw(width, height, v).map(DynamicImage::ImageLuma8)
        }
        (C::Gray(16), DecodingResult::U16(v)) => {
            image::ImageBuffer::from_raw(width, height, v).map(DynamicImage::ImageLuma16)
        }
        (C::GrayA(8), DecodingResult::U8(v)) => {
            image::ImageBuffer::from_raw(width, height, v).map(DynamicImage::ImageLumaA8)
        }
        (C::RGB(8), DecodingResult::U8(v)) => {
            image::RgbImage::from_raw(width, height, v).map(DynamicImage::ImageRgb8)
        }
        (C::RGBA(8), DecodingResult::U8(v)) => {
            image::RgbaImage::from_raw(width, height, v).map(DynamicImage::ImageRgba8)
        }
        (C::RGB(16), DecodingResult::U16(v)) => {
            image::ImageBuffer::from_raw(width, height, v).map(DynamicImage::ImageRgb16)
        }
        (C::RGBA(16), DecodingResult::U16(v)) => {
            image::ImageBuffer::from_raw(width, height, v).map(DynamicImage::ImageRgba16)
        }
        (C::CMYK(8), DecodingResult::U8(v)) => cmyk_to_rgb(width, height, &v),
        _ => None,
    };
    image
        .map(|image| orient::apply_exif(to_gray(image), orientation))
        .ok_or_else(unreadable)
}

/// 1-bit rows (padded to whole bytes, 1 = white once the decoder has applied
/// the photometric interpretation) to 0/255 gray.
fn bilevel(width: u32, height: u32, packed: &[u8]) -> Option<GrayImage> {
    let row_bytes = (width as usize).div_ceil(8);
    if packed.len() < row_bytes * height as usize {
        return None;
    }
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for row in packed.chunks_exact(row_bytes).take(height as usize) {
        pixels.extend((0..width as usize).map(|x| {
            if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                255
            } else {
                0
            }
        }));
    }
    Some(GrayImage {
        width,
        height,
        stride: width as usize,
        pixels,
    })
}

fn cmyk_to_rgb(width: u32, height: u32, cmyk: &[u8]) -> Option<DynamicImage> {
    let rgb: Vec<u8> = cmyk
        .chunks_exact(4)
        .flat_map(|p| {
            let k = 255 - u16::from(p[3]);
            [p[0], p[1], p[2]].map(|c| ((255 - u16::from(c)) * k / 255) as u8)
        })
        .collect();
    image::RgbImage::from_raw(width, height, rgb).map(DynamicImage::ImageRgb8)
}

/// Any decoded image to 8-bit gray; transparency is laid over white (text on a
/// transparent background would otherwise turn into black on black).
pub(crate) fn to_gray(image: DynamicImage) -> GrayImage {
    let (width, height) = (image.width(), image.height());
    let pixels = if image.color().has_alpha() {
        image
            .to_luma_alpha8()
            .pixels()
            .map(|p| {
                let [value, alpha] = p.0;
                let (value, alpha) = (u32::from(value), u32::from(alpha));
                ((value * alpha + 255 * (255 - alpha)) / 255) as u8
            })
            .collect()
    } else {
        image.into_luma8().into_raw()
    };
    GrayImage {
        width,
        height,
        stride: width as usize,
        pixels,
    }
}
