//! `taskctl`: the application's command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use client::deployment::{self, DeployedConfig};
use client::relay_client::RelayClient;
use client::task_flow::{Outcome, Progress, TaskClient, TaskSpec};
use client::tools;
use protocol::bindings::ITaskContract;
use protocol::contract_settings::{self as defaults, ContractSettings};
use protocol::task_status::{AbortReason, TaskStatus};
use protocol::vrf::VrfSecretKey;
use protocol::TaskType;

#[derive(Parser)]
#[command(
    name = "taskctl",
    version,
    about = "Application client of the GPU task network"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        #[arg(long)]
        private_key: String,
        /// Unix time in seconds.
        #[arg(long)]
        timestamp: u64,
        /// The request's fields as a JSON object (without timestamp and signature).
        #[arg(long)]
        fields: String,
    },
    /// Prints the pHash of a PNG image as 16 hex digits (equal to Python imagehash.phash).
    Phash { file: String },
    /// Runs a task from a parameters file: create, upload, VSS, validate, download the result.
    Create(CreateArgs),
    /// Shows a task's state on chain.
    Status {
        #[command(flatten)]
        conn: Connection,
        task: B256,
        #[arg(long)]
        json: bool,
    },
    /// Downloads a finished task's result into a folder.
    Result {
        #[command(flatten)]
        conn: Connection,
        task: B256,
        #[arg(long, default_value = ".")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Aborts a task (the creator: while it is queued, or once its state's deadline has passed).
    Abort {
        #[command(flatten)]
        conn: Connection,
        task: B256,
        #[arg(long)]
        json: bool,
    },
    /// The task contract itself: its constructor's arguments, recording a deployment, its
    /// settings, its ABI.
    Contract {
        #[command(subcommand)]
        command: ContractCommand,
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
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = "http://127.0.0.1:8547")]
        rpc_url: String,
        /// The deployed task contract.
        #[arg(long, env = "TASKCTL_CONTRACT")]
        contract: Address,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Folder for deployment.json and deployment.env.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Prints the contract's settings (getConfig).
    Config {
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = "http://127.0.0.1:8547")]
        rpc_url: String,
        #[arg(long, env = "TASKCTL_CONTRACT")]
        contract: Address,
        #[arg(long)]
        json: bool,
    },
    /// Prints the task contract's JSON ABI (from contract/abi/ITaskContract.sol).
    Abi,
    /// Prints the endpoint's chain id.
    ChainId {
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = "http://127.0.0.1:8547")]
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

#[derive(Args, Clone)]
struct Connection {
    #[arg(long, env = "TASKCTL_RPC_URL", default_value = "http://127.0.0.1:8547")]
    rpc_url: String,
    #[arg(
        long,
        env = "TASKCTL_RELAY_URL",
        default_value = "http://127.0.0.1:8548"
    )]
    relay_url: String,
    #[arg(long, env = "TASKCTL_CONTRACT")]
    contract: Address,
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
    /// The parameters JSON file.
    params: PathBuf,
    #[arg(long, value_enum)]
    task_type: Kind,
    /// Fee per task in wei.
    #[arg(long)]
    fee: U256,
    /// Required GPU model (mandatory for text tasks: results compare only on identical GPUs).
    #[arg(long, default_value = "")]
    gpu: String,
    #[arg(long, default_value_t = 0)]
    gpu_vram: u64,
    #[arg(long, default_value_t = 0)]
    min_vram: u64,
    /// Task version major.minor.patch that nodes must support.
    #[arg(long, default_value = "1.0.0")]
    version: String,
    /// Task size (number of images for image tasks).
    #[arg(long, default_value_t = 1)]
    size: u64,
    /// Where the result files are written.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Seconds to wait for nodes and the relay at each step.
    #[arg(long, default_value_t = 900)]
    patience: u64,
    /// Print the outcome as JSON on the last line.
    #[arg(long)]
    json: bool,
}

/// A provider at `rpc_url` that signs with `signer`.
async fn wallet_provider(
    rpc_url: &str,
    signer: alloy::signers::local::PrivateKeySigner,
) -> anyhow::Result<alloy::providers::DynProvider> {
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?
        .erased())
}

async fn connect(conn: &Connection) -> anyhow::Result<TaskClient> {
    let signer = protocol::key_file::read_signer(&conn.private_key_file)?;
    let vrf_key = VrfSecretKey::from_bytes(&signer.credential().to_bytes())?;
    let provider = wallet_provider(&conn.rpc_url, signer.clone()).await?;
    Ok(TaskClient {
        contract: ITaskContract::new(conn.contract, provider),
        relay: RelayClient::new(&conn.relay_url, signer),
        vrf_key,
        poll_interval: Duration::from_millis(500),
        patience: Duration::from_secs(900),
    })
}

