//! The task types of `createTask` and how each one's scores are compared.

use serde::{Deserialize, Serialize};

/// `taskType` on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// 0: image generation (Stable Diffusion); score = one pHash per image.
    ImageGeneration,
    /// 1: text generation (LLM); score = sha256 of the canonical result.
    TextGeneration,
    /// 2: image fine-tuning; scored like image generation. Not executed by this worker yet.
    ImageFineTune,
}

impl TaskType {
    pub fn from_u8(value: u8) -> Option<TaskType> {
        match value {
            0 => Some(TaskType::ImageGeneration),
            1 => Some(TaskType::TextGeneration),
            2 => Some(TaskType::ImageFineTune),
            _ => None,
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            TaskType::ImageGeneration => 0,
            TaskType::TextGeneration => 1,
            TaskType::ImageFineTune => 2,
        }
    }
}

impl std::fmt::Display for TaskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TaskType::ImageGeneration => "image generation",
            TaskType::TextGeneration => "text generation",
            TaskType::ImageFineTune => "image fine-tune",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_unknown_ones_are_refused() {
        for n in 0..3u8 {
            assert_eq!(TaskType::from_u8(n).unwrap().as_u8(), n);
        }
        assert_eq!(TaskType::from_u8(3), None);
    }
}
