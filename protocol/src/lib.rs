//! The code the relay, the node worker and the application client share, so that all three agree
//! byte for byte on what PROTOCOL.md specifies.

pub mod amount;
pub mod bindings;
pub mod canonical_json;
pub mod contract_error;
pub mod contract_settings;
pub mod ecrecover;
pub mod error_report;
pub mod image_params;
pub mod image_score;
pub mod key_file;
pub mod params_error;
pub mod phash;
pub mod pillow_resample;
pub mod relay_signature;
pub mod result_score;
pub mod sampling;
pub mod task_params;
pub mod task_status;
pub mod task_type;
pub mod text_params;
pub mod text_result;
pub mod vrf;
pub mod vrf_witness;

pub use params_error::ParamsError;
pub use task_params::TaskParams;
pub use task_type::TaskType;
