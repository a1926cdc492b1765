//! A local Arbitrum-Stylus-like chain: Stylus programs' WASM runs in wasmtime with Nitro's hostio
//! semantics and prices, behind standard Ethereum JSON-RPC.
//!
//! - `stylus/`: a program's code format, activation checks and Nitro's instrumentation, and the
//!   hostios it calls.
//! - `evm/`: message calls, the journaled state, and the init code interpreter of CREATE.
//! - `precompiles/`: Ethereum's and ArbOS's precompiles, and cargo-stylus's StylusDeployer.
//! - `node/`: the chain (transactions, blocks, estimates), its persistence, the L1 poster price,
//!   NodeInterface and the JSON-RPC server.
//! - `gas.rs`: the prices; `accounts.rs`, `deploy.rs`, `testnet.rs`: what tools and tests use.

pub mod accounts;
pub mod deploy;
pub mod evm;
pub mod gas;
pub mod node;
pub mod precompiles;
pub mod stylus;
pub mod testnet;

// The modules by their own names, as the rest of the workspace reaches them.
pub use evm::{exec, init_code, state};
pub use node::{chain, l1_pricing, node_interface, persist, rpc};
pub use precompiles::stylus_deployer;
pub use stylus::{hostio, instrument, program};

pub use chain::{CallRequest, Chain, TxError};
