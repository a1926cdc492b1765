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
    let p = devnet::testnet::build_programs()?;
    Ok([
        ("task contract", p.contract),
        ("task contract extension", p.extension),
        ("VRF verifier", p.verifier),
    ]
    .into_iter()
    .map(|(program, wasm)| ProgramSize {
        program,
        raw: wasm.len(),
        deployed: compress(&wasm).len(),
    })
    .collect())
}

pub const LIMIT: usize = MAX_CODE_SIZE;
