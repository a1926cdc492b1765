//! `taskctl create` runs a text task end to end: the real contract on the devnet, the real relay
//! over HTTP with SQLite, and three scripted node accounts that answer through the relay.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use client::relay_client::RelayClient;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::ITaskContractInstance;
use protocol::image_params::ImageParams;
use protocol::image_score::score_pngs;
use protocol::sampling::{params_commitment, params_hash};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role, TextParams};
use protocol::text_result::{text_score, Choice, TextResult, Usage};
use protocol::TaskType;
use relay::service::serve;
use relay::store::Store;
use serde_json::Value;

const GPU: &str = "NVIDIA GeForce RTX 4090";
const MODEL: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";
const IMAGE_MODEL: &str = "base:stabilityai/sdxl-turbo";

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

/// What the scripted node draws for an image task: one deterministic RGB picture per image, a
/// gradient shaped by the seed and the image's index.
fn draw(params: &ImageParams) -> Vec<Vec<u8>> {
    let c = &params.task_config;
    (0..c.num_images)
        .map(|i| {
            let (w, h) = (c.image_width, c.image_height);
            let mut pixels = Vec::with_capacity((w * h * 3) as usize);
            for y in 0..h {
                for x in 0..w {
                    let v = (x * 7 + y * 3 + (c.seed as u32).wrapping_mul(31) + i * 90) % 256;
                    pixels.extend_from_slice(&[v as u8, (x * 255 / w) as u8, (y * 255 / h) as u8]);
                }
            }
            let mut png_bytes = Vec::new();
            let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder
                .write_header()
                .unwrap()
                .write_image_data(&pixels)
                .unwrap();
            png_bytes
        })
        .collect()
}

/// A node account driven by a script instead of a model: it follows its current task through the
/// contract and the relay exactly as the worker does.
async fn scripted_node(
    c: ITaskContractInstance<DynProvider>,
    relay_url: String,
    node: PrivateKeySigner,
) {
    let relay = RelayClient::new(&relay_url, node.clone());
    let mut results: HashMap<B256, Vec<Vec<u8>>> = HashMap::new();
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
                let Ok((args, salt)) = relay.download_params(task).await else {
                    continue;
                };
                // As the worker does: only the parameters the task committed to are run.
                assert_eq!(
                    params_commitment(&params_hash(args.as_bytes()), &salt),
                    info.paramsCommitment,
                    "the relay served parameters the task did not commit to"
                );
                let (files, score) = if info.taskType == TaskType::TextGeneration.as_u8() {
                    let params = TextParams::from_json(&args).expect("valid parameters");
                    let bytes = answer(&params).canonical_bytes();
                    let score = text_score(&bytes).to_vec();
                    (vec![bytes], score)
                } else {
                    let params = ImageParams::from_json(&args).expect("valid parameters");
                    let files = draw(&params);
                    let score = score_pngs(&files).unwrap();
                    (files, score)
                };
                let r = c
                    .submitTaskScore(task, score.into())
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
                assert!(r.status(), "submitTaskScore reverted");
                results.insert(task, files);
            }
            Some(TaskStatus::Validated | TaskStatus::GroupValidated)
                if !uploaded.contains(&task)
                    && relay.upload_result(task, &results[&task]).await.is_ok() =>
            {
                uploaded.push(task);
            }
            _ => {}
        }
    }
}

/// The GPU of a node that joins paused: tasks that require it wait in the queue.
const PAUSED_GPU: &str = "NVIDIA GeForce RTX 3090";

/// A devnet with the contract, a relay, three scripted nodes and a paused one.
struct Net {
    testnet: Testnet,
    relay_url: String,
    contract: Address,
    signers: Vec<PrivateKeySigner>,
    as_owner: ITaskContractInstance<DynProvider>,
    _data: tempfile::TempDir,
}

