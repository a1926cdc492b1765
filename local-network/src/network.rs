//! The whole network on one machine. Builds the contract's release WASM, serves
//! the devnet, deploys and initialises the contract, starts the relay and node-worker processes
//! that join with stakes, then sends text tasks (answered by SmolLM2-135M) and image tasks (a tiny
//! untrained Stable Diffusion: there are no real SD weights offline) through the application
//! client, until at least one validation group has run. Prints each task's life and a settlement
//! table; with `--cheat`, one node submits wrong scores and is caught by a validation group.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::utils::parse_ether;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use anyhow::{bail, Context, Result};
use clap::Parser;
use client::relay_client::RelayClient;
use client::task_flow::{Progress, TaskClient, TaskSpec};
use devnet::testnet::{TestConfig, Testnet};
use protocol::bindings::ITaskContract;
use protocol::task_status::{NodeStatus, TaskStatus};
use protocol::vrf::VrfSecretKey;
use protocol::TaskType;

use crate::nodes::{NodeProcess, NodeSetup};
use crate::settlement::{print_table, Account};

const TEXT_MODEL: &str = "HuggingFaceTB/SmolLM2-135M-Instruct";
const TINY_TEXT_MODEL: &str = "local/tiny-llama";
const IMAGE_MODEL: &str = "local/tiny-stable-diffusion";
const GPU: &str = "local-cpu";
const QUESTIONS: [&str; 6] = [
    "What is the capital of France?",
    "Name the three primary colors.",
    "What is the largest planet in the solar system?",
    "Who wrote Romeo and Juliet?",
    "What is the boiling point of water in Celsius?",
    "Give one word that rhymes with cat.",
];
const PICTURES: [&str; 3] = [
    "a lighthouse at dusk",
    "a red fox in snow",
    "a bowl of ramen",
];

#[derive(Parser, Debug, Clone)]
#[command(
    name = "local-network",
    about = "Runs the whole network on this machine and sends it tasks"
)]
pub struct Args {
    /// Honest nodes (at least 3: a validation group needs three).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    #[arg(long, default_value_t = 3)]
    pub text_tasks: usize,
    #[arg(long, default_value_t = 2)]
    pub image_tasks: usize,
    /// Adds a node that submits wrong scores, and runs tasks until a validation group catches it.
    #[arg(long)]
    pub cheat: bool,
    /// Where every log goes (default: target/local-network/<unix time>).
    #[arg(long)]
    pub logs: Option<PathBuf>,
    /// Model cache holding SmolLM2-135M (scripts/install-smollm2.sh installs it).
    #[arg(long, default_value = "target/models")]
    pub model_cache: PathBuf,
    /// At most this many extra text tasks are sent to get a validation group (each task is
    /// sampled with probability 1/10).
    #[arg(long, default_value_t = 60)]
    pub max_extra_tasks: usize,
    /// Answer text tasks with a tiny untrained Llama instead of SmolLM2 (no download; for tests).
    #[arg(long)]
    pub tiny_text_model: bool,
    /// The node-worker binary (default: next to this executable).
    #[arg(long)]
    pub worker: Option<PathBuf>,
    /// The relay's metadata in PostgreSQL (postgres://…) instead of SQLite in the log folder.
    #[arg(long)]
    pub relay_database_url: Option<String>,
    /// The relay's result files in S3-compatible storage (s3://bucket/prefix, with the AWS_*
    /// variables) instead of the log folder.
    #[arg(long)]
    pub relay_blob_store: Option<String>,
}

/// One task as it ended.
#[derive(Debug, Clone)]
pub struct TaskSummary {
    pub label: String,
    pub commitment: B256,
    pub status: Option<TaskStatus>,
    pub node: Address,
    pub fee: U256,
}

/// What a run leaves for callers (the end-to-end test): the chain is still served while this
/// lives.
pub struct Summary {
    pub testnet: Testnet,
    pub contract: Address,
    pub relay_url: String,
    pub tasks: Vec<TaskSummary>,
    pub accounts: Vec<Account>,
    pub groups: usize,
    pub logs: PathBuf,
}

fn short(c: &B256) -> String {
    let text = c.to_string();
    format!("{}…{}", &text[..10], &text[text.len() - 4..])
}

struct Network {
    client: TaskClient,
    nodes: Vec<NodeProcess>,
    names: HashMap<Address, String>,
    groups: usize,
    tasks: Vec<TaskSummary>,
}

impl Network {
    fn node_name(&self, a: &Address) -> String {
        self.names.get(a).cloned().unwrap_or_else(|| a.to_string())
    }

