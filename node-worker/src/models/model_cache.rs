//! The model cache in the Hugging Face hub layout (`models--org--name/refs/main` naming a
//! snapshot, files under `models--org--name/snapshots/REV/`), so that a cache filled by
//! `huggingface-cli`, hf-hub or `node-worker install-model` serves the worker unchanged.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ModelCacheError {
    #[error("model {0:?} is not in the model cache {1}")]
    NotCached(String, PathBuf),
    #[error("model {name:?} in {dir} has neither config.json + tokenizer.json + *.safetensors nor a .gguf file")]
    Incomplete { name: String, dir: PathBuf },
    #[error("{0:?} is not a model name of the form `org/name`")]
    BadName(String),
    #[error(
        "these files are not a model the worker can load, so {name:?} was not installed: a text \
         model needs config.json + tokenizer.json + *.safetensors, or one *.gguf file; an image \
         model needs the diffusers layout (unet/, vae/, text_encoder/, tokenizer/, scheduler/ with \
         their config and weights); give the files themselves, or the folders of a diffusers model"
    )]
    NotAModel { name: String },
    #[error("model cache I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelCacheError + '_ {
    move |source| ModelCacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The files of one text model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextModelFiles {
    /// A Llama-architecture model: `config.json`, `tokenizer.json` and the weights.
    Safetensors {
        config: PathBuf,
        tokenizer: PathBuf,
        weights: Vec<PathBuf>,
    },
    /// A quantized model whose tokenizer is rebuilt from the GGUF metadata.
    Gguf { file: PathBuf },
}

/// The files of one Stable Diffusion model in the diffusers layout. The tokenizer must be a
/// `tokenizer/tokenizer.json` (the CLIP tokenizer in the `tokenizers` format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageModelFiles {
    pub unet_config: PathBuf,
    pub unet_weights: PathBuf,
    pub vae_config: PathBuf,
    pub vae_weights: PathBuf,
    /// `text_encoder/` + `tokenizer/`, and for SDXL also `text_encoder_2/` + `tokenizer_2/`.
    pub text_encoders: Vec<TextEncoderFiles>,
    pub scheduler_config: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEncoderFiles {
    pub config: PathBuf,
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
    /// `tokenizer_config.json`, which names the padding token, if present.
    pub tokenizer_config: Option<PathBuf>,
}

/// `models--org--name` for `org/name`.
pub fn repo_dir(cache: &Path, name: &str) -> Result<PathBuf, ModelCacheError> {
    let valid = name.split('/').count() == 2
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.contains('\\'));
    if !valid {
        return Err(ModelCacheError::BadName(name.into()));
    }
    Ok(cache.join(format!("models--{}", name.replace('/', "--"))))
}

/// The snapshot `refs/main` names, else the newest-named snapshot directory.
pub fn snapshot_dir(cache: &Path, name: &str) -> Result<PathBuf, ModelCacheError> {
    let repo = repo_dir(cache, name)?;
    let not_cached = || ModelCacheError::NotCached(name.into(), cache.to_path_buf());
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let dir = repo.join("snapshots").join(rev.trim());
        if dir.is_dir() {
            return Ok(dir);
        }
    }
    let mut snapshots: Vec<PathBuf> = std::fs::read_dir(repo.join("snapshots"))
        .map_err(|_| not_cached())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    snapshots.sort();
    snapshots.pop().ok_or_else(not_cached)
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, ModelCacheError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(suffix))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Finds a text model's files; safetensors win over GGUF when a snapshot holds both.
pub fn find_text_model(cache: &Path, name: &str) -> Result<TextModelFiles, ModelCacheError> {
    text_model_in(snapshot_dir(cache, name)?, name)
}

fn text_model_in(dir: PathBuf, name: &str) -> Result<TextModelFiles, ModelCacheError> {
    let config = dir.join("config.json");
    let tokenizer = dir.join("tokenizer.json");
    let weights = files_with_suffix(&dir, ".safetensors")?;
    if config.is_file() && tokenizer.is_file() && !weights.is_empty() {
        return Ok(TextModelFiles::Safetensors {
            config,
            tokenizer,
            weights,
        });
    }
    match files_with_suffix(&dir, ".gguf")?.into_iter().next() {
        Some(file) => Ok(TextModelFiles::Gguf { file }),
        None => Err(ModelCacheError::Incomplete {
            name: name.into(),
            dir,
        }),
    }
}

