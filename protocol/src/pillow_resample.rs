//! Greyscale conversion and Lanczos resampling exactly as Pillow computes them, so that pHashes
//! equal Python `imagehash.phash`'s bit for bit. Pillow resamples 8-bit images with fixed-point
//! coefficients (22 fractional bits), a horizontal pass and then a vertical pass, rounding and
//! clipping after each; every step below keeps Pillow's order of floating-point operations
//! (libImaging/Resample.c, Convert.c).

/// Pillow's `L24`: ITU-R 601-2 luma in 16-bit fixed point, rounded.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

/// A greyscale image, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grey {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

const PRECISION_BITS: u32 = 32 - 8 - 2;
const LANCZOS_SUPPORT: f64 = 3.0;

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let x = x * std::f64::consts::PI;
    x.sin() / x
}

fn lanczos(x: f64) -> f64 {
    if (-3.0..3.0).contains(&x) {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

/// Per output pixel: the first input pixel used and the fixed-point weights from there.
struct Coefficients {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for the box 0..in_size.
fn coefficients(in_size: usize, out_size: usize) -> Coefficients {
    let scale = in_size as f32 as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = LANCZOS_SUPPORT * filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(out_size);
    let mut weights = vec![0i32; out_size * ksize];
    let mut k = vec![0f64; ksize];
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let ss = 1.0 / filterscale;
        // C casts truncate toward zero.
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize - xmin;
        let mut ww = 0.0;
        for (x, slot) in k.iter_mut().enumerate().take(xmax) {
            let w = lanczos(((x + xmin) as f64 - center + 0.5) * ss);
            *slot = w;
            ww += w;
        }
        for (x, slot) in k.iter().enumerate().take(xmax) {
            let w = if ww != 0.0 { slot / ww } else { *slot };
            let fixed = w * (1u32 << PRECISION_BITS) as f64;
            weights[xx * ksize + x] = if w < 0.0 {
                (-0.5 + fixed) as i32
            } else {
                (0.5 + fixed) as i32
            };
        }
        bounds.push((xmin, xmax));
    }
    Coefficients {
        ksize,
        bounds,
        weights,
    }
}

fn clip8(acc: i32) -> u8 {
    if acc >= (1 << PRECISION_BITS << 8) {
        255
    } else if acc <= 0 {
        0
    } else {
        (acc >> PRECISION_BITS) as u8
    }
}

/// `Image.resize((width, height), Image.LANCZOS)` of a greyscale image. Like Pillow (since the
/// 11 series; checked against 13.0), the vertical pass runs first when the height shrinks by more
/// than twice as many pixels as the width, else the horizontal pass does: the order changes the
/// intermediate rounding, so it matters for bit-exact results.
pub fn resize_lanczos(image: &Grey, width: usize, height: usize) -> Grey {
    let (in_w, in_h) = (image.width as i64, image.height as i64);
    let vertical_first =
        in_h - height as i64 > 0 && in_h - height as i64 > (in_w - width as i64) * 2;
    let (width_changes, height_changes) = (width != image.width, height != image.height);
    let first = if vertical_first {
        height_changes.then(|| vertical_pass(image, height))
    } else {
        width_changes.then(|| horizontal_pass(image, width))
    };
    let source = first.as_ref().unwrap_or(image);
    let second = if vertical_first {
        width_changes.then(|| horizontal_pass(source, width))
    } else {
        height_changes.then(|| vertical_pass(source, height))
    };
    // Pillow returns a copy when the size does not change.
    second.or(first).unwrap_or_else(|| image.clone())
}

fn horizontal_pass(image: &Grey, width: usize) -> Grey {
    let c = coefficients(image.width, width);
    let mut out = vec![0u8; width * image.height];
    for y in 0..image.height {
        let row = &image.pixels[y * image.width..(y + 1) * image.width];
        for (xx, &(xmin, xmax)) in c.bounds.iter().enumerate() {
            let k = &c.weights[xx * c.ksize..xx * c.ksize + xmax];
            let mut acc: i32 = 1 << (PRECISION_BITS - 1);
            for (x, w) in k.iter().enumerate() {
                acc += row[xmin + x] as i32 * w;
            }
            out[y * width + xx] = clip8(acc);
        }
    }
    Grey {
        width,
        height: image.height,
        pixels: out,
    }
}

fn vertical_pass(image: &Grey, height: usize) -> Grey {
    let c = coefficients(image.height, height);
    let mut out = vec![0u8; image.width * height];
    for (yy, &(ymin, ymax)) in c.bounds.iter().enumerate() {
        let k = &c.weights[yy * c.ksize..yy * c.ksize + ymax];
        for xx in 0..image.width {
            let mut acc: i32 = 1 << (PRECISION_BITS - 1);
            for (y, w) in k.iter().enumerate() {
                acc += image.pixels[(ymin + y) * image.width + xx] as i32 * w;
            }
            out[yy * image.width + xx] = clip8(acc);
        }
    }
    Grey {
        width: image.width,
        height,
        pixels: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luma_matches_pillow_on_primaries() {
        // Pillow: Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0))
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
    }

    #[test]
    fn a_flat_image_stays_flat() {
        let flat = Grey {
            width: 70,
            height: 45,
            pixels: vec![123; 70 * 45],
        };
        let small = resize_lanczos(&flat, 32, 32);
        assert!(small.pixels.iter().all(|&p| p == 123));
    }

    #[test]
    fn the_same_size_is_a_copy() {
        let img = Grey {
            width: 3,
            height: 2,
            pixels: vec![1, 2, 3, 4, 5, 6],
        };
        assert_eq!(resize_lanczos(&img, 3, 2), img);
    }
}
