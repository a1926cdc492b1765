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
    let out = worker(dir.path(), &["--config", "node-worker.toml", "status"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`contract` is not set"), "{stderr}");
    assert!(!stderr.contains(&"11".repeat(32)), "the key never appears");

    // A key file that holds no key is refused without echoing it.
    std::fs::write(dir.path().join("node.key"), "not-a-secret-key").unwrap();
    let out = worker(
        dir.path(),
        &[
            "--config",
            "node-worker.toml",
            "--contract",
            "0x0000000000000000000000000000000000000001",
            "status",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node.key"), "{stderr}");
    assert!(!stderr.contains("not-a-secret-key"), "{stderr}");

    // A misspelt key in the file is refused with its name.
    std::fs::write(dir.path().join("bad.toml"), "rcp_url = \"http://x\"\n").unwrap();
    let out = worker(dir.path(), &["--config", "bad.toml", "models"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("rcp_url"));

    // An empty cache lists nothing; an installed model is listed by its on-chain ID.
    let out = worker(dir.path(), &["--model-cache-dir", "cache", "models"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    std::fs::write(dir.path().join("m.gguf"), b"GGUF").unwrap();
    let out = worker(
        dir.path(),
        &[
            "--model-cache-dir",
            "cache",
            "install-model",
            "org/model",
            "m.gguf",
        ],
    );
    assert!(out.status.success());
    let out = worker(dir.path(), &["--model-cache-dir", "cache", "models"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "base:org/model\n");
}
