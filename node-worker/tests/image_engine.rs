//! A tiny randomly initialised Stable Diffusion written to a temporary cache in the diffusers
//! layout, loaded by the real loading code and run end to end: seeded noise gives the same PNG
//! bytes and the same pHash score every time. Plus the pHash properties the score relies on.

use std::path::Path;
use std::time::{Duration, Instant};

use node_worker::engines::seeded_rng::SeededRng;
use node_worker::engines::tiny_model::TinyStableDiffusion;
use node_worker::execution::{execute_in_child, run_job, Executed, Job, Outcome};
use node_worker::models::model_cache::{find_image_model, local_model_ids};
use protocol::image_score::{image_scores_agree, score_pngs};
use protocol::phash::phash_png;

const MODEL: &str = "tiny/stable-diffusion";
const THRESHOLD: u32 = 24;

fn params(seed: u64, cfg: f64, num_images: u32, scheduler: &str) -> String {
    serde_json::json!({
        "version": "1.0", "base_model": {"name": MODEL},
        "prompt": "a red fox in snow", "negative_prompt": "blurry",
        "task_config": {"steps": 2, "cfg": cfg, "seed": seed, "image_width": 64,
                        "image_height": 64, "num_images": num_images},
        "scheduler": scheduler})
    .to_string()
}

fn job(cache: &Path, out: &Path, params: String) -> Job {
    Job {
        task_type: 0,
        params,
        model_cache_dir: cache.to_path_buf(),
        gpu_index: 0,
        out_dir: out.to_path_buf(),
    }
}

fn images(cache: &Path, params: String) -> Vec<Vec<u8>> {
    let out = tempfile::tempdir().unwrap();
    let Outcome::Done { files } = run_job(&job(cache, out.path(), params), false).unwrap() else {
        panic!("expected images");
    };
    files
        .iter()
        .map(|f| std::fs::read(out.path().join(f)).unwrap())
        .collect()
}

