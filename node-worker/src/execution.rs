//! Runs one task in a supervised child process (`node-worker execute --job FILE`), so that a
//! crash, an out-of-memory kill or a hang of the model cannot take the node down, and a task that
//! runs past its deadline is killed. The child writes its files and an `outcome.json` into the
//! task's directory; the parent computes the score from the files itself.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use protocol::params_error::ParamsError;
use protocol::result_score::score_result;
use protocol::task_params::TaskParams;
use protocol::TaskType;
use serde::{Deserialize, Serialize};

use crate::engines::image_engine::{ImageEngine, ImageEngineError};
use crate::engines::text_engine::{TextEngine, TextEngineError};
use crate::models::model_cache;

/// What the parent hands the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub task_type: u8,
    /// The parameter document as downloaded (validated again by the child).
    pub params: String,
    pub model_cache_dir: PathBuf,
    pub gpu_index: usize,
    pub out_dir: PathBuf,
}

/// What the child leaves in `out_dir/outcome.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The result files, relative to `out_dir`, in order.
    Done { files: Vec<String> },
    /// The parameters cannot be run on any node: reported on chain.
    ParamsError { field: String, message: String },
}

const OUTCOME_FILE: &str = "outcome.json";

#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    #[error("the task ran past its deadline and was killed")]
    Deadline,
    #[error("the execution process failed ({status}); see its log above")]
    Crashed { status: String },
    #[error("cannot start the execution process {exe}: {source}")]
    Spawn {
        exe: PathBuf,
        source: std::io::Error,
    },
    #[error("task files in {path}: {message}")]
    Files { path: PathBuf, message: String },
}

/// A finished execution: the files and the score computed from them.
#[derive(Debug, Clone, PartialEq)]
pub enum Executed {
    Scored { files: Vec<PathBuf>, score: Vec<u8> },
    ParamsError(ParamsError),
}

