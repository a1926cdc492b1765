//! Tiny randomly initialised models written in the real on-disk layout, for tests, benchmarks and
//! the local network demonstration: the real loading and decoding code runs on them without any
//! download. Weights come from [`SeededRng`], so a given seed always writes the same files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::stable_diffusion::unet_2d::UNet2DConditionModel;
use candle_transformers::models::stable_diffusion::vae::AutoEncoderKL;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::engines::clip_text::{ClipTextConfig, ClipTextEncoder};
use crate::engines::image_engine::{UNetFileConfig, VaeFileConfig};
use crate::engines::seeded_rng::SeededRng;
use crate::models::model_cache;

/// Shape of a tiny Llama-family model.
#[derive(Debug, Clone, Copy)]
pub struct TinyLlama {
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub seed: u64,
    /// Qwen2's layout: `model_type` "qwen2" and biases on the q, k and v projections.
    pub qwen2: bool,
    /// Scale of the Qwen2 biases (0 writes zero biases).
    pub bias_scale: f32,
}

impl Default for TinyLlama {
    fn default() -> Self {
        Self {
            hidden: 64,
            intermediate: 128,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            seed: 1,
            qwen2: false,
            bias_scale: 0.5,
        }
    }
}

const CHAT_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
const CLIP_TOKENS: [&str; 2] = ["<|startoftext|>", "<|endoftext|>"];

/// A byte-level BPE tokenizer with the 256 byte symbols and the ChatML special tokens.
pub fn byte_tokenizer() -> Result<Tokenizer, String> {
    byte_tokenizer_with(&CHAT_TOKENS)
}

/// A byte-level BPE tokenizer with the 256 byte symbols and `specials` after them.
pub fn byte_tokenizer_with(specials: &[&str]) -> Result<Tokenizer, String> {
    let mut alphabet: Vec<char> = ByteLevel::alphabet().into_iter().collect();
    alphabet.sort();
    let vocab: tokenizers::models::bpe::Vocab = alphabet
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i as u32))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, Vec::new())
        .build()
        .map_err(|e| e.to_string())?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(ByteLevel::new(false, true, false)));
    tokenizer.with_decoder(Some(ByteLevel::default()));
    let specials: Vec<AddedToken> = specials
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| e.to_string())?;
    Ok(tokenizer)
}

impl TinyLlama {
    /// Writes `config.json`, `tokenizer.json` and `model.safetensors` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let tokenizer = byte_tokenizer()?;
        let vocab = tokenizer.get_vocab_size(true);
        let im_end = tokenizer
            .token_to_id("<|im_end|>")
            .ok_or("the tokenizer lacks <|im_end|>")?;
        let (architecture, model_type) = if self.qwen2 {
            ("Qwen2ForCausalLM", "qwen2")
        } else {
            ("LlamaForCausalLM", "llama")
        };
        let mut config = serde_json::json!({
            "architectures": [architecture],
            "model_type": model_type,
            "hidden_size": self.hidden,
            "intermediate_size": self.intermediate,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "num_key_value_heads": self.kv_heads,
            "vocab_size": vocab,
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "max_position_embeddings": 512,
            "bos_token_id": im_end,
            "eos_token_id": im_end,
            "tie_word_embeddings": false,
        });
        if self.qwen2 {
            config["hidden_act"] = "silu".into();
            config["sliding_window"] = 512.into();
            config["max_window_layers"] = self.layers.into();
            config["use_sliding_window"] = false.into();
        }
        let config_path = dir.join("config.json");
        std::fs::write(&config_path, config.to_string()).map_err(|e| e.to_string())?;
        let tokenizer_path = dir.join("tokenizer.json");
        tokenizer
            .save(&tokenizer_path, false)
            .map_err(|e| e.to_string())?;

