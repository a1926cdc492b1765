//! `devnet`: the local Stylus chain behind JSON-RPC, and `devnet deploy PATH.wasm`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use tokio::sync::Mutex;

use devnet::accounts::{dev_balance, dev_signers, DEV_MNEMONIC};
use devnet::chain::Chain;

#[derive(Parser)]
#[command(
    version,
    about = "Local Arbitrum-Stylus-like chain: Stylus WASM in wasmtime behind Ethereum JSON-RPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port of the JSON-RPC server.
    #[arg(long, default_value_t = 8547, env = "DEVNET_PORT")]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "DEVNET_HOST")]
    host: String,
    /// Chain id (412346 is Arbitrum's local dev node).
    #[arg(long, default_value_t = 412_346, env = "DEVNET_CHAIN_ID")]
    chain_id: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Deploys and activates a Stylus program's WASM on a running chain; prints its address.
    Deploy {
        wasm: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:8547", env = "RPC_URL")]
        rpc_url: String,
        /// Deployer's private key (hex); the first development account by default.
        #[arg(long, env = "PRIVATE_KEY", hide_env_values = true)]
        private_key: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Deploy {
            wasm,
            rpc_url,
            private_key,
        }) => {
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
            let signer: PrivateKeySigner = match private_key {
                Some(k) => k
                    .trim()
                    .parse()
                    .context("PRIVATE_KEY is not a hex private key")?,
                None => dev_signers()?.remove(0),
            };
            let address = devnet::deploy::deploy_wasm(&rpc_url, signer, &bytes).await?;
            println!("{address}");
            Ok(())
        }
        None => serve(cli).await,
    }
}

async fn serve(cli: Cli) -> Result<()> {
    let signers = dev_signers()?;
    let prefund: Vec<_> = signers
        .iter()
        .map(|s| (s.address(), dev_balance()))
        .collect();
    let chain = Arc::new(Mutex::new(Chain::new(cli.chain_id, &prefund)?));
    let addr: SocketAddr = format!("{}:{}", cli.host, cli.port)
        .parse()
        .with_context(|| format!("bad listen address {}:{}", cli.host, cli.port))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("Development accounts (mnemonic \"{DEV_MNEMONIC}\"), 10000 ETH each:");
    for (i, s) in signers.iter().enumerate() {
        println!(
            "  ({i}) {} key 0x{}",
            s.address(),
            alloy::hex::encode(s.credential().to_bytes())
        );
    }
    println!("Chain id {}", cli.chain_id);
    println!("RPC URL http://{addr}");
    axum::serve(listener, devnet::rpc::router(chain))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving JSON-RPC")
}
