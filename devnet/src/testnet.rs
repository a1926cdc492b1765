//! A whole chain for tests, benchmarks and examples in one call: the programs' release WASM built as
//! cargo-stylus builds it, a devnet serving JSON-RPC on a free port with the development accounts
//! (and any extra ones) funded, and the task contract deployed, activated and constructed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::{bail, Context, Result};
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::contract_settings::ContractSettings;
use tokio::sync::Mutex;

use crate::accounts::{dev_balance, dev_signers};
use crate::node::chain::Chain;

/// Chain id of the devnet (Arbitrum's local dev node's).
pub const CHAIN_ID: u64 = 412_346;

/// The three programs of a task contract deployment.
#[derive(Clone, Copy, Debug)]
pub struct TaskPrograms {
    pub contract: Address,
    pub extension: Address,
    pub verifier: Address,
}

/// The release WASM of the programs, built as cargo-stylus builds them.
pub struct Programs {
    /// The task contract (its core program).
    pub contract: Vec<u8>,
    /// The task contract's extension program (contract/extension).
    pub extension: Vec<u8>,
    pub verifier: Vec<u8>,
}

/// Builds the programs with a nested cargo in the workspace (honouring `CARGO_TARGET_DIR`). The
/// extension is the task-contract library built with its `extension` feature, so it needs a cargo
/// command of its own (features unify within one).
pub fn build_programs() -> Result<Programs> {
    build_release_wasm(&["task-contract", "vrf-verifier"])?;
    build_release_wasm(&["task-contract-extension"])?;
    Ok(Programs {
        contract: read_release_wasm("task_contract")?,
        extension: read_release_wasm("task_contract_extension")?,
        verifier: read_release_wasm("vrf_verifier")?,
    })
}

