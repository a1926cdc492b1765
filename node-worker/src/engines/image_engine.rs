//! Image generation with Stable Diffusion (the 1.x / 2.x architecture: one CLIP text encoder, a
//! UNet and a VAE) in the diffusers layout, every size read from the model's own config files.
//! The initial noise comes from our seeded generator; the scheduler is DDIM with eta 0,
//! DPM-Solver++ 2M (no noise of its own), or Euler ancestral whose step noise continues the same
//! seeded stream, so the same task on the same hardware gives the same PNG bytes.

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::stable_diffusion::ddim::DDIMSchedulerConfig;
use candle_transformers::models::stable_diffusion::schedulers::SchedulerConfig;
use candle_transformers::models::stable_diffusion::unet_2d::{
    BlockConfig, UNet2DConditionModel, UNet2DConditionModelConfig,
};
use candle_transformers::models::stable_diffusion::vae::{AutoEncoderKL, AutoEncoderKLConfig};
use protocol::image_params::{ImageParams, Scheduler};

use crate::engines::schedulers::dpm_solver::DpmSolver;
use crate::engines::schedulers::euler_ancestral::EulerAncestral;
use crate::engines::schedulers::scheduler_config::SchedulerFileConfig;
use protocol::params_error::ParamsError;
use serde::Deserialize;
use tokenizers::Tokenizer;

use crate::engines::clip_text::{ClipTextConfig, ClipTextEncoder};
use crate::engines::seeded_rng::SeededRng;
use crate::models::model_cache::{ImageModelFiles, TextEncoderFiles};

#[derive(Debug, thiserror::Error)]
pub enum ImageEngineError {
    /// Parameters no node of this version can run (reported on chain).
    #[error("task parameters: {0}")]
    Params(ParamsError),
    #[error("loading the model: {0}")]
    Load(String),
    #[error("running the model: {0}")]
    Run(String),
}

fn load_err(e: impl std::fmt::Display) -> ImageEngineError {
    ImageEngineError::Load(e.to_string())
}

fn run_err(e: impl std::fmt::Display) -> ImageEngineError {
    ImageEngineError::Run(e.to_string())
}

/// A number or one number per block, as diffusers writes `attention_head_dim`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PerBlock {
    One(usize),
    Each(Vec<usize>),
}

impl PerBlock {
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            PerBlock::One(v) => Some(*v),
            PerBlock::Each(v) => v.get(i).copied(),
        }
    }
}

/// `unet/config.json` (the fields this architecture uses).
#[derive(Debug, Clone, Deserialize)]
pub struct UNetFileConfig {
    #[serde(default = "four")]
    pub in_channels: usize,
    #[serde(default = "four")]
    pub out_channels: usize,
    pub block_out_channels: Vec<usize>,
    pub down_block_types: Vec<String>,
    pub layers_per_block: usize,
    pub attention_head_dim: PerBlock,
    pub cross_attention_dim: usize,
    #[serde(default = "thirty_two")]
    pub norm_num_groups: usize,
    #[serde(default = "norm_eps")]
    pub norm_eps: f64,
    #[serde(default = "yes")]
    pub flip_sin_to_cos: bool,
    #[serde(default)]
    pub freq_shift: f64,
    #[serde(default = "one_usize")]
    pub downsample_padding: usize,
    #[serde(default = "one_f64")]
    pub mid_block_scale_factor: f64,
    #[serde(default)]
    pub center_input_sample: bool,
    #[serde(default)]
    pub use_linear_projection: bool,
    #[serde(default)]
    pub transformer_layers_per_block: Option<PerBlock>,
    #[serde(default)]
    pub addition_embed_type: Option<String>,
}

/// `vae/config.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct VaeFileConfig {
    pub block_out_channels: Vec<usize>,
    pub layers_per_block: usize,
    #[serde(default = "four")]
    pub latent_channels: usize,
    #[serde(default = "thirty_two")]
    pub norm_num_groups: usize,
    #[serde(default = "sd_scaling")]
    pub scaling_factor: f64,
    #[serde(default = "yes")]
    pub use_quant_conv: bool,
    #[serde(default = "yes")]
    pub use_post_quant_conv: bool,
}