    /// Runs one job (a task, or a validation group of three) and prints its life.
    async fn job(
        &mut self,
        label: &str,
        spec: &TaskSpec,
        mut on_sampled: impl FnMut(),
    ) -> Result<bool> {
        let names = self.names.clone();
        let name = |a: &Address| names.get(a).cloned().unwrap_or_else(|| a.to_string());
        let label_owned = label.to_string();
        let progress = move |p: Progress| {
            let line = match &p {
                // The main job prints steps, not every state seen while waiting.
                Progress::State { .. } => return,
                Progress::Created(c) => format!("created {}", short(c)),
                Progress::Started { task, node } => {
                    format!("{} started on {}", short(task), name(node))
                }
                Progress::ParametersUploaded(c) => {
                    format!("{} parameters on the relay", short(c))
                }
                Progress::Sampled { sampled, .. } => {
                    if *sampled {
                        on_sampled();
                        "SAMPLED for group validation: two sibling tasks follow".to_string()
                    } else {
                        "not sampled: validated alone".to_string()
                    }
                }
                Progress::Settled { task, status } => format!("{} {status}", short(task)),
                Progress::Validated { task, group } => format!(
                    "{} validated{}",
                    short(task),
                    if *group { " by its group" } else { "" }
                ),
                Progress::Finished { task, status } => format!("{} {status}", short(task)),
                Progress::Aborted { task, reason } => {
                    format!("{} aborted ({reason})", short(task))
                }
            };
            println!("  {label_owned:<9} {line}");
        };
        let outcome = self
            .client
            .run(spec, progress)
            .await
            .with_context(|| format!("{label} failed"))?;
        for c in &outcome.tasks {
            let info = self.client.contract.getTask(*c).call().await?;
            let status = TaskStatus::from_u8(info.status)
                .map(|s| s.to_string())
                .unwrap_or_default();
            let paid = match TaskStatus::from_u8(info.status) {
                Some(TaskStatus::EndSuccess) => {
                    format!(", {} paid", self.node_name(&info.selectedNode))
                }
                Some(TaskStatus::EndGroupSuccess) => ", fee split among the agreeing nodes".into(),
                Some(TaskStatus::EndInvalidated) => format!(
                    ", {} disagreed: fee refunded, node slashed",
                    self.node_name(&info.selectedNode)
                ),
                Some(TaskStatus::EndGroupRefund) => ", fee refunded (agreeing member)".into(),
                _ => String::new(),
            };
            println!(
                "  {label:<9} {} on {}: {status}, score 0x{}{paid}",
                short(c),
                self.node_name(&info.selectedNode),
                hex::encode(&info.score[..info.score.len().min(8)])
            );
            self.tasks.push(TaskSummary {
                label: label.to_string(),
                commitment: *c,
                status: TaskStatus::from_u8(info.status),
                node: info.selectedNode,
                fee: info.taskFee,
            });
        }
        let group = outcome.tasks.len() == 3;
        if group {
            self.groups += 1;
        }
        Ok(group)
    }
}

fn text_spec(model: &str, i: usize, fee: U256) -> TaskSpec {
    let params = serde_json::json!({
        "version": "1.0", "model": model,
        "messages": [{"role": "user", "content": QUESTIONS[i % QUESTIONS.len()]}],
        "generation_config": {"max_new_tokens": 24}, "seed": i});
    TaskSpec {
        task_type: TaskType::TextGeneration,
        params: params.to_string(),
        fee,
        required_gpu: GPU.into(),
        required_gpu_vram: 24,
        minimum_vram: 0,
        task_version: [1, 0, 0],
        task_size: 1,
    }
}

fn image_spec(i: usize, fee: U256) -> TaskSpec {
    let params = serde_json::json!({
        "version": "1.0", "base_model": {"name": IMAGE_MODEL},
        "prompt": PICTURES[i % PICTURES.len()],
        "task_config": {"steps": 2, "cfg": 0, "seed": i, "image_width": 64,
                        "image_height": 64, "num_images": 2}});
    TaskSpec {
        task_type: TaskType::ImageGeneration,
        params: params.to_string(),
        fee,
        required_gpu: String::new(),
        required_gpu_vram: 0,
        minimum_vram: 8,
        task_version: [1, 0, 0],
        task_size: 1,
    }
}

