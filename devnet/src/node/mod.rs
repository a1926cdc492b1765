//! The node: the chain of blocks and transactions with geth's and Nitro's rules (`chain.rs`), its
//! state file (`persist.rs`), the L1 poster price (`l1_pricing.rs`), NodeInterface
//! (`node_interface.rs`) and the JSON-RPC server (`rpc.rs`).

pub mod chain;
pub mod l1_pricing;
pub mod node_interface;
pub mod persist;
pub mod rpc;
