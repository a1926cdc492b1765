//! The application side of the network, as a library: what `taskctl` does, callable from Rust.

pub mod deployment;
pub mod hex_input;
pub mod relay_client;
pub mod task_flow;
pub mod tools;
