//! `taskctl create` runs a text task end to end: the real contract on the devnet, the real relay
//! over HTTP with SQLite, and three scripted node accounts that answer through the relay.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use client::relay_client::RelayClient;
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role, TextParams};
use protocol::text_result::{text_score, Choice, TextResult, Usage};
use relay::api::{router, system_clock, RelayState};
use relay::reporter::Reporter;
use relay::store::Store;
use serde_json::Value;
use tokio::sync::Mutex;

const GPU: &str = "NVIDIA GeForce RTX 4090";
const MODEL: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";

fn build_programs() -> (Vec<u8>, Vec<u8>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["-p", "task-contract", "-p", "vrf-verifier"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the programs failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = root.join(target).join("wasm32-unknown-unknown/release");
    (
        std::fs::read(dir.join("task_contract.wasm")).unwrap(),
        std::fs::read(dir.join("vrf_verifier.wasm")).unwrap(),
    )
}

async fn as_account(
    url: &str,
    signer: &PrivateKeySigner,
    contract: Address,
) -> ITaskContractInstance<DynProvider> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect(url)
        .await
        .unwrap()
        .erased();
    ITaskContract::new(contract, provider)
}

fn public_key(s: &PrivateKeySigner) -> Vec<u8> {
    s.credential()
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()[1..]
        .to_vec()
}

/// What the scripted node answers: the last user message, echoed.
fn answer(params: &TextParams) -> TextResult {
    let question = params
        .messages
        .last()
        .map(|m| m.content.clone())
        .unwrap_or_default();
    TextResult {
        model: params.model.clone(),
        choices: vec![Choice {
            index: 0,
            message: ChatMessage {
                role: Role::Assistant,
                content: format!("echo: {question}"),
            },
            finish_reason: "stop".into(),
        }],
        usage: Usage {
            prompt_tokens: 1,
            completion_tokens: 1,
            total_tokens: 2,
        },
    }
}

