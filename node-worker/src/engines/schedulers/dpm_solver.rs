//! DPM-Solver++ (2M), the multistep solver behind diffusers' `DPMSolverMultistepScheduler` with
//! its defaults (second order, midpoint, first order on the first and the last step, the last
//! step landing on sigma 0). It adds no noise, so a task's images depend only on its seed through
//! the initial latents. candle has no implementation of it.
//!
//! Each step works in the variance-preserving form x = alpha * x0 + sigma * eps: the model's
//! output becomes a prediction of the clean sample x0, and the solver moves along
//! lambda = ln(alpha / sigma) with that prediction (first order) or with the prediction and its
//! change since the previous step (second order).

use crate::engines::schedulers::euler_ancestral::{
    alphas_cumprod, check_sampler_config, trailing_timesteps, Prediction,
};
use crate::engines::schedulers::scheduler_config::SchedulerFileConfig;

#[derive(Debug, Clone)]
pub struct DpmSolver {
    /// The model's timestep at each step.
    pub timesteps: Vec<f64>,
    /// alpha_t (sqrt of the cumulative product) at each step, then 1 for the clean end.
    alphas: Vec<f64>,
    /// sigma_t (sqrt of 1 - the cumulative product) at each step, then 0.
    sigmas: Vec<f64>,
    prediction: Prediction,
    /// The x0 prediction of the previous step, for the second-order update.
    previous: Option<Vec<f64>>,
}

impl DpmSolver {
    pub fn new(cfg: &SchedulerFileConfig, steps: usize) -> Result<DpmSolver, String> {
        let n = cfg.num_train_timesteps;
        let prediction = check_sampler_config(cfg, steps, "dpm_solver_multistep")?;
        // diffusers' spacings for this scheduler: `linspace` and `leading` divide the range into
        // steps + 1 points and drop the one nearest 0; timesteps are whole, rounded as numpy does
        // (halves to even).
        let last = (n - 1) as f64;
        let timesteps: Vec<f64> = match cfg.timestep_spacing.as_str() {
            "linspace" => (0..steps)
                .map(|i| (last * (steps - i) as f64 / steps as f64).round_ties_even())
                .collect(),
            "leading" => {
                let ratio = n / (steps + 1);
                (1..=steps)
                    .rev()
                    .map(|i| (i * ratio + cfg.steps_offset) as f64)
                    .collect()
            }
            "trailing" => trailing_timesteps(n, steps),
            other => return Err(format!("timestep_spacing {other:?} is not supported")),
        };
        let cumprod = alphas_cumprod(cfg)?;
        let mut alphas = Vec::with_capacity(steps + 1);
        let mut sigmas = Vec::with_capacity(steps + 1);
        for t in &timesteps {
            let a = cumprod[(*t as usize).min(n - 1)];
            alphas.push(a.sqrt());
            sigmas.push((1.0 - a).sqrt());
        }
        alphas.push(1.0);
        sigmas.push(0.0);
        Ok(DpmSolver {
            timesteps,
            alphas,
            sigmas,
            prediction,
            previous: None,
        })
    }

    /// Scale of the initial noise: the variance-preserving form starts from a standard normal.
    pub fn init_noise_sigma(&self) -> f64 {
        1.0
    }

    fn lambda(&self, i: usize) -> f64 {
        self.alphas[i].ln() - self.sigmas[i].ln()
    }

