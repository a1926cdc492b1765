//! The result of a text-generation task and its score: sha256 of the result's canonical JSON.
//! Any third party can recompute the score from the downloaded result with a JSON library that
//! sorts keys.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical_json::to_canonical_json;
use crate::text_params::ChatMessage;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextResult {
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub index: u32,
    pub message: ChatMessage,
    /// `stop` (end of sequence) or `length` (max_new_tokens reached).
    pub finish_reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub total_tokens: u32,
}

impl TextResult {
    /// The bytes that are stored, uploaded and hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).expect("a TextResult is plain JSON");
        to_canonical_json(&value).into_bytes()
    }

    pub fn score(&self) -> [u8; 32] {
        text_score(&self.canonical_bytes())
    }
}

/// The score of a text result file: sha256 of its bytes, which must be canonical JSON.
pub fn text_score(canonical: &[u8]) -> [u8; 32] {
    Sha256::digest(canonical).into()
}

/// Checks that uploaded bytes are a text result in canonical form and returns its score.
pub fn score_uploaded_text(bytes: &[u8]) -> Result<[u8; 32], String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("result is not UTF-8: {e}"))?;
    let result: TextResult =
        serde_json::from_str(text).map_err(|e| format!("result is not a text result: {e}"))?;
    if result.canonical_bytes() != bytes {
        return Err("result is not in canonical JSON form (sorted keys, no whitespace)".into());
    }
    Ok(text_score(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text_params::Role;

    fn result() -> TextResult {
        TextResult {
            model: "m".into(),
            choices: vec![Choice {
                index: 0,
                message: ChatMessage {
                    role: Role::Assistant,
                    content: "Paris.".into(),
                },
                finish_reason: "stop".into(),
            }],
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: 2,
                total_tokens: 5,
            },
        }
    }

    #[test]
    fn canonical_form_has_sorted_keys_and_scores_by_sha256() {
        let bytes = result().canonical_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"Paris.","role":"assistant"}}],"model":"m","usage":{"completion_tokens":2,"prompt_tokens":3,"total_tokens":5}}"#
        );
        assert_eq!(score_uploaded_text(&bytes).unwrap(), result().score());
    }

    #[test]
    fn refuses_non_canonical_or_foreign_uploads() {
        let pretty = serde_json::to_string_pretty(&result()).unwrap();
        assert!(score_uploaded_text(pretty.as_bytes()).is_err());
        assert!(score_uploaded_text(b"{}").is_err());
        assert!(score_uploaded_text(&[0xff, 0xfe]).is_err());
    }
}