/// The cache manager program's release WASM (devnet/programs/cache-manager), built like
/// [`build_programs`].
pub fn build_cache_manager() -> Result<Vec<u8>> {
    build_release_wasm(&["cache-manager"])?;
    read_release_wasm("cache_manager")
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo build --release --target wasm32-unknown-unknown` of `packages`, in one command.
fn build_release_wasm(packages: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(packages.iter().flat_map(|p| ["-p", p]))
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("building the programs ({}) failed", packages.join(" "));
    }
    Ok(())
}

/// The release WASM cargo built for the library `name`.
fn read_release_wasm(name: &str) -> Result<Vec<u8>> {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = root
        .join(target)
        .join("wasm32-unknown-unknown/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
}

/// The smallest Stylus program Nitro accepts (WAT): it returns at once. Tests deploy it where
/// any program will do.
pub const RETURNING_PROGRAM: &str = r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#;

/// A read-only call of `call` at `to` (a precompile or a program), its answer decoded.
pub async fn view<C: SolCall>(
    provider: &impl Provider,
    to: Address,
    call: &C,
) -> Result<C::Return> {
    let out = provider
        .call(
            TransactionRequest::default()
                .with_to(to)
                .with_input(call.abi_encode()),
        )
        .await
        .with_context(|| format!("calling {to}"))?;
    C::abi_decode_returns(&out).with_context(|| format!("decoding the answer of {to}"))
}

/// A running devnet.
pub struct Testnet {
    pub url: String,
    /// The ten development accounts.
    pub signers: Vec<PrivateKeySigner>,
}

impl Testnet {
    /// Serves a fresh chain on a free local port from a tokio task; `extra` accounts are funded
    /// like the development accounts.
    pub async fn spawn(extra: &[Address]) -> Result<Testnet> {
        Testnet::spawn_with_block_time(extra, None).await
    }

    /// Like [`Testnet::spawn`]; with `Some(seconds)` transactions wait in the pool and a block is
    /// sealed every `seconds` (the binary's `--block-time`), so a client sees a sent transaction
    /// before its receipt exists.
    pub async fn spawn_with_block_time(
        extra: &[Address],
        block_time: Option<u64>,
    ) -> Result<Testnet> {
        Testnet::spawn_configured(
            extra,
            block_time,
            crate::node::l1_pricing::DEFAULT_PRICE_PER_UNIT,
        )
        .await
    }

    /// Like [`Testnet::spawn_with_block_time`], with the L1 price per calldata unit (0: no L1
    /// poster gas, for measuring L2 gas alone).
    pub async fn spawn_configured(
        extra: &[Address],
        block_time: Option<u64>,
        l1_price_per_unit: u128,
    ) -> Result<Testnet> {
        let signers = dev_signers()?;
        let prefund: Vec<_> = signers
            .iter()
            .map(|s| s.address())
            .chain(extra.iter().copied())
            .map(|a| (a, dev_balance()))
            .collect();
        let mut chain = Chain::new(CHAIN_ID, &prefund)?;
        chain.set_block_time(block_time);
        chain.set_l1_price_per_unit(l1_price_per_unit);
        let chain = Arc::new(Mutex::new(chain));
        if let Some(seconds) = block_time {
            anyhow::ensure!(seconds > 0, "a block time must be at least 1 second");
            let chain = chain.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    chain.lock().await.mine_pending();
                }
            });
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, crate::node::rpc::router(chain)).await });
        Ok(Testnet { url, signers })
    }

    /// The task contract as seen by `signer`'s wallet.
    pub async fn contract_as(
        &self,
        signer: &PrivateKeySigner,
        contract: Address,
    ) -> Result<ITaskContractInstance<DynProvider>> {
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer.clone()))
            .connect(&self.url)
            .await
            .with_context(|| format!("connecting to {}", self.url))?
            .erased();
        Ok(ITaskContract::new(contract, provider))
    }

    /// Deploys the programs with the first development account as owner: the verifier and the
    /// extension by CREATE + activation, the task contract through the StylusDeployer, which
    /// deploys, activates and runs its constructor with `settings` in one transaction. The task
    /// contract's address.
    pub async fn deploy_task_contract(&self, config: &TestConfig) -> Result<Address> {
        Ok(self.deploy_task_programs(config).await?.contract)
    }

    /// Like [`Testnet::deploy_task_contract`], with the addresses of all three programs.
    pub async fn deploy_task_programs(&self, config: &TestConfig) -> Result<TaskPrograms> {
        let programs = build_programs()?;
        let owner = self.signers[0].clone();
        let verifier =
            crate::deploy::deploy_wasm(&self.url, owner.clone(), &programs.verifier).await?;
        let extension =
            crate::deploy::deploy_wasm(&self.url, owner.clone(), &programs.extension).await?;
        let settings = config.settings(verifier);
        let constructor = settings.constructor_calldata(extension, owner.address());
        let contract = crate::deploy::deploy_with_constructor(
            &self.url,
            owner,
            &programs.contract,
            &constructor,
        )
        .await?;
        Ok(TaskPrograms {
            contract,
            extension,
            verifier,
        })
    }

    /// Caches programs through ArbWasmCache as the chain owner (development account 0), so that
    /// their calls pay the cached init price.
    pub async fn cache_programs(&self, programs: &[Address]) -> Result<()> {
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.signers[0].clone()))
            .connect(&self.url)
            .await
            .with_context(|| format!("connecting to {}", self.url))?;
        for &program in programs {
            let input = crate::precompiles::ArbWasmCache::cacheProgramCall { addr: program };
            let receipt = provider
                .send_transaction(
                    alloy::rpc::types::TransactionRequest::default()
                        .with_to(crate::precompiles::ARB_WASM_CACHE)
                        .with_input(alloy::sol_types::SolCall::abi_encode(&input)),
                )
                .await
                .context("sending cacheProgram")?
                .get_receipt()
                .await
                .context("receipt of cacheProgram")?;
            if !receipt.status() {
                anyhow::bail!("caching {program} failed");
            }
        }
        Ok(())
    }

    /// Deploys and activates `wasm` from development account 0; the program's address.
    pub async fn deploy(&self, wasm: &[u8]) -> Result<Address> {
        crate::deploy::deploy_wasm(&self.url, self.signers[0].clone(), wasm).await
    }

    /// A provider of this devnet that signs with `signer`.
    pub fn wallet(&self, signer: &PrivateKeySigner) -> Result<DynProvider> {
        let url = self.url.parse().context("the devnet's URL")?;
        Ok(ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer.clone()))
            .connect_http(url)
            .erased())
    }

    /// A read-only provider of this devnet.
    pub async fn provider(&self) -> Result<DynProvider> {
        Ok(ProviderBuilder::new()
            .connect(&self.url)
            .await
            .with_context(|| format!("connecting to {}", self.url))?
            .erased())
    }
}

/// The GPU the helpers below join with.
pub const TEST_GPU: &str = "NVIDIA GeForce RTX 4090";

impl Testnet {
    /// `node` joins the task contract with [`TEST_GPU`] (24 GB, version 1.0.0), `models` and
    /// `stake`; the receipt, which may record a failure.
    pub async fn join(
        &self,
        node: &PrivateKeySigner,
        contract: Address,
        models: &[&str],
        stake: U256,
    ) -> Result<TransactionReceipt> {
        let receipt = self
            .contract_as(node, contract)
            .await?
            .join(
                TEST_GPU.into(),
                24,
                [1, 0, 0],
                public_key(node).into(),
                models.iter().map(|m| m.to_string()).collect(),
            )
            .value(stake)
            .send()
            .await
            .context("sending join")?
            .get_receipt()
            .await
            .context("waiting for the join receipt")?;
        Ok(receipt)
    }
}

/// Signs `tx` as `signer` for the devnet (chain id [`CHAIN_ID`], 50,000 gas: a transfer's 21,000
/// plus room for the L1 poster gas, the base fee and no
/// tip unless `tx` sets them; the nonce must be set): the EIP-2718 bytes for
/// `eth_sendRawTransaction`.
/// A mined transaction's `gasUsedForL1`, read from the raw receipt (alloy's receipt type drops
/// Arbitrum's fields).
pub async fn gas_used_for_l1(
    provider: &impl Provider,
    hash: alloy::primitives::B256,
) -> Result<u64> {
    let raw: serde_json::Value = provider
        .raw_request("eth_getTransactionReceipt".into(), (hash,))
        .await
        .context("reading a raw receipt")?;
    raw.get("gasUsedForL1")
        .and_then(|v| v.as_str())
        .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
        .context("a receipt without gasUsedForL1")
}

pub async fn sign_raw(signer: &PrivateKeySigner, mut tx: TransactionRequest) -> Result<Vec<u8>> {
    tx.chain_id.get_or_insert(CHAIN_ID);
    tx.gas.get_or_insert(50_000);
    tx.max_fee_per_gas
        .get_or_insert(crate::node::chain::BASE_FEE as u128);
    tx.max_priority_fee_per_gas.get_or_insert(0);
    let envelope = tx
        .build(&EthereumWallet::from(signer.clone()))
        .await
        .context("signing")?;
    Ok(envelope.encoded_2718())
}

/// The constructor's settings other than the owner, the verifier and the extension.
#[derive(Debug, Clone)]
pub struct TestConfig {
    pub relay: Address,
    pub treasury: Address,
    pub min_stake: U256,
    pub queue_timeout: u64,
    pub upload_timeout: u64,
    pub execution_timeout: u64,
    pub validation_timeout: u64,
    pub distance_threshold: u8,
    pub sampling_rate: u32,
    pub queue_size_limit: u16,
    pub max_gpu_classes: u32,
}

impl TestConfig {
    /// Development accounts 8 and 9 as relay and treasury, the protocol's defaults otherwise.
    pub fn with_dev_accounts(signers: &[PrivateKeySigner], min_stake: U256) -> TestConfig {
        let d = ContractSettings::with_defaults(
            signers[8].address(),
            signers[9].address(),
            Address::ZERO,
            min_stake,
        );
        TestConfig {
            relay: d.relay,
            treasury: d.treasury,
            min_stake,
            queue_timeout: d.queue_timeout,
            upload_timeout: d.upload_timeout,
            execution_timeout: d.execution_timeout,
            validation_timeout: d.validation_timeout,
            distance_threshold: d.distance_threshold,
            sampling_rate: d.sampling_rate,
            queue_size_limit: 16,
            max_gpu_classes: d.max_gpu_classes,
        }
    }

    /// The contract settings with `verifier`.
    pub fn settings(&self, verifier: Address) -> ContractSettings {
        ContractSettings {
            relay: self.relay,
            treasury: self.treasury,
            vrf_verifier: verifier,
            min_stake: self.min_stake,
            queue_timeout: self.queue_timeout,
            upload_timeout: self.upload_timeout,
            execution_timeout: self.execution_timeout,
            validation_timeout: self.validation_timeout,
            distance_threshold: self.distance_threshold,
            sampling_rate: self.sampling_rate,
            queue_size_limit: self.queue_size_limit,
            max_gpu_classes: self.max_gpu_classes,
        }
    }
}

/// A signer's public key as `join` takes it: 64 bytes X || Y.
pub use protocol::vrf::signer_public_key as public_key;
