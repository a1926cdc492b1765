//! A native chain for the task contract's tests: the contract and the VRF verifier run as Rust
//! behind a host that keeps per-contract storage, balances and logs, moves `msg.value`, pushes
//! payments, discards every write of a reverted call, and answers ArbSys (block number and hash)
//! and the sha256 precompile. Calls go through the real ABI router with calldata encoded from
//! the checked-in `contract/abi/ITaskContract.sol`.
//!
//! The test network (`net`) and the property test (`invariants`) work on any [`ProtocolChain`]:
//! this chain, stylus-sdk's test VM ([`TestVmChain`]), and the devnet running the real WASM.

mod chain;
mod host;
pub mod invariants;
pub mod net;
mod protocol_chain;
mod test_vm;
pub mod vrf;
pub mod vrf_check;

pub use chain::{state_digest, Chain, Log, Revert};
pub use protocol_chain::ProtocolChain;
pub use test_vm::TestVmChain;
pub use vrf::Key;

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../contract/abi/ITaskContract.sol"
);
