//! `taskctl`: the application's command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use anyhow::{bail, Context};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use client::deployment::{self, DeployedConfig};
use client::relay_client::RelayClient;
use client::task_flow::{ensure_contract, Outcome, Progress, TaskClient, TaskSpec};
use client::tools;
use protocol::amount::format_ether;
use protocol::bindings::ITaskContract;
use protocol::contract_settings::{self as defaults, ContractSettings};
use protocol::task_status::{AbortReason, TaskStatus};
use protocol::vrf::VrfSecretKey;
use protocol::TaskType;
use serde_json::{json, Value};

const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8547";
const DEFAULT_RELAY_URL: &str = "http://127.0.0.1:8548";

#[derive(Parser)]
#[command(
    name = "taskctl",
    version,
    about = "Application client of the GPU task network"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print the result as one JSON object on stdout (an error too, as {"error": …}).
    #[arg(long, global = true, display_order = 100)]
    json: bool,
    /// Print no progress lines, only the result.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        display_order = 101
    )]
    quiet: bool,
    /// Also print the endpoints used and every state a task is seen in.
    #[arg(short, long, global = true, display_order = 102)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// ECVRF-SECP256K1-SHA256-TAI (draft-04) proofs, as the contract checks them.
    Vrf {
        #[command(subcommand)]
        command: VrfCommand,
    },
    /// Signs relay request fields; prints the 65-byte signature r || s || v as 0x hex.
    Sign {
        /// File holding the signing private key (hex).
        #[arg(long, env = "TASKCTL_PRIVATE_KEY_FILE")]
        private_key_file: PathBuf,
        /// Unix time in seconds.
        #[arg(long)]
        timestamp: u64,
        /// The request's fields as a JSON object (without timestamp and signature).
        #[arg(long)]
        fields: String,
    },
    /// Prints the pHash of a PNG image as 16 hex digits (equal to Python imagehash.phash).
    Phash {
        /// The PNG file.
        file: String,
    },
    /// Runs a task from a parameters file: create, upload, VSS, validate, download the result.
    Create(CreateArgs),
    /// Shows a task's state on chain (needs no key).
    Status {
        #[command(flatten)]
        chain: ChainArgs,
        /// The task's id commitment (0x + 64 hex digits).
        task: B256,
        /// Show the fee in wei instead of ETH.
        #[arg(long)]
        wei: bool,
    },
    /// Downloads a finished task's result into a folder.
    Result {
        #[command(flatten)]
        conn: Connection,
        /// The task's id commitment.
        task: B256,
        /// Folder the result files are written to.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Aborts a task (the creator: while it is queued, or once its state's deadline has passed).
    Abort {
        #[command(flatten)]
        conn: Connection,
        /// The task's id commitment.
        task: B256,
    },
    /// The task contract itself: its constructor's arguments, recording a deployment, its
    /// settings, its ABI.
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Prints a shell completion script: `taskctl completions bash > /etc/bash_completion.d/taskctl`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum ContractCommand {
    /// Prints the constructor's arguments for `cargo stylus deploy --constructor-args`, one per
    /// line, from the settings given (the protocol's defaults for the rest). scripts/deploy.sh
    /// runs it.
    ConstructorArgs(SettingsArgs),
    /// Checks that the deployed task contract was constructed with the settings given and
    /// writes deployment.json and deployment.env (the variables the worker, relay and taskctl
    /// read) into --out. scripts/deploy.sh runs it after `cargo stylus deploy`.
    Record {
        #[command(flatten)]
        chain: ChainArgs,
        /// URL the relay serves at, written to deployment.env for the workers and taskctl.
        #[arg(long, env = "TASKCTL_RELAY_URL")]
        relay_url: String,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Folder for deployment.json and deployment.env (none written when absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Prints the contract's settings (getConfig).
    Config {
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Prints the task contract's JSON ABI (from contract/abi/ITaskContract.sol).
    Abi,
    /// Prints the endpoint's chain id.
    ChainId {
        /// Ethereum JSON-RPC endpoint.
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = DEFAULT_RPC_URL)]
        rpc_url: String,
    },
}

/// The task contract's constructor settings.
#[derive(Args)]
struct SettingsArgs {
    /// The deployed extension program (contract/extension).
    #[arg(long)]
    extension: Address,
    /// The deployed VRF verifier program.
    #[arg(long)]
    vrf_verifier: Address,
    /// The owner (may change the settings later and hand ownership on); the account of
    /// --private-key-file by default.
    #[arg(long)]
    owner: Option<Address>,
    /// File holding the deployer's private key (hex), whose account is the default owner.
    #[arg(long, env = "TASKCTL_PRIVATE_KEY_FILE")]
    private_key_file: Option<PathBuf>,
    /// The relay's account (the only caller of the relay's reports); the owner by default.
    #[arg(long)]
    relay: Option<Address>,
    /// Where slashed stakes go; the owner by default.
    #[arg(long)]
    treasury: Option<Address>,
    /// Minimum stake: wei, or ether with an `eth` suffix.
    #[arg(long, value_parser = parse_wei)]
    min_stake: U256,
    /// Seconds a queued task waits before anyone may abort it.
    #[arg(long, default_value_t = defaults::DEFAULT_QUEUE_TIMEOUT)]
    queue_timeout: u64,
    /// Seconds the creator has to upload parameters, and a node its result.
    #[arg(long, default_value_t = defaults::DEFAULT_UPLOAD_TIMEOUT)]
    upload_timeout: u64,
    /// Seconds a node has to score a task once its parameters are uploaded.
    #[arg(long, default_value_t = defaults::DEFAULT_EXECUTION_TIMEOUT)]
    execution_timeout: u64,
    /// Seconds the creator has to validate a scored task (at least 2 x (execution + upload)).
    #[arg(long, default_value_t = defaults::DEFAULT_VALIDATION_TIMEOUT)]
    validation_timeout: u64,
    /// pHash distance (per 64-bit hash) under which two image results agree.
    #[arg(long, default_value_t = defaults::DEFAULT_DISTANCE_THRESHOLD)]
    distance_threshold: u8,
    /// One task in this many is validated by a group of three.
    #[arg(long, default_value_t = defaults::DEFAULT_SAMPLING_RATE)]
    sampling_rate: u32,
    /// Most tasks the queue holds.
    #[arg(long, default_value_t = defaults::DEFAULT_QUEUE_SIZE_LIMIT)]
    queue_size: u16,
    /// Most GPU classes (name, VRAM, version) with joined nodes.
    #[arg(long, default_value_t = defaults::DEFAULT_MAX_GPU_CLASSES)]
    max_gpu_classes: u32,
}

impl SettingsArgs {
    /// --owner, else the account of --private-key-file.
    fn owner(&self) -> anyhow::Result<Address> {
        if let Some(owner) = self.owner {
            return Ok(owner);
        }
        let Some(file) = &self.private_key_file else {
            bail!("give --owner, or --private-key-file for the deployer's account");
        };
        Ok(protocol::key_file::read_signer(file)?.address())
    }

    fn settings(&self) -> anyhow::Result<ContractSettings> {
        let owner = self.owner()?;
        Ok(ContractSettings {
            relay: self.relay.unwrap_or(owner),
            treasury: self.treasury.unwrap_or(owner),
            vrf_verifier: self.vrf_verifier,
            min_stake: self.min_stake,
            queue_timeout: self.queue_timeout,
            upload_timeout: self.upload_timeout,
            execution_timeout: self.execution_timeout,
            validation_timeout: self.validation_timeout,
            distance_threshold: self.distance_threshold,
            sampling_rate: self.sampling_rate,
            queue_size_limit: self.queue_size,
            max_gpu_classes: self.max_gpu_classes,
        })
    }
}

fn parse_wei(text: &str) -> Result<U256, String> {
    protocol::amount::parse_amount(text)
        .ok_or_else(|| format!("{text:?} is neither wei (an integer) nor ether (e.g. 0.01eth)"))
}

/// The chain and the contract, for commands that only read.
#[derive(Args, Clone)]
struct ChainArgs {
    /// Ethereum JSON-RPC endpoint.
    #[arg(long, env = "TASKCTL_RPC_URL", default_value = DEFAULT_RPC_URL)]
    rpc_url: String,
    /// The task contract.
    #[arg(long, env = "TASKCTL_CONTRACT")]
    contract: Address,
}

/// The chain, the relay and the application's key, for commands that send or sign.
#[derive(Args, Clone)]
struct Connection {
    #[command(flatten)]
    chain: ChainArgs,
    /// The relay's URL.
    #[arg(long, env = "TASKCTL_RELAY_URL", default_value = DEFAULT_RELAY_URL)]
    relay_url: String,
    /// File holding the application's private key (hex): it pays, signs relay requests and is
    /// the VRF key.
    #[arg(long, env = "TASKCTL_PRIVATE_KEY_FILE")]
    private_key_file: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Text,
    Image,
}

#[derive(Args)]
struct CreateArgs {
    #[command(flatten)]
    conn: Connection,
    /// The parameters JSON file (examples: client/examples/).
    params: PathBuf,
    /// The kind of task the parameters describe.
    #[arg(long, value_enum)]
    task_type: Kind,
    /// Fee per task: wei, or ether with an `eth` suffix (`0.001eth`).
    #[arg(long, value_parser = parse_wei)]
    fee: U256,
    /// Required GPU model (mandatory for text tasks: results compare only on identical GPUs).
    #[arg(long, default_value = "")]
    gpu: String,
    /// VRAM in GB of the required GPU (with --gpu).
    #[arg(long, default_value_t = 0)]
    gpu_vram: u64,
    /// Least VRAM in GB a node needs (without --gpu).
    #[arg(long, default_value_t = 0)]
    min_vram: u64,
    /// Task version major.minor.patch that nodes must support.
    #[arg(long, default_value = "1.0.0")]
    task_version: String,
    /// Task size (number of images for image tasks).
    #[arg(long, default_value_t = 1)]
    size: u64,
    /// Where the result files are written.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Seconds to wait for nodes and the relay at each step.
    #[arg(long, default_value_t = 900)]
    patience: u64,
}

/// How results and progress are printed.
#[derive(Clone, Copy)]
struct Output {
    json: bool,
    quiet: bool,
    verbose: bool,
}

impl Output {
    /// A progress line on stderr (stdout keeps only the result).
    fn progress(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

fn provider(rpc_url: &str) -> anyhow::Result<DynProvider> {
    let url = rpc_url
        .parse()
        .with_context(|| format!("--rpc-url {rpc_url:?} is not a URL"))?;
    Ok(ProviderBuilder::new().connect_http(url).erased())
}

/// A provider at `rpc_url` that signs with `signer`.
fn wallet_provider(
    rpc_url: &str,
    signer: alloy::signers::local::PrivateKeySigner,
) -> anyhow::Result<DynProvider> {
    let url = rpc_url
        .parse()
        .with_context(|| format!("--rpc-url {rpc_url:?} is not a URL"))?;
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased())
}

/// The task contract at `chain`, checked to hold code.
async fn read_contract(
    chain: &ChainArgs,
    out: Output,
) -> anyhow::Result<ITaskContract::ITaskContractInstance<DynProvider>> {
    if out.verbose {
        out.progress(format!(
            "chain {} contract {}",
            chain.rpc_url, chain.contract
        ));
    }
    let provider = provider(&chain.rpc_url)?;
    ensure_contract(&provider, chain.contract).await?;
    Ok(ITaskContract::new(chain.contract, provider))
}

async fn connect(conn: &Connection, out: Output) -> anyhow::Result<TaskClient> {
    let signer = protocol::key_file::read_signer(&conn.private_key_file)?;
    let vrf_key = VrfSecretKey::from_bytes(&signer.credential().to_bytes())?;
    if out.verbose {
        out.progress(format!(
            "chain {} contract {} relay {} account {}",
            conn.chain.rpc_url,
            conn.chain.contract,
            conn.relay_url,
            signer.address()
        ));
    }
    let provider = wallet_provider(&conn.chain.rpc_url, signer.clone())?;
    ensure_contract(&provider, conn.chain.contract).await?;
    Ok(TaskClient {
        contract: ITaskContract::new(conn.chain.contract, provider),
        relay: RelayClient::new(&conn.relay_url, signer),
        vrf_key,
        poll_interval: Duration::from_millis(500),
        patience: Duration::from_secs(900),
    })
}

fn parse_version(text: &str) -> anyhow::Result<[u32; 3]> {
    let parts: Vec<Option<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
    let [Some(a), Some(b), Some(c)] = parts.as_slice() else {
        bail!("--task-version: expected major.minor.patch (like 1.0.0), got {text:?}");
    };
    Ok([*a, *b, *c])
}

fn write_result(
    out: &Path,
    task: B256,
    kind: TaskType,
    files: &[Vec<u8>],
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let ext = if kind == TaskType::TextGeneration {
        "json"
    } else {
        "png"
    };
    let mut paths = Vec::new();
    for (i, bytes) in files.iter().enumerate() {
        let path = out.join(format!("{task}-{i}.{ext}"));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// One progress line, or None for a state change shown only with --verbose.
fn show(p: &Progress, verbose: bool) -> Option<String> {
    Some(match p {
        Progress::Created(c) => format!("created    {c}"),
        Progress::State { task, status } => {
            // The steps below already say most states; the rest show what a wait is about.
            let waiting = matches!(status, TaskStatus::Queued | TaskStatus::ParametersUploaded);
            if !verbose && !waiting {
                return None;
            }
            let note = match status {
                TaskStatus::Queued => ": waiting for a node",
                TaskStatus::ParametersUploaded => ": the node is running it",
                _ => "",
            };
            format!("state      {task} {status}{note}")
        }
        Progress::Started { task, node } => format!("started    {task} on node {node}"),
        Progress::ParametersUploaded(c) => format!("parameters {c} uploaded to the relay"),
        Progress::Sampled { task, sampled } => format!(
            "sampling   {task}: {}",
            if *sampled {
                "selected: validating as a group of three"
            } else {
                "not selected: validating alone"
            }
        ),
        Progress::Settled { task, status } => format!("settled    {task}: {status}"),
        Progress::Validated { task, group } => {
            format!("validated  {task}{}", if *group { " (group)" } else { "" })
        }
        Progress::Finished { task, status } => format!("finished   {task}: {status}"),
        Progress::Aborted { task, reason } => format!("aborted    {task}: {reason}"),
    })
}

async fn create(args: &CreateArgs, out: Output) -> anyhow::Result<Value> {
    let params = std::fs::read_to_string(&args.params)
        .with_context(|| format!("reading {}", args.params.display()))?;
    let task_type = match args.task_type {
        Kind::Text => TaskType::TextGeneration,
        Kind::Image => TaskType::ImageGeneration,
    };
    protocol::TaskParams::parse(task_type, &params)
        .with_context(|| format!("{}", args.params.display()))?;
    let task_version = parse_version(&args.task_version)?;
    let mut client = connect(&args.conn, out).await?;
    client.patience = Duration::from_secs(args.patience);
    let spec = TaskSpec {
        task_type,
        params,
        fee: args.fee,
        required_gpu: args.gpu.clone(),
        required_gpu_vram: args.gpu_vram,
        minimum_vram: args.min_vram,
        task_version,
        task_size: args.size,
    };
    let start = Instant::now();
    let outcome: Outcome = client
        .run(&spec, |p| {
            if let Some(line) = show(&p, out.verbose) {
                out.progress(format_args!(
                    "[{:>6.1} s] {line}",
                    start.elapsed().as_secs_f64()
                ));
            }
        })
        .await?;
    let mut paths = Vec::new();
    if let (Some(winner), Some(files)) = (outcome.winner, &outcome.result) {
        paths = write_result(&args.out, winner, task_type, files)?;
    }
    let text = std::iter::once(outcome.final_status.to_string())
        .chain(paths.iter().map(|p| format!("result {}", p.display())))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(json!({
        "tasks": outcome.tasks,
        "winner": outcome.winner,
        "final_status": outcome.final_status.to_string(),
        "result_files": paths,
        "text": text,
    }))
}

fn status_name(code: u8) -> String {
    TaskStatus::from_u8(code)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("unknown ({code})"))
}

async fn status(chain: &ChainArgs, task: B256, wei: bool, out: Output) -> anyhow::Result<Value> {
    let contract = read_contract(chain, out).await?;
    let t = contract
        .getTask(task)
        .call()
        .await
        .map_err(|e| anyhow::anyhow!(protocol::contract_error::describe_call_error(&e)))?;
    let status = status_name(t.status);
    let kind = TaskType::from_u8(t.taskType);
    let kind_text = kind
        .map(|k| k.to_string())
        .unwrap_or_else(|| format!("unknown ({})", t.taskType));
    let reason = AbortReason::from_u8(t.abortReason).filter(|r| *r != AbortReason::None);
    let fee = if wei {
        format!("{} wei", t.taskFee)
    } else {
        format_ether(t.taskFee)
    };
    let node = if t.selectedNode == Address::ZERO {
        "none yet".to_string()
    } else {
        t.selectedNode.to_string()
    };
    let mut text = format!(
        "task   {task}\ntype   {kind_text}\nstatus {status}\nnode   {node}\nfee    {fee}\nscore  {}",
        if t.score.is_empty() {
            "none yet".to_string()
        } else {
            t.score.to_string()
        }
    );
    if let Some(r) = reason {
        text.push_str(&format!("\nabort  {r}"));
    }
    Ok(json!({
        "task": task, "status": status, "creator": t.creator, "node": t.selectedNode,
        "task_type": kind.map(|k| format!("{k:?}")), "fee_wei": t.taskFee.to_string(), "score": t.score,
        "abort_reason": reason.map(|r| r.to_string()),
        "text": text,
    }))
}

/// `taskctl result`: the files of a settled task; a task that has none yet (or never will) is
/// named by its state.
async fn result(
    conn: &Connection,
    task: B256,
    out_dir: &Path,
    out: Output,
) -> anyhow::Result<Value> {
    let client = connect(conn, out).await?;
    let t = client
        .contract
        .getTask(task)
        .call()
        .await
        .map_err(|e| anyhow::anyhow!(protocol::contract_error::describe_call_error(&e)))?;
    let status = TaskStatus::from_u8(t.status);
    match status {
        Some(TaskStatus::EndSuccess | TaskStatus::EndGroupSuccess) => {}
        Some(TaskStatus::Queued) => bail!(
            "task {task} has not started: it is Queued, waiting for a node; it has no result yet"
        ),
        Some(s) if s.is_final() => {
            bail!("task {task} ended as {s}: it has no result")
        }
        _ => bail!(
            "task {task} is {}: its result is served once it is validated and the node has \
             uploaded it (EndSuccess)",
            status_name(t.status)
        ),
    }
    let files = client.relay.download_result(task).await?;
    let kind = TaskType::from_u8(t.taskType).context("unknown task type")?;
    let paths = write_result(out_dir, task, kind, &files)?;
    let text = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    Ok(json!({ "task": task, "result_files": paths, "text": text }))
}

async fn record(
    chain: &ChainArgs,
    relay_url: &str,
    args: &SettingsArgs,
    out_dir: Option<&Path>,
) -> anyhow::Result<Value> {
    let d = deployment::record(
        provider(&chain.rpc_url)?,
        &chain.rpc_url,
        relay_url,
        chain.contract,
        args.extension,
        args.owner()?,
        &args.settings()?,
    )
    .await?;
    let mut written = Vec::new();
    if let Some(dir) = out_dir {
        written = d.write(dir)?;
    }
    let mut text = format!(
        "{} on chain {} holds the expected settings",
        d.task_contract, d.chain_id
    );
    for path in &written {
        text.push_str(&format!("\nwrote {}", path.display()));
    }
    let mut v = d.to_json();
    v["files"] = json!(written);
    v["text"] = json!(text);
    Ok(v)
}

/// `taskctl vrf verify --on-chain`: beta by the contract's verifyVRF (an eth_call).
async fn verify_on_chain(
    rpc_url: &str,
    contract: Address,
    public_key: &str,
    alpha: &str,
    proof: &str,
) -> anyhow::Result<String> {
    use client::hex_input::{parse_hex, parse_hex_exact};
    let public_key = parse_hex_exact("--public-key", public_key, 64)?;
    let alpha = parse_hex("--alpha", alpha)?;
    let mut data = parse_hex("--proof", proof)?;
    // A bare proof that verifies gets its witnesses; anything else goes as it is, for the
    // contract to judge.
    if data.len() == protocol::vrf::PROOF_LEN {
        if let Ok(with) = protocol::vrf_witness::proof_with_hints(&public_key, &alpha, &data) {
            data = with;
        }
    }
    let provider = provider(rpc_url)?;
    ensure_contract(&provider, contract).await?;
    let beta = ITaskContract::new(contract, provider)
        .verifyVRF(public_key.into(), alpha.into(), data.into())
        .call()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the contract refused the proof: {}",
                protocol::contract_error::describe_call_error(&e)
            )
        })?;
    Ok(hex::encode(beta))
}

async fn config(chain: &ChainArgs, out: Output) -> anyhow::Result<Value> {
    let contract = read_contract(chain, out).await?;
    let Some(c) = DeployedConfig::read(&contract).await? else {
        return Ok(json!({
            "constructed": false,
            "text": format!("{} is not constructed", chain.contract),
        }));
    };
    let mut v = c.to_json();
    v["constructed"] = json!(true);
    v["text"] = json!(c.to_text());
    Ok(v)
}

/// The commands that talk to a chain or relay; each answers a JSON object whose `text` is what
/// is printed without --json.
async fn run_online(command: &Command, out: Output) -> anyhow::Result<Value> {
    match command {
        Command::Create(args) => create(args, out).await,
        Command::Status { chain, task, wei } => status(chain, *task, *wei, out).await,
        Command::Result {
            conn,
            task,
            out: dir,
        } => result(conn, *task, dir, out).await,
        Command::Abort { conn, task } => {
            let client = connect(conn, out).await?;
            client.abort(*task, AbortReason::Timeout).await?;
            Ok(json!({ "task": task, "status": "EndAborted", "text": format!("aborted {task}") }))
        }
        Command::Contract {
            command:
                ContractCommand::Record {
                    chain,
                    relay_url,
                    settings,
                    out: dir,
                },
        } => record(chain, relay_url, settings, dir.as_deref()).await,
        Command::Contract {
            command: ContractCommand::Config { chain },
        } => config(chain, out).await,
        Command::Vrf {
            command:
                VrfCommand::Verify {
                    public_key,
                    alpha,
                    proof,
                    rpc_url,
                    contract,
                    ..
                },
        } => {
            let contract = contract
                .context("--on-chain needs the task contract: --contract or TASKCTL_CONTRACT")?;
            let beta = verify_on_chain(rpc_url, contract, public_key, alpha, proof).await?;
            Ok(json!({ "beta": beta, "text": beta }))
        }
        Command::Contract {
            command: ContractCommand::ChainId { rpc_url },
        } => {
            let id = provider(rpc_url)?
                .get_chain_id()
                .await
                .with_context(|| format!("eth_chainId at {rpc_url}"))?;
            Ok(json!({ "chain_id": id, "text": id.to_string() }))
        }
        _ => unreachable!("offline tools are handled before the runtime starts"),
    }
}

#[derive(Subcommand)]
enum VrfCommand {
    /// Prints the 81-byte proof for alpha.
    Prove {
        /// File holding the VRF secret key (the application's private key, hex).
        #[arg(long, env = "TASKCTL_PRIVATE_KEY_FILE")]
        secret_key_file: PathBuf,
        /// The VRF input (hex).
        #[arg(long)]
        alpha: String,
    },
    /// Verifies a proof and prints beta; with --on-chain, by the deployed task contract's own
    /// check (an eth_call of verifyVRF, with the witnesses of its cheap check appended).
    Verify {
        /// 64 bytes X || Y.
        #[arg(long)]
        public_key: String,
        /// The VRF input (hex).
        #[arg(long)]
        alpha: String,
        /// The 81-byte proof (with --on-chain: optionally followed by its witnesses).
        #[arg(long)]
        proof: String,
        /// Ask the deployed task contract instead of checking here.
        #[arg(long)]
        on_chain: bool,
        /// Ethereum JSON-RPC endpoint (with --on-chain).
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = DEFAULT_RPC_URL)]
        rpc_url: String,
        /// The task contract (with --on-chain).
        #[arg(long, env = "TASKCTL_CONTRACT")]
        contract: Option<Address>,
    },
    /// Prints the witnesses of the contract's cheap check for a valid proof (hex, appended to the
    /// proof in validateSingleTask / validateTaskGroup / verifyVRF).
    Witness {
        /// 64 bytes X || Y.
        #[arg(long)]
        public_key: String,
        /// The VRF input (hex).
        #[arg(long)]
        alpha: String,
        /// The 81-byte proof.
        #[arg(long)]
        proof: String,
    },
}

