//! Pixel moves on a gray page: quarter turns, EXIF orientations (all eight,
//! through the `image` crate) and levelling a skew (bilinear, white outside).

use super::super::engine::GrayImage;

/// Turns `image` clockwise by `quarter_turns` × 90°.
pub(crate) fn turn(image: GrayImage, quarter_turns: u8) -> GrayImage {
    let buffer = match to_buffer(image) {
        Ok(buffer) => buffer,
        Err(image) => return image,
    };
    let turned = match quarter_turns % 4 {
        1 => image::imageops::rotate90(&buffer),
        2 => image::imageops::rotate180(&buffer),
        3 => image::imageops::rotate270(&buffer),
        _ => buffer,
    };
    from_buffer(turned)
}

/// Applies an EXIF orientation (1–8) to a gray page.
pub(crate) fn apply_exif(image: GrayImage, orientation: image::metadata::Orientation) -> GrayImage {
    if orientation == image::metadata::Orientation::NoTransforms {
        return image;
    }
    match to_buffer(image) {
        Ok(buffer) => {
            let mut dynamic = image::DynamicImage::ImageLuma8(buffer);
            dynamic.apply_orientation(orientation);
            from_buffer(dynamic.into_luma8())
        }
        Err(image) => image,
    }
}

fn to_buffer(image: GrayImage) -> Result<image::GrayImage, GrayImage> {
    let (width, height) = (image.width, image.height);
    let pixels = if image.stride == width as usize {
        image.pixels
    } else {
        image
            .pixels
            .chunks(image.stride)
            .take(height as usize)
            .flat_map(|row| row[..width as usize].iter().copied())
            .collect()
    };
    image::GrayImage::from_raw(width, height, pixels).ok_or(GrayImage {
        width: 0,
        height: 0,
        stride: 0,
        pixels: Vec::new(),
    })
}

fn from_buffer(buffer: image::GrayImage) -> GrayImage {
    let (width, height) = buffer.dimensions();
    GrayImage {
        width,
        height,
        stride: width as usize,
        pixels: buffer.into_raw(),
    }
}

/// Rotates by `-degrees` about the centre (bilinear, white outside), which
/// levels lines that descend at `degrees`.
pub(crate) fn deskew(image: &GrayImage, degrees: f32) -> GrayImage {
    let (width, height) = (image.width, image.height);
    let (sin, cos) = (-degrees).to_radians().sin_cos();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(width) || y >= i64::from(height) {
            255.0
        } else {
            f32::from(image.pixels[y as usize * image.stride + x as usize])
        }
    };
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        let dy = y as f32 - cy;
        for x in 0..width {
            let dx = x as f32 - cx;
            let sx = cos * dx + sin * dy + cx;
            let sy = -sin * dx + cos * dy + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let value = at(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + at(x0 + 1, y0) * fx * (1.0 - fy)
                + at(x0, y0 + 1) * (1.0 - fx) * fy
                + at(x0 + 1, y0 + 1) * fx * fy;
            pixels.push(value.round().clamp(0.0, 255.0) as u8);
        }
    }
    GrayImage {
        width,
        height,
        stride: width as usize,
        pixels,
    }
}
