//! The Euler ancestral sampler (diffusers' `EulerAncestralDiscreteScheduler`, which SDXL-Turbo
//! ships with), written here because candle's version draws its step noise from candle's RNG,
//! which cannot be seeded on the CPU. The noise of every step comes from the task's
//! [`SeededRng`](crate::engines::seeded_rng::SeededRng) stream, so the same task gives the same images.

use crate::engines::schedulers::scheduler_config::SchedulerFileConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    Epsilon,
    VPrediction,
}

#[derive(Debug, Clone)]
pub struct EulerAncestral {
    /// The model's timestep at each step (fractional with `linspace` spacing).
    pub timesteps: Vec<f64>,
    /// Noise level at each step, then 0.
    pub sigmas: Vec<f64>,
    /// Scale of the initial noise.
    pub init_noise_sigma: f64,
    prediction: Prediction,
}

/// `n` evenly spaced values from `a` to `b` inclusive.
fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

/// The training noise schedule: cumulative products of 1 - beta.
pub(crate) fn alphas_cumprod(cfg: &SchedulerFileConfig) -> Result<Vec<f64>, String> {
    let n = cfg.num_train_timesteps;
    let betas: Vec<f64> = match cfg.beta_schedule.as_str() {
        "linear" => linspace(cfg.beta_start, cfg.beta_end, n),
        "scaled_linear" => linspace(cfg.beta_start.sqrt(), cfg.beta_end.sqrt(), n)
            .into_iter()
            .map(|b| b * b)
            .collect(),
        "squaredcos_cap_v2" => {
            let alpha_bar = |t: f64| {
                ((t + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
                    .cos()
                    .powi(2)
            };
            (0..n)
                .map(|i| {
                    let (t1, t2) = (i as f64 / n as f64, (i + 1) as f64 / n as f64);
                    (1.0 - alpha_bar(t2) / alpha_bar(t1)).min(0.999)
                })
                .collect()
        }
        other => return Err(format!("beta_schedule {other:?} is not supported")),
    };
    let mut product = 1.0;
    Ok(betas
        .iter()
        .map(|b| {
            product *= 1.0 - b;
            product
        })
        .collect())
}

/// The checks every sampler of ours makes: a step count the training schedule allows, and a
/// prediction type it can turn into a denoised sample. The prediction type.
pub(crate) fn check_sampler_config(
    cfg: &SchedulerFileConfig,
    steps: usize,
    sampler: &str,
) -> Result<Prediction, String> {
    let n = cfg.num_train_timesteps;
    if steps == 0 || steps > n {
        return Err(format!("steps must be between 1 and {n}"));
    }
    match cfg.prediction_type.as_str() {
        "epsilon" => Ok(Prediction::Epsilon),
        "v_prediction" => Ok(Prediction::VPrediction),
        other => Err(format!(
            "prediction_type {other:?} is not supported by {sampler}"
        )),
    }
}

/// diffusers' `trailing` spacing (the same for every scheduler): `steps` timesteps counted down
/// from the last one, `n / steps` apart.
pub(crate) fn trailing_timesteps(n: usize, steps: usize) -> Vec<f64> {
    let ratio = n as f64 / steps as f64;
    (0..steps)
        .map(|i| (n as f64 - i as f64 * ratio).round() - 1.0)
        .collect()
}

/// Linear interpolation of `ys` (given at 0, 1, 2, ...) at `x`.
fn interp(x: f64, ys: &[f64]) -> f64 {
    let last = ys.len() - 1;
    if x <= 0.0 {
        return ys[0];
    }
    if x >= last as f64 {
        return ys[last];
    }
    let i = x.floor() as usize;
    let f = x - i as f64;
    ys[i] * (1.0 - f) + ys[i + 1] * f
}

impl EulerAncestral {
    pub fn new(cfg: &SchedulerFileConfig, steps: usize) -> Result<EulerAncestral, String> {
        let n = cfg.num_train_timesteps;
        let prediction = check_sampler_config(cfg, steps, "euler_ancestral")?;
        let full: Vec<f64> = alphas_cumprod(cfg)?
            .iter()
            .map(|a| ((1.0 - a) / a).sqrt())
            .collect();
        let timesteps: Vec<f64> = match cfg.timestep_spacing.as_str() {
            "linspace" => linspace(0.0, (n - 1) as f64, steps)
                .into_iter()
                .rev()
                .collect(),
            "leading" => {
                let ratio = n / steps;
                (0..steps)
                    .rev()
                    .map(|i| (i * ratio + cfg.steps_offset) as f64)
                    .collect()
            }
            "trailing" => trailing_timesteps(n, steps),
            other => return Err(format!("timestep_spacing {other:?} is not supported")),
        };
        let mut sigmas: Vec<f64> = timesteps.iter().map(|t| interp(*t, &full)).collect();
        sigmas.push(0.0);
        let max = sigmas.iter().copied().fold(0.0, f64::max);
        let init_noise_sigma = match cfg.timestep_spacing.as_str() {
            "linspace" | "trailing" => max,
            _ => (max * max + 1.0).sqrt(),
        };
        Ok(EulerAncestral {
            timesteps,
            sigmas,
            init_noise_sigma,
            prediction,
        })
    }

    /// What the model input is divided by at step `i`.
    pub fn input_scale(&self, i: usize) -> f64 {
        let s = self.sigmas[i];
        (s * s + 1.0).sqrt()
    }

    /// One step from `sample` with the model's output at step `i`; `noise` is a standard normal
    /// draw of the sample's size (only used when the step adds noise).
    pub fn step(&self, i: usize, model_output: &[f32], sample: &[f32], noise: &[f32]) -> Vec<f32> {
        let sigma = self.sigmas[i];
        let next = self.sigmas[i + 1];
        let up = (next * next * (sigma * sigma - next * next) / (sigma * sigma))
            .max(0.0)
            .sqrt();
        let down = (next * next - up * up).max(0.0).sqrt();
        let dt = down - sigma;
        sample
            .iter()
            .zip(model_output)
            .zip(noise)
            .map(|((&x, &e), &z)| {
                let (x, e, z) = (x as f64, e as f64, z as f64);
                let denoised = match self.prediction {
                    Prediction::Epsilon => x - sigma * e,
                    Prediction::VPrediction => {
                        e * (-sigma / (sigma * sigma + 1.0).sqrt()) + x / (sigma * sigma + 1.0)
                    }
                };
                let derivative = (x - denoised) / sigma;
                (x + derivative * dt + z * up) as f32
            })
            .collect()
    }

    /// Whether step `i` adds fresh noise (all but the last).
    pub fn adds_noise(&self, i: usize) -> bool {
        self.sigmas[i + 1] > 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd15(spacing: &str) -> SchedulerFileConfig {
        serde_json::from_value(serde_json::json!({
            "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
            "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1,
            "timestep_spacing": spacing
        }))
        .unwrap()
    }

    #[test]
    fn stable_diffusion_noise_range() {
        // The well-known range of SD 1.x/2.x/XL: sigma_min 0.0292, sigma_max 14.6146.
        let s = EulerAncestral::new(&sd15("linspace"), 1000).unwrap();
        assert!((s.sigmas[0] - 14.6146).abs() < 1e-3, "{}", s.sigmas[0]);
        assert!((s.sigmas[999] - 0.0292).abs() < 1e-3, "{}", s.sigmas[999]);
        assert_eq!(s.sigmas[1000], 0.0);
        assert_eq!(s.init_noise_sigma, s.sigmas[0]);
    }

    #[test]
    fn timestep_spacings() {
        // SDXL-Turbo: trailing, one step at t = 999.
        let turbo = EulerAncestral::new(&sd15("trailing"), 1).unwrap();
        assert_eq!(turbo.timesteps, vec![999.0]);
        assert!((turbo.init_noise_sigma - 14.6146).abs() < 1e-3);
        let trailing = EulerAncestral::new(&sd15("trailing"), 4).unwrap();
        assert_eq!(trailing.timesteps, vec![999.0, 749.0, 499.0, 249.0]);
        let leading = EulerAncestral::new(&sd15("leading"), 4).unwrap();
        assert_eq!(leading.timesteps, vec![751.0, 501.0, 251.0, 1.0]);
        let s = leading.sigmas[0];
        assert!((leading.init_noise_sigma - (s * s + 1.0).sqrt()).abs() < 1e-12);
        let linspace = EulerAncestral::new(&sd15("linspace"), 3).unwrap();
        assert_eq!(linspace.timesteps, vec![999.0, 499.5, 0.0]);
        assert!(EulerAncestral::new(&sd15("karras"), 4).is_err());
        assert!(EulerAncestral::new(&sd15("leading"), 0).is_err());
    }

    #[test]
    fn a_step_with_a_perfect_noise_prediction_lands_on_the_clean_sample() {
        // x = x0 + sigma * eps; predicting eps exactly gives x0 when the next sigma is 0.
        let s = EulerAncestral::new(&sd15("trailing"), 1).unwrap();
        let (x0, eps) = ([0.25f32, -0.5], [1.0f32, -2.0]);
        let sigma = s.sigmas[0] as f32;
        let x: Vec<f32> = x0.iter().zip(eps).map(|(a, e)| a + sigma * e).collect();
        assert!(!s.adds_noise(0));
        let out = s.step(0, &eps, &x, &[9.0, 9.0]);
        for (o, a) in out.iter().zip(x0) {
            assert!((o - a).abs() < 1e-4, "{o} vs {a}");
        }
    }

    #[test]
    fn intermediate_steps_add_the_given_noise() {
        let s = EulerAncestral::new(&sd15("trailing"), 2).unwrap();
        assert!(s.adds_noise(0));
        let x = [1.0f32];
        let eps = [0.5f32];
        let quiet = s.step(0, &eps, &x, &[0.0]);
        let noisy = s.step(0, &eps, &x, &[1.0]);
        let (sigma, next) = (s.sigmas[0], s.sigmas[1]);
        let up = (next * next * (sigma * sigma - next * next) / (sigma * sigma)).sqrt();
        assert!(((noisy[0] - quiet[0]) as f64 - up).abs() < 1e-5);
    }
}
