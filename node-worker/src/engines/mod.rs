//! The candle engines that run tasks: text generation, Stable Diffusion with our CLIP text
//! encoder and samplers, the seeded noise, and tiny models for tests.

pub mod clip_text;
pub mod image_engine;
pub mod schedulers;
pub mod seeded_rng;
pub mod text_engine;
pub mod tiny_model;
