//! Similarity of two nodes' results ("scores").
//!
//! SD / SD_FT: a score is one 64-bit perceptual hash per image; two scores agree iff they have the
//! same length, a multiple of 8, and every 8-byte chunk differs in fewer than `threshold` bits.
//! LLM: a score is the sha256 of the canonical result; agreement is equality.

use crate::task_record::task_type;

/// Longest score accepted: 64 image hashes.
pub const MAX_SCORE_LEN: usize = 512;

/// Whether a node may submit `score` for a task of this type.
pub fn is_well_formed(task_type: u8, score: &[u8]) -> bool {
    if task_type == task_type::LLM {
        score.len() == 32
    } else {
        !score.is_empty() && score.len().is_multiple_of(8) && score.len() <= MAX_SCORE_LEN
    }
}

pub fn agree(task_type: u8, a: &[u8], b: &[u8], threshold: u8) -> bool {
    if task_type == task_type::LLM {
        return a == b;
    }
    a.len() == b.len()
        && a.len().is_multiple_of(8)
        && a.chunks(8).zip(b.chunks(8)).all(|(x, y)| {
            let x = u64::from_be_bytes(x.try_into().unwrap_or_default());
            let y = u64::from_be_bytes(y.try_into().unwrap_or_default());
            (x ^ y).count_ones() < threshold as u32
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_record::task_type::{LLM, SD, SD_FT};

    #[test]
    fn image_scores_agree_per_chunk_below_threshold() {
        let a = [0u8; 16];
        let mut b = a;
        // 23 differing bits in the first chunk: agrees under threshold 24.
        b[0] = 0xFF;
        b[1] = 0xFF;
        b[2] = 0x7F;
        assert!(agree(SD, &a, &b, 24));
        // 24 bits: disagrees.
        b[2] = 0xFF;
        assert!(!agree(SD, &a, &b, 24));
        assert!(agree(SD_FT, &a, &b, 25));
        // Distances are per image, not summed: 20 + 20 bits agree.
        let mut c = a;
        c[0] = 0xFF;
        c[1] = 0xFF;
        c[2] = 0x0F;
        c[8] = 0xFF;
        c[9] = 0xFF;
        c[10] = 0x0F;
        assert!(agree(SD, &a, &c, 24));
    }

    #[test]
    fn image_scores_of_different_lengths_never_agree() {
        assert!(!agree(SD, &[0u8; 8], &[0u8; 16], 64));
        assert!(!agree(SD, &[0u8; 7], &[0u8; 7], 64));
    }

    #[test]
    fn text_scores_need_equality() {
        let a = [1u8; 32];
        let mut b = a;
        assert!(agree(LLM, &a, &b, 24));
        b[31] ^= 1;
        assert!(!agree(LLM, &a, &b, 64));
    }

    #[test]
    fn well_formed_scores() {
        assert!(is_well_formed(LLM, &[0u8; 32]));
        assert!(!is_well_formed(LLM, &[0u8; 31]));
        assert!(is_well_formed(SD, &[0u8; 8]));
        assert!(is_well_formed(SD_FT, &[0u8; 512]));
        assert!(!is_well_formed(SD, &[0u8; 520]));
        assert!(!is_well_formed(SD, &[]));
        assert!(!is_well_formed(SD, &[0u8; 12]));
    }
}
