//! A page's geometry and light, found on a small copy before recognition:
//! which way is up (0/90/180/270), how far the text lines are skewed, and
//! whether the paper is unevenly lit or low in contrast. Pure Rust (the
//! workspace forbids `unsafe`, and the safe Tesseract bindings do not expose
//! its orientation detector), a few milliseconds per page.
//!
//! How: the small copy is binarised against its local mean, the ink pixels
//! are projected onto lines at candidate angles (0° and 90° families, ±10°);
//! the projection with the sharpest line structure gives the axis and the
//! skew. Latin text has far more ink above its x-height band (capitals,
//! ascenders, i-dots) than below it (descenders), which tells up from down.

use super::engine::GrayImage;

mod transform;

pub(crate) use transform::{apply_exif, deskew, turn};

/// The small copy's longest side.
const SMALL_SIDE: u32 = 1400;
/// Ink points used for the angle search (evenly sampled beyond this).
const MAX_POINTS: usize = 60_000;
/// Fewer ink points than this: too little text to judge, leave the page be.
const MIN_POINTS: usize = 800;
/// The other axis must score this much higher to turn a page sideways.
const AXIS_MARGIN: f64 = 1.4;
/// Ink above the x-height band over ink below it (or the inverse) needed to
/// call a page upright (or upside down).
const UPRIGHT_MARGIN: f64 = 1.25;
/// Skew searched, in degrees either way.
const MAX_SKEW: f32 = 10.0;
/// Skew below this is left to Tesseract (it reads a few degrees well).
pub(crate) const DESKEW_FROM: f32 = 1.0;
/// Paper brighter in one place than another by more than this many gray
/// levels, or text contrast below `LOW_CONTRAST`, gets its light evened out.
const UNEVEN_LEVELS: u8 = 30;
const LOW_CONTRAST: u8 = 110;

/// What the small copy says about a page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Analysis {
    /// Clockwise quarter turns that make the text upright (0–3).
    pub quarter_turns: u8,
    /// Degrees the lines descend to the right once upright (positive =
    /// clockwise), rounded to 0.1.
    pub skew_degrees: f32,
    /// The light needs evening out before recognition.
    pub uneven: bool,
}

/// Looks at `image`; `rotate` false keeps the page as it stands (skew and
/// light are still measured).
pub(crate) fn analyse(image: &GrayImage, rotate: bool) -> Analysis {
    let small = Small::of(image);
    let background = small.background();
    let uneven = background.spread >= UNEVEN_LEVELS || background.contrast < LOW_CONTRAST;
    let points = small.ink_points();
    if points.len() < MIN_POINTS {
        return Analysis {
            quarter_turns: 0,
            skew_degrees: 0.0,
            uneven,
        };
    }
    let h = small.height as f32;
    // The same ink seen upright (q = 0) and turned a quarter clockwise (q = 1).
    let turned: Vec<(f32, f32)> = points.iter().map(|&(x, y)| (h - 1.0 - y, x)).collect();
    let (angle0, score0) = best_angle(&points);
    let (angle1, score1) = if rotate {
        best_angle(&turned)
    } else {
        (0.0, 0.0)
    };
    let sideways = rotate && score1 > score0 * AXIS_MARGIN;
    let (frame, angle, base) = if sideways {
        (&turned, angle1, 1)
    } else {
        (&points, angle0, 0)
    };
    let mut quarter_turns = base;
    if rotate {
        let ratio = ascender_ratio(frame, angle);
        if ratio * UPRIGHT_MARGIN < 1.0 {
            quarter_turns += 2;
        }
    }
    // A half turn keeps the lines' slope.
    Analysis {
        quarter_turns,
        skew_degrees: (angle * 10.0).round() / 10.0,
        uneven,
    }
}

/// A page made ready for Tesseract; `image` is `None` when nothing changed.
pub(crate) struct Prepared {
    pub image: Option<GrayImage>,
    pub rotation: u16,
    pub skew_degrees: f32,
}

