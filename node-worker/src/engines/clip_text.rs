//! The CLIP text encoder of Stable Diffusion, configured from the model's own
//! `text_encoder/config.json` and loaded from its safetensors (the Hugging Face `CLIPTextModel`
//! weight names). candle ships one too, but its configuration can only be one of the full-size
//! presets; this one reads any size, so tiny test models run through the same code as real ones.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ClipTextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "quick_gelu")]
    pub hidden_act: String,
    #[serde(default = "layer_norm_eps")]
    pub layer_norm_eps: f64,
}

fn quick_gelu() -> String {
    "quick_gelu".into()
}

fn layer_norm_eps() -> f64 {
    1e-5
}

struct EncoderLayer {
    layer_norm1: LayerNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

pub struct ClipTextEncoder {
    token_embedding: Embedding,
    position_embedding: Embedding,
    layers: Vec<EncoderLayer>,
    final_layer_norm: LayerNorm,
    config: ClipTextConfig,
}

impl ClipTextEncoder {
    /// Builds the encoder from `vb` rooted at the model (names start with `text_model.`).
    pub fn new(vb: VarBuilder, config: &ClipTextConfig) -> Result<Self> {
        if !matches!(config.hidden_act.as_str(), "quick_gelu" | "gelu") {
            candle_core::bail!("unsupported hidden_act {:?}", config.hidden_act);
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            candle_core::bail!("hidden_size is not a multiple of num_attention_heads");
        }
        let vb = vb.pp("text_model");
        let (h, i, eps) = (
            config.hidden_size,
            config.intermediate_size,
            config.layer_norm_eps,
        );
        let embeddings = vb.pp("embeddings");
        let token_embedding = embedding(config.vocab_size, h, embeddings.pp("token_embedding"))?;
        let position_embedding = embedding(
            config.max_position_embeddings,
            h,
            embeddings.pp("position_embedding"),
        )?;
        let layers = (0..config.num_hidden_layers)
            .map(|l| {
                let vb = vb.pp(format!("encoder.layers.{l}"));
                let attn = vb.pp("self_attn");
                Ok(EncoderLayer {
                    layer_norm1: layer_norm(h, eps, vb.pp("layer_norm1"))?,
                    q_proj: linear(h, h, attn.pp("q_proj"))?,
                    k_proj: linear(h, h, attn.pp("k_proj"))?,
                    v_proj: linear(h, h, attn.pp("v_proj"))?,
                    out_proj: linear(h, h, attn.pp("out_proj"))?,
                    layer_norm2: layer_norm(h, eps, vb.pp("layer_norm2"))?,
                    fc1: linear(h, i, vb.pp("mlp.fc1"))?,
                    fc2: linear(i, h, vb.pp("mlp.fc2"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let final_layer_norm = layer_norm(h, eps, vb.pp("final_layer_norm"))?;
        Ok(Self {
            token_embedding,
            position_embedding,
            layers,
            final_layer_norm,
            config: config.clone(),
        })
    }

    fn activation(&self, xs: &Tensor) -> Result<Tensor> {
        match self.config.hidden_act.as_str() {
            "gelu" => xs.gelu_erf(),
            _ => xs * candle_nn::ops::sigmoid(&(xs * 1.702)?)?,
        }
    }

    fn attention(&self, layer: &EncoderLayer, xs: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, l, h) = xs.dims3()?;
        let heads = self.config.num_attention_heads;
        let hd = h / heads;
        let shape = |t: Tensor| -> Result<Tensor> {
            t.reshape((b, l, heads, hd))?.transpose(1, 2)?.contiguous()
        };
        let q = shape((layer.q_proj.forward(xs)? * (hd as f64).powf(-0.5))?)?;
        let k = shape(layer.k_proj.forward(xs)?)?;
        let v = shape(layer.v_proj.forward(xs)?)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, l, h))?;
        layer.out_proj.forward(&out)
    }

    /// Hidden states `[batch, length, hidden]` for token ids `[batch, length]`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let (_, l) = ids.dims2()?;
        let device = ids.device();
        let positions = Tensor::arange(0u32, l as u32, device)?.unsqueeze(0)?;
        let mut xs = self
            .token_embedding
            .forward(ids)?
            .broadcast_add(&self.position_embedding.forward(&positions)?)?;
        let mask = causal_mask(l, xs.dtype(), device)?;
        for layer in &self.layers {
            let residual = xs.clone();
            let normed = layer.layer_norm1.forward(&xs)?;
            xs = (self.attention(layer, &normed, &mask)? + residual)?;
            let residual = xs.clone();
            let normed = layer.layer_norm2.forward(&xs)?;
            let mlp = layer
                .fc2
                .forward(&self.activation(&layer.fc1.forward(&normed)?)?)?;
            xs = (mlp + residual)?;
        }
        self.final_layer_norm.forward(&xs)
    }

    pub fn max_length(&self) -> usize {
        self.config.max_position_embeddings
    }
}

fn causal_mask(l: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..l)
        .flat_map(|i| (0..l).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (l, l), device)?
        .to_dtype(dtype)?
        .unsqueeze(0)?
        .unsqueeze(0)
}
