//! A Stylus program too big for one 24 KiB code chunk: it holds a 30 KB table of incompressible
//! bytes and answers `byteAt(i)`. `scripts/deploy-check.sh` deploys it with `cargo stylus deploy`
//! against the devnet, which splits it into ArbOS 60 fragments and a root.

#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]

extern crate alloc;

use alloc::{vec, vec::Vec};

use alloy_primitives::U256;
use stylus_sdk::prelude::*;

/// The table build.rs writes.
static TABLE: &[u8; 30_000] = include_bytes!(concat!(env!("OUT_DIR"), "/table.bin"));

#[storage]
#[entrypoint]
pub struct BigTable {}

#[public]
impl BigTable {
    /// The table's byte at `index` modulo its length.
    pub fn byte_at(&self, index: U256) -> u8 {
        let i = index % U256::from(TABLE.len());
        TABLE[i.to::<usize>()]
    }
}
