//! GPU classes: the nodes that share a GPU name, a VRAM size and a worker version. Dispatch first
//! filters classes (few: one per GPU kind and version in use), then samples a node inside the
//! fitting classes' weighted trees, so that its cost does not grow with the number of nodes.
//!
//! ```text
//! name_hash: keccak256(gpuName)
//! spec:      vram u64 | version u32 x3 | joined nodes u32 | list position + 1 u32
//! name:      gpuName
//! ```

use alloy_primitives::{keccak256, B256};

use crate::packing::Word;
use crate::store::{ns, slot, Slot};
use crate::{Host, TaskContract};

/// Field offsets of a class record (namespace `CLASS`).
pub mod field {
    pub const NAME_HASH: u64 = 0;
    pub const SPEC: u64 = 1;
    /// Byte string.
    pub const NAME: u64 = 2;
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ClassSpec {
    pub vram: u64,
    pub version: [u32; 3],
    pub joined: u32,
    /// Position in the list of classes with joined nodes, plus one (0 = not listed).
    pub list_pos: u32,
}

impl ClassSpec {
    pub fn decode(w: Word) -> ClassSpec {
        ClassSpec {
            vram: w.u64(0, 8),
            version: [
                w.uint(8, 4) as u32,
                w.uint(12, 4) as u32,
                w.uint(16, 4) as u32,
            ],
            joined: w.uint(20, 4) as u32,
            list_pos: w.uint(24, 4) as u32,
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 8, self.vram as u128);
        w.set_uint(8, 4, self.version[0] as u128);
        w.set_uint(12, 4, self.version[1] as u128);
        w.set_uint(16, 4, self.version[2] as u128);
        w.set_uint(20, 4, self.joined as u128);
        w.set_uint(24, 4, self.list_pos as u128);
        w
    }
}

/// The key under which a class is found: its GPU name, VRAM and version.
pub fn class_key(name: &[u8], vram: u64, version: &[u32; 3]) -> B256 {
    let mut buf = [0u8; 52];
    buf[..32].copy_from_slice(keccak256(name).as_slice());
    buf[32..40].copy_from_slice(&vram.to_be_bytes());
    for (i, v) in version.iter().enumerate() {
        buf[40 + 4 * i..44 + 4 * i].copy_from_slice(&v.to_be_bytes());
    }
    keccak256(buf)
}

/// The weighted tree of a class's available nodes.
pub fn class_tree_id(class_id: u32) -> B256 {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&class_id.to_be_bytes());
    id[31] = 1;
    B256::new(id)
}

/// The weighted tree of a class's available nodes that hold one model.
pub fn model_tree_id(class_id: u32, model_hash: &B256) -> B256 {
    let mut buf = [0u8; 36];
    buf[..4].copy_from_slice(&class_id.to_be_bytes());
    buf[4..].copy_from_slice(model_hash.as_slice());
    keccak256(buf)
}

pub(crate) fn class_base(class_id: u32) -> Slot {
    slot(ns::CLASS, &class_id.to_be_bytes())
}

impl<H: Host> TaskContract<H> {
    pub(crate) fn class_spec(&self, class_id: u32) -> ClassSpec {
        ClassSpec::decode(self.get_at(class_base(class_id), field::SPEC))
    }

    pub(crate) fn set_class_spec(&mut self, class_id: u32, spec: &ClassSpec) {
        self.put_at(class_base(class_id), field::SPEC, spec.encode())
    }

    pub(crate) fn class_name_hash(&self, class_id: u32) -> B256 {
        B256::new(self.get_at(class_base(class_id), field::NAME_HASH).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trip_and_distinct_keys() {
        let s = ClassSpec {
            vram: 80,
            version: [1, 2, 3],
            joined: 9,
            list_pos: 4,
        };
        assert_eq!(ClassSpec::decode(s.encode()), s);
        assert_ne!(
            class_key(b"A100", 80, &[1, 2, 3]),
            class_key(b"A100", 40, &[1, 2, 3])
        );
        assert_ne!(
            class_key(b"A100", 80, &[1, 2, 3]),
            class_key(b"A100", 80, &[1, 2, 4])
        );
        assert_ne!(class_tree_id(1), model_tree_id(1, &B256::ZERO));
    }
}
