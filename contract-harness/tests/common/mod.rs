//! The scenario tests' network (`contract_harness::net`) and the chain trait its methods need.
#![allow(unused_imports)]

pub use contract_harness::net::*;
pub use contract_harness::ProtocolChain;
