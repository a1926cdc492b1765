//! Measures `createTask` gas against the number of available nodes, on the devnet with the real
//! contract WASM: the cost the node index is designed to keep logarithmic. Prints one line per
//! node count (the nodes given tasks in earlier rounds stay busy, so a row's count is joined
//! nodes, up to 3 fewer of them available per earlier row). Gas is the devnet's estimate (see the
//! README's devnet section). Run: `cargo run --release -p client --example dispatch_gas [10 100 1000]`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::sampling::TaskSecret;
use tokio::sync::Mutex;

fn build_programs() -> (Vec<u8>, Vec<u8>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .args(["-p", "task-contract", "-p", "vrf-verifier"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the programs failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = root.join(target).join("wasm32-unknown-unknown/release");
    (
        std::fs::read(dir.join("task_contract.wasm")).expect("contract wasm"),
        std::fs::read(dir.join("vrf_verifier.wasm")).expect("verifier wasm"),
    )
}

async fn as_account(
    url: &str,
    signer: &PrivateKeySigner,
    contract: Address,
) -> ITaskContractInstance<DynProvider> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer.clone()))
        .connect(url)
        .await
        .expect("devnet reachable")
        .erased();
    ITaskContract::new(contract, provider)
}

#[tokio::main]
async fn main() {
    let mut counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if counts.is_empty() {
        counts = vec![10, 100, 1000];
    }
    counts.sort_unstable();
    let max = *counts.last().expect("a count");
    let (contract_wasm, verifier_wasm) = build_programs();

    // The dev accounts plus one funded account per node.
    let dev = devnet::accounts::dev_signers().expect("dev keys");
    let nodes: Vec<PrivateKeySigner> = (1..=max as u64)
        .map(|i| {
            let mut key = [0u8; 32];
            key[24..].copy_from_slice(&(0x1000_0000 + i).to_be_bytes());
            PrivateKeySigner::from_slice(&key).expect("valid key")
        })
        .collect();
    let prefund: Vec<_> = dev
        .iter()
        .chain(nodes.iter())
        .map(|s| (s.address(), devnet::accounts::dev_balance()))
        .collect();
    let chain = Arc::new(Mutex::new(
        devnet::chain::Chain::new(412_346, &prefund).expect("chain"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, devnet::rpc::router(chain)).await });

    let owner = dev[0].clone();
    let verifier = devnet::deploy::deploy_wasm(&url, owner.clone(), &verifier_wasm)
        .await
        .expect("verifier");
    let contract = devnet::deploy::deploy_wasm(&url, owner.clone(), &contract_wasm)
        .await
        .expect("contract");
    let as_owner = as_account(&url, &owner, contract).await;
    as_owner
        .initialize(
            owner.address(),
            dev[8].address(),
            dev[9].address(),
            verifier,
            U256::from(1u64),
            600,
            24,
            64,
        )
        .send()
        .await
        .expect("initialize")
        .get_receipt()
        .await
        .expect("receipt");
    let creator = as_account(&url, &dev[2], contract).await;

    println!("available nodes | createTask gas (dispatched) | join gas of the last node");
    let mut joined = 0;
    for &count in &counts {
        let mut join_gas = 0;
        while joined < count {
            let node = &nodes[joined];
            let key = node
                .credential()
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()[1..]
                .to_vec();
            let receipt = as_account(&url, node, contract)
                .await
                .join(
                    "NVIDIA GeForce RTX 4090".into(),
                    24,
                    [1, 0, 0],
                    key.into(),
                    vec!["base:m".into()],
                )
                .value(U256::from(1u64))
                .send()
                .await
                .expect("join")
                .get_receipt()
                .await
                .expect("receipt");
            assert!(receipt.status(), "join reverted");
            join_gas = receipt.gas_used;
            joined += 1;
        }
        // Three tasks, each dispatched to one of `count` available nodes (one less each time);
        // report the median.
        let mut gas = Vec::new();
        for _ in 0..3 {
            let t = TaskSecret::random();
            let receipt = creator
                .createTask(
                    0,
                    t.commitment(),
                    t.nonce,
                    vec!["base:m".into()],
                    8,
                    String::new(),
                    0,
                    [1, 0, 0],
                    1,
                )
                .value(U256::from(1000u64))
                .send()
                .await
                .expect("createTask")
                .get_receipt()
                .await
                .expect("receipt");
            assert!(receipt.status(), "createTask reverted");
            gas.push(receipt.gas_used);
        }
        gas.sort_unstable();
        println!("{count:>15} | {:>27} | {join_gas:>25}", gas[1]);
        // The three busy nodes stay busy; the next round joins more on top.
        joined = joined.max(count);
    }
}