/// The tools that need neither a chain nor a relay, as `(json key, value)`.
fn run_offline(command: &Command) -> Option<anyhow::Result<(&'static str, String)>> {
    let with =
        |key, r: Result<String, tools::ToolError>| Some(r.map(|v| (key, v)).map_err(Into::into));
    match command {
        Command::Vrf {
            command:
                VrfCommand::Prove {
                    secret_key_file,
                    alpha,
                },
        } => Some(
            protocol::key_file::read_signer(secret_key_file)
                .map_err(anyhow::Error::from)
                .and_then(|signer| {
                    let key = hex::encode(signer.credential().to_bytes());
                    Ok(("proof", tools::vrf_prove(&key, alpha)?))
                }),
        ),
        Command::Vrf {
            command:
                VrfCommand::Verify {
                    public_key,
                    alpha,
                    proof,
                    on_chain: false,
                    ..
                },
        } => with("beta", tools::vrf_verify(public_key, alpha, proof)),
        Command::Vrf {
            command:
                VrfCommand::Witness {
                    public_key,
                    alpha,
                    proof,
                },
        } => with("witnesses", tools::vrf_witness(public_key, alpha, proof)),
        Command::Sign {
            private_key_file,
            timestamp,
            fields,
        } => Some(
            protocol::key_file::read_signer(private_key_file)
                .map_err(anyhow::Error::from)
                .and_then(|signer| {
                    Ok(("signature", tools::relay_sign(&signer, *timestamp, fields)?))
                }),
        ),
        Command::Phash { file } => with("phash", tools::phash_file(file)),
        Command::Contract {
            command: ContractCommand::Abi,
        } => with("abi", tools::contract_abi_json()),
        Command::Contract {
            command: ContractCommand::ConstructorArgs(args),
        } => Some((|| {
            let lines =
                deployment::constructor_args(args.extension, args.owner()?, &args.settings()?);
            Ok(("args", lines.join("\n")))
        })()),
        _ => None,
    }
}

