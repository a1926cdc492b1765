//! The operator's command line without a chain: `init`, configuration errors, model listing.

use std::process::Command;

fn worker(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_node-worker"))
        .current_dir(dir)
        .args(args)
        .env_remove("NODE_WORKER_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_config_that_the_worker_reads_and_errors_name_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = worker(dir.path(), &["init"]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(dir.path().join("node-worker.toml")).unwrap();
    assert!(text.contains("rpc_url"));
    // A second init does not overwrite the operator's file.
    let out = worker(dir.path(), &["init"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));

    // The example names no contract: commands that need one say so.
    std::fs::write(
        dir.path().join("node.key"),
        format!("0x{}", "11".repeat(32)),
    )
    .unwrap();
    let out = worker(dir.path(), &["status", "--config", "node-worker.toml"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`contract` is not set"), "{stderr}");
    assert!(!stderr.contains(&"11".repeat(32)), "the key never appears");

    // A key file that holds no key is refused without echoing it.
    std::fs::write(dir.path().join("node.key"), "not-a-secret-key").unwrap();
    let out = worker(
        dir.path(),
        &[
            "status",
            "--config",
            "node-worker.toml",
            "--contract",
            "0x0000000000000000000000000000000000000001",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node.key"), "{stderr}");
    assert!(!stderr.contains("not-a-secret-key"), "{stderr}");

    // A misspelt key in the file is refused with its name.
    std::fs::write(dir.path().join("bad.toml"), "rcp_url = \"http://x\"\n").unwrap();
    let out = worker(dir.path(), &["models", "--config", "bad.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rcp_url"));

    // An empty cache lists nothing; an installed model is listed by its on-chain ID.
    let out = worker(dir.path(), &["models", "--model-cache-dir", "cache"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    std::fs::write(dir.path().join("m.gguf"), b"GGUF").unwrap();
    let out = worker(
        dir.path(),
        &[
            "install-model",
            "base:org/model",
            "m.gguf",
            "--model-cache-dir",
            "cache",
        ],
    );
    assert!(out.status.success());
    let out = worker(dir.path(), &["models", "--model-cache-dir", "cache"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "base:org/model\n");
}

fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// Wall 1 of the first-contact review: the file `init` writes is read without `--config`, and
/// every command says which configuration file it used.
#[test]
fn the_configuration_in_the_working_directory_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let models = ["models", "--model-cache-dir", "cache"];
    let out = worker(dir.path(), &models);
    assert!(out.status.success());
    assert_eq!(
        first_line(&out.stderr),
        "configuration: none (no --config and no node-worker.toml here; flags and environment \
         only)"
    );

    assert!(worker(dir.path(), &["init"]).status.success());
    let out = worker(dir.path(), &models);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        first_line(&out.stderr),
        "configuration: node-worker.toml (found in the working directory)"
    );
    // It is really read: a value it sets reaches the command.
    std::fs::write(
        dir.path().join("node-worker.toml"),
        "model_cache_dir = \"from-file\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("from-file")).unwrap();
    std::fs::write(dir.path().join("m.gguf"), b"GGUF").unwrap();
    let out = worker(dir.path(), &["install-model", "base:org/model", "m.gguf"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("from-file/models--org--model").exists());
    // And a broken one is refused by name, not ignored.
    std::fs::write(dir.path().join("node-worker.toml"), "rcp_url = 1\n").unwrap();
    let out = worker(dir.path(), &models);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("node-worker.toml") && stderr.contains("rcp_url"),
        "{stderr}"
    );

    // --config names another file, which wins.
    std::fs::write(dir.path().join("other.toml"), "").unwrap();
    let out = worker(
        dir.path(),
        &[
            "models",
            "--config",
            "other.toml",
            "--model-cache-dir",
            "cache",
        ],
    );
    assert!(out.status.success());
    assert_eq!(first_line(&out.stderr), "configuration: other.toml");
}

/// Walls 5 and 7: files that are not a model are refused with one error line (no second copy in
/// the log), and an empty cache says so.
#[test]
fn install_model_refuses_what_is_not_a_model_and_an_empty_cache_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("notes")).unwrap();
    std::fs::write(dir.path().join("notes/readme.txt"), b"hello").unwrap();
    let out = worker(
        dir.path(),
        &[
            "install-model",
            "base:org/notes",
            "notes",
            "--model-cache-dir",
            "cache",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "configuration: none (no --config and no node-worker.toml here; flags and environment \
         only)\nerror: these files are not a model the worker can load, so \"org/notes\" was not \
         installed: a text model needs config.json + tokenizer.json + *.safetensors, or one \
         *.gguf file; an image model needs the diffusers layout (unet/, vae/, text_encoder/, \
         tokenizer/, scheduler/ with their config and weights); give the files themselves, or the \
         folders of a diffusers model\n"
    );
    let out = worker(dir.path(), &["models", "--model-cache-dir", "cache"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "configuration: none (no --config and no node-worker.toml here; flags and environment \
         only)\nthe model cache cache holds no model: add one with `node-worker download-model \
         base:org/name` or `node-worker install-model base:org/name FILES`\n"
    );
}
