//! The 64-bit perceptual hash of an image, identical to Python `imagehash.phash(img)` (hash size 8,
//! high-frequency factor 4): greyscale with Pillow's formula, Lanczos to 32x32 with Pillow's
//! fixed-point resampler, a 2-D DCT-II, the top-left 8x8 coefficients (DC included), and one bit
//! per coefficient above their median, row-major, most significant bit first.

use std::fmt;
use std::io::Cursor;

use crate::pillow_resample::{luma, resize_lanczos, Grey};

const SIDE: usize = 32;
const LOW: usize = 8;
/// Largest image accepted, in pixels (a 16k x 16k PNG would need 256 MiB of greyscale).
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// A 64-bit pHash; prints as 16 lowercase hex digits like imagehash's `str()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PHash(pub u64);

impl PHash {
    /// The number of differing bits (imagehash's `h1 - h2`).
    pub fn distance(&self, other: &PHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }

    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl fmt::Display for PHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a readable PNG: {0}")]
    Png(#[from] png::DecodingError),
    #[error("image has no pixels")]
    Empty,
    #[error("image of {0} pixels is over the limit of {MAX_PIXELS}")]
    TooLarge(u64),
    #[error(
        "16-bit greyscale PNGs are not supported (Pillow converts them by clipping, not scaling)"
    )]
    Grey16,
}

/// Decodes a PNG into Pillow's `convert("L")` greyscale.
pub fn decode_png_grey(bytes: &[u8]) -> Result<Grey, ImageError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    // Palettes and sub-byte depths to 8-bit samples, 16-bit samples to their high byte: what
    // Pillow's PNG plugin loads (RGB;16B keeps the high byte).
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info()?;
    let info = reader.info();
    let (width, height) = (info.width as usize, info.height as usize);
    if width == 0 || height == 0 {
        return Err(ImageError::Empty);
    }
    let pixels = width as u64 * height as u64;
    if pixels > MAX_PIXELS {
        return Err(ImageError::TooLarge(pixels));
    }
    if info.bit_depth == png::BitDepth::Sixteen
        && matches!(
            info.color_type,
            png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha
        )
    {
        return Err(ImageError::Grey16);
    }
    let mut buf = vec![
        0u8;
        reader
            .output_buffer_size()
            .ok_or(ImageError::TooLarge(pixels))?
    ];
    let frame = reader.next_frame(&mut buf)?;
    let channels = frame.color_type.samples();
    let mut grey = Vec::with_capacity(width * height);
    for y in 0..height {
        let row = &buf[y * frame.line_size..y * frame.line_size + width * channels];
        for px in row.chunks_exact(channels) {
            // Alpha is ignored, as Pillow's rgb2l and la2l ignore it.
            grey.push(match frame.color_type {
                png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha => px[0],
                _ => luma(px[0], px[1], px[2]),
            });
        }
    }
    Ok(Grey {
        width,
        height,
        pixels: grey,
    })
}

/// The pHash of a PNG file's bytes.
pub fn phash_png(bytes: &[u8]) -> Result<PHash, ImageError> {
    Ok(phash_grey(&decode_png_grey(bytes)?))
}

/// The pHash of a greyscale image.
pub fn phash_grey(image: &Grey) -> PHash {
    let small = resize_lanczos(image, SIDE, SIDE);
    let cos = cosine_table();
    // scipy's unnormalised DCT-II, first along axis 0 (down each column), then along axis 1; only
    // the 8 lowest frequencies of each are needed.
    let mut columns = [[0f64; SIDE]; LOW];
    for (k, out_row) in columns.iter_mut().enumerate() {
        for (x, out) in out_row.iter_mut().enumerate() {
            let mut sum = 0.0;
            for (y, c) in cos[k].iter().enumerate() {
                sum += small.pixels[y * SIDE + x] as f64 * c;
            }
            *out = 2.0 * sum;
        }
    }
    let mut low = [0f64; LOW * LOW];
    for (k, row) in columns.iter().enumerate() {
        for l in 0..LOW {
            let mut sum = 0.0;
            for (x, value) in row.iter().enumerate() {
                sum += value * cos[l][x];
            }
            low[k * LOW + l] = 2.0 * sum;
        }
    }
    let mut sorted = low;
    sorted.sort_unstable_by(f64::total_cmp);
    let median = (sorted[LOW * LOW / 2 - 1] + sorted[LOW * LOW / 2]) / 2.0;
    let mut bits = 0u64;
    for value in low {
        bits = (bits << 1) | (value > median) as u64;
    }
    PHash(bits)
}

/// cos(pi * k * (2n + 1) / (2N)) for the low frequencies k.
fn cosine_table() -> [[f64; SIDE]; LOW] {
    let mut table = [[0f64; SIDE]; LOW];
    for (k, row) in table.iter_mut().enumerate() {
        for (n, c) in row.iter_mut().enumerate() {
            *c = (std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * SIDE) as f64).cos();
        }
    }
    table
}

/// Parses 16 hex digits (with or without 0x) into a pHash.
pub fn parse_phash(text: &str) -> Option<PHash> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 16 {
        return None;
    }
    u64::from_str_radix(digits, 16).ok().map(PHash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_sixteen_hex_digits_and_parses_back() {
        let h = PHash(0x00ab_0000_0000_0001);
        assert_eq!(h.to_string(), "00ab000000000001");
        assert_eq!(parse_phash("0x00ab000000000001"), Some(h));
        assert_eq!(parse_phash("abc"), None);
    }

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(PHash(0b1011).distance(&PHash(0b0110)), 3);
    }

    #[test]
    fn refuses_non_png_bytes() {
        assert!(matches!(phash_png(b"GIF89a"), Err(ImageError::Png(_))));
    }
}
