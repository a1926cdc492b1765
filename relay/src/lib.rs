//! The relay: stores task parameters and results off chain for the parties the contract names, and
//! reports the two uploads on chain. This first part holds request authentication and storage; the
//! HTTP endpoints and the chain reporter come next (issue #4).

pub mod auth;
pub mod store;
