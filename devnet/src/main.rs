//! `devnet`: the local Stylus chain behind JSON-RPC, and `devnet deploy PATH.wasm`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
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
    /// Port of the JSON-RPC server (0: any free port, printed at start).
    #[arg(long, default_value_t = 8547, env = "DEVNET_PORT")]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "DEVNET_HOST")]
    host: String,
    /// Chain id (412346 is Arbitrum's local dev node).
    #[arg(long, default_value_t = 412_346, env = "DEVNET_CHAIN_ID")]
    chain_id: u64,
    /// Seal a block every this many seconds with the transactions received meanwhile (default:
    /// each transaction is mined at once in its own block).
    #[arg(long, env = "DEVNET_BLOCK_TIME")]
    block_time: Option<u64>,
    /// Keep the chain in this file: loaded at start when it exists, saved on shutdown (Ctrl-C or
    /// SIGTERM).
    #[arg(long, env = "DEVNET_STATE")]
    state: Option<PathBuf>,
    /// L1 price per calldata unit that the L1 poster gas of every transaction is computed from
    /// (ArbGasInfo's L1 base fee estimate): wei, or with a `gwei` suffix; 0 charges no L1 gas.
    #[arg(long, env = "DEVNET_L1_PRICE_PER_UNIT", default_value = "0.1gwei", value_parser = parse_gwei)]
    l1_price_per_unit: u128,
    /// Log warnings and errors only.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        display_order = 100
    )]
    quiet: bool,
    /// Log every JSON-RPC request (debug level).
    #[arg(short, long, global = true, display_order = 101)]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Deploys and activates a Stylus program's WASM on a running chain; prints its address.
    Deploy {
        /// The program: the .wasm cargo builds for wasm32-unknown-unknown.
        wasm: PathBuf,
        /// JSON-RPC endpoint of the chain.
        #[arg(long, default_value = "http://127.0.0.1:8547", env = "DEVNET_RPC_URL")]
        rpc_url: String,
        /// File holding the deployer's private key (hex); the first development account when
        /// absent.
        #[arg(long, env = "DEVNET_PRIVATE_KEY_FILE")]
        private_key_file: Option<PathBuf>,
        /// Print {"address": …} (or {"error": …}) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Enables the program cache on a running chain, as a chain owner does on Arbitrum: deploys
    /// the cache manager program (devnet/programs/cache-manager) and adds it with
    /// ArbOwner.addWasmCacheManager, after which `cargo stylus cache bid|status` work. Prints its
    /// address.
    CacheManager {
        /// The cache manager's .wasm: target/wasm32-unknown-unknown/release/cache_manager.wasm
        /// after `cargo build --release --target wasm32-unknown-unknown -p cache-manager`.
        wasm: PathBuf,
        /// The cache's size in bytes of compiled programs.
        #[arg(long, default_value_t = devnet::deploy::DEFAULT_CACHE_SIZE)]
        cache_size: u64,
        /// Wei a second by which older bids lose to newer ones.
        #[arg(long, default_value_t = devnet::deploy::DEFAULT_CACHE_DECAY)]
        decay: u64,
        /// JSON-RPC endpoint of the chain.
        #[arg(long, default_value = "http://127.0.0.1:8547", env = "DEVNET_RPC_URL")]
        rpc_url: String,
        /// File holding a chain owner's private key (hex); the first development account (the
        /// devnet's chain owner) when absent.
        #[arg(long, env = "DEVNET_PRIVATE_KEY_FILE")]
        private_key_file: Option<PathBuf>,
    },
    /// Prints a shell completion script: `devnet completions bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.quiet {
        "warn"
    } else if cli.verbose {
        "debug"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        // Colours only on a terminal: piped logs stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let json = matches!(cli.command, Some(Command::Deploy { json: true, .. }));
    if let Some(Command::Completions { shell }) = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "devnet", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let result = tokio::runtime::Runtime::new()
        .context("starting the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = protocol::error_report::one_line(e.as_ref());
            if json {
                println!("{}", serde_json::json!({ "error": message }));
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// `123` is wei; `0.1gwei` is gwei.
fn parse_gwei(text: &str) -> Result<u128, String> {
    let t = text.trim();
    let parsed = match t.strip_suffix("gwei") {
        Some(g) => alloy::primitives::utils::parse_units(g.trim(), "gwei")
            .ok()
            .and_then(|v| u128::try_from(v.get_absolute()).ok()),
        None => t.parse().ok(),
    };
    parsed.ok_or_else(|| format!("{text:?} is neither wei (an integer) nor gwei (e.g. 0.1gwei)"))
}

/// The program at `path`, refused with a reason unless it is a WebAssembly module.
fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if !bytes.starts_with(b"\0asm") {
        anyhow::bail!(
            "{} is not a WebAssembly module (no \\0asm header): give the .wasm that cargo builds \
             for wasm32-unknown-unknown, e.g. target/wasm32-unknown-unknown/release/NAME.wasm",
            path.display()
        );
    }
    Ok(bytes)
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Deploy {
            wasm,
            rpc_url,
            private_key_file,
            json,
        }) => {
            let bytes = read_wasm(&wasm)?;
            let signer: PrivateKeySigner = match private_key_file {
                Some(file) => protocol::key_file::read_signer(&file)?,
                None => dev_signers()?.remove(0),
            };
            let address = devnet::deploy::deploy_wasm(&rpc_url, signer, &bytes)
                .await
                .with_context(|| format!("deploying {} at {rpc_url}", wasm.display()))?;
            if json {
                println!("{}", serde_json::json!({ "address": address }));
            } else {
                println!("{address}");
            }
            Ok(())
        }
        Some(Command::CacheManager {
            wasm,
            cache_size,
            decay,
            rpc_url,
            private_key_file,
        }) => {
            let bytes = read_wasm(&wasm)?;
            let signer: PrivateKeySigner = match private_key_file {
                Some(file) => protocol::key_file::read_signer(&file)?,
                None => dev_signers()?.remove(0),
            };
            let address =
                devnet::deploy::deploy_cache_manager(&rpc_url, signer, &bytes, cache_size, decay)
                    .await
                    .with_context(|| format!("enabling the program cache at {rpc_url}"))?;
            println!("{address}");
            Ok(())
        }
        Some(Command::Completions { .. }) => Ok(()),
        None => serve(cli).await,
    }
}

