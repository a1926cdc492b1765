//! Stylus programs: the deployed code format and activation (`program.rs`), Nitro's
//! instrumentation of the WASM (`instrument.rs`), and the hostios a running program calls
//! (`hostio.rs`).

pub mod hostio;
pub mod instrument;
pub mod program;
