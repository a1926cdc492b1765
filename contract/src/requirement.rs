//! A task's node requirements (models, GPU, VRAM, version), stored once per distinct requirement
//! and shared by every task that names it: the three tasks of a validation group, and the many
//! tasks an application sends with the same settings, write their models and GPU name once.
//!
//! The record also heads the queue partition of its tasks (see `queue.rs`).
//!
//! Records are found by a sequential id (a task keeps the 4-byte id, not the 32-byte key); the id
//! is found from the requirement's key, a hash over all its fields.
//!
//! ```text
//! spec:     exists u8 | hasGPU u8 | minimumVRAM u64 | requiredGPUVRAM u64 | version u32 x3
//! gpu_hash: keccak256(requiredGPU) (zero when no GPU is required)
//! queue:    head sequence u40 | tail sequence u40 | count u16 | list position + 1 u16 |
//!           head price (fee u96 | size u48)
//! ```

use alloc::vec::Vec;

use alloy_primitives::{keccak256, B256};

use crate::gpu_class::ClassSpec;
use crate::packing::Word;
use crate::price::Price;
use crate::store::{ns, slot, slot2, Slot};
use crate::{Host, TaskContract};

/// Field offsets of a requirement record (namespace `REQUIREMENT`, key = id); model IDs are
/// records of their own (namespace `REQUIREMENT_MODEL`, key = id || index).
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
    pub count: u16,
    /// Position in the list of non-empty partitions, plus one (0 = not listed).
    pub list_pos: u16,
    pub head_price: Price,
}

impl QueueState {
    pub fn decode(w: Word) -> QueueState {
        QueueState {
            head: w.u64(0, 5),
            tail: w.u64(5, 5),
            count: w.uint(10, 2) as u16,
            list_pos: w.uint(12, 2) as u16,
            head_price: Price::decode(w, 14),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 5, self.head as u128);
        w.set_uint(5, 5, self.tail as u128);
        w.set_uint(10, 2, self.count as u128);
        w.set_uint(12, 2, self.list_pos as u128);
        self.head_price.encode(&mut w, 14);
        w
    }
}

pub(crate) fn requirement_base(id: u32) -> Slot {
    slot(ns::REQUIREMENT, &id.to_be_bytes())
}

pub(crate) fn requirement_model_base(id: u32, index: u8) -> Slot {
    slot2(ns::REQUIREMENT_MODEL, &id.to_be_bytes(), &[index])
}

impl<H: Host> TaskContract<H> {
    /// Reads a requirement record, touching the GPU name word only when one is required.
    pub(crate) fn requirement(&self, id: u32) -> Requirement {
        let base = requirement_base(id);
        let spec = self.get_at(base, field::SPEC);
        let gpu_hash = if spec.u8(1) == 1 {
            B256::new(self.get_at(base, field::GPU_HASH).0)
        } else {
            B256::ZERO
        };
        Requirement::decode(spec, gpu_hash)
    }

    pub(crate) fn queue_state(&self, id: u32) -> QueueState {
        QueueState::decode(self.get_at(requirement_base(id), field::QUEUE))
    }

    pub(crate) fn set_queue_state(&mut self, id: u32, q: &QueueState) {
        self.put_at(requirement_base(id), field::QUEUE, q.encode())
    }

    /// The id of the requirement record, stored the first time the requirement is named.
    pub(crate) fn requirement_id(
        &mut self,
        req: &Requirement,
        required_gpu: &[u8],
        model_ids: &[&[u8]],
    ) -> u32 {
        let key = requirement_key(req, required_gpu, model_ids);
        let id_slot = slot(ns::REQUIREMENT_ID, key.as_slice());
        let id = self.get(id_slot).uint(28, 4) as u32;
        if id != 0 {
            return id;
        }
        let mut lists = self.lists();
        lists.last_requirement_id += 1;
        let id = lists.last_requirement_id;
        self.set_lists(&lists);
        let mut w = Word::default();
        w.set_uint(28, 4, id as u128);
        self.put(id_slot, w);
        let base = requirement_base(id);
        self.put_at(base, field::SPEC, req.encode_spec());
        if req.has_gpu() {
            self.put_at(base, field::GPU_HASH, Word(req.gpu_hash.0));
            self.put_bytes(base + field::REQUIRED_GPU, required_gpu);
        }
        let mut count = Word::default();
        count.set_u8(31, model_ids.len() as u8);
        self.put_at(base, field::MODEL_COUNT, count);
        for (i, model) in model_ids.iter().enumerate() {
            self.put_bytes(requirement_model_base(id, i as u8), model);
        }
        id
    }

    /// The model IDs of a requirement record.
    pub(crate) fn requirement_models(&self, id: u32) -> Vec<Vec<u8>> {
        let count = self.get_at(requirement_base(id), field::MODEL_COUNT).u8(31);
        let mut models = Vec::with_capacity(count as usize);
        for i in 0..count {
            models.push(self.get_bytes(requirement_model_base(id, i)));
        }
        models
    }

    /// The required GPU name of a requirement record (empty when none is required).
    pub(crate) fn requirement_gpu(&self, id: u32) -> Vec<u8> {
        self.get_bytes(requirement_base(id) + field::REQUIRED_GPU)
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
            tail: (1 << 40) - 1,
            count: 3,
            list_pos: u16::MAX,
            head_price: Price {
                fee: (1 << 96) - 1,
                size: (1 << 48) - 1,
            },
        };
        assert_eq!(QueueState::decode(q.encode()), q);
    }
}
