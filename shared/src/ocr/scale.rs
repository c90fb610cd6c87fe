//! The resolution Tesseract reads a page at, and specks of dirt it should not
//! read. Tesseract's cost grows with the pixels it is given (thresholding,
//! connected components, layout analysis), while its line recogniser scales
//! every text line to a fixed height anyway: text drawn larger than it needs
//! costs time and reads no better. So the page's text size is measured (the
//! x-height, from the heights of its connected components) and a page whose
//! text is large is reduced, by area averaging, until its x-height is
//! `TARGET_X_HEIGHT`; a page of small print is read as it is.
//!
//! The same components find specks: a dot far smaller than the letters and
//! far from any other ink (a letter's dot, a full stop or a comma always sit
//! next to a letter). Tesseract reads such a speck as punctuation (`is.to`, a
//! stray `;`); it is painted over with paper before recognition.

use super::engine::GrayImage;

/// The x-height, in pixels, a page of large text is reduced to (never
/// enlarged). Measured with `scripts/bench-ocr-speed.sh`: scans of 10-12 pt
/// text read as well with a 12 px x-height as at 300 dpi (20-22 px), for less.
pub(crate) const TARGET_X_HEIGHT: f32 = 12.0;
/// Text with a smaller x-height than this is small print for its resolution
/// (7-8 pt at 300 dpi is 13-15 px): read as it is.
pub(crate) const SMALL_PRINT_X_HEIGHT: f32 = 18.0;
/// Never reduce below this share of the original size (a mis-measured page
/// stays readable).
const MAX_REDUCTION: f32 = 0.4;
/// Fewer letter-sized components than this: too little text to judge.
const MIN_LETTERS: usize = 40;

/// One connected run of ink pixels in a row.
#[derive(Clone, Copy)]
struct Run {
    y: u32,
    x0: u32,
    x1: u32,
}

/// A connected component's bounding box and pixel count.
#[derive(Clone, Copy)]
struct Component {
    left: u32,
    top: u32,
    right: u32,
    bottom: u32,
    area: u32,
}

impl Component {
    fn width(&self) -> u32 {
        self.right - self.left + 1
    }
    fn height(&self) -> u32 {
        self.bottom - self.top + 1
    }
}

/// The page's ink as runs and 8-connected components.
pub(crate) struct Ink {
    runs: Vec<Run>,
    /// The component of each run.
    owner: Vec<u32>,
    components: Vec<Component>,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        parent[i as usize] = parent[parent[i as usize] as usize];
        i = parent[i as usize];
    }
    i
}

impl Ink {
    /// Ink is darker than the midpoint between paper (the 90th percentile of
    /// a sample of pixels) and the darkest ink (the 0.5th).
    pub(crate) fn of(image: &GrayImage) -> Ink {
        let threshold = threshold(image);
        let mut runs = Vec::new();
        let mut row_start = Vec::with_capacity(image.height as usize + 1);
        for y in 0..image.height {
            row_start.push(runs.len());
            let row = &image.pixels[y as usize * image.stride..][..image.width as usize];
            let mut x = 0;
            while x < row.len() {
                if row[x] < threshold {
                    let start = x;
                    while x < row.len() && row[x] < threshold {
                        x += 1;
                    }
                    runs.push(Run {
                        y,
                        x0: start as u32,
                        x1: x as u32 - 1,
                    });
                } else {
                    x += 1;
                }
            }
        }
        row_start.push(runs.len());
        // Union runs that touch a run of the row above (8-connected).
        let mut parent: Vec<u32> = (0..runs.len() as u32).collect();
        for y in 1..image.height as usize {
            let (above, here) = (
                row_start[y - 1]..row_start[y],
                row_start[y]..row_start[y + 1],
            );
            let mut j = above.start;
            for i in here {
                let r = runs[i];
                while j < above.end && runs[j].x1 + 1 < r.x0 {
                    j += 1;
                }
                let mut k = j;
                while k < above.end && runs[k].x0 <= r.x1 + 1 {
                    let (a, b) = (find(&mut parent, i as u32), find(&mut parent, k as u32));
                    if a != b {
                        parent[a.max(b) as usize] = a.min(b);
                    }
                    k += 1;
                }
            }
        }
        let mut index = vec![u32::MAX; runs.len()];
        let mut components: Vec<Component> = Vec::new();
        let mut owner = Vec::with_capacity(runs.len());
        for (i, &r) in runs.iter().enumerate() {
            let root = find(&mut parent, i as u32) as usize;
            if index[root] == u32::MAX {
                index[root] = components.len() as u32;
                components.push(Component {
                    left: r.x0,
                    top: r.y,
                    right: r.x1,
                    bottom: r.y,
                    area: 0,
                });
            }
            let c = &mut components[index[root] as usize];
            c.left = c.left.min(r.x0);
            c.right = c.right.max(r.x1);
            c.top = c.top.min(r.y);
            c.bottom = c.bottom.max(r.y);
            c.area += r.x1 - r.x0 + 1;
            owner.push(index[root]);
        }
        Ink {
            runs,
            owner,
            components,
        }
    }