/// Prints `value` as the result: its `text` without --json, the object (less `text`) with it.
fn print_result(mut value: Value, out: Output) {
    let text = value
        .as_object_mut()
        .and_then(|o| o.remove("text"))
        .and_then(|t| t.as_str().map(String::from))
        .unwrap_or_default();
    let mut stdout = std::io::stdout().lock();
    let _ = if out.json {
        writeln!(stdout, "{value}")
    } else {
        writeln!(stdout, "{text}")
    };
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let out = Output {
        json: cli.json,
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "taskctl",
            &mut std::io::stdout(),
        );
        return std::process::ExitCode::SUCCESS;
    }
    let result = match run_offline(&cli.command) {
        Some(r) => r.map(|(key, v)| {
            // The ABI is JSON itself; the rest are one value each.
            let json_value = match key {
                "abi" => serde_json::from_str(&v).unwrap_or(Value::String(v.clone())),
                "args" => json!(v.lines().collect::<Vec<_>>()),
                _ => json!(v),
            };
            json!({ key: json_value, "text": v })
        }),
        None => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(run_online(&cli.command, out)),
            Err(e) => Err(anyhow::Error::new(e).context("starting the async runtime")),
        },
    };
    match result {
        Ok(value) => {
            print_result(value, out);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            let message = protocol::error_report::one_line(e.as_ref());
            if out.json {
                println!("{}", json!({ "error": message }));
            } else {
                eprintln!("error: {message}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
