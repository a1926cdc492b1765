//! A weighted set of addresses in storage that supports weighted random sampling, weight updates
//! and membership changes in O(log n) storage accesses, with as few words per level as fit.
//!
//! Members hold fixed positions. Weights live in a sum tree: a leaf word holds the weights of 24
//! members (8-bit lanes: a weight is at most 30, `qos::weight`), each word above holds the sums of
//! 8 words below (24-bit lanes). The root word sits at the tree's own slot and also carries the
//! tree's shape, so that totals, sampling and updates start from one read. Changing one weight
//! rewrites one word per level: 1 word up to 24 positions, 2 up to 192, 3 up to 1,536, 4 up to
//! 12,288.
//!
//! Word layout: byte 0 = the tree's height + 1 in the root, 1 in every other word (never zero, so
//! that a word does not return to zero: re-filling a zeroed slot costs 20,000 gas instead of
//! 2,900); root only: bytes 1..4 = positions given out (u24), bytes 4..7 = members with a non-zero
//! weight (u24); bytes 8..32 = the lanes. The root's lanes bound the total weight to 2^24 - 1
//! (over 500,000 members at the top weight). The number of released positions waiting for reuse
//! is the word after the root.

use alloy_primitives::{Address, B256};

use crate::packing::Word;
use crate::store::{ns, slot, slot2, Slot};
use crate::{Host, TaskContract};

/// Positions per leaf word.
const LEAF_LANES: u32 = 24;
/// Children per word above the leaves (a power of two: index arithmetic by shifts).
const FAN_OUT_BITS: u32 = 3;
const FAN_OUT: u32 = 1 << FAN_OUT_BITS;
/// Where the lanes start in a word.
const LANES_AT: usize = 8;
/// Most positions a tree gives out (the root's u24 counter).
const MAX_POSITIONS: u32 = (1 << 24) - 1;

/// Positions covered by one word at `level` (0 = leaves).
fn span(level: u8) -> u64 {
    (LEAF_LANES as u64) << (FAN_OUT_BITS * level as u32)
}

/// One packed word of the sum tree.
#[derive(Clone, Copy)]
struct Lanes {
    word: Word,
    leaf: bool,
}

impl Lanes {
    fn new(leaf: bool) -> Lanes {
        Lanes {
            word: Word::default(),
            leaf,
        }
    }

    fn len(&self) -> u32 {
        if self.leaf {
            LEAF_LANES
        } else {
            FAN_OUT
        }
    }

    fn lane(&self, i: u32) -> u64 {
        if self.leaf {
            self.word.u8(LANES_AT + i as usize) as u64
        } else {
            self.word.u64(LANES_AT + 3 * i as usize, 3)
        }
    }

    fn set_lane(&mut self, i: u32, v: u64) {
        if self.leaf {
            self.word.set_u8(LANES_AT + i as usize, v as u8);
        } else {
            self.word.set_uint(LANES_AT + 3 * i as usize, 3, v as u128);
        }
    }

    fn total(&self) -> u64 {
        let mut total = 0;
        for i in 0..self.len() {
            total += self.lane(i);
        }
        total
    }
}

/// The root word: the top level's lanes and the tree's shape.
#[derive(Clone, Copy)]
struct Root {
    lanes: Lanes,
    /// Level of the root (0: the root is the only leaf).
    height: u8,
    /// Positions given out, released ones included.
    len: u32,
    /// Members with a non-zero weight.
    count: u32,
}

impl Root {
    fn decode(w: Word) -> Root {
        let height = w.u8(0).saturating_sub(1);
        Root {
            lanes: Lanes {
                word: w,
                leaf: height == 0,
            },
            height,
            len: w.uint(1, 3) as u32,
            count: w.uint(4, 3) as u32,
        }
    }

    fn encode(mut self) -> Word {
        self.lanes.word.set_u8(0, self.height + 1);
        self.lanes.word.set_uint(1, 3, self.len as u128);
        self.lanes.word.set_uint(4, 3, self.count as u128);
        self.lanes.word
    }
}

fn root_slot(tree: &B256) -> Slot {
    slot(ns::TREE, tree.as_slice())
}

/// The first released position waiting for reuse, + 1 (0: none), with a non-zero marker.
fn free_head_slot(tree: &B256) -> Slot {
    root_slot(tree) + 1
}

