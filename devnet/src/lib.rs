//! A local Arbitrum-Stylus-like chain: Stylus programs' WASM runs in wasmtime with Nitro's hostio
//! semantics and prices, behind standard Ethereum JSON-RPC.

pub mod accounts;
pub mod chain;
pub mod deploy;
pub mod exec;
pub mod gas;
pub mod hostio;
pub mod init_code;
pub mod instrument;
pub mod l1_pricing;
pub mod node_interface;
pub mod persist;
pub mod precompiles;
pub mod program;
pub mod rpc;
pub mod state;
pub mod stylus_deployer;
pub mod testnet;

pub use chain::{CallRequest, Chain, TxError};
