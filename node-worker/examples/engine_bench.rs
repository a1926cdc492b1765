//! Prints the worker's engine figures on this machine: tokens/s of the tiny Llama (and of
//! SmolLM2-135M when it is in the model cache). pHash throughput is in `scripts/bench.sh`.
//! Run with `cargo run --profile dist -p node-worker --example engine_bench [MODEL_CACHE]`.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::Device;
use node_worker::engines::text_engine::TextEngine;
use node_worker::engines::tiny_model::TinyLlama;
use node_worker::models::model_cache::find_text_model;
use protocol::text_params::{DType, TextParams};

fn tokens_per_second(engine: &mut TextEngine, model: &str, max_new_tokens: u32) -> (u32, f64) {
    let params = TextParams::from_json(
        &serde_json::json!({"version": "1.0", "model": model,
            "messages": [{"role": "user", "content": "Write a short story about a lighthouse."}],
            "generation_config": {"max_new_tokens": max_new_tokens}, "seed": 1})
        .to_string(),
    )
    .expect("valid parameters");
    let started = Instant::now();
    let result = engine.generate(&params, |_, _| {}).expect("generation");
    let secs = started.elapsed().as_secs_f64();
    (result.usage.completion_tokens, secs)
}

fn main() {
    let cache = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/models"));
    let scratch = tempfile::tempdir().expect("temp dir");
    TinyLlama::default()
        .install(scratch.path(), "tiny/llama")
        .expect("tiny model");
    let files = find_text_model(scratch.path(), "tiny/llama").expect("tiny model files");
    let mut tiny = TextEngine::load(&files, &Device::Cpu, DType::Auto).expect("load");
    let (n, secs) = tokens_per_second(&mut tiny, "tiny/llama", 256);
    println!(
        "tiny llama (2 layers, hidden 64), CPU: {n} tokens in {secs:.3} s = {:.0} tokens/s",
        n as f64 / secs
    );
    let name = "HuggingFaceTB/SmolLM2-135M-Instruct";
    match find_text_model(&cache, name) {
        Ok(files) => {
            let started = Instant::now();
            let mut engine = TextEngine::load(&files, &Device::Cpu, DType::Auto).expect("load");
            let load = started.elapsed().as_secs_f64();
            let (n, secs) = tokens_per_second(&mut engine, name, 64);
            println!(
                "SmolLM2-135M Q4_1, CPU: load {load:.2} s, {n} tokens in {secs:.2} s = {:.1} tokens/s (prompt included)",
                n as f64 / secs
            );
        }
        Err(e) => println!("SmolLM2-135M: skipped ({e})"),
    }
}
