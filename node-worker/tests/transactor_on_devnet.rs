//! The transactor on the devnet: a transaction recorded but never broadcast (a crash between the
//! two) is rebroadcast byte for byte after a restart; an action already mined is not sent again;
//! a nonce taken by another sender is detected and the counter resynchronised from the chain.

use std::sync::Arc;

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use devnet::testnet::{Testnet, CHAIN_ID};
use node_worker::chain::transactor::Transactor;
use node_worker::record::{Record, TxRecord, TxState};

#[tokio::test(flavor = "multi_thread")]
async fn recorded_transactions_are_rebroadcast_not_resigned_and_nonces_resynchronise() {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let signer = testnet.signers[4].clone();
    let to = Address::repeat_byte(0x42);
    let provider = ProviderBuilder::new()
        .connect(&testnet.url)
        .await
        .unwrap()
        .erased();
    let dir = tempfile::tempdir().unwrap();
    let record = Arc::new(Record::open(&dir.path().join("worker.sqlite")).unwrap());

    // A transfer signed and recorded, then the process "crashed" before broadcasting it.
    let wallet = EthereumWallet::from(signer.clone());
    let envelope = TransactionRequest::default()
        .with_from(signer.address())
        .with_to(to)
        .with_value(U256::from(5u64))
        .with_nonce(0)
        .with_chain_id(CHAIN_ID)
        // A transfer plus room for the L1 poster gas Arbitrum adds.
        .with_gas_limit(50_000)
        .with_max_fee_per_gas(1_000_000_000)
        .with_max_priority_fee_per_gas(0)
        .build(&wallet)
        .await
        .unwrap();
    let orphan = TxRecord {
        hash: *envelope.tx_hash(),
        nonce: 0,
        action: "pay".into(),
        task: None,
        raw: envelope.encoded_2718(),
        state: TxState::Pending,
    };
    record.insert_tx(&orphan).unwrap();

    // After the restart: the same hash is broadcast and mined.
    let transactor = Transactor::new(provider.clone(), signer.clone(), CHAIN_ID, record.clone());
    let settled = transactor.settle_pending().await.unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].hash, orphan.hash);
    assert_eq!(settled[0].state, TxState::Mined);
    assert_eq!(provider.get_balance(to).await.unwrap(), U256::from(5u64));

    // The same action again is not sent a second time.
    let again = transactor
        .send_once("pay", None, to, Bytes::new(), U256::from(5u64))
        .await
        .unwrap();
    assert_eq!(again.hash, orphan.hash);
    assert_eq!(provider.get_balance(to).await.unwrap(), U256::from(5u64));

    // A new action gets the next nonce.
    let first = transactor
        .send_new("tip", None, to, Bytes::new(), U256::from(1u64))
        .await
        .unwrap();
    assert_eq!((first.nonce, first.state), (1, TxState::Mined));

    // Another sender with the same key takes nonce 2 behind the transactor's back.
    let other = ProviderBuilder::new()
        .wallet(wallet)
        .connect(&testnet.url)
        .await
        .unwrap();
    let receipt = other
        .send_transaction(
            TransactionRequest::default()
                .with_to(to)
                .with_value(U256::from(100u64)),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());

    // The transactor's nonce 2 is refused; it records that, resynchronises and uses nonce 3.
    let second = transactor
        .send_new("tip", None, to, Bytes::new(), U256::from(1u64))
        .await
        .unwrap();
    assert_eq!((second.nonce, second.state), (3, TxState::Mined));
    let tips = record.txs_for(None, "tip").unwrap();
    let states: Vec<(u64, TxState)> = tips.iter().map(|t| (t.nonce, t.state)).collect();
    assert_eq!(
        states,
        vec![
            (1, TxState::Mined),
            (2, TxState::Dropped),
            (3, TxState::Mined)
        ]
    );
    assert_eq!(provider.get_balance(to).await.unwrap(), U256::from(107u64));
}
