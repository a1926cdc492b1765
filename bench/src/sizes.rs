//! The programs' release WASM, raw and as deployed (prefix + brotli), against Stylus's limit.

use anyhow::Result;
use devnet::program::{compress, MAX_CODE_SIZE};

#[derive(Debug, Clone)]
pub struct ProgramSize {
    pub program: &'static str,
    pub raw: usize,
    pub deployed: usize,
}

pub fn measure() -> Result<Vec<ProgramSize>> {
    let (contract, verifier) = devnet::testnet::build_programs()?;
    Ok([("task contract", contract), ("VRF verifier", verifier)]
        .into_iter()
        .map(|(program, wasm)| ProgramSize {
            program,
            raw: wasm.len(),
            deployed: compress(&wasm).len(),
        })
        .collect())
}

pub const LIMIT: usize = MAX_CODE_SIZE;
