//! The node operator's worker: configuration, the chain and relay side of the task loop, and the
//! candle execution engines run in a supervised child process.

pub mod clip_text;
pub mod config;
pub mod dpm_solver;
pub mod euler_ancestral;
pub mod execution;
pub mod gpu;
pub mod image_engine;
pub mod model_cache;
pub mod model_download;
pub mod node;
pub mod record;
pub mod seeded_rng;
pub mod task_loop;
pub mod text_engine;
pub mod tiny_model;
pub mod transactor;
