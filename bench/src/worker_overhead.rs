//! The worker's overhead per task outside inference: from the moment the worker sees a task's
//! parameters on chain to the moment its score transaction is mined, minus the time the execution
//! process reports for loading and running the model. Runs the real `node-worker` binary against
//! the devnet and the relay with a tiny Llama, tasks one after another.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::providers::Provider;
use anyhow::{bail, Result};
use client::relay_client::RelayClient;
use devnet::testnet::{public_key, TestConfig, Testnet};
use node_worker::engines::tiny_model::TinyLlama;
use protocol::sampling::{sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::vrf::VrfSecretKey;

const MODEL: &str = "tiny/llama-bench";
const GPU: &str = "NVIDIA GeForce RTX 4090";
/// The worker's poll interval here (1 s by default).
pub const POLL_MS: u64 = 50;

#[derive(Debug, Clone)]
pub struct WorkerOverhead {
    pub tasks: usize,
    pub mean_ms: f64,
    pub median_ms: f64,
    pub max_ms: f64,
}

/// Seconds since midnight of an RFC 3339 log timestamp (`2026-11-22T22:24:34.807132Z`).
fn log_seconds(line: &str) -> Option<f64> {
    let time = line.split('T').nth(1)?.split('Z').next()?;
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

pub async fn measure(exe: &Path, tasks: usize) -> Result<WorkerOverhead> {
    if !exe.is_file() {
        bail!(
            "{} is missing: build node-worker with the same profile first",
            exe.display()
        );
    }
    let testnet = Testnet::spawn(&[]).await?;
    let signers = testnet.signers.clone();
    let contract = testnet
        .deploy_task_contract(&TestConfig::with_dev_accounts(
            &signers,
            U256::from(1000u64),
        ))
        .await?;
    let app = testnet.contract_as(&signers[2], contract).await?;
    let vrf = VrfSecretKey::from_bytes(&signers[2].credential().to_bytes())?;
    let relay_data = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(relay::service::serve(
        listener,
        Arc::new(relay::store::Store::open(relay_data.path())?),
        testnet.contract_as(&signers[8], contract).await?,
        relay::service::RelayOptions::with_report_interval(Duration::from_millis(50)),
        std::future::pending(),
    ));
    let app_relay = RelayClient::new(&relay_url, signers[2].clone());

    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("node.key");
    std::fs::write(
        &key_file,
        format!("0x{}", hex::encode(signers[3].credential().to_bytes())),
    )?;
    let cache = dir.path().join("models");
    TinyLlama::default()
        .install(&cache, MODEL)
        .map_err(anyhow::Error::msg)?;
    let args: Vec<String> = [
        "--rpc-url",
        &testnet.url,
        "--contract",
        &contract.to_string(),
        "--relay-url",
        &relay_url,
        "--private-key-file",
        &key_file.display().to_string(),
        "--data-dir",
        &dir.path().join("data").display().to_string(),
        "--model-cache-dir",
        &cache.display().to_string(),
        "--gpu-name",
        GPU,
        "--gpu-vram-gb",
        "24",
        "--stake",
        "1000",
        "--poll-interval-ms",
        &POLL_MS.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let status = Command::new(exe)
        .arg("join")
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("node-worker join failed");
    }
    let log_path = dir.path().join("worker.log");
    let mut worker = Command::new(exe)
        .arg("run")
        .args(&args)
        .stderr(std::fs::File::create(&log_path)?)
        .spawn()?;

    let provider = app.provider().clone();
    for i in 0..tasks {
        let secret = TaskSecret::random();
        let c = secret.commitment();
        let params = serde_json::json!({"version": "1.0", "model": MODEL,
            "messages": [{"role": "user", "content": format!("Task number {i}?")}],
            "generation_config": {"max_new_tokens": 16}, "seed": i})
        .to_string();
        app.createTask(
            1,
            c,
            secret.nonce,
            vec![format!("base:{MODEL}")],
            0,
            GPU.into(),
            24,
            [1, 0, 0],
            1,
            secret.params_commitment(params.as_bytes()),
        )
        .value(U256::from(500u64))
        .send()
        .await?
        .get_receipt()
        .await?;
        loop {
            match app_relay
                .upload_params(c, &params, secret.params_salt())
                .await
            {
                Ok(()) => break,
                Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(20)).await,
                Err(e) => bail!("uploading parameters: {e}"),
            }
        }
        loop {
            let info = app.getTask(c).call().await?;
            if info.status == TaskStatus::ScoreReady.as_u8() {
                let proof = sample(&vrf, &info.samplingSeed, info.terms.samplingRate);
                if proof.sampled {
                    // A sampled task needs a group; for the measurement, end it once its
                    // validation deadline has passed.
                    let wait = info.terms.validationTimeout + 1;
                    provider
                        .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (wait,))
                        .await?;
                    provider
                        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
                        .await?;
                    let _ = app.abortTask(c, 1).send().await?.get_receipt().await;
                } else {
                    app.validateSingleTask(
                        c,
                        proof.proof.to_vec().into(),
                        public_key(&signers[2]).into(),
                    )
                    .send()
                    .await?
                    .get_receipt()
                    .await?;
                }
            }
            if TaskStatus::from_u8(info.status).is_some_and(|s| s.is_final()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    worker.kill()?;
    worker.wait()?;

    // Per task: "…: ParametersUploaded" → "submitTaskScore sent", minus the execution's own time.
    let log = String::from_utf8_lossy(&std::fs::read(&log_path)?).replace("\u{1b}[", "");
    let (mut seen, mut inference) = (None, 0.0);
    let mut overheads = Vec::new();
    for line in log.lines() {
        if line.contains(": ParametersUploaded") {
            seen = log_seconds(line);
        } else if let Some(at) = line.find("seconds=") {
            let value: String = line[at + 8..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            inference = value.parse().unwrap_or(0.0);
        } else if line.contains("submitTaskScore sent") {
            if let (Some(start), Some(end)) = (seen.take(), log_seconds(line)) {
                overheads.push((end - start - inference) * 1000.0);
            }
        }
    }
    if overheads.is_empty() {
        bail!("no task completed; worker log:\n{log}");
    }
    overheads.sort_by(|a, b| a.total_cmp(b));
    let mean = overheads.iter().sum::<f64>() / overheads.len() as f64;
    Ok(WorkerOverhead {
        tasks: overheads.len(),
        mean_ms: mean,
        median_ms: overheads[overheads.len() / 2],
        max_ms: overheads[overheads.len() - 1],
    })
}
