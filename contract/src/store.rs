//! The contract's storage access: whole 32-byte words at computed slots.
//!
//! A record of kind `ns` and key `key` starts at slot keccak256(ns || key) and takes consecutive
//! slots for its fields; the few global words live at slots 0..=7. Going through these few
//! non-generic functions instead of the SDK's nested storage collections keeps the program small
//! (each generic collection access otherwise inlines its own key hashing and caching code).

use alloc::vec::Vec;

use alloy_primitives::keccak256;

use crate::packing::Word;
use crate::{Host, TaskContract};

/// Global words.
pub mod global {
    pub const CONFIG0: u64 = 0;
    pub const CONFIG1: u64 = 1;
    pub const CONFIG2: u64 = 2;
    pub const STATS: u64 = 3;
    /// Lengths of the lists and the id counters (`config::Lists`).
    pub const LISTS: u64 = 4;
    /// The VRF verifier program's address (read only when validating).
    pub const VERIFIER: u64 = 5;
    /// The account ownership is being transferred to (two-step transfer).
    pub const PENDING_OWNER: u64 = 6;
    /// The extension program (`extension.rs`) the cold methods are delegated to.
    pub const EXTENSION: u64 = 7;
}

/// Record kinds (the first byte hashed into a record's base slot).
pub mod ns {
    /// commitment -> head, money, run, seed, nonce, group, score words
    pub const TASK: u8 = 1;
    /// creator || nonce -> paramsCommitment of the task that used the nonce (per creator)
    pub const NONCE: u8 = 2;
    /// sequence (u64) -> commitment of a queued task
    pub const QUEUED: u8 = 3;
    /// requirement id (u32) -> spec, GPU name hash, queue state, model count, required GPU string
    pub const REQUIREMENT: u8 = 4;
    /// requirement id (u32) || index (u8) -> model ID string
    pub const REQUIREMENT_MODEL: u8 = 5;
    /// index (u32) -> requirement id of a non-empty queue partition
    pub const PARTITION: u8 = 6;
    /// address -> core, current task, public key X, public key Y
    pub const NODE: u8 = 7;
    /// address || index (u8) -> local model hash
    pub const NODE_MODEL: u8 = 8;
    /// address || model hash -> position + 1 in the (class, model) tree
    pub const MODEL_POSITION: u8 = 9;
    /// class id (u32) -> name hash, spec, name string
    pub const CLASS: u8 = 10;
    /// class key -> class id
    pub const CLASS_ID: u8 = 11;
    /// index (u32) -> id of a class with joined nodes
    pub const ACTIVE_CLASS: u8 = 12;
    /// tree id -> root word (top lanes and shape), head of the released positions
    pub const TREE: u8 = 13;
    /// tree id || level (u8) || index (u32) -> packed weight sums
    pub const TREE_WORD: u8 = 14;
    /// tree id || position (u32) -> member address, or the next released position
    pub const TREE_MEMBER: u8 = 15;
    /// address -> withdrawable credit
    pub const CREDIT: u8 = 17;
    /// terms id (u32) -> deadlines, sampling rate, distance threshold
    pub const TERMS: u8 = 18;
    /// requirement key (hash of the whole requirement) -> requirement id
    pub const REQUIREMENT_ID: u8 = 19;
}

/// A storage slot as its 32 big-endian bytes, the form the hostios take: record fields are
/// addressed by adding to the last bytes, without 256-bit number conversions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot(pub [u8; 32]);

impl Slot {
    /// Global word `index`.
    pub fn global(index: u64) -> Slot {
        Slot::default().offset(index)
    }

    /// The slot `n` after this one (wrapping at 2^256, like EVM slot arithmetic).
    #[inline(never)]
    pub fn offset(mut self, n: u64) -> Slot {
        let mut carry = n as u128;
        for byte in self.0.iter_mut().rev() {
            if carry == 0 {
                break;
            }
            carry += *byte as u128;
            *byte = carry as u8;
            carry >>= 8;
        }
        self
    }
}

impl core::ops::Add<u64> for Slot {
    type Output = Slot;
    fn add(self, n: u64) -> Slot {
        self.offset(n)
    }
}

/// Base slot of a record.
#[inline(never)]
pub fn slot(ns: u8, key: &[u8]) -> Slot {
    let mut buf = [0u8; 64];
    buf[0] = ns;
    buf[1..1 + key.len()].copy_from_slice(key);
    Slot(keccak256(&buf[..1 + key.len()]).0)
}

/// Base slot of a record keyed by two parts.
pub fn slot2(ns: u8, a: &[u8], b: &[u8]) -> Slot {
    let mut key = [0u8; 63];
    key[..a.len()].copy_from_slice(a);
    key[a.len()..a.len() + b.len()].copy_from_slice(b);
    slot(ns, &key[..a.len() + b.len()])
}

impl<H: Host> TaskContract<H> {
    #[inline(never)]
    pub(crate) fn get(&self, slot: Slot) -> Word {
        Word(self.host.load(&slot.0))
    }

    #[inline(never)]
    pub(crate) fn put(&mut self, slot: Slot, w: Word) {
        self.host.store(&slot.0, &w.0)
    }

    pub(crate) fn get_at(&self, base: Slot, field: u64) -> Word {
        self.get(base + field)
    }

    pub(crate) fn put_at(&mut self, base: Slot, field: u64, w: Word) {
        self.put(base + field, w)
    }

    pub(crate) fn get_global(&self, index: u64) -> Word {
        self.get(Slot::global(index))
    }

    pub(crate) fn put_global(&mut self, index: u64, w: Word) {
        self.put(Slot::global(index), w)
    }

    /// Byte strings: the length at `base`, the data in the words after it.
    pub(crate) fn get_bytes(&self, base: Slot) -> Vec<u8> {
        let len = self.get(base).u64(24, 8) as usize;
        self.get_data(base + 1, len)
    }

    pub(crate) fn put_bytes(&mut self, base: Slot, data: &[u8]) {
        let mut len = Word::default();
        len.set_uint(24, 8, data.len() as u128);
        self.put(base, len);
        self.put_data(base + 1, data);
    }

    /// `len` bytes kept in the words from `base` on (the length is stored elsewhere).
    #[inline(never)]
    pub(crate) fn get_data(&self, base: Slot, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut i = 0u64;
        while out.len() < len {
            let w = self.get_at(base, i);
            let take = (len - out.len()).min(32);
            out.extend_from_slice(&w.0[..take]);
            i += 1;
        }
        out
    }

    #[inline(never)]
    pub(crate) fn put_data(&mut self, base: Slot, data: &[u8]) {
        for (i, chunk) in data.chunks(32).enumerate() {
            let mut w = Word::default();
            w.0[..chunk.len()].copy_from_slice(chunk);
            self.put_at(base, i as u64, w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn offsets_add_like_256_bit_numbers() {
        let cases = [
            ([0u8; 32], 5u64),
            ([0xff; 32], 1),
            ([0xff; 32], u64::MAX),
            (keccak256(b"record").0, u64::MAX),
            (keccak256(b"record").0, 3),
        ];
        for (base, n) in cases {
            let expected = U256::from_be_bytes(base).wrapping_add(U256::from(n));
            assert_eq!(Slot(base).offset(n).0, expected.to_be_bytes::<32>());
            assert_eq!((Slot(base) + n).0, expected.to_be_bytes::<32>());
        }
        assert_eq!(Slot::global(4).0, U256::from(4).to_be_bytes::<32>());
    }
}