/// Runs the network as `args` says and prints as it goes; the returned summary keeps the chain
/// alive.
pub async fn run(args: Args) -> Result<Summary> {
    if args.nodes < 3 {
        bail!("--nodes must be at least 3: a validation group needs three nodes");
    }
    if args.nodes + usize::from(args.cheat) > 5 {
        bail!("at most 5 nodes (development accounts 3 to 7)");
    }
    let exe = match &args.worker {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("locating the binaries")?
            .join("node-worker"),
    };
    if !exe.is_file() {
        bail!(
            "{} is missing: build it with the same profile (scripts/local-network.sh does)",
            exe.display()
        );
    }
    let logs = match args.logs {
        Some(dir) => dir,
        None => PathBuf::from("target/local-network").join(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs()
                .to_string(),
        ),
    };
    std::fs::create_dir_all(&logs)?;
    let logs = logs.canonicalize()?;
    println!("logs: {}", logs.display());
    std::fs::create_dir_all(&args.model_cache)?;
    let cache = args.model_cache.canonicalize()?;
    let installed = std::process::Command::new(&exe)
        .args(["models", "--model-cache-dir", &cache.display().to_string()])
        .output()?;
    let models = String::from_utf8_lossy(&installed.stdout).to_string();
    let install_tiny = |kind: &str, name: &str| -> Result<()> {
        let status = std::process::Command::new(&exe)
            .args(["install-tiny-model", kind, &format!("base:{name}")])
            .args(["--model-cache-dir", &cache.display().to_string()])
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            bail!("installing the tiny {kind} model failed");
        }
        Ok(())
    };
    let text_model = if args.tiny_text_model {
        TINY_TEXT_MODEL
    } else {
        TEXT_MODEL
    };
    if !models.contains(&format!("base:{text_model}")) {
        if args.tiny_text_model {
            install_tiny("llama", TINY_TEXT_MODEL)?;
        } else {
            bail!(
                "{TEXT_MODEL} is not in {}: run scripts/install-smollm2.sh first",
                cache.display()
            );
        }
    }
    if !models.contains(&format!("base:{IMAGE_MODEL}")) {
        install_tiny("stable-diffusion", IMAGE_MODEL)?;
    }

    println!("building the contract's release WASM and starting the devnet");
    let testnet = Testnet::spawn(&[]).await?;
    let signers = testnet.signers.clone();
    let stake = parse_ether("0.1")?;
    let config = TestConfig::with_dev_accounts(&signers, stake);
    let contract = testnet.deploy_task_contract(&config).await?;
    println!(
        "devnet {} (chain {}), contract {contract}",
        testnet.url,
        devnet::testnet::CHAIN_ID
    );
    let relay_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay_url = format!("http://{}", relay_listener.local_addr()?);
    let store_config = relay::store::StoreConfig {
        data_dir: logs.join("relay"),
        database_url: args.relay_database_url.clone(),
        blob_store: args.relay_blob_store.clone(),
    };
    let store = Arc::new(store_config.open().await?);
    tokio::spawn(relay::service::serve(
        relay_listener,
        store,
        testnet.contract_as(&signers[8], contract).await?,
        relay::service::RelayOptions::with_report_interval(Duration::from_millis(100)),
        std::future::pending(),
    ));
    println!(
        "relay {relay_url} (metadata: {}, files: {})",
        store_config.describe_metadata(),
        store_config.describe_blobs()
    );

    let app_signer = signers[2].clone();
    let app = testnet.contract_as(&app_signer, contract).await?;
    let provider = app.provider().clone();
    let setup = NodeSetup {
        exe: &exe,
        logs: &logs,
        rpc_url: &testnet.url,
        contract,
        relay_url: &relay_url,
        model_cache: &cache,
        gpu: GPU,
        stake_wei: stake.to_string(),
    };
    let mut nodes = Vec::new();
    for i in 0..args.nodes + usize::from(args.cheat) {
        let dishonest = args.cheat && i == args.nodes;
        nodes.push(NodeProcess::new(&setup, i + 1, &signers[3 + i], dishonest)?);
    }
    let mut accounts = vec![Account {
        name: "app".into(),
        role: "application".into(),
        address: app_signer.address(),
        balance_before: provider.get_balance(app_signer.address()).await?,
        fees: U256::ZERO,
    }];
    for node in &nodes {
        accounts.push(Account {
            name: node.name.clone(),
            role: if node.dishonest {
                "node (dishonest)".into()
            } else {
                "node".into()
            },
            address: node.address,
            balance_before: provider.get_balance(node.address).await?,
            fees: U256::ZERO,
        });
    }
    accounts.push(Account {
        name: "treasury".into(),
        role: "slashed stakes".into(),
        address: signers[9].address(),
        balance_before: provider.get_balance(signers[9].address()).await?,
        fees: U256::ZERO,
    });
    for node in &mut nodes {
        node.command("join")?;
        if node.dishonest {
            // Kept out of single tasks: it is let in only for validation groups.
            node.command("pause")?;
        }
        node.start()?;
        println!(
            "{} {} joined with 0.1 ETH stake{}",
            node.name,
            node.address,
            if node.dishonest {
                " (DISHONEST: submits wrong scores; paused until a group forms)"
            } else {
                ""
            }
        );
    }

    let names = nodes.iter().map(|n| (n.address, n.name.clone())).collect();
    let mut net = Network {
        client: TaskClient {
            contract: app.clone(),
            relay: RelayClient::new(&relay_url, app_signer.clone()),
            vrf_key: VrfSecretKey::from_bytes(&app_signer.credential().to_bytes())?,
            poll_interval: Duration::from_millis(100),
            patience: Duration::from_secs(300),
        },
        nodes,
        names,
        groups: 0,
        tasks: Vec::new(),
    };
    let text_fee = parse_ether("0.01")?;
    let image_fee = parse_ether("0.02")?;
    let mut sent = 0usize;
    for i in 0..args.text_tasks {
        net.job(
            &format!("text#{}", i + 1),
            &text_spec(text_model, i, text_fee),
            || {},
        )
        .await?;
        sent += 1;
    }
    for i in 0..args.image_tasks {
        net.job(
            &format!("image#{}", i + 1),
            &image_spec(i, image_fee),
            || {},
        )
        .await?;
    }
    let mut extra = 0;
    while net.groups == 0 && !args.cheat && extra < args.max_extra_tasks {
        extra += 1;
        sent += 1;
        net.job(
            &format!("text#{sent}"),
            &text_spec(text_model, sent, text_fee),
            || {},
        )
        .await?;
    }

    if args.cheat {
        // One honest node steps aside so that a group is the two others plus the cheater.
        println!("cheat demonstration: node-{} pauses; the dishonest node joins the next validation group", args.nodes);
        net.nodes[args.nodes - 1].command("pause")?;
        let cheater_index = args.nodes;
        let cheater = net.nodes[cheater_index].address;
        let cheater_cli = net.nodes[cheater_index].cli.clone();
        while extra < args.max_extra_tasks {
            extra += 1;
            sent += 1;
            let cli = cheater_cli.clone();
            net.job(
                &format!("text#{sent}"),
                &text_spec(text_model, sent, text_fee),
                move || {
                    if let Err(e) = cli.command("resume") {
                        eprintln!("resuming the dishonest node: {e:#}");
                    }
                },
            )
            .await?;
            let info = app.getNodeInfo(cheater).call().await?;
            if NodeStatus::from_u8(info.status) == Some(NodeStatus::Quit) {
                println!("the dishonest node was slashed: its stake went to the treasury");
                // Its worker reads the NodeSlashed event and notifies its operator.
                let node = &net.nodes[cheater_index];
                let start = std::time::Instant::now();
                while start.elapsed() < std::time::Duration::from_secs(20)
                    && !node.notices().iter().any(|n| n["kind"] == "slashed")
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                match node.notices().iter().find(|n| n["kind"] == "slashed") {
                    Some(n) => println!(
                        "its operator was notified ({}): {}",
                        node.notices.display(),
                        n["message"].as_str().unwrap_or_default()
                    ),
                    None => println!("warning: the dishonest node's worker sent no slash notice"),
                }
                break;
            }
        }
        net.nodes[args.nodes - 1].command("resume")?;
    }
    if net.groups == 0 {
        println!("no task was sampled for group validation in {sent} text tasks");
    }

    // Nodes leave; their stakes come back.
    for node in &mut net.nodes {
        let info = app.getNodeInfo(node.address).call().await?;
        if NodeStatus::from_u8(info.status) != Some(NodeStatus::Quit) {
            node.command("quit")?;
        }
        node.stop();
    }
    let logs_all = provider
        .get_logs(&Filter::new().address(contract).from_block(0))
        .await?;
    // What the application paid in: the fee of every task it created (refunds are counted as
    // received).
    let mut fees = U256::ZERO;
    let mut seen = HashSet::new();
    for log in &logs_all {
        let topic0 = log.topics().first().copied();
        if topic0 == Some(ITaskContract::TaskStarted::SIGNATURE_HASH)
            || topic0 == Some(ITaskContract::TaskQueued::SIGNATURE_HASH)
        {
            if let Some(c) = log.topics().get(1) {
                if seen.insert(*c) {
                    fees += app.getTask(*c).call().await?.taskFee;
                }
            }
        }
    }
    accounts[0].fees = fees;
    print_table(&provider, contract, &accounts).await?;
    println!("logs: {}", logs.display());
    Ok(Summary {
        testnet,
        contract,
        relay_url,
        tasks: net.tasks,
        accounts,
        groups: net.groups,
        logs,
    })
}