/// A node account driven by a script instead of a model: it follows its current task through the
/// contract and the relay exactly as the worker does.
async fn scripted_node(url: String, relay_url: String, contract: Address, node: PrivateKeySigner) {
    let c = as_account(&url, &node, contract).await;
    let relay = RelayClient::new(&relay_url, node.clone());
    let mut results: HashMap<B256, Vec<u8>> = HashMap::new();
    let mut uploaded: Vec<B256> = Vec::new();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Ok(task) = c.getNodeTask(node.address()).call().await else {
            continue;
        };
        if task == B256::ZERO {
            continue;
        }
        let Ok(info) = c.getTask(task).call().await else {
            continue;
        };
        match TaskStatus::from_u8(info.status) {
            Some(TaskStatus::ParametersUploaded) if !results.contains_key(&task) => {
                let Ok(args) = relay.download_params(task).await else {
                    continue;
                };
                let params = TextParams::from_json(&args).expect("valid parameters");
                let bytes = answer(&params).canonical_bytes();
                let r = c
                    .submitTaskScore(task, text_score(&bytes).to_vec().into())
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
                assert!(r.status(), "submitTaskScore reverted");
                results.insert(task, bytes);
            }
            Some(TaskStatus::Validated | TaskStatus::GroupValidated)
                if !uploaded.contains(&task)
                    && relay
                        .upload_result(task, &[results[&task].clone()])
                        .await
                        .is_ok() =>
            {
                uploaded.push(task);
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn taskctl_create_runs_a_text_task_through_the_relay() {
    let (contract_wasm, verifier_wasm) = build_programs();
    let signers = devnet::accounts::dev_signers().unwrap();
    let prefund: Vec<_> = signers
        .iter()
        .map(|s| (s.address(), devnet::accounts::dev_balance()))
        .collect();
    let chain = Arc::new(Mutex::new(
        devnet::chain::Chain::new(412_346, &prefund).unwrap(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, devnet::rpc::router(chain))
            .await
            .unwrap()
    });

    let owner = signers[0].clone();
    let verifier = devnet::deploy::deploy_wasm(&url, owner.clone(), &verifier_wasm)
        .await
        .unwrap();
    let contract = devnet::deploy::deploy_wasm(&url, owner.clone(), &contract_wasm)
        .await
        .unwrap();
    let as_owner = as_account(&url, &owner, contract).await;
    assert!(as_owner
        .initialize(
            owner.address(),
            signers[8].address(),
            signers[9].address(),
            verifier,
            U256::from(1000u64),
            600,
            24,
            16
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(data.path()).unwrap());
    let as_relay = as_account(&url, &signers[8], contract).await;
    tokio::spawn(
        Reporter {
            store: store.clone(),
            contract: as_relay.clone(),
            poll_interval: Duration::from_millis(100),
        }
        .run(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_url = format!("http://{}", listener.local_addr().unwrap());
    let state = RelayState {
        store,
        contract: as_relay,
        clock: Arc::new(system_clock),
    };
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });

    for node in &signers[3..6] {
        let c = as_account(&url, node, contract).await;
        assert!(c
            .join(
                GPU.into(),
                24,
                [1, 0, 0],
                public_key(node).into(),
                vec![format!("base:{MODEL}")]
            )
            .value(U256::from(1000u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
            .status());
        tokio::spawn(scripted_node(
            url.clone(),
            relay_url.clone(),
            contract,
            node.clone(),
        ));
    }

    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("app.key");
    std::fs::write(
        &key_file,
        format!("0x{}", hex::encode(signers[2].credential().to_bytes())),
    )
    .unwrap();
    let params_file = dir.path().join("params.json");
    std::fs::write(
        &params_file,
        serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "generation_config": {"max_new_tokens": 8}, "seed": 7})
        .to_string(),
    )
    .unwrap();
    let out_dir = dir.path().join("out");

    let (url2, relay2, contract2) = (url.clone(), relay_url.clone(), contract.to_string());
    let (key2, params2, out2) = (key_file.clone(), params_file.clone(), out_dir.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_taskctl"))
            .args([
                "create",
                params2.to_str().unwrap(),
                "--task-type",
                "text",
                "--fee",
                "500",
            ])
            .args([
                "--gpu",
                GPU,
                "--gpu-vram",
                "24",
                "--patience",
                "60",
                "--json",
            ])
            .args(["--out", out2.to_str().unwrap()])
            .env("TASKCTL_RPC_URL", url2)
            .env("TASKCTL_RELAY_URL", relay2)
            .env("TASKCTL_CONTRACT", contract2)
            .env("TASKCTL_PRIVATE_KEY_FILE", key2)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "taskctl create failed");
    assert!(stdout.contains("started"), "{stdout}");
    let outcome: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let winner: B256 = outcome["winner"].as_str().unwrap().parse().unwrap();
    let tasks = outcome["tasks"].as_array().unwrap().len();
    let expected = if tasks == 3 {
        "EndGroupSuccess"
    } else {
        "EndSuccess"
    };
    assert_eq!(outcome["final_status"], expected);

    // The downloaded result is the node's answer and hashes to the score on chain.
    let path = outcome["result_files"][0].as_str().unwrap();
    let bytes = std::fs::read(path).unwrap();
    let result: TextResult = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        result.choices[0].message.content,
        "echo: What is the capital of France?"
    );
    let info = as_owner.getTask(winner).call().await.unwrap();
    assert_eq!(info.score.to_vec(), text_score(&bytes).to_vec());

    // `taskctl status --json` reads the same state.
    let (url3, relay3, contract3, key3) = (
        url.clone(),
        relay_url.clone(),
        contract.to_string(),
        key_file.clone(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_taskctl"))
            .args(["status", &winner.to_string(), "--json"])
            .env("TASKCTL_RPC_URL", url3)
            .env("TASKCTL_RELAY_URL", relay3)
            .env("TASKCTL_CONTRACT", contract3)
            .env("TASKCTL_PRIVATE_KEY_FILE", key3)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success());
    let status: Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["status"], expected);
}