/// A free-list word: `next` (a position + 1, or 0) and the marker that keeps it non-zero.
fn free_link(next: u32) -> Word {
    let mut w = Word::default();
    w.set_uint(0, 4, next as u128);
    w.set_u8(4, 1);
    w
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

/// The word at `level` on the path to `pos`, and the lane in it.
fn path(pos: u32, level: u8) -> (u32, u32) {
    let leaf = pos / LEAF_LANES;
    if level == 0 {
        return (leaf, pos % LEAF_LANES);
    }
    let below = leaf >> (FAN_OUT_BITS * (level as u32 - 1));
    (below >> FAN_OUT_BITS, below & (FAN_OUT - 1))
}

impl<H: Host> TaskContract<H> {
    fn tree_root(&self, tree: &B256) -> Root {
        Root::decode(self.get(root_slot(tree)))
    }

    fn set_tree_root(&mut self, tree: &B256, root: Root) {
        self.put(root_slot(tree), root.encode());
    }

    /// A word below the root.
    fn tree_word(&self, tree: &B256, level: u8, index: u32) -> Lanes {
        Lanes {
            word: self.get(word_slot(tree, level, index)),
            leaf: level == 0,
        }
    }

    fn set_tree_word(&mut self, tree: &B256, level: u8, index: u32, mut lanes: Lanes) {
        // The sentinel, and no root header (a former root's lanes move down when a level grows).
        lanes.word.set_uint(0, LANES_AT, 1);
        self.put(word_slot(tree, level, index), lanes.word);
    }

    /// Sum of all weights and number of members with a non-zero weight.
    pub(crate) fn tree_totals(&self, tree: &B256) -> (u64, u32) {
        let root = self.tree_root(tree);
        (root.lanes.total(), root.count)
    }

    /// Number of positions ever given out (freed ones included).
    pub(crate) fn tree_len(&self, tree: &B256) -> u32 {
        self.tree_root(tree).len
    }

    pub(crate) fn tree_member(&self, tree: &B256, pos: u32) -> Address {
        self.get(member_slot(tree, pos)).address(12)
    }

    /// Gives `member` a position (weight 0): the last released one, else a new one.
    pub(crate) fn tree_insert(&mut self, tree: &B256, member: Address) -> u32 {
        let head = self.get(free_head_slot(tree));
        let released = head.uint(0, 4) as u32;
        let pos = if released > 0 {
            let pos = released - 1;
            let next = self.get(member_slot(tree, pos)).uint(0, 4) as u32;
            self.put(free_head_slot(tree), free_link(next));
            pos
        } else {
            if head == Word::default() {
                // A new tree: its list head exists from now on.
                self.put(free_head_slot(tree), free_link(0));
            }
            let mut root = self.tree_root(tree);
            let pos = root.len;
            // Nodes join one by one and pay for it: 2^24 positions are out of reach.
            assert!(pos < MAX_POSITIONS);
            root.len += 1;
            // Grow a level when the positions no longer fit under the root: the root's lanes
            // move into the first word of its level, whose sum becomes lane 0 of the new root.
            if pos as u64 == span(root.height) {
                let total = root.lanes.total();
                self.set_tree_word(tree, root.height, 0, root.lanes);
                root.height += 1;
                root.lanes = Lanes::new(false);
                root.lanes.set_lane(0, total);
            }
            self.set_tree_root(tree, root);
            pos
        };
        let mut w = Word::default();
        w.set_address(12, member);
        self.put(member_slot(tree, pos), w);
        pos
    }

    /// Releases a position whose weight is already 0.
    pub(crate) fn tree_remove(&mut self, tree: &B256, pos: u32) {
        let next = self.get(free_head_slot(tree)).uint(0, 4) as u32;
        self.put(member_slot(tree, pos), free_link(next));
        self.put(free_head_slot(tree), free_link(pos + 1));
    }

    /// Sets the weight at `pos` (at most 255) and updates the sums above it.
    pub(crate) fn tree_set_weight(&mut self, tree: &B256, pos: u32, weight: u64) {
        let mut root = self.tree_root(tree);
        // The old weight, read from the leaf lane.
        let mut old = None;
        for level in 0..root.height {
            let (index, lane) = path(pos, level);
            let mut word = self.tree_word(tree, level, index);
            let before = word.lane(lane);
            let was = *old.get_or_insert(before);
            if was == weight {
                return;
            }
            word.set_lane(lane, before + weight - was);
            self.set_tree_word(tree, level, index, word);
        }
        let (_, lane) = path(pos, root.height);
        let before = root.lanes.lane(lane);
        let was = old.unwrap_or(before);
        if was == weight {
            return;
        }
        root.lanes.set_lane(lane, before + weight - was);
        match (was, weight) {
            (0, _) => root.count += 1,
            (_, 0) => root.count -= 1,
            _ => {}
        }
        self.set_tree_root(tree, root);
    }

    /// The member owning the point `target` (< total) of the cumulative weight line.
    pub(crate) fn tree_sample(&self, tree: &B256, mut target: u64) -> Address {
        let root = self.tree_root(tree);
        let mut word = root.lanes;
        let mut index = 0u32;
        let mut level = root.height;
        loop {
            let mut lane = 0;
            while lane < word.len() - 1 && target >= word.lane(lane) {
                target -= word.lane(lane);
                lane += 1;
            }
            if level == 0 {
                return self.tree_member(tree, index * LEAF_LANES + lane);
            }
            index = (index << FAN_OUT_BITS) | lane;
            level -= 1;
            word = self.tree_word(tree, level, index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use alloy_primitives::U256;
    use core::cell::RefCell;

    /// Storage only: the tree needs nothing else of the chain.
    #[derive(Default)]
    struct Memory(RefCell<BTreeMap<[u8; 32], [u8; 32]>>);

    impl Host for Memory {
        fn sender(&self) -> Address {
            Address::ZERO
        }
        fn value(&self) -> U256 {
            U256::ZERO
        }
        fn timestamp(&self) -> u64 {
            0
        }
        fn address(&self) -> Address {
            Address::ZERO
        }
        fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
            self.0.borrow().get(slot).copied().unwrap_or_default()
        }
        fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
            self.0.borrow_mut().insert(*slot, *word);
        }
        fn emit_log(&self, _: &[u8], _: usize) {}
        fn send_value(&self, _: &Address, _: &U256, _: Option<u64>) -> bool {
            false
        }
        fn static_call(&self, _: &Address, _: &[u8]) -> Option<Vec<u8>> {
            None
        }
        fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
            crate::host::native_mul_mod(a, b, m)
        }
        fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
            crate::host::native_add_mod(a, b, m)
        }
        fn delegate_call(&self, _: &Address, _: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
            Err(Vec::new())
        }
    }

    fn member(i: u32) -> Address {
        let mut a = [0u8; 20];
        a[16..].copy_from_slice(&(i + 1).to_be_bytes());
        Address::new(a)
    }

    /// Checks every point of the weight line against a plain list of weights.
    fn check(c: &TaskContract<Memory>, tree: &B256, weights: &[u64]) {
        let total: u64 = weights.iter().sum();
        let count = weights.iter().filter(|w| **w > 0).count() as u32;
        assert_eq!(c.tree_totals(tree), (total, count));
        let mut target = 0;
        for (pos, w) in weights.iter().enumerate() {
            for _ in 0..*w {
                assert_eq!(c.tree_sample(tree, target), member(pos as u32), "{target}");
                target += 1;
            }
        }
    }

    #[test]
    fn paths_split_positions_into_leaves_of_24_and_words_of_8() {
        assert_eq!(path(0, 0), (0, 0));
        assert_eq!(path(23, 0), (0, 23));
        assert_eq!(path(24, 0), (1, 0));
        assert_eq!(path(24, 1), (0, 1));
        assert_eq!(path(191, 1), (0, 7));
        assert_eq!(path(192, 1), (1, 0));
        assert_eq!(path(192, 2), (0, 1));
        assert_eq!(span(0), 24);
        assert_eq!(span(1), 192);
        assert_eq!(span(2), 1_536);
    }

    #[test]
    fn sampling_follows_the_weights_across_every_growth() {
        let mut c = TaskContract {
            host: Memory::default(),
        };
        let tree = B256::repeat_byte(9);
        let mut weights = Vec::new();
        // Up to the fourth level (1,536 positions fill three).
        for i in 0..1_600u32 {
            assert_eq!(c.tree_insert(&tree, member(i)), i);
            weights.push(0);
            let w = (i as u64 * 7) % 31;
            c.tree_set_weight(&tree, i, w);
            weights[i as usize] = w;
            if [0, 1, 23, 24, 25, 191, 192, 193, 1_535, 1_536, 1_599].contains(&i) {
                check(&c, &tree, &weights);
            }
        }
        assert_eq!(c.tree_root(&tree).height, 3);
        assert_eq!(c.tree_len(&tree), 1_600);
        // Weights to 0 and back, and the largest weight.
        for pos in [0u32, 23, 24, 700, 1_599] {
            c.tree_set_weight(&tree, pos, 0);
            weights[pos as usize] = 0;
        }
        check(&c, &tree, &weights);
        c.tree_set_weight(&tree, 700, 255);
        weights[700] = 255;
        check(&c, &tree, &weights);
        // Released positions come back (last released first) before new ones.
        c.tree_remove(&tree, 24);
        c.tree_remove(&tree, 1_599);
        c.tree_remove(&tree, 0);
        assert_eq!(c.tree_member(&tree, 24), Address::ZERO);
        assert_eq!(c.tree_member(&tree, 0), Address::ZERO);
        assert_eq!(c.tree_insert(&tree, member(0)), 0);
        assert_eq!(c.tree_insert(&tree, member(1_599)), 1_599);
        assert_eq!(c.tree_insert(&tree, member(24)), 24);
        assert_eq!(c.tree_insert(&tree, member(1_600)), 1_600);
        assert_eq!(c.tree_len(&tree), 1_601);
        weights.push(0);
        check(&c, &tree, &weights);
    }

    #[test]
    fn no_word_returns_to_zero() {
        let mut c = TaskContract {
            host: Memory::default(),
        };
        let tree = B256::repeat_byte(3);
        for i in 0..200u32 {
            c.tree_insert(&tree, member(i));
            c.tree_set_weight(&tree, i, 30);
        }
        for i in 0..200u32 {
            c.tree_set_weight(&tree, i, 0);
        }
        check(&c, &tree, &[0; 200]);
        // Releasing every position and taking them back.
        for i in 0..200u32 {
            c.tree_remove(&tree, i);
        }
        for i in (0..200u32).rev() {
            assert_eq!(c.tree_insert(&tree, member(i)), i);
        }
        assert_eq!(c.tree_len(&tree), 200);
        let zero_words = c
            .host
            .0
            .borrow()
            .values()
            .filter(|w| **w == [0u8; 32])
            .count();
        assert_eq!(zero_words, 0);
    }
}
