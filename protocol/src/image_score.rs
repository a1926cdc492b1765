//! The score of an image task: one 8-byte pHash per image, concatenated in image order, and how
//! two such scores are compared (the contract's rule, here for clients and tests).

use crate::phash::{phash_png, ImageError, PHash};

/// Concatenates the pHashes of the images, in order.
pub fn image_score(hashes: &[PHash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.to_bytes()).collect()
}

/// The score of a set of PNG files.
pub fn score_pngs<B: AsRef<[u8]>>(images: &[B]) -> Result<Vec<u8>, ImageError> {
    let hashes = images
        .iter()
        .map(|png| phash_png(png.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(image_score(&hashes))
}

/// Whether two image scores agree: same length, a non-zero multiple of 8, every 8-byte chunk
/// fewer than `threshold` bits apart.
pub fn image_scores_agree(a: &[u8], b: &[u8], threshold: u32) -> bool {
    if a.len() != b.len() || a.is_empty() || !a.len().is_multiple_of(8) {
        return false;
    }
    a.chunks_exact(8).zip(b.chunks_exact(8)).all(|(x, y)| {
        let x = u64::from_be_bytes(x.try_into().expect("8-byte chunk"));
        let y = u64::from_be_bytes(y.try_into().expect("8-byte chunk"));
        (x ^ y).count_ones() < threshold
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_per_chunk_below_the_threshold() {
        let a = image_score(&[PHash(0), PHash(u64::MAX)]);
        let mut b = a.clone();
        b[0] = 0xff; // 8 bits off in the first image
        assert!(image_scores_agree(&a, &b, 9));
        assert!(!image_scores_agree(&a, &b, 8));
        assert!(!image_scores_agree(&a, &a[..8], 24));
        assert!(!image_scores_agree(&[], &[], 24));
    }
}
