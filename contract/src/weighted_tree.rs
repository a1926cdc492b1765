//! A weighted set of addresses in storage that supports weighted random sampling, weight updates
//! and membership changes in O(log8 n) storage accesses.
//!
//! Members hold fixed positions. Weights live in an 8-ary sum tree whose nodes are packed eight to a
//! storage word: level 0 holds the members' own weights, each level above holds the sums of eight
//! words below. Changing one weight rewrites one word per level (1 word up to 8 members, 2 up to
//! 64, 3 up to 512, 4 up to 4096), and sampling reads one word per level.
//!
//! Word layout: byte 0 = 1 (a sentinel, so that a word never returns to zero: re-filling a zeroed
//! slot would cost 20,000 gas instead of 2,900), bytes 4..8 = number of members with a non-zero
//! weight (root word only), bytes 8..32 = eight 24-bit lanes.

use alloy_primitives::{Address, B256};

use crate::packing::Word;
use crate::store::{ns, slot, slot2, Slot};
use crate::{Host, TaskContract};

const LANES: u32 = 8;
const LANE_BITS: u32 = 3;

#[derive(Clone, Copy, Default)]
struct Meta {
    len: u32,
    top: u8,
    free: u32,
}

impl Meta {
    fn decode(w: Word) -> Meta {
        Meta {
            len: w.uint(0, 4) as u32,
            top: w.u8(4),
            free: w.uint(5, 4) as u32,
        }
    }

    fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 4, self.len as u128);
        w.set_u8(4, self.top);
        w.set_uint(5, 4, self.free as u128);
        w
    }
}

/// One packed word of the sum tree.
struct Lanes(Word);

impl Lanes {
    fn lane(&self, i: u32) -> u64 {
        self.0.u64(8 + 3 * i as usize, 3)
    }

    fn set_lane(&mut self, i: u32, v: u64) {
        self.0.set_uint(8 + 3 * i as usize, 3, v as u128);
    }

    fn count(&self) -> u32 {
        self.0.uint(4, 4) as u32
    }

    fn set_count(&mut self, v: u32) {
        self.0.set_uint(4, 4, v as u128);
    }

    fn total(&self) -> u64 {
        let mut total = 0;
        for i in 0..LANES {
            total += self.lane(i);
        }
        total
    }

    fn encode(mut self) -> Word {
        self.0.set_u8(0, 1);
        self.0
    }
}

fn word_slot(tree: &B256, level: u8, index: u32) -> Slot {
    let mut key = [0u8; 5];
    key[0] = level;
    key[1..].copy_from_slice(&index.to_be_bytes());
    slot2(ns::TREE_WORD, tree.as_slice(), &key)
}

fn member_slot(tree: &B256, pos: u32) -> Slot {
    slot2(ns::TREE_MEMBER, tree.as_slice(), &pos.to_be_bytes())
}

fn free_slot(tree: &B256, i: u32) -> Slot {
    slot2(ns::TREE_FREE, tree.as_slice(), &i.to_be_bytes())
}

impl<H: Host> TaskContract<H> {
    fn tree_meta(&self, tree: &B256) -> Meta {
        Meta::decode(self.get(slot(ns::TREE, tree.as_slice())))
    }

    fn set_tree_meta(&mut self, tree: &B256, meta: &Meta) {
        self.put(slot(ns::TREE, tree.as_slice()), meta.encode());
    }

    fn tree_word(&self, tree: &B256, level: u8, index: u32) -> Lanes {
        Lanes(self.get(word_slot(tree, level, index)))
    }

    fn set_tree_word(&mut self, tree: &B256, level: u8, index: u32, lanes: Lanes) {
        self.put(word_slot(tree, level, index), lanes.encode());
    }

    /// Sum of all weights and number of members with a non-zero weight.
    pub(crate) fn tree_totals(&self, tree: &B256) -> (u64, u32) {
        let top = self.tree_meta(tree).top;
        let root = self.tree_word(tree, top, 0);
        (root.total(), root.count())
    }

    /// Number of positions ever given out (freed ones included).
    pub(crate) fn tree_len(&self, tree: &B256) -> u32 {
        self.tree_meta(tree).len
    }

    pub(crate) fn tree_member(&self, tree: &B256, pos: u32) -> Address {
        self.get(member_slot(tree, pos)).address(12)
    }

    /// Gives `member` a position (weight 0).
    pub(crate) fn tree_insert(&mut self, tree: &B256, member: Address) -> u32 {
        let mut meta = self.tree_meta(tree);
        let pos = if meta.free > 0 {
            meta.free -= 1;
            self.get(free_slot(tree, meta.free)).uint(28, 4) as u32
        } else {
            let pos = meta.len;
            meta.len += 1;
            // Grow a level when the positions no longer fit under the root: the old root's sums
            // become lane 0 of the new root.
            if pos > 0 && pos >> (LANE_BITS * (meta.top as u32 + 1)) != 0 {
                let old = self.tree_word(tree, meta.top, 0);
                let mut root = Lanes(Word::default());
                root.set_lane(0, old.total());
                root.set_count(old.count());
                meta.top += 1;
                self.set_tree_word(tree, meta.top, 0, root);
            }
            pos
        };
        self.set_tree_meta(tree, &meta);
        let mut w = Word::default();
        w.set_address(12, member);
        self.put(member_slot(tree, pos), w);
        pos
    }

    /// Releases a position whose weight is already 0.
    pub(crate) fn tree_remove(&mut self, tree: &B256, pos: u32) {
        let mut meta = self.tree_meta(tree);
        let mut w = Word::default();
        w.set_uint(28, 4, pos as u128);
        self.put(free_slot(tree, meta.free), w);
        meta.free += 1;
        self.set_tree_meta(tree, &meta);
        self.put(member_slot(tree, pos), Word::default());
    }

    /// Sets the weight at `pos` and updates the sums above it.
    pub(crate) fn tree_set_weight(&mut self, tree: &B256, pos: u32, weight: u64) {
        let top = self.tree_meta(tree).top;
        let old = self
            .tree_word(tree, 0, pos >> LANE_BITS)
            .lane(pos & (LANES - 1));
        if old == weight {
            return;
        }
        let count_delta: i64 = match (old, weight) {
            (0, _) => 1,
            (_, 0) => -1,
            _ => 0,
        };
        for level in 0..=top {
            let shift = LANE_BITS * level as u32;
            let index = pos >> (shift + LANE_BITS);
            let lane = (pos >> shift) & (LANES - 1);
            let mut word = self.tree_word(tree, level, index);
            word.set_lane(lane, word.lane(lane) + weight - old);
            if level == top {
                word.set_count((word.count() as i64 + count_delta) as u32);
            }
            self.set_tree_word(tree, level, index, word);
        }
    }

    /// The member owning the point `target` (< total) of the cumulative weight line.
    pub(crate) fn tree_sample(&self, tree: &B256, mut target: u64) -> Address {
        let top = self.tree_meta(tree).top;
        let mut index = 0u32;
        for level in (0..=top).rev() {
            let word = self.tree_word(tree, level, index);
            let mut lane = 0;
            while lane < LANES - 1 && target >= word.lane(lane) {
                target -= word.lane(lane);
                lane += 1;
            }
            index = (index << LANE_BITS) | lane;
        }
        self.tree_member(tree, index)
    }
}
