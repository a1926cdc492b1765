//! A queued task's price, fee per unit of task size, kept as the exact fraction: prices are
//! compared by cross-multiplication (fee_a * size_b against fee_b * size_a), so that tasks whose
//! floor-divided prices tie are still ordered by what they really pay.

use core::cmp::Ordering;

use crate::packing::Word;

/// Fee (< 2^96 wei) per size (< 2^48).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Price {
    pub fee: u128,
    pub size: u64,
}

impl Price {
    /// The 12 + 6 bytes at `off`.
    pub fn decode(w: Word, off: usize) -> Price {
        Price {
            fee: w.uint(off, 12),
            size: w.u64(off + 12, 6),
        }
    }

    pub fn encode(&self, w: &mut Word, off: usize) {
        w.set_uint(off, 12, self.fee);
        w.set_uint(off + 12, 6, self.size as u128);
    }

    /// Orders prices exactly; an empty price (size 0, nothing queued) is below every other.
    #[inline(never)]
    pub fn compare(&self, other: &Price) -> Ordering {
        // Tasks have a size of at least 1: size 0 only marks the empty price.
        match (self.size, other.size) {
            (0, 0) => Ordering::Equal,
            (0, _) => Ordering::Less,
            (_, 0) => Ordering::Greater,
            _ => wide_mul(self.fee, other.size).cmp(&wide_mul(other.fee, self.size)),
        }
    }

    pub fn above(&self, other: &Price) -> bool {
        self.compare(other) == Ordering::Greater
    }
}

/// a * b for a < 2^96, b < 2^64, as (high bits, low 64 bits): the product is below 2^160, too wide
/// for u128.
fn wide_mul(a: u128, b: u64) -> (u128, u64) {
    let low = (a as u64 as u128) * b as u128;
    let high = (a >> 64) * b as u128 + (low >> 64);
    (high, low as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    fn p(fee: u128, size: u64) -> Price {
        Price { fee, size }
    }

    #[test]
    fn compares_like_exact_fractions() {
        // 10/3 > 13/4 although both floor to 3.
        assert!(p(10, 3).above(&p(13, 4)));
        assert!(!p(13, 4).above(&p(10, 3)));
        assert_eq!(p(6, 3).compare(&p(4, 2)), Ordering::Equal);
        let max_fee = (1u128 << 96) - 1;
        let max_size = (1u64 << 48) - 1;
        assert!(p(max_fee, max_size).above(&p(max_fee - 1, max_size)));
        assert!(p(max_fee, max_size - 1).above(&p(max_fee, max_size)));
        assert!(p(1, 1).above(&Price::default()));
    }

    #[test]
    fn wide_products_match_u256() {
        let values = [
            0u128,
            1,
            7,
            u64::MAX as u128,
            1 << 64,
            (1 << 96) - 1,
            12345678901234567890,
        ];
        let sizes = [0u64, 1, 3, (1 << 48) - 1, u64::MAX];
        for &a in &values {
            for &b in &sizes {
                let (high, low) = wide_mul(a, b);
                let got = (U256::from(high) << 64) + U256::from(low);
                assert_eq!(got, U256::from(a) * U256::from(b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn round_trip() {
        let mut w = Word::default();
        let price = p((1 << 96) - 1, (1 << 48) - 1);
        price.encode(&mut w, 10);
        assert_eq!(Price::decode(w, 10), price);
    }
}
