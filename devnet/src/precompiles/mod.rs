//! The precompiles: Ethereum's (`ethereum.rs`) and ArbOS's, a file each (ArbSys, ArbGasInfo,
//! ArbOwner, ArbOwnerPublic, ArbWasm, ArbWasmCache, ArbosTest), priced as Nitro prices its precompiles
//! (`pricing.rs`); the StylusDeployer contract is dispatched here too.

mod arb_gas_info;
mod arb_owner;
mod arb_owner_public;
mod arb_sys;
mod arb_wasm;
mod arb_wasm_cache;
mod arbos_test;
mod ethereum;
mod pricing;
pub mod stylus_deployer;

use alloy::primitives::Address;

use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};
use pricing::burn_all;

pub use arb_gas_info::{ArbGasInfo, ARB_GAS_INFO};
pub use arb_owner::{ArbOwner, ARB_OWNER};
pub use arb_owner_public::{ArbOwnerPublic, ARB_OWNER_PUBLIC, NETWORK_FEE_ACCOUNT};
pub use arb_sys::{ArbSys, ARBOS_VERSION, ARB_SYS};
pub use arb_wasm::{program_not_activated, ArbWasm, ARB_WASM};
pub use arb_wasm_cache::{
    cache_managers, is_cached as arb_wasm_cache_holds, ArbWasmCache, ARB_WASM_CACHE, CHAIN_OWNER,
};
pub use arbos_test::{ArbosTest, ARBOS_TEST};

pub use ethereum::{
    modexp_gas, BLAKE2F, BN254_ADD, BN254_MUL, BN254_PAIRING, ECRECOVER, IDENTITY, MODEXP,
    P256_VERIFY, RIPEMD160, SHA256,
};

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

/// Runs a precompile if `msg` addresses one.
pub fn run(exec: &ExecRef, msg: &Message) -> Option<CallResult> {
    // Nitro's dispatch (`precompiles/precompile.go`, `Call`): a view or state-changing method
    // run by a delegate call, acting as another address, reverts with all the gas. Every ArbOS
    // method here is one but ArbosTest's pure `burnArbGas`; ArbOwner's wrapper checks the owner
    // first and charges an owner nothing, so it handles this itself.
    let delegated = msg.to != msg.code_address;
    let arbos = |call: fn(&ExecRef, &Message) -> CallResult| {
        Some(if delegated {
            burn_all(msg)
        } else {
            call(exec, msg)
        })
    };
    match msg.code_address {
        ARB_SYS => return arbos(arb_sys::call),
        ARB_GAS_INFO => return arbos(arb_gas_info::call),
        ARB_OWNER => return Some(arb_owner::call(exec, msg)),
        ARB_OWNER_PUBLIC => return arbos(arb_owner_public::call),
        ARB_WASM => return arbos(arb_wasm::call),
        ARB_WASM_CACHE => return arbos(arb_wasm_cache::call),
        ARBOS_TEST => return Some(arbos_test::call(exec, msg)),
        stylus_deployer::STYLUS_DEPLOYER => return Some(stylus_deployer::run(exec, msg)),
        _ => {}
    }
    let Some((gas, result)) = ethereum::run(msg.code_address, &msg.data) else {
        // A precompile Nitro has and the devnet lacks fails loudly rather than answering like an
        // empty account.
        let other = msg.code_address;
        if warm_at_start().any(|a| a == other) {
            return Some(CallResult::failure(
                format!("precompile {other} is not implemented by the devnet"),
                msg.gas,
            ));
        }
        return None;
    };
    // geth's `RunPrecompiledContract`: the price first; a failure then takes all the gas.
    Some(match result {
        _ if gas > msg.gas => CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        },
        Ok(output) => CallResult {
            outcome: Outcome::Success,
            output,
            gas_used: gas,
        },
        Err(why) => CallResult::failure(why, msg.gas),
    })
}
