//! Event emission. The events are declared once, in `events.sol`; the contract writes their
//! topics and ABI data itself through one small function instead of instantiating the generic
//! encoder for every event type.

use alloc::vec::Vec;

use alloy_primitives::{Address, B256, U256};

use crate::{Host, TaskContract};

pub fn uint_word(v: u128) -> [u8; 32] {
    // A byte loop: `to_be_bytes` unrolls into ~300 bytes of byte swapping on wasm32.
    let mut w = [0u8; 32];
    let mut v = v;
    for byte in w.iter_mut().rev() {
        *byte = v as u8;
        v >>= 8;
    }
    w
}

pub fn address_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// ABI data of an event's non-indexed parameters: `words` are static, and `dynamic` (if any) is a
/// `bytes`/`string` parameter that comes first, before the static words.
pub fn event_data(words: &[[u8; 32]], dynamic: Option<&[u8]>) -> Vec<u8> {
    let mut data = Vec::new();
    if let Some(bytes) = dynamic {
        data.extend_from_slice(&uint_word(32 * (1 + words.len() as u128)));
        for w in words {
            data.extend_from_slice(w);
        }
        data.extend_from_slice(&uint_word(bytes.len() as u128));
        data.extend_from_slice(bytes);
        data.resize(data.len().div_ceil(32) * 32, 0);
    } else {
        for w in words {
            data.extend_from_slice(w);
        }
    }
    data
}

impl<H: Host> TaskContract<H> {
    /// Emits a log with the given topics (signature hash first) and data.
    #[inline(never)]
    pub(crate) fn emit(&self, topics: &[[u8; 32]], data: &[u8]) {
        let mut buf = Vec::with_capacity(32 * topics.len() + data.len());
        for t in topics {
            buf.extend_from_slice(t);
        }
        buf.extend_from_slice(data);
        self.host.emit_log(&buf, topics.len());
    }

    /// An event indexed by a task commitment only.
    pub(crate) fn emit_task(&self, signature: B256, c: &B256) {
        self.emit(&[signature.0, c.0], &[]);
    }

    /// An event indexed by a task commitment and a node.
    pub(crate) fn emit_task_node(&self, signature: B256, c: &B256, node: &Address) {
        self.emit(&[signature.0, c.0, address_word(node)], &[]);
    }

    /// An event indexed by a node address only.
    pub(crate) fn emit_node(&self, signature: B256, node: &Address) {
        self.emit(&[signature.0, address_word(node)], &[]);
    }

    /// A payment event: recipient indexed, amount in the data.
    pub(crate) fn emit_amount(&self, signature: B256, to: &Address, amount: U256) {
        self.emit(
            &[signature.0, address_word(to)],
            &amount.to_be_bytes::<32>(),
        );
    }
}
