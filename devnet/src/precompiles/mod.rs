//! The precompiles a Stylus program and its deployer use: Ethereum's ecrecover, sha256 and
//! identity here, ArbOS's in a file each (ArbSys, ArbWasm, ArbWasmCache), priced as Nitro prices
//! its precompiles (`pricing.rs`).

mod arb_sys;
mod arb_wasm;
mod arb_wasm_cache;
mod pricing;

use alloy::primitives::{address, Address};
use sha2::Digest;

use crate::exec::{CallResult, ExecRef, Message, Outcome};

pub use arb_sys::{ArbSys, ARBOS_VERSION, ARB_SYS};
pub use arb_wasm::{program_not_activated, ArbWasm, ARB_WASM};
pub use arb_wasm_cache::{
    is_cached as arb_wasm_cache_holds, ArbWasmCache, ARB_WASM_CACHE, CHAIN_OWNER,
};

pub const ECRECOVER: Address = address!("0000000000000000000000000000000000000001");
pub const SHA256: Address = address!("0000000000000000000000000000000000000002");
pub const IDENTITY: Address = address!("0000000000000000000000000000000000000004");

/// The addresses every transaction starts with warm (EIP-2929: the active precompiles, which on
/// Arbitrum are Ethereum's, 0x01-0x11 and P256VERIFY at 0x100, and ArbOS's at 0x64-0x69 and
/// 0x6b-0x73; go-ethereum `core/vm/contracts.go` `ActivePrecompiles`, Nitro
/// `precompiles/precompile.go`), whether or not the devnet implements them.
pub fn warm_at_start() -> impl Iterator<Item = Address> {
    let low = |n: u16| {
        let mut a = [0u8; 20];
        a[18..].copy_from_slice(&n.to_be_bytes());
        Address::new(a)
    };
    (0x01..=0x11)
        .chain([0x100])
        .chain(0x64..=0x69)
        .chain(0x6b..=0x73)
        .map(low)
}

fn gas_of(words: usize, base: u64, per_word: u64) -> u64 {
    base + per_word * words as u64
}

/// Runs a precompile if `msg` addresses one.
pub fn run(exec: &ExecRef, msg: &Message) -> Option<CallResult> {
    let data = &msg.data[..];
    let result = match msg.code_address {
        // geth's rules, high s included (protocol::ecrecover).
        ECRECOVER => Ok((protocol::ecrecover::ecrecover(data), 3_000)),
        SHA256 => Ok((
            sha2::Sha256::digest(data).to_vec(),
            gas_of(data.len().div_ceil(32), 60, 12),
        )),
        IDENTITY => Ok((data.to_vec(), gas_of(data.len().div_ceil(32), 15, 3))),
        ARB_SYS => return Some(arb_sys::call(exec, msg)),
        ARB_WASM => return Some(arb_wasm::call(exec, msg)),
        ARB_WASM_CACHE => return Some(arb_wasm_cache::call(exec, msg)),
        crate::stylus_deployer::STYLUS_DEPLOYER => {
            return Some(crate::stylus_deployer::run(exec, msg))
        }
        // A precompile Nitro has and the devnet lacks fails loudly rather than answering like an
        // empty account.
        other if warm_at_start().any(|a| a == other) => {
            return Some(CallResult::failure(
                format!("precompile {other} is not implemented by the devnet"),
                msg.gas,
            ))
        }
        _ => return None,
    };
    Some(match result {
        Ok((output, gas)) if gas <= msg.gas => CallResult {
            outcome: Outcome::Success,
            output,
            gas_used: gas,
        },
        Ok(_) => CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        },
        Err(output) => CallResult {
            outcome: Outcome::Revert,
            output,
            gas_used: 100.min(msg.gas),
        },
    })
}
