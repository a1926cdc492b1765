//! The samplers ours rather than candle's (their noise must continue the task's seeded stream),
//! and the model's scheduler configuration they read.

pub mod dpm_solver;
pub mod euler_ancestral;
pub mod scheduler_config;
