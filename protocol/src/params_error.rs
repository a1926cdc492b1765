//! The error of a task parameter check: which field, and what is wrong with it.

/// A parameter that fails validation, named by its JSON path (`task_config.steps`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid task parameters: {field}: {message}")]
pub struct ParamsError {
    pub field: String,
    pub message: String,
}

impl ParamsError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A JSON document that does not have the expected shape. serde names the field in its
    /// message ("missing field `prompt`", "unknown field `stpes`").
    pub fn from_json(err: serde_json::Error) -> Self {
        let message = err.to_string();
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field `"))
            .unwrap_or("(document)")
            .to_string();
        Self { field, message }
    }
}

pub(crate) fn check(ok: bool, field: &str, message: &str) -> Result<(), ParamsError> {
    if ok {
        Ok(())
    } else {
        Err(ParamsError::new(field, message))
    }
}