/// Evens the light (only where it is uneven), turns the page upright (when
/// `rotate`) and levels skew beyond `DESKEW_FROM`: a clean upright scan
/// costs one look at its small copy.
pub(crate) fn prepare(image: &GrayImage, rotate: bool) -> Prepared {
    let started = std::time::Instant::now();
    let analysis = analyse(image, rotate);
    let analysed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut current = analysis.uneven.then(|| even_light(image));
    if analysis.quarter_turns != 0 {
        let base = current.take().unwrap_or_else(|| image.clone());
        current = Some(turn(base, analysis.quarter_turns));
    }
    if analysis.skew_degrees.abs() >= DESKEW_FROM {
        let base = current.as_ref().unwrap_or(image);
        current = Some(deskew(base, analysis.skew_degrees));
    }
    tracing::debug!(
        analysed_ms,
        prepared_ms = started.elapsed().as_secs_f64() * 1000.0,
        turns = analysis.quarter_turns,
        skew = analysis.skew_degrees,
        uneven = analysis.uneven,
        "page prepared"
    );
    Prepared {
        image: current,
        rotation: u16::from(analysis.quarter_turns) * 90,
        skew_degrees: analysis.skew_degrees,
    }
}

/// A box-averaged copy no larger than `SMALL_SIDE`.
struct Small {
    width: u32,
    height: u32,
    /// Full-size pixels per small pixel, each way.
    factor: u32,
    pixels: Vec<u8>,
}

struct Background {
    /// Block-wise paper brightness, `cols` × `rows`, each block `block` small pixels.
    levels: Vec<u8>,
    cols: u32,
    rows: u32,
    block: u32,
    /// Brightest minus darkest paper (5th to 95th percentile of blocks).
    spread: u8,
    /// Median paper minus the darkest ink (1st percentile of pixels).
    contrast: u8,
}

impl Small {
    fn of(image: &GrayImage) -> Small {
        let factor = image.width.max(image.height).div_ceil(SMALL_SIDE).max(1);
        let (width, height) = (
            image.width.div_ceil(factor).max(1),
            image.height.div_ceil(factor).max(1),
        );
        let mut sums = vec![0_u32; (width * height) as usize];
        let mut counts = vec![0_u32; (width * height) as usize];
        for y in 0..image.height {
            let row = &image.pixels[y as usize * image.stride..][..image.width as usize];
            let base = (y / factor * width) as usize;
            for (x, &v) in row.iter().enumerate() {
                let i = base + x / factor as usize;
                sums[i] += u32::from(v);
                counts[i] += 1;
            }
        }
        let pixels = sums
            .iter()
            .zip(&counts)
            .map(|(s, c)| (s / (*c).max(1)) as u8)
            .collect();
        Small {
            width,
            height,
            factor,
            pixels,
        }
    }

    fn background(&self) -> Background {
        let block = (self.width.max(self.height) / 24).max(8);
        let (cols, rows) = (self.width.div_ceil(block), self.height.div_ceil(block));
        let mut levels = vec![0_u8; (cols * rows) as usize];
        for y in 0..self.height {
            for x in 0..self.width {
                let v = self.pixels[(y * self.width + x) as usize];
                let b = &mut levels[((y / block) * cols + x / block) as usize];
                *b = (*b).max(v);
            }
        }
        let mut sorted = levels.clone();
        sorted.sort_unstable();
        let at = |s: &[u8], p: usize| s[(s.len() - 1) * p / 100];
        let spread = at(&sorted, 95).saturating_sub(at(&sorted, 5));
        let paper = at(&sorted, 50);
        let mut pixels = self.pixels.clone();
        pixels.sort_unstable();
        let contrast = paper.saturating_sub(at(&pixels, 1));
        Background {
            levels,
            cols,
            rows,
            block,
            spread,
            contrast,
        }
    }

    /// Pixels clearly darker than their neighbourhood, as (x, y).
    fn ink_points(&self) -> Vec<(f32, f32)> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut integral = vec![0_u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0_u64;
            for x in 0..w {
                row += u64::from(self.pixels[y * w + x]);
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
            }
        }
        let r = (w.max(h) / 60).max(4);
        let mut points = Vec::new();
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                    - integral[y0 * (w + 1) + x1]
                    - integral[y1 * (w + 1) + x0];
                let mean = sum as f32 / ((y1 - y0) * (x1 - x0)) as f32;
                let v = f32::from(self.pixels[y * w + x]);
                if v < mean * 0.85 && mean - v > 12.0 {
                    points.push((x as f32, y as f32));
                }
            }
        }
        points
    }
}

/// Ink row counts along the direction `degrees` below the x axis.
fn profile(points: &[(f32, f32)], degrees: f32) -> Vec<u32> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let step = points.len().div_ceil(MAX_POINTS).max(1);
    let mut rows: Vec<f32> = points
        .iter()
        .step_by(step)
        .map(|&(x, y)| y * cos - x * sin)
        .collect();
    let low = rows.iter().copied().fold(f32::INFINITY, f32::min);
    let mut bins = Vec::new();
    for r in rows.iter_mut() {
        let i = (*r - low) as usize;
        if i >= bins.len() {
            bins.resize(i + 1, 0);
        }
        bins[i] += 1;
    }
    bins
}

