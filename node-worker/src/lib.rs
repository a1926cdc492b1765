//! The node operator's worker: configuration, the chain and relay side of the task loop, and the
//! candle execution engines run in a supervised child process.
//!
//! Imports flow one way: `engines` and `models` know nothing of the chain; `chain` uses `models`
//! and the record; `task_loop` drives all of them.

pub mod chain;
pub mod config;
pub mod engines;
pub mod execution;
pub mod gpu;
pub mod history;
pub mod models;
pub mod operator;
pub mod record;
pub mod task_loop;
