//! Prints the worker's engine figures on this machine: tokens/s of the tiny Llama (and of
//! SmolLM2-135M when it is in the model cache) and pHash time per 1024x1024 PNG.
//! Run with `cargo run --profile dist -p node-worker --example engine_bench [MODEL_CACHE]`.

use std::path::PathBuf;
use std::time::Instant;

use candle_core::Device;
use node_worker::model_cache::find_text_model;
use node_worker::seeded_rng::SeededRng;
use node_worker::text_engine::TextEngine;
use node_worker::tiny_model::TinyLlama;
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

    // pHash of 1024x1024 RGB PNGs of smooth noise.
    let mut rng = SeededRng::new(3);
    let side = 1024u32;
    let images: Vec<Vec<u8>> = (0..4)
        .map(|_| {
            let mut pixels = Vec::with_capacity((side * side * 3) as usize);
            let (a, b) = (rng.next_f64() * 0.05, rng.next_f64() * 0.05);
            for y in 0..side {
                for x in 0..side {
                    let v = ((x as f64 * a).sin() + (y as f64 * b).cos()) * 60.0 + 128.0;
                    let noise = (rng.next_u64() % 16) as f64;
                    pixels.extend_from_slice(&[(v + noise) as u8, (v * 0.5) as u8, noise as u8]);
                }
            }
            let mut png_bytes = Vec::new();
            let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().expect("png header");
            writer.write_image_data(&pixels).expect("png data");
            drop(writer);
            png_bytes
        })
        .collect();
    let started = Instant::now();
    let rounds = 5;
    for _ in 0..rounds {
        for image in &images {
            protocol::phash::phash_png(image).expect("phash");
        }
    }
    let per_image = started.elapsed().as_secs_f64() / (rounds * images.len()) as f64;
    println!(
        "pHash of a 1024x1024 RGB PNG (decode included): {:.1} ms = {:.1} images/s",
        per_image * 1000.0,
        1.0 / per_image
    );
}