/// How sharply the profile alternates between lines and gaps.
fn sharpness(bins: &[u32]) -> f64 {
    bins.windows(2)
        .map(|w| {
            let d = f64::from(w[1]) - f64::from(w[0]);
            d * d
        })
        .sum()
}

/// The skew in `[-MAX_SKEW, MAX_SKEW]` with the sharpest profile: whole
/// degrees first, then tenths around the best.
fn best_angle(points: &[(f32, f32)]) -> (f32, f64) {
    let mut best = (0.0_f32, sharpness(&profile(points, 0.0)));
    let consider = |angle: f32, best: &mut (f32, f64)| {
        let score = sharpness(&profile(points, angle));
        if score > best.1 {
            *best = (angle, score);
        }
    };
    for step in -(MAX_SKEW as i32)..=(MAX_SKEW as i32) {
        consider(step as f32, &mut best);
    }
    let centre = best.0;
    for tenth in -9..=9 {
        consider(centre + tenth as f32 / 10.0, &mut best);
    }
    best
}

/// Ink above the lines' x-height bands over ink below them (> 1 upright).
fn ascender_ratio(points: &[(f32, f32)], degrees: f32) -> f64 {
    let bins = profile(points, degrees);
    let peak = bins.iter().copied().max().unwrap_or(0);
    let floor = (peak / 20).max(1);
    let (mut above, mut below) = (0_u64, 0_u64);
    let mut i = 0;
    while i < bins.len() {
        if bins[i] <= floor {
            i += 1;
            continue;
        }
        let start = i;
        while i < bins.len() && bins[i] > floor {
            i += 1;
        }
        let line = &bins[start..i];
        if line.len() < 4 {
            continue;
        }
        let top = line.iter().copied().max().unwrap_or(0);
        let core = |v: &u32| *v * 2 >= top;
        let (Some(first), Some(last)) = (line.iter().position(core), line.iter().rposition(core))
        else {
            continue;
        };
        above += line[..first].iter().map(|v| u64::from(*v)).sum::<u64>();
        below += line[last + 1..].iter().map(|v| u64::from(*v)).sum::<u64>();
    }
    (above as f64 + 1.0) / (below as f64 + 1.0)
}

/// Evens out the light: each pixel over its neighbourhood's paper level
/// (from the small copy's blocks, interpolated), then the darkest ink
/// stretched to black.
pub(crate) fn even_light(image: &GrayImage) -> GrayImage {
    let small = Small::of(image);
    let bg = small.background();
    let cell = (bg.block * small.factor) as f32;
    let level = |c: i64, r: i64| -> f32 {
        let c = c.clamp(0, i64::from(bg.cols) - 1) as u32;
        let r = r.clamp(0, i64::from(bg.rows) - 1) as u32;
        f32::from(bg.levels[(r * bg.cols + c) as usize].max(1))
    };
    let (width, height) = (image.width, image.height);
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        let gy = y as f32 / cell - 0.5;
        let (r0, fy) = (gy.floor() as i64, gy - gy.floor());
        let row = &image.pixels[y as usize * image.stride..][..width as usize];
        for (x, &v) in row.iter().enumerate() {
            let gx = x as f32 / cell - 0.5;
            let (c0, fx) = (gx.floor() as i64, gx - gx.floor());
            let paper = level(c0, r0) * (1.0 - fx) * (1.0 - fy)
                + level(c0 + 1, r0) * fx * (1.0 - fy)
                + level(c0, r0 + 1) * (1.0 - fx) * fy
                + level(c0 + 1, r0 + 1) * fx * fy;
            pixels.push((f32::from(v) / paper * 255.0).min(255.0) as u8);
        }
    }
    let mut sorted: Vec<u8> = pixels.iter().step_by(7).copied().collect();
    sorted.sort_unstable();
    let ink = f32::from(sorted.get(sorted.len() / 200).copied().unwrap_or(0)).min(200.0);
    let scale = 255.0 / (255.0 - ink);
    for p in &mut pixels {
        *p = ((f32::from(*p) - ink).max(0.0) * scale).min(255.0) as u8;
    }
    GrayImage {
        width,
        height,
        stride: width as usize,
        pixels,
    }
}
