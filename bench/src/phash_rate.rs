//! pHash throughput: decode + hash of 1024x1024 RGB PNGs (the relay and the worker hash every
//! image result).

use std::time::Instant;

use anyhow::{Context, Result};
use node_worker::engines::seeded_rng::SeededRng;

#[derive(Debug, Clone)]
pub struct PhashRate {
    pub side: u32,
    pub images: usize,
    pub ms_per_image: f64,
}

/// A PNG of smooth waves plus noise, so that decoding does real work.
fn image(rng: &mut SeededRng, side: u32) -> Result<Vec<u8>> {
    let mut pixels = Vec::with_capacity((side * side * 3) as usize);
    let (a, b) = (rng.next_f64() * 0.05, rng.next_f64() * 0.05);
    for y in 0..side {
        for x in 0..side {
            let v = ((x as f64 * a).sin() + (y as f64 * b).cos()) * 60.0 + 128.0;
            let noise = (rng.next_u64() % 16) as f64;
            pixels.extend_from_slice(&[(v + noise) as u8, (v * 0.5) as u8, noise as u8]);
        }
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("png header")?;
    writer.write_image_data(&pixels).context("png data")?;
    writer.finish().context("png end")?;
    Ok(png_bytes)
}

pub fn measure() -> Result<PhashRate> {
    let side = 1024;
    let mut rng = SeededRng::new(3);
    let images = (0..4)
        .map(|_| image(&mut rng, side))
        .collect::<Result<Vec<_>>>()?;
    let rounds = 5;
    let started = Instant::now();
    for _ in 0..rounds {
        for png in &images {
            protocol::phash::phash_png(png).context("phash")?;
        }
    }
    let n = rounds * images.len();
    Ok(PhashRate {
        side,
        images: n,
        ms_per_image: started.elapsed().as_secs_f64() * 1000.0 / n as f64,
    })
}