async fn start_network() -> Net {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let signers = testnet.signers.clone();
    let config = TestConfig::with_dev_accounts(&signers, U256::from(1000u64));
    let contract = testnet.deploy_task_contract(&config).await.unwrap();
    let as_owner = testnet.contract_as(&signers[0], contract).await.unwrap();

    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(data.path()).unwrap());
    let as_relay = testnet.contract_as(&signers[8], contract).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_url = format!("http://{}", listener.local_addr().unwrap());
    let interval = Duration::from_millis(100);
    tokio::spawn(serve(
        listener,
        store,
        as_relay,
        relay::service::RelayOptions::with_report_interval(interval),
        std::future::pending(),
    ));

    for node in &signers[3..6] {
        let c = testnet.contract_as(node, contract).await.unwrap();
        assert!(c
            .join(
                GPU.into(),
                24,
                [1, 0, 0],
                public_key(node).into(),
                vec![format!("base:{MODEL}"), IMAGE_MODEL.into()]
            )
            .value(U256::from(1000u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
            .status());
        tokio::spawn(scripted_node(c, relay_url.clone(), node.clone()));
    }
    let paused = &signers[6];
    let c = testnet.contract_as(paused, contract).await.unwrap();
    assert!(c
        .join(
            PAUSED_GPU.into(),
            24,
            [1, 0, 0],
            public_key(paused).into(),
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
    assert!(c
        .pause()
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    Net {
        testnet,
        relay_url,
        contract,
        signers,
        as_owner,
        _data: data,
    }
}

/// Runs `taskctl` as the application (signers[2]) against `net`.
async fn taskctl(net: &Net, dir: &std::path::Path, args: Vec<String>) -> std::process::Output {
    taskctl_with(net, dir, args, true).await
}

/// Runs `taskctl` against `net`, with the application's key file in the environment or without.
async fn taskctl_with(
    net: &Net,
    dir: &std::path::Path,
    args: Vec<String>,
    with_key: bool,
) -> std::process::Output {
    let key_file = dir.join("app.key");
    std::fs::write(
        &key_file,
        format!("0x{}", hex::encode(net.signers[2].credential().to_bytes())),
    )
    .unwrap();
    let mut envs = vec![
        ("TASKCTL_RPC_URL", net.testnet.url.clone()),
        ("TASKCTL_RELAY_URL", net.relay_url.clone()),
        ("TASKCTL_CONTRACT", net.contract.to_string()),
    ];
    if with_key {
        envs.push(("TASKCTL_PRIVATE_KEY_FILE", key_file.display().to_string()));
    }
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_taskctl"))
            .args(args)
            .env_remove("TASKCTL_PRIVATE_KEY_FILE")
            .envs(envs)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `taskctl create` and checks the outcome: the final state, and the downloaded files hash to
/// the score on chain. Returns the winner and its files.
async fn create_and_check(net: &Net, params: Value, extra: &[&str]) -> (B256, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let params_file = dir.path().join("params.json");
    std::fs::write(&params_file, params.to_string()).unwrap();
    let mut args: Vec<String> = vec!["create".into(), params_file.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--patience", "60", "--json", "--out"].map(String::from));
    args.push(dir.path().join("out").display().to_string());
    let output = taskctl(net, dir.path(), args).await;
    assert!(output.status.success(), "taskctl create failed");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    // Progress goes to stderr, each step with the time since the start; stdout is the result.
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(stderr.contains(" s] started    0x"), "{stderr}");
    assert!(stderr.contains(" s] created    0x"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let outcome: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let winner: B256 = outcome["winner"].as_str().unwrap().parse().unwrap();
    let tasks = outcome["tasks"].as_array().unwrap().len();
    let expected = if tasks == 3 {
        "EndGroupSuccess"
    } else {
        "EndSuccess"
    };
    assert_eq!(outcome["final_status"], expected);
    let files: Vec<Vec<u8>> = outcome["result_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| std::fs::read(p.as_str().unwrap()).unwrap())
        .collect();
    let info = net.as_owner.getTask(winner).call().await.unwrap();
    let recomputed = if info.taskType == TaskType::TextGeneration.as_u8() {
        text_score(&files[0]).to_vec()
    } else {
        score_pngs(&files).unwrap()
    };
    assert_eq!(info.score.to_vec(), recomputed);

    // `taskctl status --json` reads the same state.
    let output = taskctl(
        net,
        dir.path(),
        vec!["status".into(), winner.to_string(), "--json".into()],
    )
    .await;
    assert!(output.status.success());
    let status: Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["status"], expected);
    (winner, files)
}

#[tokio::test(flavor = "multi_thread")]
async fn taskctl_create_runs_a_text_task_through_the_relay() {
    let net = start_network().await;
    let params = serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "generation_config": {"max_new_tokens": 8}, "seed": 7});
    let (winner, files) = create_and_check(
        &net,
        params,
        &[
            "--task-type",
            "text",
            "--fee",
            "500",
            "--gpu",
            GPU,
            "--gpu-vram",
            "24",
        ],
    )
    .await;
    assert_eq!(files.len(), 1);
    let result: TextResult = serde_json::from_slice(&files[0]).unwrap();
    assert_eq!(
        result.choices[0].message.content,
        "echo: What is the capital of France?"
    );
    // `taskctl result` downloads the same files again.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("again");
    let args = vec![
        "result".into(),
        winner.to_string(),
        "--json".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    let output = taskctl(&net, dir.path(), args).await;
    assert!(output.status.success());
    let answer: Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let again = std::fs::read(answer["result_files"][0].as_str().unwrap()).unwrap();
    assert_eq!(again, files[0]);

    // `taskctl vrf verify --on-chain` asks the deployed contract (its cheap check, witnesses
    // computed by taskctl): beta for a valid proof, a failure for a tampered one.
    let doc: Value = serde_json::from_str(include_str!(
        "../../../shared/test-vectors/ecvrf-secp256k1-sha256-tai.json"
    ))
    .unwrap();
    let v = &doc["vectors"][2];
    let field = |k: &str| v[k].as_str().unwrap().to_string();
    let public_key = format!("{}{}", field("public_key_x"), field("public_key_y"));
    let verify = |proof: String| {
        let args: Vec<String> = [
            "vrf",
            "verify",
            "--on-chain",
            "--public-key",
            &public_key,
            "--alpha",
            &field("alpha"),
            "--proof",
            &proof,
        ]
        .map(String::from)
        .to_vec();
        taskctl(&net, dir.path(), args)
    };
    let output = verify(field("pi")).await;
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
        field("beta")
    );
    let mut tampered = field("pi");
    tampered.replace_range(70..71, if &tampered[70..71] == "a" { "b" } else { "a" });
    let output = verify(tampered).await;
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: the contract refused the proof: the VRF proof does not verify\n"
    );

    // A task only the paused node could run waits in the queue; `taskctl abort` ends it and
    // refunds the fee.
    let queued = protocol::sampling::TaskSecret::random();
    let as_app = net
        .testnet
        .contract_as(&net.signers[2], net.contract)
        .await
        .unwrap();
    assert!(as_app
        .createTask(
            1,
            queued.commitment(),
            queued.nonce,
            vec![format!("base:{MODEL}")],
            0,
            PAUSED_GPU.into(),
            24,
            [1, 0, 0],
            1,
            queued.params_commitment(b"{}")
        )
        .value(U256::from(300u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    let info = net
        .as_owner
        .getTask(queued.commitment())
        .call()
        .await
        .unwrap();
    assert_eq!(info.status, TaskStatus::Queued.as_u8());
    let output = taskctl(
        &net,
        dir.path(),
        vec![
            "abort".into(),
            queued.commitment().to_string(),
            "--json".into(),
        ],
    )
    .await;
    assert!(output.status.success());
    let info = net
        .as_owner
        .getTask(queued.commitment())
        .call()
        .await
        .unwrap();
    assert_eq!(info.status, TaskStatus::EndAborted.as_u8());
    // Aborting again is refused with the contract's error, and taskctl says so.
    let output = taskctl(
        &net,
        dir.path(),
        vec!["abort".into(), queued.commitment().to_string()],
    )
    .await;
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: the contract refused abortTask: task {} is already EndAborted\n",
            queued.commitment()
        )
    );
}

/// What a newcomer meets (walls 4 and 6 of the first-contact review): fees in ether, progress
/// while waiting and what to do on giving up, status without a key, results of tasks that have
/// none, contract errors in words, an address without a contract, errors as JSON.
#[tokio::test(flavor = "multi_thread")]
async fn taskctl_explains_waiting_giving_up_and_refusals() {
    let net = start_network().await;
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.json");
    std::fs::write(&params, include_str!("../examples/text-generation.json")).unwrap();
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();

    // Only the paused node could run it: it stays queued until taskctl gives up, and says what
    // to do then.
    let output = taskctl(
        &net,
        dir.path(),
        args(&[
            "create",
            &params.display().to_string(),
            "--task-type",
            "text",
            "--fee",
            "0.001eth",
            "--gpu",
            PAUSED_GPU,
            "--gpu-vram",
            "24",
            "--patience",
            "2",
        ]),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    let task: B256 = lines[0]
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .expect("the created task's id");
    assert!(lines[0].starts_with("[   0.") && lines[0].ends_with(&format!("s] created    {task}")));
    assert!(
        lines[1].ends_with(&format!("s] state      {task} Queued: waiting for a node")),
        "{stderr}"
    );
    assert_eq!(
        lines[2],
        format!(
            "error: gave up after 2 s: task {task} was not started; it is Queued. No node has \
             taken it; abort it to get the fee back: `taskctl abort {task}`"
        )
    );
    assert!(output.stdout.is_empty());

    // Status needs no key; the fee is shown in ether, or in wei on request.
    let output = taskctl_with(
        &net,
        dir.path(),
        args(&["status", &task.to_string()]),
        false,
    )
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "task   {task}\ntype   text generation\nstatus Queued\nnode   none yet\nfee    \
             0.001 ETH\nscore  none yet\n"
        )
    );
    let output = taskctl_with(
        &net,
        dir.path(),
        args(&["status", &task.to_string(), "--wei", "--json"]),
        false,
    )
    .await;
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["status"], "Queued");
    assert_eq!(status["task_type"], "TextGeneration");
    assert_eq!(status["fee_wei"], "1000000000000000");

    // A task that never started has no result, and taskctl says why.
    let output = taskctl(&net, dir.path(), args(&["result", &task.to_string()])).await;
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: task {task} has not started: it is Queued, waiting for a node; it has no \
             result yet\n"
        )
    );
    // The same as JSON.
    let output = taskctl(
        &net,
        dir.path(),
        args(&["result", &task.to_string(), "--json"]),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        error["error"],
        format!(
            "task {task} has not started: it is Queued, waiting for a node; it has no result yet"
        )
    );

    // The advice works; afterwards the contract's refusals and the result are in words.
    let output = taskctl(&net, dir.path(), args(&["abort", &task.to_string()])).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), format!("aborted {task}\n"));
    let output = taskctl(&net, dir.path(), args(&["result", &task.to_string()])).await;
    assert_eq!(
        text(&output.stderr),
        format!("error: task {task} ended as EndAborted: it has no result\n")
    );
    let output = taskctl_with(
        &net,
        dir.path(),
        args(&["status", &task.to_string()]),
        false,
    )
    .await;
    assert!(
        text(&output.stdout).ends_with("abort  Timeout\n"),
        "{}",
        text(&output.stdout)
    );

    // An address without a contract is named as such, not as a decoding failure.
    let nowhere = "0x00000000000000000000000000000000000000aa";
    let output = taskctl_with(
        &net,
        dir.path(),
        args(&["status", &task.to_string(), "--contract", nowhere]),
        false,
    )
    .await;
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: there is no contract at {} on chain {}: check --contract (or \
             TASKCTL_CONTRACT)\n",
            nowhere.parse::<Address>().unwrap(),
            devnet::testnet::CHAIN_ID
        )
    );
    // A fee that is not an amount is refused before anything is sent.
    let output = taskctl(
        &net,
        dir.path(),
        args(&["create", "p.json", "--task-type", "text", "--fee", "0.001"]),
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains(
        "invalid value '0.001' for '--fee <FEE>': \"0.001\" is neither wei (an integer) nor ether \
         (e.g. 0.01eth)"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn taskctl_create_runs_an_image_task_through_the_relay() {
    let net = start_network().await;
    let params = serde_json::json!({
        "version": "1.0", "base_model": {"name": "stabilityai/sdxl-turbo"},
        "prompt": "a red fox in snow",
        "task_config": {"steps": 1, "cfg": 0, "seed": 11, "image_width": 64, "image_height": 96, "num_images": 2}});
    let (_, files) = create_and_check(
        &net,
        params,
        &[
            "--task-type",
            "image",
            "--fee",
            "800",
            "--min-vram",
            "8",
            "--size",
            "2",
        ],
    )
    .await;
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.starts_with(b"\x89PNG")));
}
