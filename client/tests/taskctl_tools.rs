//! The `taskctl` tools run as a user runs them, against the shared vectors.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn taskctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskctl"))
        .args(args)
        .env_remove("TASKCTL_PRIVATE_KEY_FILE")
        .output()
        .expect("taskctl runs")
}

/// A key file holding `hex` (keys are never taken on the command line).
fn key_file(dir: &tempfile::TempDir, hex: &str) -> String {
    let path = dir.path().join(format!("{}.key", &hex[..8.min(hex.len())]));
    std::fs::write(&path, hex).unwrap();
    path.display().to_string()
}

fn last_line(out: &Output) -> String {
    assert!(
        out.status.success(),
        "taskctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string()
}

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/test-vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn vrf_prove_and_verify_reproduce_every_vector() {
    let doc = vectors("ecvrf-secp256k1-sha256-tai.json");
    let dir = tempfile::tempdir().unwrap();
    for v in doc["vectors"].as_array().unwrap() {
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        let proof = last_line(&taskctl(&[
            "vrf",
            "prove",
            "--secret-key-file",
            &key_file(&dir, &s("secret_key")),
            "--alpha",
            &format!("0x{}", s("alpha")),
        ]));
        assert_eq!(proof, s("pi"));
        let public_key = format!("{}{}", s("public_key_x"), s("public_key_y"));
        let beta = last_line(&taskctl(&[
            "vrf",
            "verify",
            "--public-key",
            &public_key,
            "--alpha",
            &s("alpha"),
            "--proof",
            &s("pi"),
        ]));
        assert_eq!(beta, s("beta"));
    }
}

#[test]
fn vrf_verify_fails_on_a_tampered_proof_or_bad_input() {
    let doc = vectors("ecvrf-secp256k1-sha256-tai.json");
    let v = &doc["vectors"][0];
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    let public_key = format!("{}{}", s("public_key_x"), s("public_key_y"));
    let mut proof = s("pi");
    proof.replace_range(100..102, if &proof[100..102] == "00" { "01" } else { "00" });
    let out = taskctl(&[
        "vrf",
        "verify",
        "--public-key",
        &public_key,
        "--alpha",
        &s("alpha"),
        "--proof",
        &proof,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
    let out = taskctl(&[
        "vrf",
        "verify",
        "--public-key",
        "00",
        "--alpha",
        "",
        "--proof",
        &s("pi"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--public-key: expected 64 bytes"));
    let dir = tempfile::tempdir().unwrap();
    let out = taskctl(&[
        "vrf",
        "prove",
        "--secret-key-file",
        &key_file(&dir, "xyz"),
        "--alpha",
        "00",
    ]);
    assert!(!out.status.success());
    // A key on the command line is not an option.
    let out = taskctl(&["vrf", "prove", "--secret-key", "11", "--alpha", "00"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sign_reproduces_every_relay_signature() {
    let doc = vectors("relay-signature.json");
    let dir = tempfile::tempdir().unwrap();
    for v in doc["vectors"].as_array().unwrap() {
        let fields = serde_json::to_string(&v["fields"]).unwrap();
        let signature = last_line(&taskctl(&[
            "sign",
            "--private-key-file",
            &key_file(&dir, v["private_key"].as_str().unwrap()),
            "--timestamp",
            &v["timestamp"].to_string(),
            "--fields",
            &fields,
        ]));
        assert_eq!(signature, v["signature"].as_str().unwrap());
    }
    let out = taskctl(&[
        "sign",
        "--private-key-file",
        &key_file(&dir, &format!("0x{}", "11".repeat(32))),
        "--timestamp",
        "1",
        "--fields",
        "[]",
    ]);
    assert!(!out.status.success());
}

#[test]
fn phash_prints_imagehash_values() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/test-vectors/phash");
    let doc = vectors("phash/phash.json");
    for image in doc["images"].as_array().unwrap() {
        let path = dir.join(image["file"].as_str().unwrap());
        let hash = last_line(&taskctl(&["phash", path.to_str().unwrap()]));
        assert_eq!(hash, image["phash"].as_str().unwrap());
        // With --json, the same value as an object.
        let json: Value = serde_json::from_str(&last_line(&taskctl(&[
            "phash",
            path.to_str().unwrap(),
            "--json",
        ])))
        .unwrap();
        assert_eq!(json, serde_json::json!({ "phash": image["phash"] }));
    }
    let out = taskctl(&["phash", "/nonexistent.png"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.png"));
}

#[test]
fn vrf_witness_prints_the_hints_of_the_contracts_cheap_check() {
    let doc = vectors("ecvrf-secp256k1-sha256-tai.json");
    for v in doc["vectors"].as_array().unwrap() {
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        let public_key = format!("{}{}", s("public_key_x"), s("public_key_y"));
        let hints = last_line(&taskctl(&[
            "vrf",
            "witness",
            "--public-key",
            &public_key,
            "--alpha",
            &s("alpha"),
            "--proof",
            &s("pi"),
        ]));
        let expected = protocol::vrf_witness::hints(
            &hex::decode(&public_key).unwrap(),
            &hex::decode(s("alpha")).unwrap(),
            &hex::decode(s("pi")).unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(hints, hex::encode(expected));
    }
    // A tampered proof has no witnesses: refused with a message.
    let v = &doc["vectors"][0];
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    let mut pi = s("pi");
    pi.replace_range(100..101, if &pi[100..101] == "0" { "1" } else { "0" });
    let out = taskctl(&[
        "vrf",
        "witness",
        "--public-key",
        &format!("{}{}", s("public_key_x"), s("public_key_y")),
        "--alpha",
        &s("alpha"),
        "--proof",
        &pi,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
}

/// The example parameter files ship valid, and leaving out a required field is refused by name
/// before anything is sent (wall 9).
#[test]
fn example_parameters_are_valid_and_required_fields_are_named() {
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "text-generation.json",
            "text",
            &["version", "model", "messages", "seed"][..],
        ),
        (
            "image-generation.json",
            "image",
            &["version", "base_model", "prompt", "task_config"][..],
        ),
    ];
    for (file, kind, required) in cases {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let task_type = if kind == "text" {
            protocol::TaskType::TextGeneration
        } else {
            protocol::TaskType::ImageGeneration
        };
        protocol::TaskParams::parse(task_type, &text).expect("the example is valid");
        for field in required {
            let mut doc: Value = serde_json::from_str(&text).unwrap();
            doc.as_object_mut().unwrap().remove(*field);
            let path = dir.path().join(format!("without-{field}.json"));
            std::fs::write(&path, doc.to_string()).unwrap();
            let out = taskctl(&[
                "create",
                path.to_str().unwrap(),
                "--task-type",
                kind,
                "--fee",
                "1",
                "--contract",
                "0x0000000000000000000000000000000000000001",
                "--private-key-file",
                "/nonexistent.key",
            ]);
            assert_eq!(out.status.code(), Some(1));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.starts_with(&format!("error: {}: ", path.display()))
                    && stderr.contains(&format!("`{field}`")),
                "{file} without {field}: {stderr}"
            );
        }
    }
}
