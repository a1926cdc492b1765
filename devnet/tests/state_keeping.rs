//! Keeping the chain: `devnet --state FILE` saves on SIGTERM and a restart continues where it
//! stopped (contract state, programs, blocks, receipts, logs, nonces); `evm_snapshot` /
//! `evm_revert`, `anvil_setBalance` and `anvil_setCode` for tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use devnet::accounts::dev_signers;
use devnet::testnet::{TestConfig, Testnet};

/// Starts the devnet binary on a free port; the child and its RPC URL.
fn start(state: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["--port", "0", "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("devnet starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("devnet prints its URL")
            .expect("a line");
        if let Some(url) = line.strip_prefix("RPC URL ") {
            break url.to_string();
        }
    };
    // Keep reading stdout so that the devnet never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = child.wait().expect("devnet exits");
    assert!(exit.success(), "devnet exit status {exit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_state_loses_nothing() {
    let dir = tempfile_dir();
    let state = dir.join("chain.json");
    let (child, url) = start(&state);
    let signers = dev_signers().unwrap();
    let net = Testnet {
        url: url.clone(),
        signers: signers.clone(),
    };
    let contract = net
        .deploy_task_contract(&TestConfig::with_dev_accounts(&signers, U256::from(1000)))
        .await
        .unwrap();
    let node = &signers[3];
    let join = net
        .join(node, contract, &["base:m"], U256::from(1000))
        .await
        .unwrap();
    assert!(join.status());
    let provider = ProviderBuilder::new().connect(&url).await.unwrap();
    let block = provider.get_block_number().await.unwrap();
    let logs = provider
        .get_logs(&Filter::new().address(contract).from_block(0))
        .await
        .unwrap();
    let balance = provider.get_balance(node.address()).await.unwrap();
    let contract_balance = provider.get_balance(contract).await.unwrap();
    stop(child);
    assert!(state.exists());

    let (child, url) = start(&state);
    let net = Testnet {
        url: url.clone(),
        signers: signers.clone(),
    };
    let provider = ProviderBuilder::new().connect(&url).await.unwrap();
    assert_eq!(provider.get_block_number().await.unwrap(), block);
    assert_eq!(provider.get_balance(node.address()).await.unwrap(), balance);
    assert_eq!(
        provider.get_balance(contract).await.unwrap(),
        contract_balance
    );
    let again = provider
        .get_logs(&Filter::new().address(contract).from_block(0))
        .await
        .unwrap();
    assert_eq!(again, logs);
    let receipt = provider
        .get_transaction_receipt(join.transaction_hash)
        .await
        .unwrap()
        .expect("the join receipt is kept");
    assert_eq!(receipt.gas_used, join.gas_used);
    let old = provider
        .get_block_by_number(join.block_number.unwrap().into())
        .await
        .unwrap()
        .expect("the block is kept");
    assert_eq!(Some(old.header.hash), join.block_hash);

    // The program runs without a new activation, and nonces continue.
    let c = net.contract_as(&signers[4], contract).await.unwrap();
    let info = c.getNodeInfo(node.address()).call().await.unwrap();
    assert_eq!(info.stake, U256::from(1000));
    let second = net
        .join(&signers[4], contract, &[], U256::from(1000))
        .await
        .unwrap();
    assert!(second.status());
    assert_eq!(c.nodeCount().call().await.unwrap(), 2);
    stop(child);

    // A file that is not a devnet state is refused with a clear error.
    std::fs::write(&state, b"{}").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["--port", "0", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a devnet state file"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "devnet-state-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_revert_and_balances_can_be_set() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let who = Address::repeat_byte(0x42);
    let set: serde_json::Value = provider
        .raw_request("anvil_setBalance".into(), (who, U256::from(12345)))
        .await
        .unwrap();
    assert!(set.is_null());
    assert_eq!(provider.get_balance(who).await.unwrap(), U256::from(12345));
    let code = alloy::primitives::Bytes::from_static(&[0x60, 0x00]);
    let set: serde_json::Value = provider
        .raw_request("anvil_setCode".into(), (who, code.clone()))
        .await
        .unwrap();
    assert!(set.is_null());
    assert_eq!(provider.get_code_at(who).await.unwrap(), code);

    let contract = net
        .deploy_task_contract(&TestConfig::with_dev_accounts(&net.signers, U256::from(1)))
        .await
        .unwrap();
    let id: U256 = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    let block = provider.get_block_number().await.unwrap();
    let node = &net.signers[3];
    let c = net.contract_as(node, contract).await.unwrap();
    net.join(node, contract, &[], U256::from(1)).await.unwrap();
    assert_eq!(c.nodeCount().call().await.unwrap(), 1);
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (id,))
        .await
        .unwrap();
    assert!(reverted);
    assert_eq!(c.nodeCount().call().await.unwrap(), 0);
    assert_eq!(provider.get_block_number().await.unwrap(), block);
    // A snapshot is used up by reverting to it.
    let again: bool = provider
        .raw_request("evm_revert".into(), (id,))
        .await
        .unwrap();
    assert!(!again);
}