    /// One step from `sample` with the model's output at step `i`; steps must be taken in order.
    pub fn step(&mut self, i: usize, model_output: &[f32], sample: &[f32]) -> Vec<f32> {
        let (alpha, sigma) = (self.alphas[i], self.sigmas[i]);
        let x0: Vec<f64> = sample
            .iter()
            .zip(model_output)
            .map(|(&x, &m)| {
                let (x, m) = (x as f64, m as f64);
                match self.prediction {
                    Prediction::Epsilon => (x - sigma * m) / alpha,
                    Prediction::VPrediction => alpha * x - sigma * m,
                }
            })
            .collect();
        let last = i + 1 == self.timesteps.len();
        let next = if last {
            // sigma 0: the end of the trajectory is the clean prediction itself.
            x0.iter().map(|&v| v as f32).collect()
        } else {
            let (alpha_next, sigma_next) = (self.alphas[i + 1], self.sigmas[i + 1]);
            let h = self.lambda(i + 1) - self.lambda(i);
            let decay = (-h).exp_m1(); // e^-h - 1, exact for small h
            match (&self.previous, i) {
                (Some(previous), 1..) => {
                    // Midpoint second order: D0 = x0, D1 = (x0 - previous) / r.
                    let r = (self.lambda(i) - self.lambda(i - 1)) / h;
                    sample
                        .iter()
                        .zip(&x0)
                        .zip(previous)
                        .map(|((&x, &d0), &p)| {
                            let d1 = (d0 - p) / r;
                            (sigma_next / sigma * x as f64
                                - alpha_next * decay * d0
                                - 0.5 * alpha_next * decay * d1) as f32
                        })
                        .collect()
                }
                _ => sample
                    .iter()
                    .zip(&x0)
                    .map(|(&x, &d0)| {
                        (sigma_next / sigma * x as f64 - alpha_next * decay * d0) as f32
                    })
                    .collect(),
            }
        };
        self.previous = Some(x0);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(spacing: &str, prediction: &str) -> SchedulerFileConfig {
        serde_json::from_value(serde_json::json!({
            "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
            "num_train_timesteps": 1000, "prediction_type": prediction, "steps_offset": 1,
            "timestep_spacing": spacing
        }))
        .unwrap()
    }

    #[test]
    fn timestep_spacings() {
        let linspace = DpmSolver::new(&config("linspace", "epsilon"), 4).unwrap();
        assert_eq!(linspace.timesteps, vec![999.0, 749.0, 500.0, 250.0]);
        let leading = DpmSolver::new(&config("leading", "epsilon"), 4).unwrap();
        assert_eq!(leading.timesteps, vec![801.0, 601.0, 401.0, 201.0]);
        // 999 * 5 / 6 = 832.5 rounds to even.
        let halves = DpmSolver::new(&config("linspace", "epsilon"), 6).unwrap();
        assert_eq!(halves.timesteps[1], 832.0);
        let trailing = DpmSolver::new(&config("trailing", "epsilon"), 4).unwrap();
        assert_eq!(trailing.timesteps, vec![999.0, 749.0, 499.0, 249.0]);
        assert!(DpmSolver::new(&config("karras", "epsilon"), 4).is_err());
        assert!(DpmSolver::new(&config("leading", "sample"), 4).is_err());
        assert!(DpmSolver::new(&config("leading", "epsilon"), 0).is_err());
    }

    /// A model that knows the clean sample and the noise: every update, first or second order,
    /// must land exactly on the noisy sample of the next timestep, and the last on x0.
    fn exact_trajectory(prediction: &str) {
        let mut s = DpmSolver::new(&config("leading", prediction), 6).unwrap();
        let (x0, eps) = ([0.3f64, -0.7, 1.1], [0.9f64, -1.4, 0.2]);
        let noisy = |s: &DpmSolver, i: usize| -> Vec<f32> {
            x0.iter()
                .zip(eps)
                .map(|(a, e)| (s.alphas[i] * a + s.sigmas[i] * e) as f32)
                .collect()
        };
        let mut x = noisy(&s, 0);
        for i in 0..s.timesteps.len() {
            let output: Vec<f32> = match s.prediction {
                Prediction::Epsilon => eps.iter().map(|&e| e as f32).collect(),
                Prediction::VPrediction => x0
                    .iter()
                    .zip(eps)
                    .map(|(a, e)| (s.alphas[i] * e - s.sigmas[i] * a) as f32)
                    .collect(),
            };
            x = s.step(i, &output, &x);
            let want = noisy(&s, i + 1);
            for (got, want) in x.iter().zip(&want) {
                assert!((got - want).abs() < 1e-4, "step {i}: {got} vs {want}");
            }
        }
        for (got, want) in x.iter().zip(x0) {
            assert!((*got as f64 - want).abs() < 1e-4);
        }
    }

    #[test]
    fn an_exact_noise_prediction_follows_the_trajectory() {
        exact_trajectory("epsilon");
    }

    #[test]
    fn an_exact_velocity_prediction_follows_the_trajectory() {
        exact_trajectory("v_prediction");
    }

    #[test]
    fn the_second_order_update_uses_the_previous_prediction() {
        let mut a = DpmSolver::new(&config("leading", "epsilon"), 4).unwrap();
        let mut b = a.clone();
        let x = [0.5f32, -0.5];
        a.step(0, &[0.1, 0.2], &x);
        b.step(0, &[0.3, -0.2], &x);
        // The same second step after different first steps differs only through the history.
        assert_ne!(a.step(1, &[0.0, 0.0], &x), b.step(1, &[0.0, 0.0], &x));
    }
}
