//! The whole network on one machine: the devnet with the real contract, the relay, node-worker
//! processes and an application, as `local-network` runs it and the end-to-end test checks it.

pub mod network;
pub mod nodes;
pub mod settlement;
