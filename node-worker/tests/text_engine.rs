//! A tiny randomly initialised Llama written to a temporary cache in the Hugging Face layout,
//! loaded by the real loading code and run end to end, in this process and in the supervised
//! child process; the same task gives the same bytes every time.

use std::path::Path;
use std::time::{Duration, Instant};

use node_worker::engines::text_engine::{ChatTemplate, TextEngine};
use node_worker::engines::tiny_model::TinyLlama;
use node_worker::execution::{execute_in_child, run_job, Executed, ExecutionError, Job, Outcome};
use node_worker::models::model_cache::{find_text_model, local_model_ids};
use protocol::text_params::{DType, TextParams};
use protocol::text_result::{text_score, TextResult};

const MODEL: &str = "tiny/llama-test";

fn params(seed: u64, max_new_tokens: u32, do_sample: bool) -> String {
    serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "What is the capital of France?"}],
        "generation_config": {"max_new_tokens": max_new_tokens, "do_sample": do_sample,
                              "temperature": 0.8, "top_k": 20, "top_p": 0.9,
                              "repetition_penalty": 1.1},
        "seed": seed})
    .to_string()
}

fn job(cache: &Path, out: &Path, params: String) -> Job {
    Job {
        task_type: 1,
        params,
        model_cache_dir: cache.to_path_buf(),
        gpu_index: 0,
        out_dir: out.to_path_buf(),
    }
}

fn run_in_process(cache: &Path, params: String) -> Vec<u8> {
    let out = tempfile::tempdir().unwrap();
    let outcome = run_job(&job(cache, out.path(), params), false).unwrap();
    assert_eq!(
        outcome,
        Outcome::Done {
            files: vec!["result.json".into()]
        }
    );
    std::fs::read(out.path().join("result.json")).unwrap()
}

#[test]
fn a_tiny_llama_answers_deterministically_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    TinyLlama::default().install(cache.path(), MODEL).unwrap();
    assert_eq!(local_model_ids(cache.path()), vec![format!("base:{MODEL}")]);

    // The engine directly: the tokenizer's ChatML tokens select the template.
    let files = find_text_model(cache.path(), MODEL).unwrap();
    let mut engine = TextEngine::load(&files, &candle_core::Device::Cpu, DType::Auto).unwrap();
    assert_eq!(engine.template(), ChatTemplate::ChatMl);
    let p = TextParams::from_json(&params(5, 24, false)).unwrap();
    let started = Instant::now();
    let mut steps = 0;
    let first = engine.generate(&p, |done, _| steps = done).unwrap();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "tiny llama: {} tokens in {secs:.3} s ({:.0} tokens/s, debug build)",
        first.usage.completion_tokens,
        first.usage.completion_tokens as f64 / secs
    );
    assert!(steps > 0);
    assert_eq!(first.model, MODEL);
    assert!(first.usage.prompt_tokens > 20);
    assert_eq!(
        first.usage.total_tokens,
        first.usage.prompt_tokens + first.usage.completion_tokens
    );
    let again = engine.generate(&p, |_, _| {}).unwrap();
    assert_eq!(first, again, "greedy decoding is deterministic");

    // Through the job runner (what the child process executes): greedy and seeded sampling give
    // the same bytes on every run; another seed gives another answer.
    let greedy = run_in_process(cache.path(), params(5, 24, false));
    assert_eq!(greedy, run_in_process(cache.path(), params(5, 24, false)));
    assert_eq!(greedy, first.canonical_bytes());
    let sampled = run_in_process(cache.path(), params(5, 24, true));
    assert_eq!(sampled, run_in_process(cache.path(), params(5, 24, true)));
    let other_seed = run_in_process(cache.path(), params(6, 24, true));
    assert_ne!(sampled, other_seed, "the seed drives sampling");
    let result: TextResult = serde_json::from_slice(&sampled).unwrap();
    assert_eq!(result.canonical_bytes(), sampled);
}

