//! Text generation with candle: Llama-architecture models (Llama, Mistral) and Qwen2 (the same with
//! biases on the attention's q/k/v projections) from safetensors + config.json + tokenizer.json,
//! or quantized GGUF files whose tokenizer is rebuilt from the GGUF metadata.
//! Decoding is seeded and runs token by token on one device, so the same task on the same
//! hardware gives the same bytes.

use std::collections::BTreeSet;
use std::fs::File;

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::llama::{self, Llama, LlamaConfig, LlamaEosToks};
use candle_transformers::models::quantized_llama::ModelWeights;
use candle_transformers::models::qwen2;
use protocol::params_error::ParamsError;
use protocol::text_params::{ChatMessage, DType as ParamsDType, Role, TextParams};
use protocol::text_result::{Choice, TextResult, Usage};
use tokenizers::Tokenizer;

use crate::models::model_cache::TextModelFiles;

#[derive(Debug, thiserror::Error)]
pub enum TextEngineError {
    /// The task's parameters cannot be run by this model on any node (a deterministic failure,
    /// reported on chain).
    #[error("task parameters: {0}")]
    Params(ParamsError),
    #[error("loading the model: {0}")]
    Load(String),
    #[error("running the model: {0}")]
    Run(String),
}

fn load_err(e: impl std::fmt::Display) -> TextEngineError {
    TextEngineError::Load(e.to_string())
}

fn run_err(e: impl std::fmt::Display) -> TextEngineError {
    TextEngineError::Run(e.to_string())
}

enum Model {
    Llama {
        model: Box<Llama>,
        config: llama::Config,
        dtype: DType,
    },
    Qwen2(Box<qwen2::ModelForCausalLM>),
    Gguf(ModelWeights),
}

/// The decoder a safetensors model's config.json asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Architecture {
    Llama,
    Qwen2,
}

impl Architecture {
    /// From `model_type`; a config without one is read as Llama.
    fn of(config: &serde_json::Value) -> Result<Architecture, TextEngineError> {
        match config.get("model_type").and_then(|t| t.as_str()) {
            None | Some("llama" | "mistral") => Ok(Architecture::Llama),
            Some("qwen2") => Ok(Architecture::Qwen2),
            // Loading another architecture's weights into a Llama would silently drop what it
            // has beyond Llama (Qwen2's biases were one such case), so refuse it.
            Some(other) => Err(load_err(format!(
                "config.json: model_type {other:?} is not supported (llama, mistral, qwen2)"
            ))),
        }
    }
}

fn safetensors_dtype(dtype: ParamsDType, device: &Device) -> DType {
    match (dtype, device.is_cpu()) {
        (ParamsDType::Float16, _) => DType::F16,
        (ParamsDType::Bfloat16, _) => DType::BF16,
        (ParamsDType::Auto, false) => DType::BF16,
        (ParamsDType::Float32 | ParamsDType::Auto, _) => DType::F32,
    }
}

/// How chat messages become one prompt string, chosen from the tokenizer's special tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTemplate {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen2).
    ChatMl,
    /// `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>` (Llama 3).
    Llama3,
    /// `role: content\n` lines, for models without chat tokens.
    Plain,
}

impl ChatTemplate {
    pub fn for_tokenizer(tokenizer: &Tokenizer) -> ChatTemplate {
        if tokenizer.token_to_id("<|im_start|>").is_some() {
            ChatTemplate::ChatMl
        } else if tokenizer.token_to_id("<|start_header_id|>").is_some() {
            ChatTemplate::Llama3
        } else {
            ChatTemplate::Plain
        }
    }