fn parse_version(text: &str) -> anyhow::Result<[u32; 3]> {
    let parts: Vec<&str> = text.split('.').collect();
    let [a, b, c] = parts.as_slice() else {
        bail!("--version: expected major.minor.patch, got {text:?}");
    };
    Ok([a.parse()?, b.parse()?, c.parse()?])
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

fn show(p: &Progress) -> String {
    match p {
        Progress::Created(c) => format!("created    {c}"),
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
    }
}

async fn create(args: &CreateArgs) -> anyhow::Result<String> {
    let params = std::fs::read_to_string(&args.params)
        .with_context(|| format!("reading {}", args.params.display()))?;
    let task_type = match args.task_type {
        Kind::Text => TaskType::TextGeneration,
        Kind::Image => TaskType::ImageGeneration,
    };
    protocol::TaskParams::parse(task_type, &params)?;
    let mut client = connect(&args.conn).await?;
    client.patience = Duration::from_secs(args.patience);
    let spec = TaskSpec {
        task_type,
        params,
        fee: args.fee,
        required_gpu: args.gpu.clone(),
        required_gpu_vram: args.gpu_vram,
        minimum_vram: args.min_vram,
        task_version: parse_version(&args.version)?,
        task_size: args.size,
    };
    let outcome: Outcome = client.run(&spec, |p| println!("{}", show(&p))).await?;
    let mut paths = Vec::new();
    if let (Some(winner), Some(files)) = (outcome.winner, &outcome.result) {
        paths = write_result(&args.out, winner, task_type, files)?;
        for p in &paths {
            println!("result     {}", p.display());
        }
    }
    if args.json {
        return Ok(serde_json::json!({
            "tasks": outcome.tasks,
            "winner": outcome.winner,
            "final_status": outcome.final_status.to_string(),
            "result_files": paths,
        })
        .to_string());
    }
    Ok(format!("{}", outcome.final_status))
}

async fn status(conn: &Connection, task: B256, json: bool) -> anyhow::Result<String> {
    let client = connect(conn).await?;
    let t = client
        .contract
        .getTask(task)
        .call()
        .await
        .context("getTask")?;
    let status = TaskStatus::from_u8(t.status)
        .map(|s| s.to_string())
        .unwrap_or_else(|| t.status.to_string());
    if json {
        return Ok(serde_json::json!({
            "task": task, "status": status, "creator": t.creator, "node": t.selectedNode,
            "task_type": t.taskType, "fee": t.taskFee.to_string(), "score": t.score,
            "abort_reason": AbortReason::from_u8(t.abortReason).map(|r| r.to_string()),
        })
        .to_string());
    }
    Ok(format!(
        "task {task}\nnode {}\nfee {} wei\nscore {}\nstatus {status}",
        t.selectedNode, t.taskFee, t.score
    ))
}

async fn record(
    rpc_url: &str,
    contract: Address,
    args: &SettingsArgs,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<String> {
    let provider = ProviderBuilder::new()
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?
        .erased();
    let d = deployment::record(
        provider,
        rpc_url,
        contract,
        args.extension,
        args.owner()?,
        &args.settings()?,
    )
    .await?;
    let mut written = Vec::new();
    if let Some(out) = out {
        written = d.write(out)?;
    }
    if json {
        let mut v = d.to_json();
        v["files"] = serde_json::json!(written);
        return Ok(v.to_string());
    }
    let mut text = format!(
        "{} on chain {} holds the expected settings",
        d.task_contract, d.chain_id
    );
    for path in written {
        text.push_str(&format!("\nwrote {}", path.display()));
    }
    Ok(text)
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
    let provider = ProviderBuilder::new()
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?
        .erased();
    let beta = ITaskContract::new(contract, provider)
        .verifyVRF(public_key.into(), alpha.into(), data.into())
        .call()
        .await
        .map_err(|e| {
            match e.as_decoded_interface_error::<ITaskContract::ITaskContractErrors>() {
                Some(decoded) => anyhow::anyhow!("the contract refused the proof: {decoded:?}"),
                None => anyhow::anyhow!("verifyVRF at {contract}: {e}"),
            }
        })?;
    Ok(hex::encode(beta))
}

async fn config(rpc_url: &str, contract: Address, json: bool) -> anyhow::Result<String> {
    let provider = ProviderBuilder::new()
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?
        .erased();
    let config = DeployedConfig::read(&ITaskContract::new(contract, provider)).await?;
    let Some(c) = config else {
        if json {
            return Ok(serde_json::json!({ "constructed": false }).to_string());
        }
        return Ok(format!("{contract} is not constructed"));
    };
    if json {
        let mut v = c.to_json();
        v["constructed"] = serde_json::json!(true);
        return Ok(v.to_string());
    }
    Ok(c.to_text())
}

async fn run_async(command: &Command) -> anyhow::Result<String> {
    match command {
        Command::Create(args) => create(args).await,
        Command::Status { conn, task, json } => status(conn, *task, *json).await,
        Command::Result {
            conn,
            task,
            out,
            json,
        } => {
            let client = connect(conn).await?;
            let t = client
                .contract
                .getTask(*task)
                .call()
                .await
                .context("getTask")?;
            let files = client.relay.download_result(*task).await?;
            let kind = TaskType::from_u8(t.taskType).context("unknown task type")?;
            let paths = write_result(out, *task, kind, &files)?;
            if *json {
                return Ok(serde_json::json!({ "task": task, "result_files": paths }).to_string());
            }
            Ok(paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::Abort { conn, task, json } => {
            let client = connect(conn).await?;
            client.abort(*task, AbortReason::Timeout).await?;
            if *json {
                return Ok(serde_json::json!({ "task": task, "status": "EndAborted" }).to_string());
            }
            Ok(format!("aborted {task}"))
        }
        Command::Contract {
            command:
                ContractCommand::Record {
                    rpc_url,
                    contract,
                    settings,
                    out,
                    json,
                },
        } => record(rpc_url, *contract, settings, out.as_deref(), *json).await,
        Command::Contract {
            command:
                ContractCommand::Config {
                    rpc_url,
                    contract,
                    json,
                },
        } => config(rpc_url, *contract, *json).await,
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
            verify_on_chain(rpc_url, contract, public_key, alpha, proof).await
        }
        Command::Contract {
            command: ContractCommand::ConstructorArgs(args),
        } => Ok(
            deployment::constructor_args(args.extension, args.owner()?, &args.settings()?)
                .join("\n"),
        ),
        Command::Contract {
            command: ContractCommand::ChainId { rpc_url },
        } => {
            let provider = ProviderBuilder::new()
                .connect(rpc_url)
                .await
                .with_context(|| format!("connecting to {rpc_url}"))?;
            let id = provider
                .get_chain_id()
                .await
                .with_context(|| format!("eth_chainId at {rpc_url}"))?;
            Ok(id.to_string())
        }
        _ => unreachable!("offline tools are handled before the runtime starts"),
    }
}

#[derive(Subcommand)]
enum VrfCommand {
    /// Prints the 81-byte proof for alpha.
    Prove {
        #[arg(long)]
        secret_key: String,
        #[arg(long)]
        alpha: String,
    },
    /// Verifies a proof and prints beta; with --on-chain, by the deployed task contract's own
    /// check (an eth_call of verifyVRF, with the witnesses of its cheap check appended).
    Verify {
        /// 64 bytes X || Y.
        #[arg(long)]
        public_key: String,
        #[arg(long)]
        alpha: String,
        /// The 81-byte proof (with --on-chain: optionally followed by its witnesses).
        #[arg(long)]
        proof: String,
        #[arg(long)]
        on_chain: bool,
        #[arg(long, env = "TASKCTL_RPC_URL", default_value = "http://127.0.0.1:8547")]
        rpc_url: String,
        #[arg(long, env = "TASKCTL_CONTRACT")]
        contract: Option<Address>,
    },
    /// Prints the witnesses of the contract's cheap check for a valid proof (hex, appended to the
    /// proof in validateSingleTask / validateTaskGroup / verifyVRF).
    Witness {
        /// 64 bytes X || Y.
        #[arg(long)]
        public_key: String,
        #[arg(long)]
        alpha: String,
        #[arg(long)]
        proof: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Vrf {
            command: VrfCommand::Prove { secret_key, alpha },
        } => tools::vrf_prove(secret_key, alpha),
        Command::Vrf {
            command:
                VrfCommand::Verify {
                    public_key,
                    alpha,
                    proof,
                    on_chain: false,
                    ..
                },
        } => tools::vrf_verify(public_key, alpha, proof),
        Command::Vrf {
            command:
                VrfCommand::Witness {
                    public_key,
                    alpha,
                    proof,
                },
        } => tools::vrf_witness(public_key, alpha, proof),
        Command::Sign {
            private_key,
            timestamp,
            fields,
        } => tools::relay_sign(private_key, *timestamp, fields),
        Command::Phash { file } => tools::phash_file(file),
        Command::Contract {
            command: ContractCommand::Abi,
        } => tools::contract_abi_json(),
        online => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("taskctl: cannot start the async runtime: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            match runtime.block_on(run_async(online)) {
                Ok(v) => Ok(v),
                Err(e) => {
                    eprintln!("taskctl: {e:#}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
    };
    match result {
        Ok(value) => {
            println!("{value}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("taskctl: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
