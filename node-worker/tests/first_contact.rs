//! A newcomer's first steps with the `node-worker` binary against the devnet (wall 3 of the
//! first-contact review, and plain-text logs when piped): a node that never joined and has no models is told so, with the command
//! to run, by `status` (text and JSON) and by `run`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use devnet::testnet::{TestConfig, Testnet};

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_never_joined_is_told_what_to_do() {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let config = TestConfig::with_dev_accounts(&testnet.signers, U256::from(1000u64));
    let contract = testnet.deploy_task_contract(&config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("node.key");
    std::fs::write(
        &key,
        format!(
            "0x{}",
            hex::encode(testnet.signers[4].credential().to_bytes())
        ),
    )
    .unwrap();
    let worker_at = |contract: &str, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_node-worker"));
        c.current_dir(dir.path())
            .args(args)
            .args(["--rpc-url", &testnet.url, "--contract", contract])
            .args(["--relay-url", "http://127.0.0.1:9", "--private-key-file"])
            .arg(&key)
            .args(["--model-cache-dir", "cache", "--data-dir", "data"])
            .env_remove("NODE_WORKER_CONFIG")
            .env_remove("RUST_LOG");
        c
    };
    let contract_text = contract.to_string();
    let worker = |args: &[&str]| worker_at(&contract_text, args);
    let not_joined = "not joined: run `node-worker join`";
    let no_models = "no models installed in cache: run `node-worker download-model base:org/name` \
                     or `node-worker install-model base:org/name FILES`";

    let out = worker(&["status"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tail: Vec<&str> = stdout.lines().rev().take(2).collect();
    assert_eq!(tail, vec![no_models, not_joined], "{stdout}");

    let out = worker(&["status", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["hints"], serde_json::json!([not_joined, no_models]));

    // `run` says the same at once, then keeps watching.
    let mut run = worker(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = run.stderr.take().unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        let (mut seen, mut buf) = (String::new(), [0u8; 1024]);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let n = stderr.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains("install-model base:org/name FILES") {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    assert!(seen.contains(not_joined), "{seen}");
    assert!(seen.contains(no_models), "{seen}");
    assert!(
        !seen.contains('\x1b'),
        "ANSI colours in piped output: {seen:?}"
    );
    assert!(run.try_wait().unwrap().is_none(), "run stopped: {seen}");
    run.kill().unwrap();
    run.wait().unwrap();

    // Wall 4: the contract's refusal in words (amounts in ETH), one line under -q.
    let out = worker(&[
        "join",
        "-q",
        "--gpu-name",
        "RTX",
        "--gpu-vram-gb",
        "24",
        "--stake",
        "999",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the contract refused join: the stake is below the minimum \
         0.000000000000001 ETH\n"
    );
    // An address without code is named as such.
    let out = worker_at(
        "0x00000000000000000000000000000000000000aa",
        &["status", "-q"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: there is no contract at {} on chain {} ({}): check `contract` in the \
             configuration (or --contract)\n",
            "0x00000000000000000000000000000000000000aa"
                .parse::<alloy::primitives::Address>()
                .unwrap(),
            devnet::testnet::CHAIN_ID,
            testnet.url
        )
    );
}
