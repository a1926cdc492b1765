//! Task parameters of any type, checked against the task type that is on chain.

use crate::image_params::ImageParams;
use crate::params_error::ParamsError;
use crate::task_type::TaskType;
use crate::text_params::TextParams;

/// Parameters of one task, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskParams {
    Text(TextParams),
    Image(ImageParams),
}

/// Largest parameter document accepted, in bytes.
pub const MAX_PARAMS_BYTES: usize = 256 * 1024;

impl TaskParams {
    /// Parses a parameter document for a task of `task_type`.
    pub fn parse(task_type: TaskType, text: &str) -> Result<TaskParams, ParamsError> {
        if text.len() > MAX_PARAMS_BYTES {
            return Err(ParamsError::new(
                "(document)",
                format!("{} bytes, over the limit of {MAX_PARAMS_BYTES}", text.len()),
            ));
        }
        match task_type {
            TaskType::TextGeneration => TextParams::from_json(text).map(TaskParams::Text),
            TaskType::ImageGeneration => ImageParams::from_json(text).map(TaskParams::Image),
            TaskType::ImageFineTune => Err(ParamsError::new(
                "(task type)",
                "image fine-tune tasks have no parameter format in this version",
            )),
        }
    }

    /// Parses and also checks the parameters name the model the task was created for.
    pub fn parse_for_task(
        task_type: TaskType,
        on_chain_model_ids: &[String],
        text: &str,
    ) -> Result<TaskParams, ParamsError> {
        let params = Self::parse(task_type, text)?;
        let model_id = params.model_id();
        let field = match &params {
            TaskParams::Text(_) => "model",
            TaskParams::Image(_) => "base_model",
        };
        if on_chain_model_ids.first() != Some(&model_id) {
            return Err(ParamsError::new(
                field,
                format!("names {model_id:?}, but the task was created for {on_chain_model_ids:?}"),
            ));
        }
        Ok(params)
    }

    pub fn model_id(&self) -> String {
        match self {
            TaskParams::Text(p) => p.model_id(),
            TaskParams::Image(p) => p.model_id(),
        }
    }

    pub fn task_type(&self) -> TaskType {
        match self {
            TaskParams::Text(_) => TaskType::TextGeneration,
            TaskParams::Image(_) => TaskType::ImageGeneration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        r#"{"version":"1.0","model":"m","messages":[{"role":"user","content":"hi"}],"seed":1}"#;

    #[test]
    fn dispatches_on_the_task_type() {
        assert!(matches!(
            TaskParams::parse(TaskType::TextGeneration, TEXT),
            Ok(TaskParams::Text(_))
        ));
        assert!(TaskParams::parse(TaskType::ImageGeneration, TEXT).is_err());
    }

    #[test]
    fn refuses_parameters_for_another_model() {
        let ok = TaskParams::parse_for_task(TaskType::TextGeneration, &["base:m".into()], TEXT);
        assert!(ok.is_ok());
        let err = TaskParams::parse_for_task(TaskType::TextGeneration, &["base:x".into()], TEXT)
            .unwrap_err();
        assert_eq!(err.field, "model");
    }

    #[test]
    fn refuses_oversized_documents() {
        let big = " ".repeat(MAX_PARAMS_BYTES + 1);
        assert_eq!(
            TaskParams::parse(TaskType::TextGeneration, &big)
                .unwrap_err()
                .field,
            "(document)"
        );
    }
}
