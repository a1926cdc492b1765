//! The application side of the network, as a library: what `taskctl` does, callable from Rust.

pub mod hex_input;
pub mod tools;