        let (h, i, hd) = (self.hidden, self.intermediate, self.hidden / self.heads);
        let kv = self.kv_heads * hd;
        let mut shapes: Vec<(String, Vec<usize>, bool)> = vec![
            ("model.embed_tokens.weight".into(), vec![vocab, h], false),
            ("model.norm.weight".into(), vec![h], true),
            ("lm_head.weight".into(), vec![vocab, h], false),
        ];
        for l in 0..self.layers {
            let p = format!("model.layers.{l}");
            shapes.extend([
                (format!("{p}.self_attn.q_proj.weight"), vec![h, h], false),
                (format!("{p}.self_attn.k_proj.weight"), vec![kv, h], false),
                (format!("{p}.self_attn.v_proj.weight"), vec![kv, h], false),
                (format!("{p}.self_attn.o_proj.weight"), vec![h, h], false),
                (format!("{p}.mlp.gate_proj.weight"), vec![i, h], false),
                (format!("{p}.mlp.up_proj.weight"), vec![i, h], false),
                (format!("{p}.mlp.down_proj.weight"), vec![h, i], false),
                (format!("{p}.input_layernorm.weight"), vec![h], true),
                (
                    format!("{p}.post_attention_layernorm.weight"),
                    vec![h],
                    true,
                ),
            ]);
            if self.qwen2 {
                shapes.extend([
                    (format!("{p}.self_attn.q_proj.bias"), vec![h], false),
                    (format!("{p}.self_attn.k_proj.bias"), vec![kv], false),
                    (format!("{p}.self_attn.v_proj.bias"), vec![kv], false),
                ]);
            }
        }
        let mut rng = SeededRng::new(self.seed);
        let mut tensors = HashMap::new();
        for (name, shape, is_norm) in shapes {
            let n: usize = shape.iter().product();
            let mut values = if is_norm {
                vec![1.0f32; n]
            } else if name.ends_with(".bias") {
                rng.normal_vec(n, self.bias_scale)
            } else {
                rng.normal_vec(n, 0.2)
            };
            if name == "lm_head.weight" {
                // Zero logits for the special tokens (the last ids): random weights would
                // otherwise often end the answer at once.
                values[256 * h..].fill(0.0);
            }
            let tensor =
                Tensor::from_vec(values, shape, &Device::Cpu).map_err(|e| e.to_string())?;
            tensors.insert(name, tensor);
        }
        let weights_path = dir.join("model.safetensors");
        candle_core::safetensors::save(&tensors, &weights_path).map_err(|e| e.to_string())?;
        Ok(vec![config_path, tokenizer_path, weights_path])
    }

    /// Writes the model and installs it in `cache` under `name` (`org/name`).
    pub fn install(&self, cache: &Path, name: &str) -> Result<PathBuf, String> {
        let staging = tempfile_dir(cache)?;
        let files = self.write(&staging)?;
        let dir = model_cache::install(cache, name, &files).map_err(|e| e.to_string())?;
        std::fs::remove_dir_all(&staging).map_err(|e| e.to_string())?;
        Ok(dir)
    }
}

