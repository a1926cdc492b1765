//! The bids as a binary min-heap of packed words (`bid << 64 | entry index`), so the lowest bid
//! (ties: the lowest index) is evicted first. Written over [`Slots`] so the same code runs on
//! contract storage and, in tests, on a `Vec`.

use alloc::vec::Vec;

use alloy_primitives::aliases::U192;
use alloy_primitives::U256;

/// An array of words the heap lives in, read.
pub trait Slots {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn get(&self, i: usize) -> U256;
}

/// The same array, written.
pub trait SlotsMut: Slots {
    fn set(&mut self, i: usize, value: U256);
    fn push(&mut self, value: U256);
    /// Removes and returns the last word.
    fn pop(&mut self) -> Option<U256>;
}

/// `value` as a uint192, if it fits.
pub fn to_u192(value: U256) -> Option<U192> {
    let l = value.as_limbs();
    (l[3] == 0).then(|| U192::from_limbs([l[0], l[1], l[2]]))
}

/// A bid and the index of its entry, in one word that orders by bid first (the entries keep
/// their bid and size in the same layout).
pub fn pack(bid: U192, index: u64) -> U256 {
    (U256::from(bid) << 64) | U256::from(index)
}

pub fn unpack(word: U256) -> (U192, u64) {
    // Always fits: 256 - 64 bits.
    let bid = to_u192(word >> 64usize).unwrap_or_default();
    (bid, word.as_limbs()[0])
}

pub fn push(heap: &mut impl SlotsMut, word: U256) {
    heap.push(word);
    let mut i = heap.len() - 1;
    while i > 0 {
        let parent = (i - 1) / 2;
        let above = heap.get(parent);
        if above <= word {
            break;
        }
        heap.set(i, above);
        i = parent;
    }
    heap.set(i, word);
}

/// Removes and returns the smallest word.
pub fn pop(heap: &mut impl SlotsMut) -> Option<U256> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let n = heap.len();
    let top = heap.get(0);
    let mut i = 0;
    loop {
        let left = 2 * i + 1;
        if left >= n {
            break;
        }
        let right = left + 1;
        let mut child = left;
        let mut smaller = heap.get(left);
        if right < n {
            let r = heap.get(right);
            if r < smaller {
                child = right;
                smaller = r;
            }
        }
        if last <= smaller {
            break;
        }
        heap.set(i, smaller);
        i = child;
    }
    heap.set(i, last);
    Some(top)
}

/// The `k` smallest words, ascending (all of them when there are fewer), read without changing
/// the heap: a walk down from the root that only ever reads the children of words already
/// taken, so about 2k + 1 of the heap's words.
pub fn smallest(heap: &impl Slots, k: usize) -> Vec<U256> {
    let mut out = Vec::new();
    // Words that may come next, with their places in the heap.
    let mut frontier: Vec<(U256, usize)> = Vec::new();
    if !heap.is_empty() {
        frontier.push((heap.get(0), 0));
    }
    while out.len() < k {
        let Some(at) = (0..frontier.len()).min_by_key(|&i| frontier[i].0) else {
            break;
        };
        let (word, i) = frontier.swap_remove(at);
        out.push(word);
        for child in [2 * i + 1, 2 * i + 2] {
            if child < heap.len() {
                frontier.push((heap.get(child), child));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Words(Vec<U256>);

    impl Slots for Words {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn get(&self, i: usize) -> U256 {
            self.0[i]
        }
    }

    impl SlotsMut for Words {
        fn set(&mut self, i: usize, value: U256) {
            self.0[i] = value;
        }
        fn push(&mut self, value: U256) {
            self.0.push(value);
        }
        fn pop(&mut self) -> Option<U256> {
            self.0.pop()
        }
    }

    #[test]
    fn pops_in_ascending_order_whatever_the_pushes() {
        // A fixed pseudo-random sequence with repeats.
        let mut x = 0x9E37_79B9_u64;
        let mut heap = Words(Vec::new());
        let mut pushed = Vec::new();
        for _ in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let word = U256::from(x % 50);
            push(&mut heap, word);
            pushed.push(word);
            // Interleave pops so sift-down runs on heaps of every shape.
            if x.is_multiple_of(3) {
                let min = *pushed.iter().min().unwrap();
                assert_eq!(pop(&mut heap), Some(min));
                let at = pushed.iter().position(|w| *w == min).unwrap();
                pushed.swap_remove(at);
            }
        }
        pushed.sort_unstable();
        for k in [0, 1, 7, pushed.len(), pushed.len() + 3] {
            assert_eq!(smallest(&heap, k), pushed[..k.min(pushed.len())].to_vec());
        }
        let mut out = Vec::new();
        while let Some(w) = pop(&mut heap) {
            out.push(w);
        }
        assert_eq!(out, pushed);
        assert_eq!(pop(&mut heap), None);
    }

    #[test]
    fn packing_orders_by_bid_then_index() {
        let word = pack(U192::from(7u64), 3);
        assert_eq!(unpack(word), (U192::from(7u64), 3));
        assert_eq!(to_u192(U256::from(U192::MAX)), Some(U192::MAX));
        assert_eq!(to_u192(U256::from(U192::MAX) + U256::from(1)), None);
        assert!(pack(U192::from(7u64), 9) < pack(U192::from(8u64), 0));
        assert!(pack(U192::from(7u64), 2) < pack(U192::from(7u64), 3));
        let max = U192::MAX;
        assert_eq!(unpack(pack(max, u64::MAX)), (max, u64::MAX));
    }
}
