//! Deploying a Stylus program over JSON-RPC, the way cargo-stylus does: a CREATE transaction whose
//! init code returns the prefixed, compressed WASM, then `ArbWasm.activateProgram`. The same flow
//! serves the devnet and Arbitrum Sepolia.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use anyhow::{bail, Context, Result};

use crate::precompiles::{ArbWasm, ARB_WASM};
use crate::program::{compress, init_code};
use crate::stylus_deployer::{StylusDeployer, STYLUS_DEPLOYER};

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
    let activate = ArbWasm::activateProgramCall { program: address };
    let tx = TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_input(activate.abi_encode())
        .with_value(U256::ZERO);
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
    let call = StylusDeployer::deployCall {
        bytecode: init_code(&compress(wasm)).into(),
        initData: constructor.to_vec().into(),
        initValue: U256::ZERO,
        salt: Default::default(),
    };
    let tx = TransactionRequest::default()
        .with_to(STYLUS_DEPLOYER)
        .with_input(call.abi_encode());
    let receipt = confirm(&provider, tx, "deployment").await?;
    receipt
        .logs()
        .iter()
        .find(|l| l.topics().first() == Some(&StylusDeployer::ContractDeployed::SIGNATURE_HASH))
        .and_then(|l| StylusDeployer::ContractDeployed::decode_log_data(l.data()).ok())
        .map(|e| e.deployedContract)
        .context("the deployment emitted no ContractDeployed event")
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