fn tempfile_dir(cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join(format!(".staging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Overwrites every variable of `varmap` from `rng` (candle's initialisers use its unseedable CPU
/// RNG): matrices and kernels normal with std 1/sqrt(fan-in), biases zero, scales one. Then
/// saves the safetensors file.
fn seed_and_save(varmap: &VarMap, rng: &mut SeededRng, path: &Path) -> Result<(), String> {
    let data = varmap.data().lock().map_err(|_| "poisoned var map")?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values = if dims.len() >= 2 {
            let fan_in: usize = dims[1..].iter().product();
            rng.normal_vec(n, 1.0 / (fan_in.max(1) as f32).sqrt())
        } else if name.ends_with("bias") {
            vec![0.0; n]
        } else {
            vec![1.0; n]
        };
        let tensor = Tensor::from_vec(values, dims, &Device::Cpu).map_err(|e| e.to_string())?;
        var.set(&tensor).map_err(|e| e.to_string())?;
    }
    drop(data);
    varmap.save(path).map_err(|e| e.to_string())
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(
        path,
        serde_json::to_string_pretty(value).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}

/// A tiny Stable Diffusion in the diffusers layout: a 2-layer CLIP text encoder, a two-block UNet
/// and a four-block VAE (64x64 images from 8x8 latents). With `xl`, the SDXL layout: a second
/// text encoder and tokenizer (`text_encoder_2/`, `tokenizer_2/`), a UNet attending to both
/// encoders' states with the text-time addition and linear projections, trailing timesteps.
#[derive(Debug, Clone, Copy)]
pub struct TinyStableDiffusion {
    pub seed: u64,
    pub xl: bool,
}

impl Default for TinyStableDiffusion {
    fn default() -> Self {
        Self { seed: 2, xl: false }
    }
}

impl TinyStableDiffusion {
    pub fn xl() -> Self {
        Self { seed: 3, xl: true }
    }

    fn write_text_encoder(
        &self,
        dir: &Path,
        suffix: &str,
        hidden_act: &str,
        pad: &str,
        rng: &mut SeededRng,
    ) -> Result<(), String> {
        let tokenizer = byte_tokenizer_with(&CLIP_TOKENS)?;
        let tokenizer_dir = dir.join(format!("tokenizer{suffix}"));
        std::fs::create_dir_all(&tokenizer_dir).map_err(|e| e.to_string())?;
        tokenizer
            .save(tokenizer_dir.join("tokenizer.json"), false)
            .map_err(|e| e.to_string())?;
        write_json(
            &tokenizer_dir.join("tokenizer_config.json"),
            &serde_json::json!({"pad_token": pad, "model_max_length": 16}),
        )?;
        let encoder_dir = dir.join(format!("text_encoder{suffix}"));
        let text = serde_json::json!({
            "architectures": ["CLIPTextModel"], "model_type": "clip_text_model",
            "vocab_size": tokenizer.get_vocab_size(true), "hidden_size": 32,
            "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
            "max_position_embeddings": 16, "hidden_act": hidden_act, "layer_norm_eps": 1e-5});
        write_json(&encoder_dir.join("config.json"), &text)?;
        let text: ClipTextConfig = serde_json::from_value(text).map_err(|e| e.to_string())?;
        let varmap = VarMap::new();
        ClipTextEncoder::new(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            &text,
        )
        .map_err(|e| e.to_string())?;
        seed_and_save(&varmap, rng, &encoder_dir.join("model.safetensors"))
    }
}

impl TinyStableDiffusion {
    /// Writes the model's directories (`unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
    /// `scheduler/`) and `model_index.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let mut rng = SeededRng::new(self.seed);
        self.write_text_encoder(dir, "", "quick_gelu", "<|endoftext|>", &mut rng)?;
        if self.xl {
            self.write_text_encoder(dir, "_2", "gelu", "!", &mut rng)?;
        }

        let unet = if self.xl {
            serde_json::json!({
            "_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4,
            "block_out_channels": [32, 64],
            "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
            "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
            "layers_per_block": 1, "attention_head_dim": [2, 4], "cross_attention_dim": 64,
            "transformer_layers_per_block": [1, 2], "use_linear_projection": true,
            "addition_embed_type": "text_time", "addition_time_embed_dim": 16,
            "norm_num_groups": 8, "norm_eps": 1e-5, "flip_sin_to_cos": true, "freq_shift": 0,
            "downsample_padding": 1, "mid_block_scale_factor": 1.0, "sample_size": 8})
        } else {
            serde_json::json!({
            "_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4,
            "block_out_channels": [32, 64],
            "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
            "layers_per_block": 1, "attention_head_dim": 2, "cross_attention_dim": 32,
            "norm_num_groups": 8, "norm_eps": 1e-5, "flip_sin_to_cos": true, "freq_shift": 0,
            "downsample_padding": 1, "mid_block_scale_factor": 1.0, "sample_size": 8})
        };
        write_json(&dir.join("unet").join("config.json"), &unet)?;
        let unet: UNetFileConfig = serde_json::from_value(unet).map_err(|e| e.to_string())?;
        let varmap = VarMap::new();
        UNet2DConditionModel::new(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            4,
            4,
            false,
            unet.to_candle(if self.xl { 2 } else { 1 })?,
        )
        .map_err(|e| e.to_string())?;
        seed_and_save(
            &varmap,
            &mut rng,
            &dir.join("unet").join("diffusion_pytorch_model.safetensors"),
        )?;

        let vae = serde_json::json!({
            "_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3,
            "block_out_channels": [32, 32, 64, 64], "layers_per_block": 1,
            "latent_channels": 4, "norm_num_groups": 8,
            "scaling_factor": if self.xl { 0.13025 } else { 0.18215 },
            "sample_size": 64});
        write_json(&dir.join("vae").join("config.json"), &vae)?;
        let vae: VaeFileConfig = serde_json::from_value(vae).map_err(|e| e.to_string())?;
        let varmap = VarMap::new();
        AutoEncoderKL::new(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            3,
            3,
            vae.to_candle(),
        )
        .map_err(|e| e.to_string())?;
        seed_and_save(
            &varmap,
            &mut rng,
            &dir.join("vae").join("diffusion_pytorch_model.safetensors"),
        )?;

        write_json(
            &dir.join("scheduler").join("scheduler_config.json"),
            &serde_json::json!({"_class_name": "DDIMScheduler", "beta_start": 0.00085,
                "beta_end": 0.012, "beta_schedule": "scaled_linear",
                "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1,
                "clip_sample": false, "set_alpha_to_one": false,
                "timestep_spacing": if self.xl { "trailing" } else { "leading" }}),
        )?;
        write_json(
            &dir.join("model_index.json"),
            &serde_json::json!({"_class_name": if self.xl { "StableDiffusionXLPipeline" } else { "StableDiffusionPipeline" },
                "scheduler": ["diffusers", "DDIMScheduler"],
                "text_encoder": ["transformers", "CLIPTextModel"],
                "tokenizer": ["transformers", "CLIPTokenizer"],
                "unet": ["diffusers", "UNet2DConditionModel"],
                "vae": ["diffusers", "AutoencoderKL"]}),
        )
    }

    /// Writes the model and installs it in `cache` under `name` (`org/name`).
    pub fn install(&self, cache: &Path, name: &str) -> Result<PathBuf, String> {
        let staging = tempfile_dir(cache)?;
        self.write(&staging)?;
        let parts: Vec<PathBuf> = std::fs::read_dir(&staging)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let dir = model_cache::install(cache, name, &parts).map_err(|e| e.to_string())?;
        std::fs::remove_dir_all(&staging).map_err(|e| e.to_string())?;
        Ok(dir)
    }
}
