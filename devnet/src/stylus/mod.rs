//! Stylus programs: the deployed code format and activation (`program.rs`), Nitro's
//! instrumentation of the WASM (`instrument.rs`), the hostios a running program calls
//! (`hostio.rs`), and Nitro's record of them (`trace.rs`).

pub mod hostio;
pub mod instrument;
pub mod program;
pub mod trace;
