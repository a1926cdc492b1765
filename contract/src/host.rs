//! What the contract asks of the chain it runs on. The program implements it with Stylus hostios
//! (`entrypoint.rs`); native hosts (the test harness, the ABI export build) implement it too, so
//! the same contract code runs everywhere.

use alloc::vec::Vec;

use alloy_primitives::{Address, U256};

pub trait Host {
    /// `msg.sender`.
    fn sender(&self) -> Address;
    /// `msg.value`.
    fn value(&self) -> U256;
    /// `block.timestamp`.
    fn timestamp(&self) -> u64;
    /// `address(this)`.
    fn address(&self) -> Address;
    /// SLOAD (Stylus reads through its storage cache).
    fn load(&self, slot: &[u8; 32]) -> [u8; 32];
    /// SSTORE into the storage cache; the entry point flushes it once at the end of a call, and
    /// the host discards every write of a reverted call.
    fn store(&self, slot: &[u8; 32], word: &[u8; 32]);
    /// LOG0..LOG4: `topics` 32-byte topics, then the data.
    fn emit_log(&self, topics_then_data: &[u8], topics: usize);
    /// A call with empty calldata that sends `value`, with at most `gas` (all gas if `None`);
    /// whether it succeeded.
    fn send_value(&self, to: &Address, value: &U256, gas: Option<u64>) -> bool;
    /// STATICCALL: the return data, or `None` if the callee reverted.
    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>>;
    /// (a * b) mod m over 256-bit big-endian words (0 when m is 0), as `math_mul_mod`.
    fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32];
    /// (a + b) mod m without overflow (0 when m is 0), as `math_add_mod`.
    fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32];
    /// DELEGATECALL with all gas (the callee's code runs on this contract's storage, sender and
    /// value): `Ok` with its return data, or `Err` with its revert data.
    fn delegate_call(&self, to: &Address, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>>;
}

/// `math_mul_mod` for hosts that run the contract natively.
pub fn native_mul_mod(a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
    let [a, b, m] = [a, b, m].map(|w| U256::from_be_bytes(*w));
    a.mul_mod(b, m).to_be_bytes()
}

/// `math_add_mod` for hosts that run the contract natively.
pub fn native_add_mod(a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
    let [a, b, m] = [a, b, m].map(|w| U256::from_be_bytes(*w));
    a.add_mod(b, m).to_be_bytes()
}
