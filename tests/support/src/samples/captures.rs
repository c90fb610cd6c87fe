//! Real-world captures with known text, for the tests and the capture
//! benchmark: what people send besides clean upright scans. Phone photos whose
//! pixels are stored sideways or upside down behind an EXIF Orientation tag,
//! sheets fed upside down or sideways (with and without `/Rotate`), skewed
//! scans, a photo under a lamp (light falling off, a shadow band, low
//! contrast), a 150 dpi bilevel fax, and Indonesian text. Deterministic.

use std::io::Cursor;

use anyhow::Context;
use pdfium_render::prelude::*;

use super::{fitted_height, jpeg, pdfium, png, render_text, scanner};

/// The kinds of capture, in the order the benchmark reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capture {
    /// A phone JPEG stored turned a quarter left, EXIF Orientation 6.
    ExifSideways,
    /// A phone JPEG stored upside down, EXIF Orientation 3.
    ExifUpsideDown,
    /// A scanned PDF page fed upside down (no `/Rotate`).
    UpsideDownScan,
    /// A scanned PDF page lying sideways (no `/Rotate`).
    SidewaysScan,
    /// A scanned PDF page lying sideways, put right by `/Rotate 90`.
    SidewaysRotated,
    /// A scanned PDF page skewed this many degrees.
    Skewed(f32),
    /// A phone JPEG under a lamp: light falling off, a shadow band, low contrast.
    Shadowed,
    /// A 150 dpi bilevel PNG, as a fax machine makes it.
    Fax,
    /// A clean scanned PDF page of Indonesian text (read with `ind`).
    Indonesian,
}

impl Capture {
    /// Every kind, one skew of each size the issue names.
    pub const ALL: [Capture; 11] = [
        Capture::ExifSideways,
        Capture::ExifUpsideDown,
        Capture::UpsideDownScan,
        Capture::SidewaysScan,
        Capture::SidewaysRotated,
        Capture::Skewed(2.0),
        Capture::Skewed(4.0),
        Capture::Skewed(6.0),
        Capture::Shadowed,
        Capture::Fax,
        Capture::Indonesian,
    ];

    pub fn name(self) -> String {
        match self {
            Capture::ExifSideways => "phone photo, EXIF Orientation 6".into(),
            Capture::ExifUpsideDown => "phone photo, EXIF Orientation 3".into(),
            Capture::UpsideDownScan => "scan fed upside down".into(),
            Capture::SidewaysScan => "sideways scan, no /Rotate".into(),
            Capture::SidewaysRotated => "sideways scan, /Rotate 90".into(),
            Capture::Skewed(degrees) => format!("scan skewed {degrees} degrees"),
            Capture::Shadowed => "photo, shadow band, low contrast".into(),
            Capture::Fax => "150 dpi bilevel fax".into(),
            Capture::Indonesian => "Indonesian scan".into(),
        }
    }

    /// The Tesseract language set to read it with.
    pub fn lang(self) -> &'static str {
        match self {
            Capture::Indonesian => "ind",
            _ => "eng",
        }
    }

    /// A short name for file names.
    pub fn slug(self) -> String {
        match self {
            Capture::ExifSideways => "exif6".into(),
            Capture::ExifUpsideDown => "exif3".into(),
            Capture::UpsideDownScan => "upside-down".into(),
            Capture::SidewaysScan => "sideways".into(),
            Capture::SidewaysRotated => "sideways-rotate90".into(),
            Capture::Skewed(degrees) => format!("skew{degrees}"),
            Capture::Shadowed => "shadowed".into(),
            Capture::Fax => "fax".into(),
            Capture::Indonesian => "indonesian".into(),
        }
    }

    /// Whether the capture is a PDF (else an image).
    pub fn is_pdf(self) -> bool {
        matches!(
            self,
            Capture::UpsideDownScan
                | Capture::SidewaysScan
                | Capture::SidewaysRotated
                | Capture::Skewed(_)
                | Capture::Indonesian
        )
    }
}

