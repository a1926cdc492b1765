//! A task's node requirements (models, GPU, VRAM, version), stored once per distinct requirement
//! and shared by every task that names it: the three tasks of a validation group, and the many
//! tasks an application sends with the same settings, write their models and GPU name once.
//!
//! The record also heads the queue partition of its tasks (see `queue.rs`).
//!
//! ```text
//! spec:     exists u8 | hasGPU u8 | minimumVRAM u64 | requiredGPUVRAM u64 | version u32 x3
//! gpu_hash: keccak256(requiredGPU) (zero when no GPU is required)
//! queue:    head sequence u48 | tail sequence u48 | count u32 | list position + 1 u32 | head price u96
//! ```

use alloc::vec::Vec;

use alloy_primitives::{keccak256, B256};

use crate::gpu_class::ClassSpec;
use crate::packing::Word;
use crate::store::{ns, slot, slot2, Slot};
use crate::{Host, TaskContract};

/// Field offsets of a requirement record (namespace `REQUIREMENT`); model IDs are records of
/// their own (namespace `REQUIREMENT_MODEL`, key = requirement key || index).
pub mod field {
    pub const SPEC: u64 = 0;
    pub const GPU_HASH: u64 = 1;
    pub const QUEUE: u64 = 2;
    pub const MODEL_COUNT: u64 = 3;
    /// Byte string.
    pub const REQUIRED_GPU: u64 = 4;
}

/// What a node must offer to run a task.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub min_vram: u64,
    pub gpu_vram: u64,
    pub version: [u32; 3],
    /// keccak256 of the required GPU name, zero when any GPU with enough VRAM will do.
    pub gpu_hash: B256,
}

impl Requirement {
    pub fn has_gpu(&self) -> bool {
        !self.gpu_hash.is_zero()
    }

    pub fn decode(w: Word, gpu_hash: B256) -> Requirement {
        Requirement {
            min_vram: w.u64(2, 8),
            gpu_vram: w.u64(10, 8),
            version: [
                w.uint(18, 4) as u32,
                w.uint(22, 4) as u32,
                w.uint(26, 4) as u32,
            ],
            gpu_hash,
        }
    }

    pub fn encode_spec(&self) -> Word {
        let mut w = Word::default();
        w.set_u8(0, 1);
        w.set_u8(1, self.has_gpu() as u8);
        w.set_uint(2, 8, self.min_vram as u128);
        w.set_uint(10, 8, self.gpu_vram as u128);
        w.set_uint(18, 4, self.version[0] as u128);
        w.set_uint(22, 4, self.version[1] as u128);
        w.set_uint(26, 4, self.version[2] as u128);
        w
    }

    /// Whether a node of this GPU class can run the task: the exact GPU (name and VRAM) when
    /// one is required, else enough VRAM; the same major version and a minor.patch at least
    /// the task's.
    pub fn fits(&self, class: &ClassSpec, class_name_hash: impl FnOnce() -> B256) -> bool {
        let hardware = if self.has_gpu() {
            class.vram == self.gpu_vram && class_name_hash() == self.gpu_hash
        } else {
            class.vram >= self.min_vram
        };
        hardware
            && class.version[0] == self.version[0]
            && (class.version[1], class.version[2]) >= (self.version[1], self.version[2])
    }
}

/// Identity of a requirement record: a hash over every field, strings length-prefixed so that
/// different lists never encode alike.
pub fn requirement_key(req: &Requirement, required_gpu: &[u8], model_ids: &[&[u8]]) -> B256 {
    let mut buf: Vec<u8> = Vec::with_capacity(64 + required_gpu.len());
    buf.extend_from_slice(&req.encode_spec().0);
    push_str(&mut buf, required_gpu);
    for id in model_ids {
        push_str(&mut buf, id);
    }
    keccak256(&buf)
}

fn push_str(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
    buf.extend_from_slice(s);
}

/// The queue partition header kept in a requirement record.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct QueueState {
    pub head: u64,
    pub tail: u64,
    pub count: u32,
    /// Position in the list of non-empty partitions, plus one (0 = not listed).
    pub list_pos: u32,
    pub head_price: u128,
}

impl QueueState {
    pub fn decode(w: Word) -> QueueState {
        QueueState {
            head: w.u64(0, 6),
            tail: w.u64(6, 6),
            count: w.uint(12, 4) as u32,
            list_pos: w.uint(16, 4) as u32,
            head_price: w.uint(20, 12),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 6, self.head as u128);
        w.set_uint(6, 6, self.tail as u128);
        w.set_uint(12, 4, self.count as u128);
        w.set_uint(16, 4, self.list_pos as u128);
        w.set_uint(20, 12, self.head_price);
        w
    }
}

