//! The whole network as the main command runs it, with tiny models: the devnet with the real
//! contract WASM, the relay (SQLite + files, or PostgreSQL + S3 with `RELAY_TEST_BACKEND=servers`), four node-worker processes (one dishonest) and the
//! application client. Checks every task's final state, every balance to the wei against the
//! contract's events and the gas of every transaction on the chain, the slashed stake at the
//! treasury, the contract emptied, and the results on the relay hashing to the scores on chain.

use std::collections::HashMap;
use std::path::PathBuf;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use client::relay_client::RelayClient;
use local_network::network::{run, Args};
use protocol::bindings::ITaskContract;
use protocol::image_score::score_pngs;
use protocol::task_status::TaskStatus;
use protocol::text_result::text_score;

fn worker_binary() -> PathBuf {
    // target/<profile>/deps/<test> -> target/<profile>/node-worker
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join("node-worker");
    assert!(
        path.is_file(),
        "{} is missing: build it first (cargo test --workspace builds it)",
        path.display()
    );
    path
}

/// The relay's backend: SQLite + files, or with `RELAY_TEST_BACKEND=servers` a fresh database on
/// the PostgreSQL server and a fresh prefix in the S3 bucket of `scripts/relay-servers.sh`.
async fn relay_backend() -> (Option<String>, Option<String>) {
    if std::env::var("RELAY_TEST_BACKEND").as_deref() != Ok("servers") {
        return (None, None);
    }
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("RELAY_TEST_BACKEND=servers needs {name} (scripts/relay-servers.sh)")
        })
    };
    let admin = var("RELAY_TEST_DATABASE_URL");
    let name = format!(
        "network_{}",
        hex::encode(&alloy::primitives::B256::random()[..8])
    );
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    (
        Some(format!("{base}/{name}")),
        Some(format!("{}/{name}", var("RELAY_TEST_BLOB_STORE"))),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_network_settles_to_the_wei_and_slashes_the_cheater() {
    let (relay_database_url, relay_blob_store) = relay_backend().await;
    let logs = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let summary = run(Args {
        nodes: 3,
        text_tasks: 2,
        image_tasks: 1,
        cheat: true,
        logs: Some(logs.path().to_path_buf()),
        model_cache: cache.path().to_path_buf(),
        max_extra_tasks: 80,
        tiny_text_model: true,
        worker: Some(worker_binary()),
        relay_database_url,
        relay_blob_store,
    })
    .await
    .unwrap();
    let provider = ProviderBuilder::new()
        .connect(&summary.testnet.url)
        .await
        .unwrap()
        .erased();
    let contract = ITaskContract::new(summary.contract, provider.clone());

    // Every task ended, and the dishonest node was caught by a group.
    assert!(summary.groups >= 1, "a validation group ran");
    let cheater = summary
        .accounts
        .iter()
        .find(|a| a.role.contains("dishonest"))
        .unwrap()
        .address;
    let treasury = summary
        .accounts
        .iter()
        .find(|a| a.name == "treasury")
        .unwrap()
        .address;
    for task in &summary.tasks {
        let status = task.status.unwrap();
        assert!(status.is_final(), "{} ended {status}", task.label);
        if task.node == cheater {
            assert_eq!(status, TaskStatus::EndInvalidated, "{}", task.label);
        } else {
            assert!(
                matches!(
                    status,
                    TaskStatus::EndSuccess
                        | TaskStatus::EndGroupSuccess
                        | TaskStatus::EndGroupRefund
                ),
                "{} ended {status}",
                task.label
            );
        }
    }
    assert!(summary
        .tasks
        .iter()
        .any(|t| t.status == Some(TaskStatus::EndInvalidated)));

    // The dishonest node's worker told its operator through the notice hook (the command the
    // local network configures writes one JSON line per notice).
    let cheater_name = &summary
        .accounts
        .iter()
        .find(|a| a.role.contains("dishonest"))
        .unwrap()
        .name;
    let notices = std::fs::read_to_string(summary.logs.join(cheater_name).join("notices.jsonl"))
        .expect("the dishonest node's notices");
    let slashed: Vec<serde_json::Value> = notices
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|n| n["kind"] == "slashed")
        .collect();
    assert_eq!(slashed.len(), 1, "{notices}");
    assert_eq!(slashed[0]["node"], cheater.to_string().to_lowercase());
    assert!(slashed[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("this node was SLASHED"));

    // The results on the relay hash to the scores on chain.
    let app = summary.accounts[0].address;
    let app_key = devnet::accounts::dev_signers().unwrap()[2].clone();
    assert_eq!(app_key.address(), app);
    let relay = RelayClient::new(&summary.relay_url, app_key);
    for task in &summary.tasks {
        if !matches!(
            task.status,
            Some(TaskStatus::EndSuccess | TaskStatus::EndGroupSuccess)
        ) {
            continue;
        }
        let info = contract.getTask(task.commitment).call().await.unwrap();
        let files = relay.download_result(task.commitment).await.unwrap();
        let recomputed = if info.taskType == 1 {
            text_score(&files[0]).to_vec()
        } else {
            score_pngs(&files).unwrap()
        };
        assert_eq!(recomputed, info.score.to_vec(), "{}", task.label);
    }

    // Money, from the contract's events.
    let logs = provider
        .get_logs(&Filter::new().address(summary.contract).from_block(0))
        .await
        .unwrap();
    let mut received: HashMap<Address, U256> = HashMap::new();
    let mut staked: HashMap<Address, U256> = HashMap::new();
    for log in &logs {
        if let Ok(e) = log.log_decode::<ITaskContract::PaymentSent>() {
            *received.entry(e.inner.to).or_default() += e.inner.amount;
        } else if let Ok(e) = log.log_decode::<ITaskContract::PaymentCredited>() {
            *received.entry(e.inner.to).or_default() += e.inner.amount;
        } else if let Ok(e) = log.log_decode::<ITaskContract::NodeJoined>() {
            *staked.entry(e.inner.nodeAddress).or_default() += e.inner.stake;
        }
    }
    // Gas, from every transaction on the chain.
    let mut gas: HashMap<Address, U256> = HashMap::new();
    let latest = provider.get_block_number().await.unwrap();
    for n in 0..=latest {
        let block = provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.txns() {
            let receipt = provider
                .get_transaction_receipt(*tx.inner.hash())
                .await
                .unwrap()
                .unwrap();
            *gas.entry(receipt.from).or_default() +=
                U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
        }
    }
    let stake = staked[&cheater];
    for account in &summary.accounts {
        let a = account.address;
        let get = |m: &HashMap<Address, U256>| m.get(&a).copied().unwrap_or_default();
        let after = provider.get_balance(a).await.unwrap();
        assert_eq!(
            after + account.fees + get(&staked) + get(&gas),
            account.balance_before + get(&received),
            "{} to the wei",
            account.name
        );
    }
    // Everything the application paid in went to nodes or back to it.
    let app_fees = summary.accounts[0].fees;
    let fees_sum: U256 = summary.tasks.iter().map(|t| t.fee).sum();
    assert!(app_fees >= fees_sum);
    assert_eq!(
        received.get(&cheater).copied().unwrap_or_default(),
        U256::ZERO
    );
    assert_eq!(
        received[&treasury], stake,
        "the slashed stake is at the treasury"
    );
    for account in &summary.accounts {
        if account.role == "node" {
            assert!(
                received[&account.address] >= staked[&account.address],
                "{} got its stake back",
                account.name
            );
        }
    }
    assert_eq!(
        provider.get_balance(summary.contract).await.unwrap(),
        U256::ZERO,
        "the contract holds nothing once everything is settled"
    );
}
