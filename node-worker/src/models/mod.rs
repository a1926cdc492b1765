//! The model cache (Hugging Face layout) and downloads into it.

pub mod model_cache;
pub mod model_download;