fn four() -> usize {
    4
}
fn thirty_two() -> usize {
    32
}
fn norm_eps() -> f64 {
    1e-5
}
fn yes() -> bool {
    true
}
fn one_usize() -> usize {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn sd_scaling() -> f64 {
    0.18215
}

impl UNetFileConfig {
    /// candle's configuration; `text_encoders` is how many the model has (two for SDXL).
    pub fn to_candle(&self, text_encoders: usize) -> Result<UNet2DConditionModelConfig, String> {
        match (self.addition_embed_type.as_deref(), text_encoders) {
            (None, 1) => {}
            // SDXL: as in candle's own SDXL pipeline, the UNet runs without the added text-time
            // embedding (its weights are not loaded).
            (Some("text_time"), 2) => {}
            (kind, n) => {
                return Err(format!(
                "a UNet with addition_embed_type {kind:?} and {n} text encoders is not supported"
            ))
            }
        }
        if self.down_block_types.len() != self.block_out_channels.len() {
            return Err("down_block_types and block_out_channels differ in length".into());
        }
        let blocks = self
            .block_out_channels
            .iter()
            .enumerate()
            .map(|(i, &out_channels)| {
                let cross = self.down_block_types[i].starts_with("CrossAttn");
                let layers = self
                    .transformer_layers_per_block
                    .as_ref()
                    .and_then(|t| t.get(i))
                    .unwrap_or(1);
                Ok(BlockConfig {
                    out_channels,
                    use_cross_attn: cross.then_some(layers),
                    attention_head_dim: self
                        .attention_head_dim
                        .get(i)
                        .ok_or("attention_head_dim has too few entries")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(UNet2DConditionModelConfig {
            center_input_sample: self.center_input_sample,
            flip_sin_to_cos: self.flip_sin_to_cos,
            freq_shift: self.freq_shift,
            blocks,
            layers_per_block: self.layers_per_block,
            downsample_padding: self.downsample_padding,
            mid_block_scale_factor: self.mid_block_scale_factor,
            norm_num_groups: self.norm_num_groups,
            norm_eps: self.norm_eps,
            cross_attention_dim: self.cross_attention_dim,
            sliced_attention_size: None,
            use_linear_projection: self.use_linear_projection,
        })
    }
}

impl VaeFileConfig {
    pub fn to_candle(&self) -> AutoEncoderKLConfig {
        AutoEncoderKLConfig {
            block_out_channels: self.block_out_channels.clone(),
            layers_per_block: self.layers_per_block,
            latent_channels: self.latent_channels,
            norm_num_groups: self.norm_num_groups,
            use_quant_conv: self.use_quant_conv,
            use_post_quant_conv: self.use_post_quant_conv,
        }
    }

    /// How many pixels one latent stands for along each side.
    pub fn downscale(&self) -> usize {
        1 << self.block_out_channels.len().saturating_sub(1)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<T, ImageEngineError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| load_err(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| load_err(format!("{}: {e}", path.display())))
}

/// One CLIP text encoder with its tokenizer.
struct TextBranch {
    encoder: ClipTextEncoder,
    tokenizer: Tokenizer,
    bos: Option<u32>,
    eos: u32,
    pad: u32,
    hidden: usize,
}

impl TextBranch {
    fn load(files: &TextEncoderFiles, vb: VarBuilder) -> Result<TextBranch, ImageEngineError> {
        let config: ClipTextConfig = read_json(&files.config)?;
        let encoder = ClipTextEncoder::new(vb, &config).map_err(load_err)?;
        let tokenizer = Tokenizer::from_file(&files.tokenizer).map_err(load_err)?;
        let eos = tokenizer
            .token_to_id("<|endoftext|>")
            .ok_or_else(|| load_err("the tokenizer has no <|endoftext|> token"))?;
        let bos = tokenizer.token_to_id("<|startoftext|>");
        let pad = match &files.tokenizer_config {
            Some(path) => {
                let config: serde_json::Value = read_json(path)?;
                let name = match &config["pad_token"] {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(o) => o
                        .get("content")
                        .and_then(|c| c.as_str())
                        .map(str::to_string),
                    _ => None,
                };
                name.and_then(|n| tokenizer.token_to_id(&n)).unwrap_or(eos)
            }
            None => eos,
        };
        Ok(TextBranch {
            encoder,
            tokenizer,
            bos,
            eos,
            pad,
            hidden: config.hidden_size,
        })
    }

    /// `<bos> tokens <eos> <pad>...` cut to the encoder's length, as CLIP was trained.
    fn token_ids(&self, text: &str) -> Result<Vec<u32>, ImageEngineError> {
        let max = self.encoder.max_length();
        let encoding = self.tokenizer.encode(text, false).map_err(run_err)?;
        let mut ids: Vec<u32> = self.bos.into_iter().collect();
        ids.extend(
            encoding
                .get_ids()
                .iter()
                .copied()
                .filter(|&id| Some(id) != self.bos && id != self.eos),
        );
        ids.truncate(max - 1);
        ids.push(self.eos);
        ids.resize(max, self.pad);
        Ok(ids)
    }

    fn encode(&self, text: &str, device: &Device) -> Result<Tensor, ImageEngineError> {
        let ids = self.token_ids(text)?;
        let ids = Tensor::new(ids.as_slice(), device)
            .and_then(|t| t.unsqueeze(0))
            .map_err(run_err)?;
        self.encoder.forward(&ids).map_err(run_err)
    }
}

/// A loaded Stable Diffusion model.
pub struct ImageEngine {
    /// One encoder (SD 1.x / 2.x) or two whose outputs are concatenated (SDXL).
    texts: Vec<TextBranch>,
    unet: UNet2DConditionModel,
    unet_in_channels: usize,
    vae: AutoEncoderKL,
    vae_config: VaeFileConfig,
    scheduler: DDIMSchedulerConfig,
    /// The model's scheduler settings, for the Euler ancestral sampler.
    scheduler_file: SchedulerFileConfig,
    device: Device,
    dtype: DType,
}

impl ImageEngine {
    pub fn load(files: &ImageModelFiles, device: &Device) -> Result<ImageEngine, ImageEngineError> {
        let dtype = if device.is_cpu() {
            DType::F32
        } else {
            DType::F16
        };
        let unet_file: UNetFileConfig = read_json(&files.unet_config)?;
        let vae_config: VaeFileConfig = read_json(&files.vae_config)?;
        let scheduler_file: SchedulerFileConfig = read_json(&files.scheduler_config)?;
        let scheduler = scheduler_file.to_ddim().map_err(load_err)?;
        let unet_config = unet_file
            .to_candle(files.text_encoders.len())
            .map_err(load_err)?;
        // SAFETY: weight files are memory-mapped read-only and replaced only by rename.
        let mmap = |path: &std::path::Path| unsafe {
            VarBuilder::from_mmaped_safetensors(&[path], dtype, device).map_err(load_err)
        };
        let texts = files
            .text_encoders
            .iter()
            .map(|t| TextBranch::load(t, mmap(&t.weights)?))
            .collect::<Result<Vec<_>, _>>()?;
        let hidden: usize = texts.iter().map(|t| t.hidden).sum();
        if unet_file.cross_attention_dim != hidden {
            return Err(load_err(format!(
                "the UNet attends to {} dimensions but the text encoders give {hidden}",
                unet_file.cross_attention_dim
            )));
        }
        let unet = UNet2DConditionModel::new(
            mmap(&files.unet_weights)?,
            unet_file.in_channels,
            unet_file.out_channels,
            false,
            unet_config,
        )
        .map_err(load_err)?;
        let vae = AutoEncoderKL::new(mmap(&files.vae_weights)?, 3, 3, vae_config.to_candle())
            .map_err(load_err)?;
        Ok(ImageEngine {
            texts,
            unet,
            unet_in_channels: unet_file.in_channels,
            vae,
            vae_config,
            scheduler,
            scheduler_file,
            device: device.clone(),
            dtype,
        })
    }

    fn encode_text(&self, text: &str) -> Result<Tensor, ImageEngineError> {
        let states = self
            .texts
            .iter()
            .map(|t| t.encode(text, &self.device))
            .collect::<Result<Vec<_>, _>>()?;
        Tensor::cat(&states, 2).map_err(run_err)
    }

    /// Generates the task's images as PNG files. `on_step(done, total)` follows the denoising.
    pub fn generate(
        &self,
        params: &ImageParams,
        mut on_step: impl FnMut(usize, usize),
    ) -> Result<Vec<Vec<u8>>, ImageEngineError> {
        let c = &params.task_config;
        let factor = self.vae_config.downscale();
        let (w, h) = (c.image_width as usize, c.image_height as usize);
        if w % factor != 0 || h % factor != 0 {
            return Err(ImageEngineError::Params(ParamsError::new(
                "task_config.image_width",
                format!("this model needs sides that are multiples of {factor}"),
            )));
        }
        let (lh, lw) = (h / factor, w / factor);
        let guided = c.cfg > 1.0;
        let cond = self.encode_text(&params.prompt)?;
        let embeddings = if guided {
            let uncond = self.encode_text(&params.negative_prompt)?;
            Tensor::cat(&[uncond, cond], 0).map_err(run_err)?
        } else {
            cond
        }
        .to_dtype(self.dtype)
        .map_err(run_err)?;

        let steps = c.steps as usize;
        let total = steps * c.num_images as usize;
        // One stream for the whole task: image i takes the i-th block of noise.
        let mut rng = SeededRng::new(c.seed);
        let latent_len = self.unet_in_channels * lh * lw;
        let mut images = Vec::with_capacity(c.num_images as usize);
        for i in 0..c.num_images as usize {
            let mut sampler = match params.scheduler {
                Scheduler::EulerAncestral => Sampler::Euler(
                    EulerAncestral::new(&self.scheduler_file, steps)
                        .map_err(|e| ImageEngineError::Params(ParamsError::new("scheduler", e)))?,
                ),
                Scheduler::DpmSolverMultistep => Sampler::Dpm(
                    DpmSolver::new(&self.scheduler_file, steps)
                        .map_err(|e| ImageEngineError::Params(ParamsError::new("scheduler", e)))?,
                ),
                _ => Sampler::Ddim(self.scheduler.build(steps).map_err(run_err)?),
            };
            let noise = rng.normal_vec(latent_len, 1.0);
            let shape = (1, self.unet_in_channels, lh, lw);
            let mut latents = Tensor::from_vec(noise, shape, &self.device)
                .and_then(|t| t * sampler.init_noise_sigma())
                .and_then(|t| t.to_dtype(self.dtype))
                .map_err(run_err)?;
            let timesteps = sampler.timesteps();
            for (step, &t) in timesteps.iter().enumerate() {
                let input = if guided {
                    Tensor::cat(&[&latents, &latents], 0).map_err(run_err)?
                } else {
                    latents.clone()
                };
                let input = sampler.scale_model_input(input, step, t)?;
                let noise_pred = self.unet.forward(&input, t, &embeddings).map_err(run_err)?;
                let noise_pred = if guided {
                    let chunks = noise_pred.chunk(2, 0).map_err(run_err)?;
                    let (uncond, text) = (&chunks[0], &chunks[1]);
                    (uncond + ((text - uncond).map_err(run_err)? * c.cfg).map_err(run_err)?)
                        .map_err(run_err)?
                } else {
                    noise_pred
                };
                let flat = |x: &Tensor| {
                    x.flatten_all()
                        .and_then(|x| x.to_dtype(DType::F32))
                        .and_then(|x| x.to_vec1::<f32>())
                        .map_err(run_err)
                };
                let to_latents = |values: Vec<f32>| {
                    Tensor::from_vec(values, shape, &self.device)
                        .and_then(|x| x.to_dtype(self.dtype))
                        .map_err(run_err)
                };
                latents = match &mut sampler {
                    Sampler::Ddim(d) => {
                        d.step(&noise_pred, t as usize, &latents).map_err(run_err)?
                    }
                    Sampler::Euler(e) => {
                        // The step's noise continues the task's one stream.
                        let noise = if e.adds_noise(step) {
                            rng.normal_vec(latent_len, 1.0)
                        } else {
                            vec![0.0; latent_len]
                        };
                        to_latents(e.step(step, &flat(&noise_pred)?, &flat(&latents)?, &noise))?
                    }
                    Sampler::Dpm(d) => {
                        to_latents(d.step(step, &flat(&noise_pred)?, &flat(&latents)?))?
                    }
                };
                on_step(i * steps + step + 1, total);
            }
            let decoded = self
                .vae
                .decode(&(latents / self.vae_config.scaling_factor).map_err(run_err)?)
                .map_err(run_err)?;
            images.push(to_png(&decoded)?);
        }
        Ok(images)
    }
}

/// The denoising schedule of one image: candle's DDIM (eta 0, no noise of its own), our
/// DPM-Solver++ (no noise either) or our Euler ancestral sampler fed from the task's seeded stream.
enum Sampler {
    Ddim(Box<dyn candle_transformers::models::stable_diffusion::schedulers::Scheduler>),
    Euler(EulerAncestral),
    Dpm(DpmSolver),
}

impl Sampler {
    fn init_noise_sigma(&self) -> f64 {
        match self {
            Sampler::Ddim(d) => d.init_noise_sigma(),
            Sampler::Euler(e) => e.init_noise_sigma,
            Sampler::Dpm(d) => d.init_noise_sigma(),
        }
    }

    fn timesteps(&self) -> Vec<f64> {
        match self {
            Sampler::Ddim(d) => d.timesteps().iter().map(|t| *t as f64).collect(),
            Sampler::Euler(e) => e.timesteps.clone(),
            Sampler::Dpm(d) => d.timesteps.clone(),
        }
    }

    fn scale_model_input(
        &self,
        input: Tensor,
        step: usize,
        t: f64,
    ) -> Result<Tensor, ImageEngineError> {
        match self {
            Sampler::Ddim(d) => d.scale_model_input(input, t as usize).map_err(run_err),
            Sampler::Euler(e) => (input / e.input_scale(step)).map_err(run_err),
            // The variance-preserving form feeds the sample unscaled.
            Sampler::Dpm(_) => Ok(input),
        }
    }
}

/// `[1, 3, H, W]` in [-1, 1] to an 8-bit RGB PNG.
fn to_png(decoded: &Tensor) -> Result<Vec<u8>, ImageEngineError> {
    let pixels = ((decoded.i(0).map_err(run_err)? / 2.0).map_err(run_err)? + 0.5)
        .and_then(|t| t.clamp(0f32, 1f32))
        .and_then(|t| t * 255.0)
        .and_then(|t| t.to_dtype(DType::F32))
        .and_then(|t| t.round())
        .and_then(|t| t.to_dtype(DType::U8))
        .and_then(|t| t.permute((1, 2, 0)))
        .map_err(run_err)?;
    let (h, w, _) = pixels.dims3().map_err(run_err)?;
    let data: Vec<u8> = pixels
        .flatten_all()
        .and_then(|t| t.to_vec1())
        .map_err(run_err)?;
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(run_err)?;
    writer.write_image_data(&data).map_err(run_err)?;
    writer.finish().map_err(run_err)?;
    Ok(png_bytes)
}