/// One capture and the text on it.
pub struct Sample {
    pub capture: Capture,
    pub text: String,
    pub bytes: Vec<u8>,
}

/// `capture` of `text` (a page or part of one), `seed` varying the noise.
pub fn capture(capture: Capture, text: &str, seed: u64) -> anyhow::Result<Sample> {
    let height = fitted_height(text);
    let bytes = match capture {
        Capture::ExifSideways => {
            let photo = scanner::scan(&render_text(text, 200, height)?, 0.0, 6, seed);
            with_orientation(&jpeg(&image::imageops::rotate270(&photo), 85)?, 6)?
        }
        Capture::ExifUpsideDown => {
            let photo = scanner::scan(&render_text(text, 200, height)?, 0.0, 6, seed);
            with_orientation(&jpeg(&image::imageops::rotate180(&photo), 85)?, 3)?
        }
        Capture::UpsideDownScan => {
            let scan = scanner::scan(&render_text(text, 300, height)?, 0.3, 8, seed);
            scan_pdf(&image::imageops::rotate180(&scan), 300, 0)?
        }
        Capture::SidewaysScan => {
            let scan = scanner::scan(&render_text(text, 300, height)?, 0.3, 8, seed);
            scan_pdf(&image::imageops::rotate90(&scan), 300, 0)?
        }
        Capture::SidewaysRotated => {
            let scan = scanner::scan(&render_text(text, 300, height)?, 0.3, 8, seed);
            scan_pdf(&image::imageops::rotate270(&scan), 300, 90)?
        }
        Capture::Skewed(degrees) => {
            let scan = scanner::scan(&render_text(text, 300, height)?, degrees, 8, seed);
            scan_pdf(&scan, 300, 0)?
        }
        Capture::Shadowed => jpeg(&under_a_lamp(&render_text(text, 200, height)?, seed), 85)?,
        Capture::Fax => {
            let scan = scanner::scan(&render_text(text, 150, height)?, 0.2, 20, seed);
            png(&image::GrayImage::from_fn(
                scan.width(),
                scan.height(),
                |x, y| {
                    image::Luma([if scan.get_pixel(x, y).0[0] < 150 {
                        0
                    } else {
                        255
                    }])
                },
            ))?
        }
        Capture::Indonesian => {
            let scan = scanner::scan(&render_text(text, 300, height)?, 0.3, 8, seed);
            scan_pdf(&scan, 300, 0)?
        }
    };
    Ok(Sample {
        capture,
        text: text.to_owned(),
        bytes,
    })
}

/// The text a capture of kind `capture` shows, `index` choosing which.
pub fn text_for(capture: Capture, index: usize) -> String {
    match capture {
        Capture::Indonesian => indonesian(index),
        _ => super::paragraph(index * 3 + 1) + "\n" + &super::paragraph(index * 3 + 2),
    }
}

const KALIMAT: [&str; 12] = [
    "Pasar pagi di ujung jalan selalu ramai oleh pedagang sayur, ikan, dan buah yang datang dari desa sekitar.",
    "Setiap hari Senin, para guru berkumpul di ruang rapat untuk membahas jadwal pelajaran dan kegiatan siswa.",
    "Hujan turun sejak sore sehingga jalan menuju stasiun tergenang air setinggi mata kaki.",
    "Perpustakaan kota membuka layanan baru untuk meminjam buku secara daring dan mengambilnya di loket.",
    "Petani di lereng gunung menanam kopi dan sayuran, lalu menjualnya ke koperasi setiap akhir pekan.",
    "Laporan keuangan bulan ini menunjukkan kenaikan biaya listrik sebesar delapan persen dibanding bulan lalu.",
    "Anak-anak belajar membaca dengan mendengarkan cerita, mengenali huruf, lalu mengeja kata demi kata.",
    "Kapal nelayan berangkat sebelum subuh dan kembali ke pelabuhan menjelang tengah hari dengan hasil tangkapan.",
    "Mohon kirimkan formulir yang telah ditandatangani beserta salinan kartu identitas paling lambat hari Jumat.",
    "Jembatan tua itu dicat ulang setiap tujuh tahun dan warnanya tidak pernah berubah sejak dibangun.",
    "Kantor kami pindah ke lantai tiga, tempat jendela menghadap taman dan cahaya sore terasa lebih lembut.",
    "Dokter menyarankan agar setiap orang berjalan kaki paling sedikit tiga puluh menit sehari.",
];

