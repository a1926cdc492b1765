//! Deploying a Stylus program over JSON-RPC, the way cargo-stylus does: a CREATE transaction whose
//! init code returns the prefixed, compressed WASM, then `ArbWasm.activateProgram`. The same flow
//! serves the devnet and Arbitrum Sepolia.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolError, SolEvent, SolValue};
use anyhow::{bail, Context, Result};

use crate::precompiles::stylus_deployer::{StylusDeployer, STYLUS_DEPLOYER};
use crate::precompiles::{ArbOwner, ArbWasm, ARB_OWNER, ARB_WASM};
use crate::stylus::program::{compress, init_code};

/// Deploys and activates `wasm`; the program's address.
pub async fn deploy_wasm(rpc_url: &str, signer: PrivateKeySigner, wasm: &[u8]) -> Result<Address> {
    let code = compress(wasm);
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?;
    let tx = TransactionRequest::default().with_deploy_code(init_code(&code));
    let receipt = confirm(&provider, tx, "deployment").await?;
    let address = receipt
        .contract_address
        .context("deployment receipt has no contract address")?;
    // Activation is per code, as on Nitro: a copy of activated code runs as it is (cargo-stylus
    // skips activation the same way).
    let version = TransactionRequest::default().with_to(ARB_WASM).with_input(
        ArbWasm::codehashVersionCall {
            codehash: keccak256(&code),
        }
        .abi_encode(),
    );
    if provider.call(version).await.is_ok() {
        return Ok(address);
    }
    let fee = activation_fee(&provider, address, None).await?;
    let activate = ArbWasm::activateProgramCall { program: address };
    let tx = TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_input(activate.abi_encode())
        .with_value(fee);
    confirm(&provider, tx, "activation")
        .await
        .with_context(|| format!("activating {address}"))?;
    Ok(address)
}

/// Deploys `wasm` through the StylusDeployer with `constructor` as its init data (deploy,
/// activate and construct in one transaction, as `cargo stylus deploy` does for a program with a
/// constructor); the program's address, from the deployer's `ContractDeployed` event.
pub async fn deploy_with_constructor(
    rpc_url: &str,
    signer: PrivateKeySigner,
    wasm: &[u8],
    constructor: &[u8],
) -> Result<Address> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?;
    let code = compress(wasm);
    // The fee of activating this code, asked of a scratch address that holds it (a state
    // override, as `cargo stylus check` does), then sent along for the deployer to pass on.
    let scratch = Address::from_word(keccak256(&code));
    let overrides =
        StateOverride::from_iter([(scratch, AccountOverride::default().with_code(code.clone()))]);
    let fee = activation_fee(&provider, scratch, Some(overrides)).await?;
    let call = StylusDeployer::deployCall {
        bytecode: init_code(&code).into(),
        initData: constructor.to_vec().into(),
        initValue: U256::ZERO,
        salt: Default::default(),
    };
    let tx = TransactionRequest::default()
        .with_to(STYLUS_DEPLOYER)
        .with_input(call.abi_encode())
        .with_value(fee);
    let receipt = confirm(&provider, tx, "deployment").await?;
    receipt
        .logs()
        .iter()
        .find(|l| l.topics().first() == Some(&StylusDeployer::ContractDeployed::SIGNATURE_HASH))
        .and_then(|l| StylusDeployer::ContractDeployed::decode_log_data(l.data()).ok())
        .map(|e| e.deployedContract)
        .context("the deployment emitted no ContractDeployed event")
}

/// The cache manager's size and decay when nobody says otherwise: 64 MiB, room for about a
/// hundred programs (Nitro counts each as its asm estimate, 512,000 bytes and more), and no
/// decay.
pub const DEFAULT_CACHE_SIZE: u64 = 64 * 1024 * 1024;
pub const DEFAULT_CACHE_DECAY: u64 = 0;

/// Enables the program cache as a chain owner does on Arbitrum: deploys the cache manager's
/// `wasm` (devnet/programs/cache-manager) with its constructor (`cache_size` bytes, `decay` wei a
/// second), then adds it with `ArbOwner.addWasmCacheManager`. `owner` must be a chain owner
/// (development account 0). The manager's address.
pub async fn deploy_cache_manager(
    rpc_url: &str,
    owner: PrivateKeySigner,
    wasm: &[u8],
    cache_size: u64,
    decay: u64,
) -> Result<Address> {
    let mut constructor = protocol::contract_settings::constructor_selector().to_vec();
    constructor.extend((cache_size, decay).abi_encode_params());
    let manager = deploy_with_constructor(rpc_url, owner.clone(), wasm, &constructor).await?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(owner))
        .connect(rpc_url)
        .await
        .with_context(|| format!("connecting to {rpc_url}"))?;
    let add = ArbOwner::addWasmCacheManagerCall { manager };
    let tx = TransactionRequest::default()
        .with_to(ARB_OWNER)
        .with_input(add.abi_encode());
    confirm(&provider, tx, "addWasmCacheManager")
        .await
        .with_context(|| {
            format!("adding {manager} as a cache manager (is the key a chain owner's?)")
        })?;
    Ok(manager)
}

/// cargo-stylus's default margin on the data fee (`--data-fee-bump-percent`): the price can
/// rise between the estimate and the activation; the excess is refunded.
pub const DATA_FEE_BUMP_PERCENT: u64 = 20;

/// The data fee activating `program`'s code costs now, with the bump: asked by an
/// `activateProgram` call sending nothing, whose `ProgramInsufficientValue(have, want)` names
/// it (0 when the code is already active).
pub async fn activation_fee(
    provider: &impl Provider,
    program: Address,
    overrides: Option<StateOverride>,
) -> Result<U256> {
    let tx = TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_input(ArbWasm::activateProgramCall { program }.abi_encode());
    let fee = match provider.call(tx).overrides_opt(overrides).await {
        Ok(out) => {
            ArbWasm::activateProgramCall::abi_decode_returns(&out)
                .context("decoding activateProgram's answer")?
                .dataFee
        }
        Err(e) => {
            let data = e
                .as_error_resp()
                .and_then(|r| r.as_revert_data())
                .with_context(|| format!("estimating the activation data fee: {e}"))?;
            if let Ok(short) = ArbWasm::ProgramInsufficientValue::abi_decode(&data) {
                short.want
            } else if ArbWasm::ProgramUpToDate::abi_decode(&data).is_ok() {
                U256::ZERO
            } else {
                bail!(
                    "activation refused: {}",
                    protocol::contract_error::describe_revert_data(&data)
                );
            }
        }
    };
    Ok(fee + fee * U256::from(DATA_FEE_BUMP_PERCENT) / U256::from(100))
}

/// Sends `tx` and waits for a successful receipt.
async fn confirm(
    provider: &impl Provider,
    tx: TransactionRequest,
    what: &str,
) -> Result<TransactionReceipt> {
    let receipt = provider
        .send_transaction(tx)
        .await
        .with_context(|| format!("sending the {what} transaction"))?
        .get_receipt()
        .await
        .with_context(|| format!("waiting for the {what} receipt"))?;
    if !receipt.status() {
        bail!("{what} transaction {} failed", receipt.transaction_hash);
    }
    Ok(receipt)
}
