//! The relay: stores task parameters and results off chain for the parties the contract names, and
//! reports the two uploads on chain from its own account.

pub mod api;
pub mod api_error;
pub mod auth;
pub mod chain_view;
pub mod http_server;
pub mod json_body;
pub mod metrics;
pub mod reporter;
pub mod service;
pub mod startup;
pub mod store;
