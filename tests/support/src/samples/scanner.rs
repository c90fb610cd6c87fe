//! What a desk scanner does to a clean page, so scanned samples are not
//! pristine renders: a slight skew, sensor noise, and (in the caller) JPEG.
//! Deterministic: the same page and seed give the same pixels.

/// Rotates by `degrees` about the centre (bilinear, white outside the page)
/// and adds noise of about ±`noise` gray levels.
pub fn scan(page: &image::GrayImage, degrees: f32, noise: u8, seed: u64) -> image::GrayImage {
    let (width, height) = page.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let source = page.as_raw();
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= i64::from(width) || y >= i64::from(height) {
            255.0
        } else {
            f32::from(source[y as usize * width as usize + x as usize])
        }
    };
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut pixels = Vec::with_capacity(source.len());
    for y in 0..height {
        for x in 0..width {
            // The source point that lands on (x, y).
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let sx = cos * dx + sin * dy + cx;
            let sy = -sin * dx + cos * dy + cy;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let value = at(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + at(x0 + 1, y0) * fx * (1.0 - fy)
                + at(x0, y0 + 1) * (1.0 - fx) * fy
                + at(x0 + 1, y0 + 1) * fx * fy;
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let jitter = (state % (2 * u64::from(noise) + 1)) as f32 - f32::from(noise);
            pixels.push((value + jitter).clamp(0.0, 255.0) as u8);
        }
    }
    image::GrayImage::from_raw(width, height, pixels).unwrap_or_else(|| page.clone())
}