pub(crate) fn requirement_base(key: &B256) -> Slot {
    slot(ns::REQUIREMENT, key.as_slice())
}

pub(crate) fn requirement_model_base(key: &B256, index: u8) -> Slot {
    slot2(ns::REQUIREMENT_MODEL, key.as_slice(), &[index])
}

impl<H: Host> TaskContract<H> {
    /// Reads a requirement record, touching the GPU name word only when one is required.
    pub(crate) fn requirement(&self, key: &B256) -> Requirement {
        let base = requirement_base(key);
        let spec = self.get_at(base, field::SPEC);
        let gpu_hash = if spec.u8(1) == 1 {
            B256::new(self.get_at(base, field::GPU_HASH).0)
        } else {
            B256::ZERO
        };
        Requirement::decode(spec, gpu_hash)
    }

    pub(crate) fn queue_state(&self, key: &B256) -> QueueState {
        QueueState::decode(self.get_at(requirement_base(key), field::QUEUE))
    }

    pub(crate) fn set_queue_state(&mut self, key: &B256, q: &QueueState) {
        self.put_at(requirement_base(key), field::QUEUE, q.encode())
    }

    /// Stores a requirement record the first time it is named.
    pub(crate) fn ensure_requirement(
        &mut self,
        key: &B256,
        req: &Requirement,
        required_gpu: &[u8],
        model_ids: &[&[u8]],
    ) {
        let base = requirement_base(key);
        if self.get_at(base, field::SPEC).u8(0) == 1 {
            return;
        }
        self.put_at(base, field::SPEC, req.encode_spec());
        if req.has_gpu() {
            self.put_at(base, field::GPU_HASH, Word(req.gpu_hash.0));
            self.put_bytes(base + field::REQUIRED_GPU, required_gpu);
        }
        let mut count = Word::default();
        count.set_u8(31, model_ids.len() as u8);
        self.put_at(base, field::MODEL_COUNT, count);
        for (i, id) in model_ids.iter().enumerate() {
            self.put_bytes(requirement_model_base(key, i as u8), id);
        }
    }

    /// The model IDs and the required GPU name of a requirement record.
    pub(crate) fn requirement_strings(&self, key: &B256) -> (Vec<Vec<u8>>, Vec<u8>) {
        let base = requirement_base(key);
        let count = self.get_at(base, field::MODEL_COUNT).u8(31);
        let mut models = Vec::with_capacity(count as usize);
        for i in 0..count {
            models.push(self.get_bytes(requirement_model_base(key, i)));
        }
        let gpu = self.get_bytes(base + field::REQUIRED_GPU);
        (models, gpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(vram: u64, version: [u32; 3]) -> ClassSpec {
        ClassSpec {
            vram,
            version,
            ..Default::default()
        }
    }

    #[test]
    fn vram_and_version_rules() {
        let req = Requirement {
            min_vram: 16,
            version: [2, 5, 3],
            ..Default::default()
        };
        let no_name = || unreachable!("no GPU name needed");
        assert!(req.fits(&class(16, [2, 5, 3]), no_name));
        assert!(req.fits(&class(24, [2, 6, 0]), no_name));
        assert!(!req.fits(&class(12, [2, 5, 3]), no_name));
        assert!(!req.fits(&class(24, [2, 5, 2]), no_name));
        assert!(!req.fits(&class(24, [2, 4, 9]), no_name));
        assert!(!req.fits(&class(24, [3, 5, 3]), no_name));
        assert!(!req.fits(&class(24, [1, 9, 9]), no_name));
    }

    #[test]
    fn required_gpu_needs_name_and_exact_vram() {
        let name = keccak256("NVIDIA GeForce RTX 4090");
        let req = Requirement {
            min_vram: 0,
            gpu_vram: 24,
            version: [1, 0, 0],
            gpu_hash: name,
        };
        assert!(req.fits(&class(24, [1, 0, 0]), || name));
        assert!(!req.fits(&class(48, [1, 0, 0]), || name));
        assert!(!req.fits(&class(24, [1, 0, 0]), || keccak256("A100")));
    }

    #[test]
    fn keys_separate_lists_that_concatenate_alike() {
        let req = Requirement::default();
        let a = requirement_key(&req, b"", &[b"ab", b"c"]);
        let b = requirement_key(&req, b"", &[b"a", b"bc"]);
        let c = requirement_key(&req, b"abc", &[]);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn queue_state_round_trip() {
        let q = QueueState {
            head: 1,
            tail: (1 << 48) - 1,
            count: 3,
            list_pos: 2,
            head_price: (1 << 96) - 1,
        };
        assert_eq!(QueueState::decode(q.encode()), q);
    }
}