/// `stem.safetensors`, or `stem.VARIANT.safetensors` for a weight variant.
fn weights_file(dir: &Path, stem: &str, variant: Option<&str>) -> PathBuf {
    match variant {
        Some(v) => dir.join(format!("{stem}.{v}.safetensors")),
        None => dir.join(format!("{stem}.safetensors")),
    }
}

/// Finds a Stable Diffusion model's files (diffusers layout), with weights of `variant`.
pub fn find_image_model(
    cache: &Path,
    name: &str,
    variant: Option<&str>,
) -> Result<ImageModelFiles, ModelCacheError> {
    image_model_in(snapshot_dir(cache, name)?, name, variant)
}

fn image_model_in(
    dir: PathBuf,
    name: &str,
    variant: Option<&str>,
) -> Result<ImageModelFiles, ModelCacheError> {
    let text_encoder = |suffix: &str| {
        let tokenizer_dir = dir.join(format!("tokenizer{suffix}"));
        let tokenizer_config = tokenizer_dir.join("tokenizer_config.json");
        TextEncoderFiles {
            config: dir
                .join(format!("text_encoder{suffix}"))
                .join("config.json"),
            weights: weights_file(&dir.join(format!("text_encoder{suffix}")), "model", variant),
            tokenizer: tokenizer_dir.join("tokenizer.json"),
            tokenizer_config: tokenizer_config.is_file().then_some(tokenizer_config),
        }
    };
    let mut text_encoders = vec![text_encoder("")];
    if dir.join("text_encoder_2").is_dir() {
        text_encoders.push(text_encoder("_2"));
    }
    let files = ImageModelFiles {
        unet_config: dir.join("unet").join("config.json"),
        unet_weights: weights_file(&dir.join("unet"), "diffusion_pytorch_model", variant),
        vae_config: dir.join("vae").join("config.json"),
        vae_weights: weights_file(&dir.join("vae"), "diffusion_pytorch_model", variant),
        text_encoders,
        scheduler_config: dir.join("scheduler").join("scheduler_config.json"),
    };
    let mut required = vec![
        &files.unet_config,
        &files.unet_weights,
        &files.vae_config,
        &files.vae_weights,
        &files.scheduler_config,
    ];
    for t in &files.text_encoders {
        required.extend([&t.config, &t.weights, &t.tokenizer]);
    }
    if let Some(missing) = required.iter().find(|p| !p.is_file()) {
        return Err(ModelCacheError::Incomplete {
            name: format!("{name} (missing {})", missing.display()),
            dir,
        });
    }
    Ok(files)
}

/// The weight variants (`fp16`, ...) a diffusers snapshot holds besides the plain weights.
fn image_variants(cache: &Path, name: &str) -> Vec<String> {
    let Ok(dir) = snapshot_dir(cache, name) else {
        return Vec::new();
    };
    let Ok(files) = files_with_suffix(&dir.join("unet"), ".safetensors") else {
        return Vec::new();
    };
    files
        .iter()
        .filter_map(|f| {
            let stem = f.file_name()?.to_str()?.strip_suffix(".safetensors")?;
            stem.strip_prefix("diffusion_pytorch_model.")
                .map(str::to_string)
        })
        .filter(|v| find_image_model(cache, name, Some(v)).is_ok())
        .collect()
}

/// The on-chain IDs (`base:org/name`) of every usable model in the cache, sorted.
pub fn local_model_ids(cache: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(cache) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let dir = e
                .file_name()
                .to_str()?
                .strip_prefix("models--")?
                .to_string();
            let (org, name) = dir.split_once("--")?;
            let name = format!("{org}/{name}");
            let mut ids = Vec::new();
            if find_text_model(cache, &name).is_ok() || find_image_model(cache, &name, None).is_ok()
            {
                ids.push(format!("base:{name}"));
            }
            for variant in image_variants(cache, &name) {
                ids.push(format!("base:{name}+{variant}"));
            }
            Some(ids)
        })
        .flatten()
        .collect();
    ids.sort();
    ids
}

