//! Interval mode (`devnet --block-time`): transactions wait for the next block, several share it,
//! and the pending nonce counts them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use devnet::accounts::{dev_balance, dev_signers};
use devnet::chain::{Chain, TxError};
use devnet::testnet::sign_raw;

async fn transfer(signer: &PrivateKeySigner, nonce: u64, to: Address, value: u64) -> Vec<u8> {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_value(U256::from(value))
        .with_nonce(nonce);
    sign_raw(signer, tx).await.unwrap()
}

#[tokio::test]
async fn pending_transactions_share_the_next_block() {
    let signers = dev_signers().unwrap();
    let prefund: Vec<_> = signers
        .iter()
        .map(|s| (s.address(), dev_balance()))
        .collect();
    let mut chain = Chain::new(412_346, &prefund).unwrap();
    chain.set_block_time(Some(1));
    let to = Address::repeat_byte(0x33);
    let (a, b) = (&signers[0], &signers[1]);
    let mut hashes = Vec::new();
    for nonce in 0..3 {
        hashes.push(
            chain
                .send_raw_transaction(&transfer(a, nonce, to, 10).await)
                .unwrap(),
        );
    }
    hashes.push(
        chain
            .send_raw_transaction(&transfer(b, 0, to, 5).await)
            .unwrap(),
    );
    // Nothing mined yet; the next nonce counts the pending ones.
    assert_eq!(chain.block_number(), 0);
    assert!(chain.transaction(&hashes[0]).is_none());
    assert_eq!(chain.pending_nonce(&a.address()), 3);
    assert_eq!(chain.nonce(&a.address()), 0);
    assert!(matches!(
        chain.send_raw_transaction(&transfer(a, 1, to, 10).await),
        Err(TxError::Known)
    ));
    assert!(matches!(
        chain.send_raw_transaction(&transfer(a, 5, to, 10).await),
        Err(TxError::NonceTooHigh {
            expected: 3,
            got: 5
        })
    ));

    let number = chain.mine_pending();
    assert_eq!(number, 1);
    assert_eq!(chain.pending_count(), 0);
    assert_eq!(chain.block(1).unwrap().transactions, hashes);
    // Each transfer: 21,000 plus its L1 poster gas; the block sums them.
    let mut cumulative = 0;
    for (i, h) in hashes.iter().enumerate() {
        let t = chain.transaction(h).unwrap();
        assert_eq!(t.block_number, 1);
        assert_eq!(t.index, i as u64);
        assert!(t.gas_used_for_l1 > 0);
        assert_eq!(t.gas_used, 21_000 + t.gas_used_for_l1);
        cumulative += t.gas_used;
        assert_eq!(t.cumulative_gas_used, cumulative);
        assert!(t.success);
    }
    assert_eq!(chain.block(1).unwrap().header.gas_used, cumulative);
    assert_eq!(chain.balance(&to), U256::from(35));
    assert_eq!(chain.nonce(&a.address()), 3);
    // An empty interval still seals a block.
    assert_eq!(chain.mine_pending(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_devnet_binary_seals_blocks_on_its_timer() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(["--port", "0", "--block-time", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("RPC URL ") {
            break url.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let signer = dev_signers().unwrap().remove(2);
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect(&url)
        .await
        .unwrap();
    let to = Address::repeat_byte(0x44);
    // Two transactions sent back to back: the wallet takes the second nonce from "pending".
    let first = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(1)),
        )
        .await
        .unwrap();
    let second = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(2)),
        )
        .await
        .unwrap();
    let r1 = first.get_receipt().await.unwrap();
    let r2 = second.get_receipt().await.unwrap();
    assert!(r1.status() && r2.status());
    assert_eq!(provider.get_balance(to).await.unwrap(), U256::from(3));
    let start = provider.get_block_number().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(
        provider.get_block_number().await.unwrap() >= start + 2,
        "blocks keep coming"
    );
    child.kill().unwrap();
    let _ = child.wait();
}