/// A tiny Qwen2 (biases of this scale on q/k/v) installed in a fresh cache: the engine's greedy
/// answer, and the bytes of a seeded sampled run through the job runner.
fn qwen2_answers(bias_scale: f32) -> (TextResult, Vec<u8>) {
    let cache = tempfile::tempdir().unwrap();
    let tiny = TinyLlama {
        qwen2: true,
        bias_scale,
        ..Default::default()
    };
    tiny.install(cache.path(), MODEL).unwrap();
    let files = find_text_model(cache.path(), MODEL).unwrap();
    let mut engine = TextEngine::load(&files, &candle_core::Device::Cpu, DType::Auto).unwrap();
    let greedy = engine
        .generate(
            &TextParams::from_json(&params(5, 16, false)).unwrap(),
            |_, _| {},
        )
        .unwrap();
    (greedy, run_in_process(cache.path(), params(5, 16, true)))
}

#[test]
fn a_qwen2_model_runs_deterministically_with_its_attention_biases() {
    let (greedy, sampled) = qwen2_answers(0.5);
    assert!(greedy.usage.completion_tokens > 0);
    assert_eq!((greedy.clone(), sampled.clone()), qwen2_answers(0.5));
    // The same weights with zero biases answer otherwise: the biases are loaded and used (a
    // Llama loader would ignore them).
    let (unbiased, unbiased_sampled) = qwen2_answers(0.0);
    assert_ne!(greedy.choices[0].message, unbiased.choices[0].message);
    assert_ne!(sampled, unbiased_sampled);
}

#[test]
fn an_unsupported_architecture_is_refused_at_load() {
    let cache = tempfile::tempdir().unwrap();
    TinyLlama::default().install(cache.path(), MODEL).unwrap();
    let files = find_text_model(cache.path(), MODEL).unwrap();
    let node_worker::models::model_cache::TextModelFiles::Safetensors { config, .. } = &files
    else {
        panic!("a safetensors model");
    };
    let text = std::fs::read_to_string(config).unwrap();
    std::fs::write(config, text.replace("\"llama\"", "\"gpt_neox\"")).unwrap();
    let err = TextEngine::load(&files, &candle_core::Device::Cpu, DType::Auto)
        .err()
        .expect("a gpt_neox config is refused");
    assert!(err.to_string().contains("gpt_neox"), "{err}");
}

#[test]
fn a_prompt_beyond_the_context_is_a_parameter_error_and_a_missing_model_a_local_failure() {
    let cache = tempfile::tempdir().unwrap();
    TinyLlama::default().install(cache.path(), MODEL).unwrap();
    let out = tempfile::tempdir().unwrap();
    // The tiny model's context is 512 tokens.
    let outcome = run_job(&job(cache.path(), out.path(), params(1, 600, false)), false).unwrap();
    match outcome {
        Outcome::ParamsError { field, message } => {
            assert_eq!(field, "messages");
            assert!(message.contains("context"), "{message}");
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }
    let missing = params(1, 8, false).replace(MODEL, "tiny/absent");
    let err = run_job(&job(cache.path(), out.path(), missing), false).unwrap_err();
    assert!(err.contains("not in the model cache"), "{err}");
}

#[tokio::test]
async fn the_child_process_runs_the_task_and_the_parent_scores_it() {
    let cache = tempfile::tempdir().unwrap();
    TinyLlama::default().install(cache.path(), MODEL).unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_node-worker"));
    let out = tempfile::tempdir().unwrap();
    let j = job(cache.path(), out.path(), params(9, 16, true));
    let first = execute_in_child(exe, &j, Duration::from_secs(120))
        .await
        .unwrap();
    let Executed::Scored { files, score } = first else {
        panic!("expected a score, got {first:?}");
    };
    assert_eq!(
        score,
        text_score(&std::fs::read(&files[0]).unwrap()).to_vec()
    );
    let second = execute_in_child(exe, &j, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(
        second,
        Executed::Scored {
            files: files.clone(),
            score
        }
    );
}

#[tokio::test]
async fn a_hanging_or_crashing_execution_is_contained() {
    let dir = tempfile::tempdir().unwrap();
    let hang = dir.path().join("hang.sh");
    std::fs::write(&hang, "#!/bin/sh\nsleep 30\n").unwrap();
    let crash = dir.path().join("crash.sh");
    std::fs::write(&crash, "#!/bin/sh\nexit 3\n").unwrap();
    for script in [&hang, &crash] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let j = job(dir.path(), &dir.path().join("out"), params(1, 8, false));
    let started = Instant::now();
    let err = execute_in_child(&hang, &j, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(err, ExecutionError::Deadline), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = execute_in_child(&crash, &j, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExecutionError::Crashed { status } if status.contains('3')),
        "{err}"
    );
}