fn files_err(path: &Path, message: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::Files {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Runs `job` with `exe execute --job FILE` and waits at most `budget`.
pub async fn execute_in_child(
    exe: &Path,
    job: &Job,
    budget: Duration,
) -> Result<Executed, ExecutionError> {
    std::fs::create_dir_all(&job.out_dir).map_err(|e| files_err(&job.out_dir, e))?;
    let _ = std::fs::remove_file(job.out_dir.join(OUTCOME_FILE));
    let job_file = job.out_dir.join("job.json");
    let text = serde_json::to_vec(job).map_err(|e| files_err(&job_file, e))?;
    std::fs::write(&job_file, text).map_err(|e| files_err(&job_file, e))?;

    let mut child = tokio::process::Command::new(exe)
        .arg("execute")
        .arg("--job")
        .arg(&job_file)
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ExecutionError::Spawn {
            exe: exe.to_path_buf(),
            source,
        })?;
    let status = match tokio::time::timeout(budget, child.wait()).await {
        Ok(status) => status.map_err(|e| ExecutionError::Crashed {
            status: e.to_string(),
        })?,
        Err(_) => {
            let _ = child.kill().await;
            return Err(ExecutionError::Deadline);
        }
    };
    if !status.success() {
        return Err(ExecutionError::Crashed {
            status: status.to_string(),
        });
    }
    read_outcome(job)
}

/// Reads the child's outcome and scores its files.
pub fn read_outcome(job: &Job) -> Result<Executed, ExecutionError> {
    let path = job.out_dir.join(OUTCOME_FILE);
    let text = std::fs::read(&path).map_err(|e| files_err(&path, e))?;
    let outcome: Outcome = serde_json::from_slice(&text).map_err(|e| files_err(&path, e))?;
    match outcome {
        Outcome::ParamsError { field, message } => {
            Ok(Executed::ParamsError(ParamsError::new(&field, message)))
        }
        Outcome::Done { files } => {
            let paths: Vec<PathBuf> = files.iter().map(|f| job.out_dir.join(f)).collect();
            let bytes = paths
                .iter()
                .map(|p| std::fs::read(p).map_err(|e| files_err(p, e)))
                .collect::<Result<Vec<_>, _>>()?;
            let task_type = TaskType::from_u8(job.task_type)
                .ok_or_else(|| files_err(&path, format!("unknown task type {}", job.task_type)))?;
            let score = score_result(task_type, &bytes).map_err(|e| files_err(&path, e))?;
            Ok(Executed::Scored {
                files: paths,
                score,
            })
        }
    }
}

fn device(gpu_index: usize) -> Result<candle_core::Device, String> {
    #[cfg(feature = "cuda")]
    {
        candle_core::Device::new_cuda(gpu_index).map_err(|e| format!("GPU {gpu_index}: {e}"))
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = gpu_index;
        Ok(candle_core::Device::Cpu)
    }
}

/// A progress bar on stderr when it is a terminal, else a hidden one.
fn progress_bar(
    visible: bool,
    len: u64,
    message: &'static str,
    unit: &str,
) -> indicatif::ProgressBar {
    let bar = if visible {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{msg}} {{bar:30}} {{pos}}/{{len}} {unit}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(message);
    bar
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The child's side: runs the job and writes the files and `outcome.json`. An `Err` is a local
/// failure (model missing, load or run error) and makes the child exit non-zero.
pub fn run_job(job: &Job, progress: bool) -> Result<Outcome, String> {
    let task_type = TaskType::from_u8(job.task_type)
        .ok_or_else(|| format!("unknown task type {}", job.task_type))?;
    std::fs::create_dir_all(&job.out_dir).map_err(|e| format!("{}: {e}", job.out_dir.display()))?;
    let outcome = match TaskParams::parse(task_type, &job.params) {
        Err(e) => Outcome::ParamsError {
            field: e.field,
            message: e.message,
        },
        Ok(TaskParams::Text(params)) => {
            let files = model_cache::find_text_model(&job.model_cache_dir, &params.model)
                .map_err(|e| e.to_string())?;
            let device = device(job.gpu_index)?;
            let started = Instant::now();
            let mut engine =
                TextEngine::load(&files, &device, params.dtype).map_err(|e| e.to_string())?;
            let bar = progress_bar(
                progress,
                params.generation_config.max_new_tokens as u64,
                "generating",
                "tokens",
            );
            let generated = engine.generate(&params, |done, _| bar.set_position(done as u64));
            bar.finish_and_clear();
            match generated {
                Ok(result) => {
                    let bytes = result.canonical_bytes();
                    write_atomically(&job.out_dir.join("result.json"), &bytes)?;
                    let tokens = result.usage.completion_tokens;
                    let secs = started.elapsed().as_secs_f64();
                    tracing::info!(
                        tokens,
                        seconds = secs,
                        "generated {tokens} tokens in {secs:.2} s (with model load)"
                    );
                    Outcome::Done {
                        files: vec!["result.json".into()],
                    }
                }
                Err(TextEngineError::Params(e)) => Outcome::ParamsError {
                    field: e.field,
                    message: e.message,
                },
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(TaskParams::Image(params)) => {
            let files = model_cache::find_image_model(
                &job.model_cache_dir,
                &params.base_model.name,
                params.base_model.variant.as_deref(),
            )
            .map_err(|e| e.to_string())?;
            let device = device(job.gpu_index)?;
            let started = Instant::now();
            let engine = ImageEngine::load(&files, &device).map_err(|e| e.to_string())?;
            let c = &params.task_config;
            let bar = progress_bar(
                progress,
                (c.steps * c.num_images) as u64,
                "denoising",
                "steps",
            );
            let generated = engine.generate(&params, |done, _| bar.set_position(done as u64));
            bar.finish_and_clear();
            match generated {
                Ok(images) => {
                    let mut names = Vec::with_capacity(images.len());
                    for (i, png) in images.iter().enumerate() {
                        let name = format!("image-{i}.png");
                        write_atomically(&job.out_dir.join(&name), png)?;
                        names.push(name);
                    }
                    let secs = started.elapsed().as_secs_f64();
                    tracing::info!(
                        images = images.len(),
                        seconds = secs,
                        "generated {} images in {secs:.2} s (with model load)",
                        images.len()
                    );
                    Outcome::Done { files: names }
                }
                Err(ImageEngineError::Params(e)) => Outcome::ParamsError {
                    field: e.field,
                    message: e.message,
                },
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    let text = serde_json::to_vec(&outcome).map_err(|e| e.to_string())?;
    write_atomically(&job.out_dir.join(OUTCOME_FILE), &text)?;
    Ok(outcome)
}
