//! How a node is stored.
//!
//! ```text
//! core:     status u8 | class id u32 | position in class tree u32 | stake u96 | model count u8 |
//!           recent task scores u8 x3 | recent count u8 | joinedAt u48
//! task:     the commitment of the task the node runs or ran last; non-zero from the first join
//!           on (never cleared: rewriting a non-zero slot costs 2,900 gas, filling a zero one
//!           20,000), and meaningful only while the node's status says it runs a task
//! pubkey_x, pubkey_y: the 64-byte public key
//! models:   (NODE_MODEL, address || index) -> keccak256(modelID), for `model count` entries
//! ```

use alloy_primitives::{Address, B256};

use crate::packing::Word;
use crate::store::{ns, slot, slot2, Slot};
use crate::{Host, TaskContract};

pub mod node_status {
    pub const QUIT: u8 = 0;
    pub const AVAILABLE: u8 = 1;
    pub const BUSY: u8 = 2;
    pub const PENDING_PAUSE: u8 = 3;
    pub const PENDING_QUIT: u8 = 4;
    pub const PAUSED: u8 = 5;
}

/// Most local models a node lists: each listed model costs one tree update every time the node
/// becomes busy or available, a cost borne by whoever's transaction moves the node.
pub const MAX_NODE_MODELS: u8 = 8;

/// Field offsets of a node record (namespace `NODE`); local models are records of their own
/// (namespace `NODE_MODEL`, key = address || index).
pub mod field {
    pub const CORE: u64 = 0;
    pub const TASK: u64 = 1;
    pub const PUBKEY_X: u64 = 2;
    pub const PUBKEY_Y: u64 = 3;
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct NodeCore {
    pub status: u8,
    pub class_id: u32,
    pub class_pos: u32,
    pub stake: u128,
    pub model_count: u8,
    /// Most recent first.
    pub recent: [u8; 3],
    pub recent_count: u8,
    pub joined_at: u64,
}

impl NodeCore {
    pub fn decode(w: Word) -> NodeCore {
        NodeCore {
            status: w.u8(0),
            class_id: w.uint(1, 4) as u32,
            class_pos: w.uint(5, 4) as u32,
            stake: w.uint(9, 12),
            model_count: w.u8(21),
            recent: [w.u8(22), w.u8(23), w.u8(24)],
            recent_count: w.u8(25),
            joined_at: w.u64(26, 6),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_u8(0, self.status);
        w.set_uint(1, 4, self.class_id as u128);
        w.set_uint(5, 4, self.class_pos as u128);
        w.set_uint(9, 12, self.stake);
        w.set_u8(21, self.model_count);
        w.set_u8(22, self.recent[0]);
        w.set_u8(23, self.recent[1]);
        w.set_u8(24, self.recent[2]);
        w.set_u8(25, self.recent_count);
        w.set_uint(26, 6, self.joined_at as u128);
        w
    }
}

pub(crate) fn node_base(node: &Address) -> Slot {
    slot(ns::NODE, node.as_slice())
}

/// Slot holding position + 1 of the node in its (class, model) tree (0: model not held).
pub(crate) fn model_position_slot(node: &Address, model_hash: &B256) -> Slot {
    slot2(ns::MODEL_POSITION, node.as_slice(), model_hash.as_slice())
}

impl<H: Host> TaskContract<H> {
    pub(crate) fn node_core(&self, node: &Address) -> NodeCore {
        NodeCore::decode(self.get_at(node_base(node), field::CORE))
    }

    pub(crate) fn set_node_core(&mut self, node: &Address, core: &NodeCore) {
        self.put_at(node_base(node), field::CORE, core.encode())
    }

    /// The task the node runs; zero when it runs none.
    pub(crate) fn node_task(&self, node: &Address) -> B256 {
        match self.node_core(node).status {
            node_status::BUSY | node_status::PENDING_PAUSE | node_status::PENDING_QUIT => {
                B256::new(self.get_at(node_base(node), field::TASK).0)
            }
            _ => B256::ZERO,
        }
    }

    /// Fills the node's task slot on its first join, so that starting a task rewrites a
    /// non-zero slot.
    pub(crate) fn prime_node_task(&mut self, node: &Address) {
        if self.get_at(node_base(node), field::TASK) == Word::default() {
            let mut w = Word::default();
            w.set_u8(31, 1);
            self.put_at(node_base(node), field::TASK, w);
        }
    }

    pub(crate) fn set_node_task(&mut self, node: &Address, c: &B256) {
        self.put_at(node_base(node), field::TASK, Word(c.0))
    }

    /// The node's `index`-th local model hash.
    pub(crate) fn node_model(&self, node: &Address, index: u8) -> B256 {
        B256::new(self.get(slot2(ns::NODE_MODEL, node.as_slice(), &[index])).0)
    }

    pub(crate) fn set_node_model(&mut self, node: &Address, index: u8, model_hash: &B256) {
        self.put(
            slot2(ns::NODE_MODEL, node.as_slice(), &[index]),
            Word(model_hash.0),
        )
    }

    /// Position + 1 of the node in its (class, model) tree, 0 when it does not hold the model.
    pub(crate) fn model_position(&self, node: &Address, model_hash: &B256) -> u32 {
        self.get(model_position_slot(node, model_hash)).uint(28, 4) as u32
    }

    pub(crate) fn set_model_position(&mut self, node: &Address, model_hash: &B256, pos1: u32) {
        let mut w = Word::default();
        w.set_uint(28, 4, pos1 as u128);
        self.put(model_position_slot(node, model_hash), w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_round_trip() {
        let c = NodeCore {
            status: node_status::PENDING_QUIT,
            class_id: 7,
            class_pos: 1000,
            stake: (1 << 96) - 1,
            model_count: 8,
            recent: [10, 0, 6],
            recent_count: 3,
            joined_at: 1_800_000_000,
        };
        assert_eq!(NodeCore::decode(c.encode()), c);
    }
}