/// Ctrl-C or SIGTERM.
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
    let _ = ctrl_c.await;
}

async fn serve(cli: Cli) -> Result<()> {
    let signers = dev_signers()?;
    let chain = match &cli.state {
        Some(path) if path.exists() => {
            let chain = Chain::load(path)?;
            if chain.chain_id != cli.chain_id {
                anyhow::bail!(
                    "{} holds chain {}, not --chain-id {}",
                    path.display(),
                    chain.chain_id,
                    cli.chain_id
                );
            }
            println!("Loaded {} (block {})", path.display(), chain.block_number());
            chain
        }
        _ => {
            let prefund: Vec<_> = signers
                .iter()
                .map(|s| (s.address(), dev_balance()))
                .collect();
            Chain::new(cli.chain_id, &prefund)?
        }
    };
    let mut chain = chain;
    chain.set_l1_price_per_unit(cli.l1_price_per_unit);
    if let Some(seconds) = cli.block_time {
        anyhow::ensure!(seconds > 0, "--block-time must be at least 1 second");
        chain.set_block_time(Some(seconds));
    }
    let chain = Arc::new(Mutex::new(chain));
    if let Some(seconds) = cli.block_time {
        let chain = chain.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds));
            tick.tick().await;
            loop {
                tick.tick().await;
                chain.lock().await.mine_pending();
            }
        });
        println!("A block every {seconds} s");
    }
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
    println!(
        "L1 price per calldata unit {} gwei: every transaction pays 16 units per byte of its \
         brotli-compressed form as L1 poster gas at the base fee (--l1-price-per-unit)",
        alloy::primitives::utils::format_units(cli.l1_price_per_unit, "gwei")
            .unwrap_or_default()
            .trim_end_matches('0')
            .trim_end_matches('.')
    );
    println!(
        "Gas fees go to the network fee account {} (L2 part) and the L1 pricer's pool {} (poster \
         part); account (0) owns the chain",
        devnet::precompiles::NETWORK_FEE_ACCOUNT,
        devnet::l1_pricing::L1_PRICER_FUNDS_POOL
    );
    // The bound address, so that `--port 0` (any free port) tells where it listens.
    let bound = listener.local_addr().context("reading the bound address")?;
    println!("RPC URL http://{bound}");
    axum::serve(listener, devnet::rpc::router(chain.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving JSON-RPC")?;
    if let Some(path) = &cli.state {
        let chain = chain.lock().await;
        chain.save(path)?;
        println!("Saved {} (block {})", path.display(), chain.block_number());
    }
    Ok(())
}