#[test]
fn a_tiny_stable_diffusion_draws_the_same_pngs_for_the_same_seed() {
    let cache = tempfile::tempdir().unwrap();
    TinyStableDiffusion::default()
        .install(cache.path(), MODEL)
        .unwrap();
    assert_eq!(local_model_ids(cache.path()), vec![format!("base:{MODEL}")]);
    find_image_model(cache.path(), MODEL, None).unwrap();

    let started = Instant::now();
    let first = images(cache.path(), params(11, 0.0, 2, "ddim"));
    eprintln!(
        "tiny SD: 2 images of 64x64, 2 steps, in {:.2} s (debug build, model load included)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(first.len(), 2);
    for png in &first {
        assert!(png.starts_with(b"\x89PNG"));
        let decoder = png::Decoder::new(std::io::Cursor::new(png.as_slice()));
        let info = decoder.read_info().unwrap();
        assert_eq!((info.info().width, info.info().height), (64, 64));
    }
    assert_ne!(first[0], first[1], "each image has its own noise");
    assert_eq!(first, images(cache.path(), params(11, 0.0, 2, "ddim")));
    assert_eq!(
        score_pngs(&first).unwrap(),
        score_pngs(&images(cache.path(), params(11, 0.0, 2, "ddim"))).unwrap()
    );
    let other = images(cache.path(), params(12, 0.0, 2, "ddim"));
    assert_ne!(first, other, "the seed drives the noise");

    // Classifier-free guidance (prompt and negative prompt) is deterministic too.
    let guided = images(cache.path(), params(11, 7.5, 1, "ddim"));
    assert_eq!(guided, images(cache.path(), params(11, 7.5, 1, "ddim")));
    assert_ne!(guided[0], first[0]);

    // Euler ancestral: its step noise continues the seeded stream, so it is deterministic too,
    // and it draws other images than DDIM.
    let euler = images(cache.path(), params(11, 0.0, 2, "euler_ancestral"));
    assert_eq!(euler.len(), 2);
    assert_eq!(
        euler,
        images(cache.path(), params(11, 0.0, 2, "euler_ancestral"))
    );
    assert_ne!(euler, first);
    assert_ne!(
        euler,
        images(cache.path(), params(12, 0.0, 2, "euler_ancestral"))
    );

    // DPM-Solver++ adds no noise of its own: deterministic, and its own images.
    let dpm = images(cache.path(), params(11, 0.0, 2, "dpm_solver_multistep"));
    assert_eq!(dpm.len(), 2);
    assert_eq!(
        dpm,
        images(cache.path(), params(11, 0.0, 2, "dpm_solver_multistep"))
    );
    assert_ne!(dpm, first);
    assert_ne!(dpm, euler);
}

#[test]
fn a_tiny_model_in_the_sdxl_layout_runs_with_both_text_encoders() {
    let cache = tempfile::tempdir().unwrap();
    TinyStableDiffusion::xl()
        .install(cache.path(), "tiny/sdxl")
        .unwrap();
    let files = find_image_model(cache.path(), "tiny/sdxl", None).unwrap();
    assert_eq!(files.text_encoders.len(), 2);
    let xl_params = |seed| params(seed, 0.0, 1, "ddim").replace(MODEL, "tiny/sdxl");
    let first = images(cache.path(), xl_params(21));
    assert_eq!(first.len(), 1);
    assert_eq!(first, images(cache.path(), xl_params(21)));
    assert_ne!(first, images(cache.path(), xl_params(22)));
    // Without its second encoder the model is incomplete, and says what is missing.
    std::fs::remove_dir_all(
        cache
            .path()
            .join("models--tiny--sdxl/snapshots/local/text_encoder_2"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = run_job(&job(cache.path(), out.path(), xl_params(21)), false).unwrap_err();
    assert!(err.contains("addition_embed_type"), "{err}");
}

#[tokio::test]
async fn the_child_process_draws_and_the_parent_scores_with_phash() {
    let cache = tempfile::tempdir().unwrap();
    TinyStableDiffusion::default()
        .install(cache.path(), MODEL)
        .unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_node-worker"));
    let out = tempfile::tempdir().unwrap();
    let j = job(cache.path(), out.path(), params(5, 0.0, 2, "ddim"));
    let done = execute_in_child(exe, &j, Duration::from_secs(300))
        .await
        .unwrap();
    let Executed::Scored { files, score } = done else {
        panic!("expected a score, got {done:?}");
    };
    assert_eq!(files.len(), 2);
    assert_eq!(score.len(), 16, "one 8-byte pHash per image");
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(score, score_pngs(&bytes).unwrap());
}

/// A smooth synthetic picture of one of four kinds (horizontal ramp, vertical ramp, radial
/// blob, diagonal wave), with `noise` levels of per-pixel jitter.
fn picture(kind: u64, side: u32, noise: u8, rng: &mut SeededRng) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((side * side * 3) as usize);
    for y in 0..side {
        for x in 0..side {
            let (u, v) = (x as f64 / side as f64, y as f64 / side as f64);
            let shade = match kind {
                0 => u * v + 0.3 * (v * 5.0).sin(),
                1 => 1.0 - ((u - 0.3).powi(2) + (v - 0.35).powi(2)).sqrt() * 1.6,
                2 => (u * 6.3).sin() * (v * 3.1).cos() * 0.5 + 0.5,
                _ => ((u - 0.6 * v) * 7.0).sin() * 0.4 + 0.5 + 0.2 * u,
            };
            let base = (shade.clamp(0.0, 1.0) * 200.0 + 28.0) as i32;
            let jitter = if noise == 0 {
                0
            } else {
                (rng.next_u64() % (2 * noise as u64 + 1)) as i32 - noise as i32
            };
            let value = (base + jitter).clamp(0, 255) as u8;
            pixels.extend_from_slice(&[value, value / 2, 255 - value]);
        }
    }
    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, side, side);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    png_bytes
}

#[test]
fn phash_is_stable_tolerant_of_small_changes_and_tells_pictures_apart() {
    let mut rng = SeededRng::new(9);
    for kind in 0..4 {
        let clean = picture(kind, 256, 0, &mut rng);
        let hash = phash_png(&clean).unwrap();
        assert_eq!(hash, phash_png(&clean).unwrap(), "same image, same hash");
        let perturbed = picture(kind, 256, 6, &mut rng);
        let distance = hash.distance(&phash_png(&perturbed).unwrap());
        eprintln!("picture {kind}: perturbed copy {distance} bits away");
        assert!(
            distance < THRESHOLD,
            "a slightly perturbed picture {kind} is {distance} bits away"
        );
        assert!(image_scores_agree(
            &score_pngs(&[&clean]).unwrap(),
            &score_pngs(&[&perturbed]).unwrap(),
            THRESHOLD
        ));
        for other in (kind + 1)..4 {
            let far = hash.distance(&phash_png(&picture(other, 256, 0, &mut rng)).unwrap());
            eprintln!("pictures {kind} and {other}: {far} bits apart");
            assert!(
                far >= THRESHOLD,
                "pictures {kind} and {other} are only {far} bits apart"
            );
        }
    }
}