    /// The text's x-height in pixels: the most common height among
    /// letter-sized components (lower-case letters without ascenders are the
    /// commonest shapes in text). `None` when there is too little text.
    pub(crate) fn x_height(&self) -> Option<f32> {
        let mut counts = vec![0_u32; 257];
        let mut letters = 0;
        for c in &self.components {
            let (w, h) = (c.width(), c.height());
            // Letters: not specks, not rules or pictures, not thin lines.
            if (4..=256).contains(&h) && w >= 2 && w <= 3 * h && h <= 4 * w && c.area >= 6 {
                counts[h as usize] += 1;
                letters += 1;
            }
        }
        if letters < MIN_LETTERS {
            return None;
        }
        // The mode of the histogram smoothed over three bins, refined to the
        // weighted mean of those bins.
        let smooth = |h: usize| counts[h - 1] + counts[h] + counts[h + 1];
        let mode = (4..256).max_by_key(|&h| smooth(h))?;
        let weight = smooth(mode) as f32;
        let mean = ((mode - 1) as f32 * counts[mode - 1] as f32
            + mode as f32 * counts[mode] as f32
            + (mode + 1) as f32 * counts[mode + 1] as f32)
            / weight.max(1.0);
        Some(mean)
    }

    /// Paints over specks: components at most a quarter of the x-height
    /// across with no other ink within one x-height of them. Returns how many.
    pub(crate) fn remove_specks(&self, image: &mut GrayImage, x_height: f32) -> usize {
        let small = (x_height / 4.0).max(2.0) as u32;
        let reach = x_height.max(4.0) as u32;
        let tiny = |c: &Component| c.width() <= small && c.height() <= small;
        // Every component's box in a grid of `reach`-sized cells.
        let cell = reach.max(1);
        let (cols, rows) = (image.width / cell + 1, image.height / cell + 1);
        let mut grid: Vec<Vec<u32>> = vec![Vec::new(); (cols * rows) as usize];
        for (i, c) in self.components.iter().enumerate() {
            for gy in c.top / cell..=c.bottom / cell {
                for gx in c.left / cell..=c.right / cell {
                    grid[(gy * cols + gx) as usize].push(i as u32);
                }
            }
        }
        let mut speck = vec![false; self.components.len()];
        for (i, c) in self.components.iter().enumerate() {
            if !tiny(c) {
                continue;
            }
            let (l, t) = (c.left.saturating_sub(reach), c.top.saturating_sub(reach));
            let (r, b) = (c.right + reach, c.bottom + reach);
            let mut alone = true;
            'cells: for gy in t / cell..=(b / cell).min(rows - 1) {
                for gx in l / cell..=(r / cell).min(cols - 1) {
                    for &j in &grid[(gy * cols + gx) as usize] {
                        let o = &self.components[j as usize];
                        if j as usize != i
                            && o.right >= l
                            && o.left <= r
                            && o.bottom >= t
                            && o.top <= b
                        {
                            alone = false;
                            break 'cells;
                        }
                    }
                }
            }
            speck[i] = alone;
        }
        for (run, &owner) in self.runs.iter().zip(&self.owner) {
            if !speck[owner as usize] {
                continue;
            }
            // The run and a pixel around it (the speck's soft edge).
            for y in run.y.saturating_sub(1)..=(run.y + 1).min(image.height - 1) {
                let row = &mut image.pixels[y as usize * image.stride..][..image.width as usize];
                let x1 = (run.x1 + 1).min(image.width - 1);
                for p in &mut row[run.x0.saturating_sub(1) as usize..=x1 as usize] {
                    *p = 255;
                }
            }
        }
        speck.iter().filter(|s| **s).count()
    }
}

