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
    all(target_arch = "wasm32", not(any(test, feature = "export-abi"))),
    no_main
)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]

extern crate alloc;

pub mod abi;
mod availability;
pub mod calldata;
pub mod chain;
mod config;
mod ecvrf;
#[cfg(all(target_arch = "wasm32", not(feature = "export-abi")))]
mod entrypoint;
mod events;
pub mod extension;
mod gpu_class;
pub mod group;
pub mod host;
#[cfg(feature = "export-abi")]
pub mod interface;
mod lifecycle;
mod math;
mod node_record;
mod ownership;
mod packing;
mod payments;
pub mod price;
pub mod qos;
mod queue;
mod registry;
mod requirement;
pub mod returndata;
pub mod router;
pub mod score;
mod store;
mod task_record;
pub mod terms;
mod validation;
mod views;
mod weighted_tree;

use alloc::vec::Vec;

pub use abi::ContractError;
pub use host::Host;
#[cfg(feature = "export-abi")]
pub use interface::solidity_interface;
pub use node_record::{node_status, MAX_NODE_MODELS};
pub use task_record::{abort_reason, status, task_error, task_type};
pub use validation::{is_selected, params_commitment};

/// The contract over the chain it runs on. Its storage is addressed by `store.rs` (see README
/// "Storage layout").
pub struct TaskContract<H: Host> {
    pub(crate) host: H,
}

/// Runs one call against the contract whose storage `host` holds: `Ok` is the ABI-encoded return
/// data, `Err` the revert data. The program enters here from `user_entrypoint`; native hosts (the
/// test harness) call it directly.
pub fn call<H: Host>(host: H, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    router::dispatch(&mut TaskContract { host }, calldata)
}
