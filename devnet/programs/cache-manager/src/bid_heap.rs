//! The bids as a binary min-heap of packed words (`bid << 64 | entry index`), so the lowest bid
//! (ties: the lowest index) is evicted first. Written over [`Slots`] so the same code runs on
//! contract storage and, in tests, on a `Vec`.

use alloc::vec::Vec;

use alloy_primitives::aliases::U192;
use alloy_primitives::U256;

/// An array of words the heap lives in.
pub trait Slots {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn get(&self, i: usize) -> U256;
    fn set(&mut self, i: usize, value: U256);
    fn push(&mut self, value: U256);
    /// Removes and returns the last word.
    fn pop(&mut self) -> Option<U256>;
}

/// A bid and the index of its entry, in one word that orders by bid first.
pub fn pack(bid: U192, index: u64) -> U256 {
    (U256::from(bid) << 64) | U256::from(index)
}

pub fn unpack(word: U256) -> (U192, u64) {
    let l = (word >> 64usize).into_limbs();
    (U192::from_limbs([l[0], l[1], l[2]]), word.as_limbs()[0])
}

pub fn push(heap: &mut impl Slots, word: U256) {
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
pub fn pop(heap: &mut impl Slots) -> Option<U256> {
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

/// The `k` smallest words, ascending (all of them when there are fewer): popped from a copy in
/// memory (no sort, whose code would not fit the program).
pub fn smallest(heap: &impl Slots, k: usize) -> Vec<U256> {
    let mut copy = Words((0..heap.len()).map(|i| heap.get(i)).collect());
    let mut out = Vec::new();
    while out.len() < k {
        match pop(&mut copy) {
            Some(word) => out.push(word),
            None => break,
        }
    }
    out
}

/// A heap in memory.
pub struct Words(pub Vec<U256>);

impl Slots for Words {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> U256 {
        self.0.get(i).copied().unwrap_or_default()
    }
    fn set(&mut self, i: usize, value: U256) {
        if let Some(w) = self.0.get_mut(i) {
            *w = value;
        }
    }
    fn push(&mut self, value: U256) {
        self.0.push(value);
    }
    fn pop(&mut self) -> Option<U256> {
        self.0.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(smallest(&heap, 7), pushed[..7].to_vec());
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
        assert!(pack(U192::from(7u64), 9) < pack(U192::from(8u64), 0));
        assert!(pack(U192::from(7u64), 2) < pack(U192::from(7u64), 3));
        let max = U192::MAX;
        assert_eq!(unpack(pack(max, u64::MAX)), (max, u64::MAX));
    }
}