    pub fn render(self, messages: &[ChatMessage]) -> String {
        let role = |r: Role| match r {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        let mut prompt = String::new();
        match self {
            ChatTemplate::ChatMl => {
                for m in messages {
                    prompt += &format!("<|im_start|>{}\n{}<|im_end|>\n", role(m.role), m.content);
                }
                prompt += "<|im_start|>assistant\n";
            }
            ChatTemplate::Llama3 => {
                prompt += "<|begin_of_text|>";
                for m in messages {
                    prompt += &format!(
                        "<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>",
                        role(m.role),
                        m.content
                    );
                }
                prompt += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            }
            ChatTemplate::Plain => {
                for m in messages {
                    prompt += &format!("{}: {}\n", role(m.role), m.content);
                }
                prompt += "assistant:";
            }
        }
        prompt
    }
}

/// A loaded text model, ready to answer tasks.
pub struct TextEngine {
    model: Model,
    tokenizer: Tokenizer,
    eos: BTreeSet<u32>,
    template: ChatTemplate,
    device: Device,
    context_length: usize,
}

const END_TOKENS: [&str; 5] = [
    "<|im_end|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "</s>",
    "<|endoftext|>",
];

impl TextEngine {
    /// Loads a model's files on `device`; `dtype` applies to safetensors models (GGUF models
    /// keep their quantization).
    pub fn load(
        files: &TextModelFiles,
        device: &Device,
        dtype: ParamsDType,
    ) -> Result<TextEngine, TextEngineError> {
        let (model, tokenizer, mut eos, context_length) = match files {
            TextModelFiles::Safetensors {
                config,
                tokenizer,
                weights,
            } => {
                let text = std::fs::read_to_string(config).map_err(load_err)?;
                let config_err = |e: serde_json::Error| load_err(format!("config.json: {e}"));
                let json: serde_json::Value = serde_json::from_str(&text).map_err(config_err)?;
                let architecture = Architecture::of(&json)?;
                let tokenizer = Tokenizer::from_file(tokenizer).map_err(load_err)?;
                let dtype = safetensors_dtype(dtype, device);
                // SAFETY: the weight files are memory-mapped read-only; the cache is ours and
                // files are only ever replaced by rename, never rewritten in place.
                let vb = unsafe { VarBuilder::from_mmaped_safetensors(weights, dtype, device) }
                    .map_err(load_err)?;
                if architecture == Architecture::Qwen2 {
                    let config: qwen2::Config = serde_json::from_value(json).map_err(config_err)?;
                    let context = config.max_position_embeddings;
                    let model = qwen2::ModelForCausalLM::new(&config, vb).map_err(load_err)?;
                    // Qwen2's end tokens are the tokenizer's (`<|im_end|>`, `<|endoftext|>`).
                    (
                        Model::Qwen2(Box::new(model)),
                        tokenizer,
                        BTreeSet::new(),
                        context,
                    )
                } else {
                    let config: LlamaConfig = serde_json::from_value(json).map_err(config_err)?;
                    let config = config.into_config(false);
                    let model = Llama::load(vb, &config).map_err(load_err)?;
                    let eos: BTreeSet<u32> = match &config.eos_token_id {
                        Some(LlamaEosToks::Single(id)) => [*id].into(),
                        Some(LlamaEosToks::Multiple(ids)) => ids.iter().copied().collect(),
                        None => BTreeSet::new(),
                    };
                    let context = config.max_position_embeddings;
                    (
                        Model::Llama {
                            model: Box::new(model),
                            config,
                            dtype,
                        },
                        tokenizer,
                        eos,
                        context,
                    )
                }
            }
            TextModelFiles::Gguf { file } => {
                let mut reader = File::open(file).map_err(load_err)?;
                let content = gguf_file::Content::read(&mut reader).map_err(load_err)?;
                let tokenizer = Tokenizer::from_gguf(&content).map_err(load_err)?;
                let mut eos = BTreeSet::new();
                if let Some(id) = content
                    .metadata
                    .get("tokenizer.ggml.eos_token_id")
                    .and_then(|v| v.to_u32().ok())
                {
                    eos.insert(id);
                }
                let context = content
                    .metadata
                    .get("llama.context_length")
                    .and_then(|v| v.to_u32().ok())
                    .unwrap_or(2048) as usize;
                let model =
                    ModelWeights::from_gguf(content, &mut reader, device).map_err(load_err)?;
                (Model::Gguf(model), tokenizer, eos, context)
            }
        };
        for token in END_TOKENS {
            if let Some(id) = tokenizer.token_to_id(token) {
                eos.insert(id);
            }
        }
        let template = ChatTemplate::for_tokenizer(&tokenizer);
        Ok(TextEngine {
            model,
            tokenizer,
            eos,
            template,
            device: device.clone(),
            context_length,
        })
    }

