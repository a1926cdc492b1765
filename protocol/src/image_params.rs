//! Parameters of an image-generation task (modelled on the Crynux Stable Diffusion task format):
//! base model, prompts, steps, guidance scale, seed, size, number of images and scheduler.

use serde::{Deserialize, Serialize};

use crate::params_error::{check, ParamsError};

pub const IMAGE_PARAMS_VERSION: &str = "1.0";
const MAX_PROMPT_BYTES: usize = 4096;
const MAX_IMAGES: u32 = 9;
const MAX_SIDE: u32 = 2048;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageParams {
    pub version: String,
    pub base_model: BaseModel,
    pub prompt: String,
    #[serde(default)]
    pub negative_prompt: String,
    pub task_config: ImageTaskConfig,
    #[serde(default)]
    pub scheduler: Scheduler,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseModel {
    /// Hugging Face repository (`stabilityai/sdxl-turbo`).
    pub name: String,
    /// Weight variant (`fp16`), if any.
    #[serde(default)]
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageTaskConfig {
    pub steps: u32,
    /// Classifier-free guidance scale; 0 disables guidance (turbo models).
    pub cfg: f64,
    pub seed: u64,
    pub image_width: u32,
    pub image_height: u32,
    pub num_images: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Scheduler {
    #[default]
    #[serde(rename = "ddim")]
    Ddim,
    #[serde(rename = "euler_ancestral")]
    EulerAncestral,
    #[serde(rename = "dpm_solver_multistep")]
    DpmSolverMultistep,
}

impl ImageParams {
    pub fn from_json(text: &str) -> Result<ImageParams, ParamsError> {
        let params: ImageParams = serde_json::from_str(text).map_err(ParamsError::from_json)?;
        params.validate()?;
        Ok(params)
    }

    pub fn validate(&self) -> Result<(), ParamsError> {
        check(
            self.version == IMAGE_PARAMS_VERSION,
            "version",
            &format!(
                "unsupported version {:?}, expected {IMAGE_PARAMS_VERSION:?}",
                self.version
            ),
        )?;
        check(
            !self.base_model.name.trim().is_empty(),
            "base_model.name",
            "must not be empty",
        )?;
        if let Some(v) = &self.base_model.variant {
            check(
                !v.trim().is_empty() && !v.contains('+'),
                "base_model.variant",
                "must be a plain name",
            )?;
        }
        check(
            !self.prompt.trim().is_empty(),
            "prompt",
            "must not be empty",
        )?;
        check(
            self.prompt.len() <= MAX_PROMPT_BYTES,
            "prompt",
            &format!("at most {MAX_PROMPT_BYTES} bytes"),
        )?;
        check(
            self.negative_prompt.len() <= MAX_PROMPT_BYTES,
            "negative_prompt",
            &format!("at most {MAX_PROMPT_BYTES} bytes"),
        )?;
        let c = &self.task_config;
        check(
            (1..=150).contains(&c.steps),
            "task_config.steps",
            "must be between 1 and 150",
        )?;
        check(
            c.cfg.is_finite() && (0.0..=30.0).contains(&c.cfg),
            "task_config.cfg",
            "must be between 0 and 30",
        )?;
        for (field, side) in [
            ("task_config.image_width", c.image_width),
            ("task_config.image_height", c.image_height),
        ] {
            check(
                (64..=MAX_SIDE).contains(&side) && side % 8 == 0,
                field,
                &format!("must be a multiple of 8 between 64 and {MAX_SIDE}"),
            )?;
        }
        check(
            (1..=MAX_IMAGES).contains(&c.num_images),
            "task_config.num_images",
            &format!("must be between 1 and {MAX_IMAGES}"),
        )?;
        Ok(())
    }

    /// The on-chain model ID: `base:` + repository, then `+variant` when there is one.
    pub fn model_id(&self) -> String {
        match &self.base_model.variant {
            Some(v) => format!("base:{}+{v}", self.base_model.name),
            None => format!("base:{}", self.base_model.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> serde_json::Value {
        serde_json::json!({
            "version": "1.0",
            "base_model": {"name": "stabilityai/sdxl-turbo", "variant": "fp16"},
            "prompt": "a red fox in snow",
            "task_config": {"steps": 1, "cfg": 0, "seed": 7, "image_width": 512,
                            "image_height": 512, "num_images": 2},
            "scheduler": "euler_ancestral"
        })
    }

    fn error_field(doc: serde_json::Value) -> String {
        ImageParams::from_json(&doc.to_string()).unwrap_err().field
    }

    #[test]
    fn accepts_a_valid_document() {
        let p = ImageParams::from_json(&valid().to_string()).unwrap();
        assert_eq!(p.model_id(), "base:stabilityai/sdxl-turbo+fp16");
        assert_eq!(p.scheduler, Scheduler::EulerAncestral);
        assert_eq!(p.negative_prompt, "");
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        for (path, value, field) in [
            (
                ("task_config", "steps"),
                serde_json::json!(0),
                "task_config.steps",
            ),
            (
                ("task_config", "image_width"),
                serde_json::json!(500),
                "task_config.image_width",
            ),
            (
                ("task_config", "image_height"),
                serde_json::json!(4096),
                "task_config.image_height",
            ),
            (
                ("task_config", "num_images"),
                serde_json::json!(10),
                "task_config.num_images",
            ),
            (
                ("task_config", "cfg"),
                serde_json::json!(-1),
                "task_config.cfg",
            ),
            (
                ("base_model", "name"),
                serde_json::json!(" "),
                "base_model.name",
            ),
        ] {
            let mut doc = valid();
            doc[path.0][path.1] = value;
            assert_eq!(error_field(doc), field);
        }
        let mut doc = valid();
        doc["prompt"] = "".into();
        assert_eq!(error_field(doc), "prompt");
        let mut doc = valid();
        doc["task_config"].as_object_mut().unwrap().remove("seed");
        assert_eq!(error_field(doc), "seed");
        let mut doc = valid();
        doc["scheduler"] = "pndm".into();
        assert!(ImageParams::from_json(&doc.to_string()).is_err());
    }
}
