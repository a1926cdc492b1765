//! `taskctl`: the application's command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use client::relay_client::RelayClient;
use client::task_flow::{Outcome, Progress, TaskClient, TaskSpec};
use client::tools;
use protocol::bindings::ITaskContract;
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
    /// Aborts a task (the creator may after its timeout, or while it is queued).
    Abort {
        #[command(flatten)]
        conn: Connection,
        task: B256,
        #[arg(long)]
        json: bool,
    },
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

async fn connect(conn: &Connection) -> anyhow::Result<TaskClient> {
    let signer = protocol::key_file::read_signer(&conn.private_key_file)?;
    let vrf_key = VrfSecretKey::from_bytes(&signer.credential().to_bytes())?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect(&conn.rpc_url)
        .await
        .with_context(|| format!("connecting to {}", conn.rpc_url))?
        .erased();
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
    /// Verifies a proof and prints beta.
    Verify {
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
                },
        } => tools::vrf_verify(public_key, alpha, proof),
        Command::Sign {
            private_key,
            timestamp,
            fields,
        } => tools::relay_sign(private_key, *timestamp, fields),
        Command::Phash { file } => tools::phash_file(file),
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
