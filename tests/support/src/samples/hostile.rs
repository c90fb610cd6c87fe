//! PNGs that attack a decoder through their header: one honestly enormous
//! (1-bit, so it stays small on the wire) and one whose header claims a size
//! its data does not have.

use std::io::Write;
use std::process::Command;

use anyhow::Context;

/// A real `width` × `height` 1-bit PNG, all white. 20,000 × 20,000 is 400 Mpx
/// of pixels in about 50 KB of file.
pub fn huge_png(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().context("png header")?;
    let mut stream = writer.stream_writer().context("png stream")?;
    let row = vec![0xFF_u8; (width as usize).div_ceil(8)];
    for _ in 0..height {
        stream.write_all(&row).context("png row")?;
    }
    stream.finish().context("png finish")?;
    drop(writer);
    Ok(out)
}

/// A valid small PNG whose IHDR was then rewritten to claim `width` × `height`
/// (with a correct CRC, so only the size is a lie).
pub fn lying_png(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let image = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
    let mut bytes = super::png(&image)?;
    // Signature (8) + length (4) + "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    Ok(bytes)
}

/// CRC-32 (IEEE), as PNG chunks use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `pdf` encrypted (AES-256) with `password` as both user and owner password,
/// by the `qpdf` command (Debian package `qpdf`).
pub fn encrypt_pdf(pdf: &[u8], password: &str) -> anyhow::Result<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("folio-qpdf-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).context("temp dir")?;
    let (input, output) = (dir.join("in.pdf"), dir.join("out.pdf"));
    let result = (|| {
        std::fs::write(&input, pdf).context("write pdf")?;
        let status = Command::new("qpdf")
            .args(["--encrypt", password, password, "256", "--"])
            .arg(&input)
            .arg(&output)
            .status()
            .context("cannot run qpdf (apt-get install qpdf)")?;
        anyhow::ensure!(status.success(), "qpdf failed: {status}");
        std::fs::read(&output).context("read encrypted pdf")
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
