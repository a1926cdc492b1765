//! Devnet throughput: signed transactions sent one after another over JSON-RPC (each is executed
//! and mined in its own block before the answer), for plain transfers and for calls that run the
//! contract's WASM (a node pausing and resuming).

use std::time::Instant;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::{bail, Context, Result};
use devnet::testnet::{sign_raw, TestConfig, Testnet};
use protocol::bindings::ITaskContract;

#[derive(Debug, Clone)]
pub struct Throughput {
    pub kind: &'static str,
    pub transactions: usize,
    pub per_second: f64,
}

/// Signs `inputs` as consecutive transactions of `signer` to `to`.
async fn sign_all(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: Address,
    value: U256,
    gas: u64,
    inputs: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>> {
    let mut raw = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_value(value)
            .with_input(input.clone())
            .with_nonce(nonce + i as u64)
            .with_gas_limit(gas);
        raw.push(sign_raw(signer, tx).await?);
    }
    Ok(raw)
}

/// Sends pre-signed transactions one after another; transactions per second, after checking that
/// every one succeeded.
async fn send_all(url: &str, kind: &'static str, raw: Vec<Vec<u8>>) -> Result<Throughput> {
    let provider = ProviderBuilder::new().connect(url).await?;
    let n = raw.len();
    let started = Instant::now();
    let mut hashes = Vec::with_capacity(n);
    for tx in &raw {
        hashes.push(*provider.send_raw_transaction(tx).await?.tx_hash());
    }
    let secs = started.elapsed().as_secs_f64();
    for h in hashes {
        let receipt = provider
            .get_transaction_receipt(h)
            .await?
            .with_context(|| format!("no receipt for {h}"))?;
        if !receipt.status() {
            bail!("{kind}: transaction {h} failed");
        }
    }
    Ok(Throughput {
        kind,
        transactions: n,
        per_second: n as f64 / secs,
    })
}

pub async fn measure(transactions: usize) -> Result<Vec<Throughput>> {
    let testnet = Testnet::spawn(&[]).await?;
    let dev = testnet.signers.clone();
    let contract = testnet
        .deploy_task_contract(&TestConfig::with_dev_accounts(&dev, U256::from(1u64)))
        .await?;
    let provider = ProviderBuilder::new().connect(&testnet.url).await?;

    let sender = &dev[5];
    let nonce = provider.get_transaction_count(sender.address()).await?;
    let transfers = vec![Vec::new(); transactions];
    let raw = sign_all(
        sender,
        nonce,
        dev[6].address(),
        U256::from(1u64),
        // A transfer's 21,000 plus room for the L1 poster gas.
        50_000,
        &transfers,
    )
    .await?;
    let mut out = vec![send_all(&testnet.url, "ETH transfers", raw).await?];

    let node = &dev[3];
    if !testnet
        .join(node, contract, &[], U256::from(1u64))
        .await?
        .status()
    {
        bail!("the node's join reverted");
    }
    let calls: Vec<Vec<u8>> = (0..transactions)
        .map(|i| {
            if i % 2 == 0 {
                ITaskContract::pauseCall {}.abi_encode()
            } else {
                ITaskContract::resumeCall {}.abi_encode()
            }
        })
        .collect();
    let nonce = provider.get_transaction_count(node.address()).await?;
    let raw = sign_all(node, nonce, contract, U256::ZERO, 1_000_000, &calls).await?;
    out.push(send_all(&testnet.url, "contract calls (pause/resume)", raw).await?);
    Ok(out)
}
