//! Parameters of a text-generation task (modelled on the Crynux GPT task format): the model, the
//! chat messages, the generation config, the seed and the dtype.

use serde::{Deserialize, Serialize};

use crate::params_error::{check, ParamsError};

/// The parameter format version this code reads and writes.
pub const TEXT_PARAMS_VERSION: &str = "1.0";
const MAX_MESSAGES: usize = 256;
const MAX_CONTENT_BYTES: usize = 64 * 1024;
const MAX_NEW_TOKENS: u32 = 4096;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextParams {
    pub version: String,
    /// Model name as in the Hugging Face hub (`HuggingFaceTB/SmolLM2-135M-Instruct`), or a GGUF
    /// file name in the worker's model cache.
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub generation_config: GenerationConfig,
    pub seed: u64,
    #[serde(default)]
    pub dtype: DType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    #[default]
    Auto,
    Float32,
    Float16,
    Bfloat16,
}

/// Decoding settings. `do_sample: false` is greedy decoding; sampling draws from the task's
/// seeded generator, so a task's output is reproducible on the same GPU model either way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationConfig {
    pub max_new_tokens: u32,
    #[serde(default)]
    pub do_sample: bool,
    #[serde(default = "one")]
    pub temperature: f64,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default = "one")]
    pub repetition_penalty: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_new_tokens: 256,
            do_sample: false,
            temperature: 1.0,
            top_k: None,
            top_p: None,
            repetition_penalty: 1.0,
        }
    }
}

impl TextParams {
    /// Parses and validates a parameter document.
    pub fn from_json(text: &str) -> Result<TextParams, ParamsError> {
        let params: TextParams = serde_json::from_str(text).map_err(ParamsError::from_json)?;
        params.validate()?;
        Ok(params)
    }

    pub fn validate(&self) -> Result<(), ParamsError> {
        check(
            self.version == TEXT_PARAMS_VERSION,
            "version",
            &format!(
                "unsupported version {:?}, expected {TEXT_PARAMS_VERSION:?}",
                self.version
            ),
        )?;
        check(!self.model.trim().is_empty(), "model", "must not be empty")?;
        check(
            !self.messages.is_empty(),
            "messages",
            "must hold at least one message",
        )?;
        check(
            self.messages.len() <= MAX_MESSAGES,
            "messages",
            &format!("at most {MAX_MESSAGES} messages"),
        )?;
        for (i, m) in self.messages.iter().enumerate() {
            check(
                m.content.len() <= MAX_CONTENT_BYTES,
                &format!("messages[{i}].content"),
                &format!("at most {MAX_CONTENT_BYTES} bytes"),
            )?;
        }
        check(
            self.messages.last().map(|m| m.role) != Some(Role::Assistant),
            "messages",
            "the last message must not be the assistant's",
        )?;
        let g = &self.generation_config;
        check(
            (1..=MAX_NEW_TOKENS).contains(&g.max_new_tokens),
            "generation_config.max_new_tokens",
            &format!("must be between 1 and {MAX_NEW_TOKENS}"),
        )?;
        check(
            g.temperature.is_finite() && g.temperature > 0.0 && g.temperature <= 10.0,
            "generation_config.temperature",
            "must be in (0, 10]",
        )?;
        if let Some(top_p) = g.top_p {
            check(
                top_p.is_finite() && top_p > 0.0 && top_p <= 1.0,
                "generation_config.top_p",
                "must be in (0, 1]",
            )?;
        }
        if let Some(top_k) = g.top_k {
            check(top_k >= 1, "generation_config.top_k", "must be at least 1")?;
        }
        check(
            g.repetition_penalty.is_finite() && g.repetition_penalty > 0.0,
            "generation_config.repetition_penalty",
            "must be positive",
        )?;
        Ok(())
    }

    /// The on-chain model ID of this task: `base:` followed by the model name.
    pub fn model_id(&self) -> String {
        format!("base:{}", self.model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "version": "1.0",
            "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
            "messages": [{"role": "user", "content": "What is the capital of France?"}],
            "generation_config": {"max_new_tokens": 30},
            "seed": 42
        })
    }

    fn error_field(doc: serde_json::Value) -> String {
        TextParams::from_json(&doc.to_string()).unwrap_err().field
    }

    #[test]
    fn accepts_a_valid_document_with_defaults() {
        let p = TextParams::from_json(&valid().to_string()).unwrap();
        assert_eq!(p.dtype, DType::Auto);
        assert!(!p.generation_config.do_sample);
        assert_eq!(p.model_id(), "base:HuggingFaceTB/SmolLM2-135M-Instruct");
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let mut doc = valid();
        doc["generation_config"]["max_new_tokens"] = 0.into();
        assert_eq!(error_field(doc), "generation_config.max_new_tokens");

        let mut doc = valid();
        doc["generation_config"]["top_p"] = 1.5.into();
        assert_eq!(error_field(doc), "generation_config.top_p");

        let mut doc = valid();
        doc["messages"] = serde_json::json!([]);
        assert_eq!(error_field(doc), "messages");

        let mut doc = valid();
        doc["version"] = "9.0".into();
        assert_eq!(error_field(doc), "version");

        let mut doc = valid();
        doc.as_object_mut().unwrap().remove("seed");
        assert_eq!(error_field(doc), "seed");

        let mut doc = valid();
        doc["temprature"] = 1.into();
        assert_eq!(error_field(doc), "temprature");

        let mut doc = valid();
        doc["messages"][0]["role"] = "robot".into();
        let err = TextParams::from_json(&doc.to_string()).unwrap_err();
        assert!(err.message.contains("robot"), "{err}");
    }
}
