//! The score of a task's result files, by task type: sha256 of the one canonical text result, or
//! the pHashes of the images. The worker computes it before submitting, the relay checks uploads
//! against the chain with it, the application checks downloads with it.

use crate::image_score::score_pngs;
use crate::task_type::TaskType;
use crate::text_result::score_uploaded_text;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResultScoreError {
    #[error("a text result is one file, got {0}")]
    FileCount(usize),
    /// The files are not a valid result of this task type.
    #[error("{0}")]
    Invalid(String),
}

pub fn score_result<B: AsRef<[u8]>>(
    task_type: TaskType,
    files: &[B],
) -> Result<Vec<u8>, ResultScoreError> {
    match task_type {
        TaskType::TextGeneration => match files {
            [file] => score_uploaded_text(file.as_ref())
                .map(|s| s.to_vec())
                .map_err(ResultScoreError::Invalid),
            _ => Err(ResultScoreError::FileCount(files.len())),
        },
        TaskType::ImageGeneration | TaskType::ImageFineTune => {
            score_pngs(files).map_err(|e| ResultScoreError::Invalid(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_results_are_one_canonical_file() {
        assert_eq!(
            score_result::<Vec<u8>>(TaskType::TextGeneration, &[]),
            Err(ResultScoreError::FileCount(0))
        );
        assert!(matches!(
            score_result(TaskType::TextGeneration, &[b"{}".to_vec()]),
            Err(ResultScoreError::Invalid(_))
        ));
        assert!(score_result(TaskType::ImageGeneration, &[b"not a png".to_vec()]).is_err());
    }
}
