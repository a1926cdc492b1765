//! Tiny randomly initialised models written in the real on-disk layout, for tests, benchmarks and
//! the local network demonstration: the real loading and decoding code runs on them without any
//! download. Weights come from [`SeededRng`], so a given seed always writes the same files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use crate::model_cache;
use crate::seeded_rng::SeededRng;

/// Shape of a tiny Llama.
#[derive(Debug, Clone, Copy)]
pub struct TinyLlama {
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub seed: u64,
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
        }
    }
}

const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// A byte-level BPE tokenizer with the 256 byte symbols and the ChatML special tokens.
pub fn byte_tokenizer() -> Result<Tokenizer, String> {
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
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
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
        let config = serde_json::json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
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
        }
        let mut rng = SeededRng::new(self.seed);
        let mut tensors = HashMap::new();
        for (name, shape, is_norm) in shapes {
            let n: usize = shape.iter().product();
            let mut values = if is_norm {
                vec![1.0f32; n]
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
