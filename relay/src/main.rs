//! `relay`: the relay service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use anyhow::Context;
use clap::Parser;
use protocol::bindings::ITaskContract;
use relay::service::serve;
use relay::store::Store;

#[derive(Parser)]
#[command(
    name = "relay",
    version,
    about = "Relay for task parameters and results"
)]
struct Args {
    /// Ethereum JSON-RPC endpoint.
    #[arg(long, env = "RELAY_RPC_URL", default_value = "http://127.0.0.1:8547")]
    rpc_url: String,
    /// The task contract.
    #[arg(long, env = "RELAY_CONTRACT")]
    contract: Address,
    /// File holding the relay account's private key (hex); the address the contract's owner set
    /// as relay.
    #[arg(long, env = "RELAY_PRIVATE_KEY_FILE")]
    private_key_file: PathBuf,
    /// Where the SQLite database and the result files live.
    #[arg(long, env = "RELAY_DATA_DIR", default_value = "relay-data")]
    data_dir: PathBuf,
    #[arg(long, env = "RELAY_LISTEN", default_value = "127.0.0.1:8548")]
    listen: SocketAddr,
    /// Log one JSON object per line (for log collectors) instead of text.
    #[arg(long, env = "RELAY_LOG_JSON")]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let signer = protocol::key_file::read_signer(&args.private_key_file)?;
    let relay_address = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(&args.rpc_url)
        .await
        .with_context(|| format!("connecting to {}", args.rpc_url))?
        .erased();
    let store = Arc::new(
        Store::open(&args.data_dir)
            .with_context(|| format!("opening the store in {}", args.data_dir.display()))?,
    );
    let contract = ITaskContract::new(args.contract, provider);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(
        url = %format!("http://{}", listener.local_addr()?),
        relay = %relay_address,
        contract = %args.contract,
        "relay ready"
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(listener, store, contract, Duration::from_secs(1), shutdown).await?;
    Ok(())
}