    pub fn template(&self) -> ChatTemplate {
        self.template
    }

    /// Answers a task. `on_token(done, total)` is called after every generated token.
    pub fn generate(
        &mut self,
        params: &TextParams,
        mut on_token: impl FnMut(usize, usize),
    ) -> Result<TextResult, TextEngineError> {
        let prompt = self.template.render(&params.messages);
        let encoding = self
            .tokenizer
            .encode(prompt.as_str(), false)
            .map_err(run_err)?;
        let mut tokens: Vec<u32> = encoding.get_ids().to_vec();
        let prompt_tokens = tokens.len();
        let g = &params.generation_config;
        let max_new = g.max_new_tokens as usize;
        if prompt_tokens == 0 || prompt_tokens + max_new > self.context_length {
            return Err(TextEngineError::Params(ParamsError::new(
                "messages",
                format!(
                    "{prompt_tokens} prompt tokens + {max_new} new tokens exceed the model's context of {}",
                    self.context_length
                ),
            )));
        }
        let sampling = if !g.do_sample {
            Sampling::ArgMax
        } else {
            let temperature = g.temperature;
            match (g.top_k, g.top_p) {
                (Some(k), Some(p)) => Sampling::TopKThenTopP {
                    k: k as usize,
                    p,
                    temperature,
                },
                (Some(k), None) => Sampling::TopK {
                    k: k as usize,
                    temperature,
                },
                (None, Some(p)) => Sampling::TopP { p, temperature },
                (None, None) => Sampling::All { temperature },
            }
        };
        let mut sampler = LogitsProcessor::from_sampling(params.seed, sampling);
        let mut cache = match &self.model {
            Model::Llama { config, dtype, .. } => {
                Some(llama::Cache::new(true, *dtype, config, &self.device).map_err(run_err)?)
            }
            Model::Qwen2(_) | Model::Gguf(_) => None,
        };
        match &mut self.model {
            Model::Qwen2(model) => model.clear_kv_cache(),
            Model::Gguf(model) => model.clear_kv_cache(),
            Model::Llama { .. } => {}
        }

        let mut generated: Vec<u32> = Vec::new();
        let mut finish_reason = "length";
        let mut position = 0;
        for step in 0..max_new {
            let context = if step == 0 {
                &tokens[..]
            } else {
                &tokens[tokens.len() - 1..]
            };
            let input = Tensor::new(context, &self.device)
                .and_then(|t| t.unsqueeze(0))
                .map_err(run_err)?;
            let logits = match (&mut self.model, cache.as_mut()) {
                (Model::Llama { model, .. }, Some(cache)) => model.forward(&input, position, cache),
                (Model::Gguf(model), _) => model.forward(&input, position),
                // (batch, 1, vocab): the logits of the last position only.
                (Model::Qwen2(model), _) => {
                    model.forward(&input, position).and_then(|l| l.squeeze(0))
                }
                (Model::Llama { .. }, None) => unreachable!("a Llama model always has a cache"),
            }
            .and_then(|l| l.squeeze(0))
            .and_then(|l| l.to_dtype(DType::F32))
            .map_err(run_err)?;
            position += context.len();
            let logits = if g.repetition_penalty != 1.0 {
                candle_transformers::utils::apply_repeat_penalty(
                    &logits,
                    g.repetition_penalty as f32,
                    &tokens,
                )
                .map_err(run_err)?
            } else {
                logits
            };
            let next = sampler.sample(&logits).map_err(run_err)?;
            on_token(step + 1, max_new);
            if self.eos.contains(&next) {
                finish_reason = "stop";
                break;
            }
            tokens.push(next);
            generated.push(next);
        }
        let content = self.tokenizer.decode(&generated, true).map_err(run_err)?;
        let completion_tokens = generated.len() as u32;
        Ok(TextResult {
            model: params.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ChatMessage {
                    role: Role::Assistant,
                    content,
                },
                finish_reason: finish_reason.into(),
            }],
            usage: Usage {
                prompt_tokens: prompt_tokens as u32,
                completion_tokens,
                total_tokens: prompt_tokens as u32 + completion_tokens,
            },
        })
    }
}