fn threshold(image: &GrayImage) -> u8 {
    let mut histogram = [0_u32; 256];
    let mut total = 0_u32;
    for y in (0..image.height).step_by(3) {
        let row = &image.pixels[y as usize * image.stride..][..image.width as usize];
        for &v in row.iter().step_by(3) {
            histogram[v as usize] += 1;
            total += 1;
        }
    }
    let at = |share: f32| {
        let goal = (total as f32 * share) as u32;
        let mut seen = 0;
        for (v, &n) in histogram.iter().enumerate() {
            seen += n;
            if seen > goal {
                return v as u8;
            }
        }
        255
    };
    let (ink, paper) = (at(0.005), at(0.9));
    ((u16::from(ink) + u16::from(paper)) / 2) as u8
}

/// How a page will be read: its measured x-height and the factor its sides
/// are multiplied by (1 = as it is).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub x_height: Option<f32>,
    pub factor: f32,
}

/// The factor that brings `x_height` to `TARGET_X_HEIGHT`: 1 (as it is) for
/// small print or when the text size is unknown.
pub(crate) fn factor_for(x_height: Option<f32>) -> f32 {
    match x_height {
        Some(x) if x >= SMALL_PRINT_X_HEIGHT => (TARGET_X_HEIGHT / x).clamp(MAX_REDUCTION, 1.0),
        _ => 1.0,
    }
}

/// Reduces `image` by `factor` (0 < factor < 1) by area averaging.
pub(crate) fn reduce(image: &GrayImage, factor: f32) -> GrayImage {
    let width = ((image.width as f32 * factor).round() as u32).max(1);
    let height = ((image.height as f32 * factor).round() as u32).max(1);
    // Horizontal pass into rows of `width` (fixed point, 8 fractional bits).
    let weights = |from: u32, to: u32| -> Vec<(u32, Vec<u32>)> {
        let step = from as f32 / to as f32;
        (0..to)
            .map(|o| {
                let (a, b) = (o as f32 * step, ((o + 1) as f32 * step).min(from as f32));
                let first = a.floor() as u32;
                let last = (b.ceil() as u32).min(from).max(first + 1);
                let w: Vec<u32> = (first..last)
                    .map(|i| {
                        let cover = (b.min(i as f32 + 1.0) - a.max(i as f32)).max(0.0);
                        (cover / step * 256.0).round() as u32
                    })
                    .collect();
                (first, w)
            })
            .collect()
    };
    let wx = weights(image.width, width);
    let wy = weights(image.height, height);
    let mut rows = vec![0_u16; width as usize * image.height as usize];
    for y in 0..image.height as usize {
        let src = &image.pixels[y * image.stride..][..image.width as usize];
        let out = &mut rows[y * width as usize..][..width as usize];
        for (o, (first, w)) in out.iter_mut().zip(&wx) {
            let mut sum = 0_u32;
            let mut total = 0_u32;
            for (k, &wt) in w.iter().enumerate() {
                sum += u32::from(src[*first as usize + k]) * wt;
                total += wt;
            }
            *o = (sum / total.max(1)) as u16;
        }
    }
    let mut pixels = vec![0_u8; width as usize * height as usize];
    for (oy, (first, w)) in wy.iter().enumerate() {
        let total: u32 = w.iter().sum::<u32>().max(1);
        let out = &mut pixels[oy * width as usize..][..width as usize];
        let mut acc = vec![0_u32; width as usize];
        for (k, &wt) in w.iter().enumerate() {
            let src = &rows[(*first as usize + k) * width as usize..][..width as usize];
            for (a, &v) in acc.iter_mut().zip(src) {
                *a += u32::from(v) * wt;
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            *o = (a / total).min(255) as u8;
        }
    }
    GrayImage {
        width,
        height,
        stride: width as usize,
        pixels,
    }
}

/// Cleans and sizes a page for recognition: specks painted over (when
/// `despeck`), then reduced to the target x-height. Returns the new image
/// (`None` when nothing changed) and the scale.
pub(crate) fn prepare(image: &GrayImage, despeck: bool) -> (Option<GrayImage>, Scale, usize) {
    // The benchmark's "before" column: the page as it came.
    if std::env::var_os("FOLIO_BENCH_SIZING").is_some_and(|v| v == "off") {
        return (
            None,
            Scale {
                x_height: None,
                factor: 1.0,
            },
            0,
        );
    }
    let ink = Ink::of(image);
    let x_height = ink.x_height();
    let mut current = None;
    let mut specks = 0;
    if despeck && let Some(x) = x_height {
        let mut copy = image.clone();
        specks = ink.remove_specks(&mut copy, x);
        if specks > 0 {
            current = Some(copy);
        }
    }
    let factor = factor_for(x_height);
    if factor < 1.0 {
        current = Some(reduce(current.as_ref().unwrap_or(image), factor));
    }
    (current, Scale { x_height, factor }, specks)
}
