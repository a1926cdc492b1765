//! Fetches models from the Hugging Face hub into the model cache (hf-hub writes the same
//! `models--org--name` layout the worker reads), choosing the files the engines need from the
//! repository's file list. Without network access this fails with a clear error and the worker
//! keeps running from what the cache already holds.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiBuilder;

use crate::models::model_cache::{find_image_model, find_text_model};

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{0:?} is not a model ID of the form `base:org/name` or `base:org/name+variant`")]
    BadModelId(String),
    #[error("the hub at {endpoint} could not be reached or refused {name}: {message}")]
    Hub {
        endpoint: String,
        name: String,
        message: String,
    },
    #[error("{name} on the hub has none of the files this worker runs ({wanted})")]
    NothingUsable { name: String, wanted: String },
    #[error("{name} was downloaded but is not usable: {message}")]
    Unusable { name: String, message: String },
}

pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// `base:org/name+variant` to `(org/name, variant)`.
pub fn parse_model_id(model_id: &str) -> Result<(String, Option<String>), DownloadError> {
    let bad = || DownloadError::BadModelId(model_id.into());
    let rest = model_id.strip_prefix("base:").ok_or_else(bad)?;
    let (name, variant) = match rest.split_once('+') {
        Some((n, v)) if !v.is_empty() => (n, Some(v.to_string())),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    if name.split('/').count() != 2 || name.split('/').any(str::is_empty) {
        return Err(bad());
    }
    Ok((name.to_string(), variant))
}

/// The files to fetch for an image model (diffusers layout) of `variant`.
fn image_files(variant: Option<&str>) -> Vec<String> {
    let weights = |dir: &str, stem: &str| match variant {
        Some(v) => format!("{dir}/{stem}.{v}.safetensors"),
        None => format!("{dir}/{stem}.safetensors"),
    };
    vec![
        "model_index.json".into(),
        "unet/config.json".into(),
        weights("unet", "diffusion_pytorch_model"),
        "vae/config.json".into(),
        weights("vae", "diffusion_pytorch_model"),
        "text_encoder/config.json".into(),
        weights("text_encoder", "model"),
        "tokenizer/tokenizer.json".into(),
        "tokenizer/tokenizer_config.json".into(),
        "scheduler/scheduler_config.json".into(),
    ]
}

/// Picks the files of `available` that the engines run: a diffusers model, a Llama in
/// safetensors, or one GGUF file (a 4-bit one when there are several).
pub fn choose_files(available: &[String], variant: Option<&str>) -> Option<Vec<String>> {
    let has = |f: &str| available.iter().any(|a| a == f);
    if has("model_index.json") {
        let mut wanted = image_files(variant);
        if has("text_encoder_2/config.json") {
            // SDXL: the second text encoder and its tokenizer.
            wanted.extend(
                image_files(variant)
                    .iter()
                    .filter(|f| f.starts_with("text_encoder/") || f.starts_with("tokenizer/"))
                    .map(|f| {
                        f.replacen("text_encoder/", "text_encoder_2/", 1).replacen(
                            "tokenizer/",
                            "tokenizer_2/",
                            1,
                        )
                    })
                    .collect::<Vec<_>>(),
            );
        }
        return wanted.iter().all(|f| has(f)).then_some(wanted);
    }
    let shards: Vec<String> = available
        .iter()
        .filter(|f| f.ends_with(".safetensors") && !f.contains('/'))
        .cloned()
        .collect();
    if has("config.json") && has("tokenizer.json") && !shards.is_empty() {
        let mut files = vec!["config.json".to_string(), "tokenizer.json".to_string()];
        files.extend(shards);
        return Some(files);
    }
    let mut ggufs: Vec<&String> = available.iter().filter(|f| f.ends_with(".gguf")).collect();
    ggufs.sort();
    let preferred = ggufs
        .iter()
        .find(|f| f.contains("Q4_K_M") || f.contains("Q4_1") || f.contains("q4"))
        .or(ggufs.first());
    preferred.map(|f| vec![(*f).clone()])
}

/// Downloads `model_id` into `cache` from `endpoint` and checks that the engines can load it.
pub fn download(cache: &Path, model_id: &str, endpoint: &str) -> Result<PathBuf, DownloadError> {
    let (name, variant) = parse_model_id(model_id)?;
    let hub = |e: hf_hub::api::sync::ApiError| DownloadError::Hub {
        endpoint: endpoint.into(),
        name: name.clone(),
        message: e.to_string(),
    };
    let api = ApiBuilder::new()
        .with_cache_dir(cache.to_path_buf())
        .with_endpoint(endpoint.into())
        .with_progress(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_retries(2)
        .build()
        .map_err(hub)?;
    let repo = api.model(name.clone());
    let info = repo.info().map_err(hub)?;
    let available: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let files =
        choose_files(&available, variant.as_deref()).ok_or(DownloadError::NothingUsable {
            name: name.clone(),
            wanted: "config.json + tokenizer.json + *.safetensors, a .gguf, or a diffusers model with tokenizer/tokenizer.json".into(),
        })?;
    let mut last = PathBuf::new();
    for file in &files {
        tracing::info!(model = %name, "downloading {file}");
        last = repo.get(file).map_err(hub)?;
    }
    let usable = if files.iter().any(|f| f == "model_index.json") {
        find_image_model(cache, &name, variant.as_deref()).map(|_| ())
    } else {
        find_text_model(cache, &name).map(|_| ())
    };
    usable.map_err(|e| DownloadError::Unusable {
        name: name.clone(),
        message: e.to_string(),
    })?;
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_model_ids() {
        assert_eq!(
            parse_model_id("base:org/name+fp16").unwrap(),
            ("org/name".into(), Some("fp16".into()))
        );
        assert_eq!(
            parse_model_id("base:org/name").unwrap(),
            ("org/name".into(), None)
        );
        for bad in ["org/name", "base:name", "base:org/", "base:org/name+"] {
            assert!(parse_model_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chooses_the_files_the_engines_run() {
        let list = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let llama = list(&[
            "config.json",
            "tokenizer.json",
            "model.safetensors",
            "README.md",
        ]);
        assert_eq!(
            choose_files(&llama, None).unwrap(),
            list(&["config.json", "tokenizer.json", "model.safetensors"])
        );
        let gguf = list(&["m.Q8_0.gguf", "m.Q4_K_M.gguf", "README.md"]);
        assert_eq!(choose_files(&gguf, None).unwrap(), list(&["m.Q4_K_M.gguf"]));
        let mut sd = image_files(Some("fp16"));
        assert_eq!(choose_files(&sd, Some("fp16")).unwrap(), sd);
        sd.retain(|f| f != "tokenizer/tokenizer.json");
        assert!(choose_files(&sd, Some("fp16")).is_none());
        assert!(choose_files(&list(&["README.md"]), None).is_none());
    }

    #[test]
    fn an_unreachable_hub_is_a_clear_error() {
        let cache = tempfile::tempdir().unwrap();
        let err = download(cache.path(), "base:org/name", "http://127.0.0.1:9").unwrap_err();
        assert!(matches!(err, DownloadError::Hub { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    }
}
