//! The settlement contract of the GPU task network, an Arbitrum Stylus program.
//!
//! It holds node stakes, creates and dispatches tasks, runs the task state machine, checks
//! verifiable secret sampling (ECVRF proofs and validation groups of three), compares similarity
//! hashes, slashes cheating nodes and settles fees. `../shared/PROTOCOL.md` is the specification;
//! README.md documents the ABI, the storage layout and the cost design.
//!
//! Calls enter through `user_entrypoint` (the program) or [`call`] (native hosts, tests), and are
//! dispatched by `router.rs`. The `export-abi` build adds `interface.rs`, the stylus-sdk
//! `#[public]` description of the same methods from which the Solidity interface is generated.

#![cfg_attr(
    not(any(test, feature = "export-abi", feature = "stylus-test")),
    no_main
)]
#![cfg_attr(
    not(any(test, feature = "export-abi", feature = "stylus-test")),
    no_std
)]

extern crate alloc;

pub mod abi;
mod availability;
pub mod calldata;
pub mod chain;
mod config;
mod events;
mod gpu_class;
pub mod group;
#[cfg(feature = "export-abi")]
pub mod interface;
mod lifecycle;
mod node_record;
mod packing;
mod payments;
pub mod qos;
mod queue;
mod registry;
mod requirement;
pub mod returndata;
pub mod router;
pub mod score;
mod store;
mod task_record;
mod validation;
mod views;
mod weighted_tree;

use alloc::{vec, vec::Vec};

use stylus_sdk::prelude::*;

pub use abi::ContractError;
#[cfg(feature = "export-abi")]
pub use interface::solidity_interface;
pub use node_record::{node_status, MAX_NODE_MODELS};
pub use task_record::{abort_reason, status, task_error, task_type};
pub use validation::is_selected;

/// The contract. Its storage is addressed by `store.rs` (see README "Storage layout").
#[storage]
pub struct TaskContract {}

/// Runs one call against the contract whose storage the host holds: `Ok` is the ABI-encoded
/// return data, `Err` the revert data. Native hosts (the test harness) enter here; the program
/// enters through `user_entrypoint`, which adds what Nitro expects around it.
pub fn call(host: stylus_sdk::host::VM, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    // SAFETY: the contract's storage is addressed explicitly by `store.rs`; the root slot and
    // offset of the storage struct are unused.
    let mut contract = unsafe {
        <TaskContract as stylus_sdk::storage::StorageType>::new(
            alloy_primitives::U256::ZERO,
            0,
            host,
        )
    };
    router::dispatch(&mut contract, calldata)
}

/// The program's entry point, with the steps of stylus-sdk's generated one: refuse reentrancy,
/// reference `pay_for_memory_grow` (Nitro instruments memory growth through it), run the call,
/// flush the storage cache (Nitro discards it on revert) and set the result.
#[cfg(all(target_arch = "wasm32", not(feature = "export-abi")))]
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    let host = stylus_sdk::host::VM {
        host: stylus_sdk::host::WasmVM {},
    };
    if host.msg_reentrant() {
        return 1;
    }
    host.pay_for_memory_grow(0);
    let input = host.read_args(len);
    let (data, status) = match call(host.clone(), &input) {
        Ok(data) => (data, 0),
        Err(data) => (data, 1),
    };
    host.flush_cache(false);
    host.write_result(&data);
    status
}
