//! The model's `scheduler/scheduler_config.json`, read once and turned into each sampler's
//! settings (DDIM is candle's; Euler ancestral and DPM-Solver++ are ours).

use candle_transformers::models::stable_diffusion::ddim::DDIMSchedulerConfig;
use candle_transformers::models::stable_diffusion::schedulers::{
    BetaSchedule, PredictionType, TimestepSpacing,
};
use serde::Deserialize;

/// `scheduler/scheduler_config.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerFileConfig {
    #[serde(default = "beta_start")]
    pub beta_start: f64,
    #[serde(default = "beta_end")]
    pub beta_end: f64,
    #[serde(default = "scaled_linear")]
    pub beta_schedule: String,
    #[serde(default = "thousand")]
    pub num_train_timesteps: usize,
    #[serde(default = "epsilon")]
    pub prediction_type: String,
    #[serde(default = "one_usize")]
    pub steps_offset: usize,
    #[serde(default = "leading")]
    pub timestep_spacing: String,
}

fn one_usize() -> usize {
    1
}
fn beta_start() -> f64 {
    0.00085
}
fn beta_end() -> f64 {
    0.012
}
fn scaled_linear() -> String {
    "scaled_linear".into()
}
fn thousand() -> usize {
    1000
}
fn epsilon() -> String {
    "epsilon".into()
}
fn leading() -> String {
    "leading".into()
}

impl SchedulerFileConfig {
    pub fn to_ddim(&self) -> Result<DDIMSchedulerConfig, String> {
        Ok(DDIMSchedulerConfig {
            beta_start: self.beta_start,
            beta_end: self.beta_end,
            beta_schedule: match self.beta_schedule.as_str() {
                "linear" => BetaSchedule::Linear,
                "scaled_linear" => BetaSchedule::ScaledLinear,
                "squaredcos_cap_v2" => BetaSchedule::SquaredcosCapV2,
                other => return Err(format!("beta_schedule {other:?} is not supported")),
            },
            // eta 0: DDIM adds no noise of its own, so the steps are deterministic.
            eta: 0.0,
            steps_offset: self.steps_offset,
            prediction_type: match self.prediction_type.as_str() {
                "epsilon" => PredictionType::Epsilon,
                "v_prediction" => PredictionType::VPrediction,
                "sample" => PredictionType::Sample,
                other => return Err(format!("prediction_type {other:?} is not supported")),
            },
            train_timesteps: self.num_train_timesteps,
            timestep_spacing: match self.timestep_spacing.as_str() {
                "leading" => TimestepSpacing::Leading,
                "linspace" => TimestepSpacing::Linspace,
                "trailing" => TimestepSpacing::Trailing,
                other => return Err(format!("timestep_spacing {other:?} is not supported")),
            },
        })
    }
}
