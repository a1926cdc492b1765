//! Measures `createTask` gas against the number of available nodes, on the devnet with the real
//! contract WASM: the cost the node index is designed to keep logarithmic. Prints one line per
//! node count (the nodes given tasks in earlier rounds stay busy, so a row's count is joined
//! nodes, up to 3 fewer of them available per earlier row). Gas is the devnet's estimate (see the
//! README's devnet section). Run: `cargo run --release -p client --example dispatch_gas [10 100 1000]`.

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::sampling::TaskSecret;

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
    let nodes: Vec<PrivateKeySigner> = (1..=max as u64)
        .map(|i| {
            let mut key = [0u8; 32];
            key[24..].copy_from_slice(&(0x1000_0000 + i).to_be_bytes());
            PrivateKeySigner::from_slice(&key).expect("valid key")
        })
        .collect();
    let addresses: Vec<_> = nodes.iter().map(|n| n.address()).collect();
    let testnet = Testnet::spawn(&addresses).await.expect("devnet");
    let dev = testnet.signers.clone();
    let mut config = TestConfig::with_dev_accounts(&dev, U256::from(1u64));
    config.queue_size_limit = 64;
    let contract = testnet
        .deploy_task_contract(&config)
        .await
        .expect("contract");
    let as_account = |signer: PrivateKeySigner| {
        let testnet = &testnet;
        async move {
            testnet
                .contract_as(&signer, contract)
                .await
                .expect("devnet reachable")
        }
    };
    let creator = as_account(dev[2].clone()).await;

    println!("available nodes | createTask gas (dispatched) | join gas of the last node");
    let mut joined = 0;
    for &count in &counts {
        let mut join_gas = 0;
        while joined < count {
            let node = &nodes[joined];
            let receipt = as_account(node.clone())
                .await
                .join(
                    "NVIDIA GeForce RTX 4090".into(),
                    24,
                    [1, 0, 0],
                    public_key(node).into(),
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