/// Copies `files` into the cache as snapshot `local` of `name` and points `refs/main` at it:
/// how a model that arrives outside the hub (a PyPI wheel, a USB stick) is installed. A
/// directory is copied with its tree (a diffusers model's `unet/`, `vae/`, ...). The files are
/// copied to a staging snapshot first and refused, leaving the cache as it was, unless they are
/// a text or an image model the worker can load.
pub fn install(cache: &Path, name: &str, files: &[PathBuf]) -> Result<PathBuf, ModelCacheError> {
    let repo = repo_dir(cache, name)?;
    let snapshots = repo.join("snapshots");
    let staging = snapshots.join(".local.partial");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let copied = copy_into(&staging, files);
    let loadable = copied.is_ok()
        && (text_model_in(staging.clone(), name).is_ok()
            || image_model_in(staging.clone(), name, None).is_ok());
    if !loadable {
        let _ = std::fs::remove_dir_all(&staging);
        // A repository folder this call created for nothing goes too.
        if std::fs::read_dir(&snapshots).is_ok_and(|mut d| d.next().is_none()) {
            let _ = std::fs::remove_dir_all(&repo);
        }
        copied?;
        return Err(ModelCacheError::NotAModel { name: name.into() });
    }
    let dir = snapshots.join("local");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&staging, &dir).map_err(io(&dir))?;
    let refs = repo.join("refs");
    std::fs::create_dir_all(&refs).map_err(io(&refs))?;
    std::fs::write(refs.join("main"), "local").map_err(io(&refs))?;
    Ok(dir)
}

fn copy_into(dir: &Path, files: &[PathBuf]) -> Result<(), ModelCacheError> {
    for file in files {
        let file_name = file.file_name().ok_or_else(|| ModelCacheError::Io {
            path: file.clone(),
            source: std::io::Error::other("not a file name"),
        })?;
        let target = dir.join(file_name);
        if file.is_dir() {
            std::fs::create_dir_all(&target).map_err(io(&target))?;
            let children: Vec<PathBuf> = std::fs::read_dir(file)
                .map_err(io(file))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            copy_into(&target, &children)?;
            continue;
        }
        // Copy to a temporary name first so that a crash never leaves a truncated weight file
        // under its real name.
        let partial = dir.join(format!("{}.partial", file_name.to_string_lossy()));
        std::fs::copy(file, &partial).map_err(io(file))?;
        std::fs::rename(&partial, &target).map_err(io(&target))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_installed_models_in_the_hub_layout() {
        let cache = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let gguf = src.path().join("m.Q4_1.gguf");
        std::fs::write(&gguf, b"GGUF").unwrap();
        install(cache.path(), "org/small", std::slice::from_ref(&gguf)).unwrap();
        assert!(matches!(
            find_text_model(cache.path(), "org/small").unwrap(),
            TextModelFiles::Gguf { .. }
        ));
        let files: Vec<PathBuf> = ["config.json", "tokenizer.json", "model.safetensors"]
            .iter()
            .map(|n| {
                let p = src.path().join(n);
                std::fs::write(&p, b"{}").unwrap();
                p
            })
            .collect();
        install(cache.path(), "org/full", &files).unwrap();
        assert!(matches!(
            find_text_model(cache.path(), "org/full").unwrap(),
            TextModelFiles::Safetensors { .. }
        ));
        assert_eq!(
            local_model_ids(cache.path()),
            vec!["base:org/full".to_string(), "base:org/small".to_string()]
        );
        assert!(matches!(
            find_text_model(cache.path(), "org/absent"),
            Err(ModelCacheError::NotCached(..))
        ));
        assert!(matches!(
            find_text_model(cache.path(), "../etc"),
            Err(ModelCacheError::BadName(_))
        ));
    }

    #[test]
    fn files_that_are_not_a_model_are_refused_and_leave_the_cache_as_it_was() {
        let cache = tempfile::tempdir().unwrap();
        let src = tempfile::tempdir().unwrap();
        let junk = src.path().join("notes");
        std::fs::create_dir_all(&junk).unwrap();
        std::fs::write(junk.join("readme.txt"), b"hello").unwrap();
        assert!(matches!(
            install(cache.path(), "org/junk", std::slice::from_ref(&junk)),
            Err(ModelCacheError::NotAModel { .. })
        ));
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);

        // A good model stays when a later install under its name is refused.
        let gguf = src.path().join("m.gguf");
        std::fs::write(&gguf, b"GGUF").unwrap();
        install(cache.path(), "org/m", std::slice::from_ref(&gguf)).unwrap();
        assert!(install(cache.path(), "org/m", std::slice::from_ref(&junk)).is_err());
        assert!(matches!(
            find_text_model(cache.path(), "org/m").unwrap(),
            TextModelFiles::Gguf { .. }
        ));
        assert_eq!(
            local_model_ids(cache.path()),
            vec!["base:org/m".to_string()]
        );
    }
}
