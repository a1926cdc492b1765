//! `relay`: the relay service.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use anyhow::Context;
use clap::Parser;
use protocol::bindings::ITaskContract;
use relay::http_server::ServerLimits;
use relay::service::{serve, RelayOptions};
use relay::store::StoreConfig;

#[derive(Parser)]
#[command(
    name = "relay",
    version,
    about = "Relay for task parameters and results",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<RelayCommand>,
    /// Ethereum JSON-RPC endpoint.
    #[arg(long, env = "RELAY_RPC_URL", default_value = "http://127.0.0.1:8547")]
    rpc_url: String,
    /// The task contract.
    #[arg(long, env = "RELAY_CONTRACT", required = true)]
    contract: Option<Address>,
    /// File holding the relay account's private key (hex); the address the contract's owner set
    /// as relay.
    #[arg(long, env = "RELAY_PRIVATE_KEY_FILE", required = true)]
    private_key_file: Option<PathBuf>,
    /// Where the SQLite database and the result files live (unless the two options below move
    /// them to servers).
    #[arg(long, env = "RELAY_DATA_DIR", default_value = "relay-data")]
    data_dir: PathBuf,
    /// PostgreSQL for the metadata instead of SQLite: postgres://user:password@host:port/db.
    /// Several replicas may share one database.
    #[arg(long, env = "RELAY_DATABASE_URL")]
    database_url: Option<String>,
    /// S3-compatible object storage for result files instead of the data directory:
    /// s3://bucket[/prefix], with AWS_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY (and AWS_ALLOW_HTTP=true for a plain-HTTP endpoint).
    #[arg(long, env = "RELAY_BLOB_STORE")]
    blob_store: Option<String>,
    /// Seconds a client may take to send a request's headers (idle connections close after it).
    #[arg(long, env = "RELAY_HEADER_TIMEOUT", default_value_t = 10)]
    header_timeout: u64,
    /// Seconds a request body may pause between two pieces.
    #[arg(long, env = "RELAY_BODY_TIMEOUT", default_value_t = 30)]
    body_timeout: u64,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "RELAY_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Largest result file accepted, in bytes.
    #[arg(long, env = "RELAY_MAX_RESULT_FILE_BYTES", default_value_t = relay::api::DEFAULT_MAX_RESULT_FILE_BYTES)]
    max_result_file_bytes: u64,
    /// Seconds the other replicas wait before taking over the on-chain reports of a replica
    /// that stopped.
    #[arg(long, env = "RELAY_REPORTER_LEASE", default_value_t = 10)]
    reporter_lease: u64,
    /// Address and port to serve HTTP on.
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8548")]
    listen: SocketAddr,
    /// Log one JSON object per line (for log collectors) instead of text.
    #[arg(long, env = "RELAY_LOG_JSON")]
    log_json: bool,
    /// The chain id the RPC endpoint must serve (not checked when absent).
    #[arg(long, env = "RELAY_CHAIN_ID")]
    chain_id: Option<u64>,
    /// Log warnings and errors only.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Log debug messages too.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(clap::Subcommand)]
enum RelayCommand {
    /// Prints a shell completion script: `relay completions bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(RelayCommand::Completions { shell }) = args.command {
        clap_complete::generate(
            shell,
            &mut <Args as clap::CommandFactory>::command(),
            "relay",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line with the causes, no backtrace: these are configuration and outage errors.
            protocol::error_report::print(e.as_ref());
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let level = if args.quiet {
        "warn"
    } else if args.verbose {
        "debug"
    } else {
        "info"
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into());
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        // Colours only on a terminal: piped logs stay plain text.
        tracing_subscriber::fmt()
            .with_ansi(std::io::stdout().is_terminal())
            .with_env_filter(filter)
            .init();
    }
    // Both are required by clap whenever no subcommand is given.
    let (Some(key_file), Some(contract_address)) = (&args.private_key_file, args.contract) else {
        anyhow::bail!("--private-key-file and --contract are required");
    };
    let signer = protocol::key_file::read_signer(key_file)?;
    let relay_address = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(&args.rpc_url)
        .await
        .with_context(|| format!("connecting to {}", args.rpc_url))?
        .erased();
    let contract = ITaskContract::new(contract_address, provider);
    let chain_id = relay::startup::check(
        &contract,
        &args.rpc_url,
        relay_address,
        args.chain_id,
        Duration::from_secs(2),
    )
    .await?;
    let config = StoreConfig {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        blob_store: args.blob_store.clone(),
    };
    let store = Arc::new(config.open().await?);
    let options = RelayOptions {
        limits: ServerLimits {
            header_read_timeout: Duration::from_secs(args.header_timeout),
            body_read_timeout: Duration::from_secs(args.body_timeout),
            max_connections: args.max_connections,
        },
        reporter_lease: Duration::from_secs(args.reporter_lease),
        max_result_file_bytes: args.max_result_file_bytes,
        ..RelayOptions::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(
        url = %format!("http://{}", listener.local_addr()?),
        relay = %relay_address,
        contract = %contract_address,
        chain_id,
        metadata = %config.describe_metadata(),
        files = %config.describe_blobs(),
        replica = %options.replica,
        "relay ready"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(listener, store, contract, options, shutdown).await?;
    Ok(())
}
