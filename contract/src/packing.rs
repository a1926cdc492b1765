//! Big-endian fields at fixed byte offsets of a 32-byte storage word.
//!
//! The contract packs its records by hand (see README "Storage layout") so that each record is
//! read and written as whole words, one storage access per word.

use alloy_primitives::{Address, B256};

/// A storage word being decoded or encoded.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Word(pub [u8; 32]);

impl Word {
    pub fn from_b256(w: B256) -> Word {
        Word(w.0)
    }

    pub fn to_b256(self) -> B256 {
        B256::new(self.0)
    }

    /// Unsigned integer of `len` (<= 16) bytes at `off`.
    pub fn uint(&self, off: usize, len: usize) -> u128 {
        self.0[off..off + len]
            .iter()
            .fold(0u128, |acc, b| (acc << 8) | *b as u128)
    }

    pub fn set_uint(&mut self, off: usize, len: usize, value: u128) {
        let bytes = value.to_be_bytes();
        self.0[off..off + len].copy_from_slice(&bytes[16 - len..]);
    }

    pub fn u64(&self, off: usize, len: usize) -> u64 {
        self.uint(off, len) as u64
    }

    pub fn u8(&self, off: usize) -> u8 {
        self.0[off]
    }

    pub fn set_u8(&mut self, off: usize, value: u8) {
        self.0[off] = value;
    }

    pub fn address(&self, off: usize) -> Address {
        Address::new(bytes_at(&self.0[off..]))
    }

    pub fn set_address(&mut self, off: usize, value: Address) {
        self.0[off..off + 20].copy_from_slice(value.as_slice());
    }
}

/// The first `N` bytes of `bytes` as an array. Unlike `FixedBytes::from_slice` it brings no
/// formatted panic message into the program (each costs hundreds of bytes).
pub fn bytes_at<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_without_touching_neighbours() {
        let mut w = Word::default();
        w.set_address(0, Address::repeat_byte(0xAB));
        w.set_uint(20, 6, 0x0102_0304_0506);
        w.set_uint(26, 6, u64::MAX as u128);
        assert_eq!(w.address(0), Address::repeat_byte(0xAB));
        assert_eq!(w.u64(20, 6), 0x0102_0304_0506);
        // Truncated to the field width, as documented for every packed field.
        assert_eq!(w.u64(26, 6), 0xFFFF_FFFF_FFFF);
        w.set_uint(0, 12, u128::MAX);
        assert_eq!(w.uint(0, 12), (1u128 << 96) - 1);
        assert_eq!(w.u64(20, 6), 0x0102_0304_0506);
    }
}