/// Indonesian prose, six sentences in an order set by `index`.
pub fn indonesian(index: usize) -> String {
    (0..6)
        .map(|i| KALIMAT[(index * 5 + i * 7) % KALIMAT.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A page photographed under a lamp: light falling off from one corner, a
/// soft shadow band across it, the contrast squeezed, a little noise.
pub fn under_a_lamp(page: &image::GrayImage, seed: u64) -> image::GrayImage {
    let (width, height) = page.dimensions();
    let (w, h) = (width as f32, height as f32);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    image::GrayImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / w, y as f32 / h);
        // Light from the top left, falling to about half at the far corner.
        let falloff = 1.0 - 0.45 * ((fx * fx + fy * fy) / 2.0).sqrt();
        // A shadow band (an arm, a phone) running down at a slant.
        let band = ((fx - 0.55 - 0.25 * fy) / 0.12).powi(2);
        let shadow = 1.0 - 0.45 * (-band).exp();
        let light = falloff * shadow;
        // Paper at about 215, ink at about 95, before the light.
        let ink = 1.0 - f32::from(page.get_pixel(x, y).0[0]) / 255.0;
        let value = (215.0 - 120.0 * ink) * light;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let jitter = (state % 13) as f32 - 6.0;
        image::Luma([(value + jitter).clamp(0.0, 255.0) as u8])
    })
}

/// `jpeg` with an EXIF block whose only tag is Orientation = `orientation`.
pub fn with_orientation(jpeg: &[u8], orientation: u16) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(jpeg.starts_with(&[0xFF, 0xD8]), "not a JPEG");
    let mut exif = b"Exif\0\0MM\0\x2A\0\0\0\x08".to_vec();
    exif.extend_from_slice(&1_u16.to_be_bytes()); // one entry
    exif.extend_from_slice(&0x0112_u16.to_be_bytes()); // Orientation
    exif.extend_from_slice(&3_u16.to_be_bytes()); // SHORT
    exif.extend_from_slice(&1_u32.to_be_bytes()); // one value
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0]);
    exif.extend_from_slice(&0_u32.to_be_bytes()); // no next directory
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&u16::try_from(exif.len() + 2)?.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    Ok(out)
}

/// A one-page PDF holding `scan` (made at `dpi`) as a JPEG over the whole
/// page, with `/Rotate` set to `rotate` degrees.
pub fn scan_pdf(scan: &image::GrayImage, dpi: u16, rotate: u16) -> anyhow::Result<Vec<u8>> {
    let pdfium = pdfium()?;
    let mut document = pdfium.create_new_pdf().context("new pdf")?;
    let scale = 72.0 / f32::from(dpi);
    let (width, height) = (scan.width() as f32 * scale, scan.height() as f32 * scale);
    let mut image =
        PdfPageImageObject::new_from_jpeg_reader(&document, Cursor::new(jpeg(scan, 80)?))
            .context("image object")?;
    image.scale(width, height).context("scale")?;
    let size = PdfPagePaperSize::new_custom(PdfPoints::new(width), PdfPoints::new(height));
    let mut page = document
        .pages_mut()
        .create_page_at_end(size)
        .context("page")?;
    page.objects_mut()
        .add_image_object(image)
        .context("add image")?;
    page.set_rotation(match rotate {
        90 => PdfPageRenderRotation::Degrees90,
        180 => PdfPageRenderRotation::Degrees180,
        270 => PdfPageRenderRotation::Degrees270,
        _ => PdfPageRenderRotation::None,
    });
    drop(page);
    document.save_to_bytes().context("save pdf")
}
