//! The node's side of the chain: its account and operator commands, and transactions sent at
//! most once.

pub mod node;
pub mod transactor;
