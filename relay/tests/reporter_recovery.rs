//! The reporter after a crash and during an RPC outage, against the real contract on the devnet:
//! a report already sent is not sent again, an outage loses nothing, and a report that no longer
//! applies is dropped without a transaction.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::ITaskContract;
use protocol::sampling::TaskSecret;
use protocol::task_status::TaskStatus;
use relay::reporter::{ReportOutcome, Reporter};
use relay::store::{ReportKind, StoredParams};

mod backend;

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_reporter_neither_loses_nor_repeats_a_report() {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let signers = testnet.signers.clone();
    let contract = testnet
        .deploy_task_contract(&TestConfig::with_dev_accounts(
            &signers,
            U256::from(1000u64),
        ))
        .await
        .unwrap();
    let relay_account = signers[8].clone();
    let as_account = |signer: PrivateKeySigner| {
        let testnet = &testnet;
        async move { testnet.contract_as(&signer, contract).await.unwrap() }
    };
    let as_owner = as_account(signers[0].clone()).await;
    let node = signers[3].clone();
    let key = public_key(&node);
    assert!(as_account(node.clone())
        .await
        .join(
            "GPU".into(),
            24,
            [1, 0, 0],
            key.into(),
            vec!["base:m".into()]
        )
        .value(U256::from(1000u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    let as_creator = as_account(signers[2].clone()).await;
    let task = TaskSecret::random();
    let c = task.commitment();
    assert!(as_creator
        .createTask(
            0,
            c,
            task.nonce,
            vec!["base:m".into()],
            8,
            String::new(),
            0,
            [1, 0, 0],
            1,
            B256::repeat_byte(0x5A)
        )
        .value(U256::from(100u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    let data = tempfile::tempdir().unwrap();
    // One store, opened again after each simulated crash (the same database and bucket).
    let config = backend::fresh_config(data.path()).await;
    let as_relay = as_account(relay_account.clone()).await;
    let provider = as_relay.provider().clone();
    let nonce = || async {
        provider
            .get_transaction_count(relay_account.address())
            .await
            .unwrap()
    };

    // An RPC outage: the pass fails, the upload stays in the outbox.
    {
        let store = Arc::new(config.open().await.unwrap());
        store
            .put_params(&c, &StoredParams::new("{}", task.params_salt()), 1)
            .await
            .unwrap();
        let dead = ProviderBuilder::new()
            .connect_http("http://127.0.0.1:9".parse().unwrap())
            .erased();
        let reporter = Reporter {
            store: store.clone(),
            contract: ITaskContract::new(contract, dead),
            poll_interval: Duration::from_millis(10),
            replica: "relay-1".into(),
            lease: Duration::from_secs(10),
            metrics: Default::default(),
        };
        assert!(reporter.pass().await.is_err());
        assert_eq!(store.pending_reports().await.unwrap().len(), 1);
    }

    // A crash after sending: the transaction hash is in the outbox, the receipt never awaited.
    let before = nonce().await;
    let sent = as_relay
        .reportTaskParametersUploaded(c)
        .send()
        .await
        .unwrap();
    let tx = *sent.tx_hash();
    sent.get_receipt().await.unwrap();
    {
        let store = config.open().await.unwrap();
        store
            .report_sent(ReportKind::Parameters, &c, &tx)
            .await
            .unwrap();
    }
    let after_send = nonce().await;
    assert_eq!(after_send, before + 1);

    // The restarted reporter confirms it from the receipt and sends nothing.
    let store = Arc::new(config.open().await.unwrap());
    let reporter = Reporter {
        store: store.clone(),
        contract: as_relay.clone(),
        poll_interval: Duration::from_millis(10),
        replica: "relay-1".into(),
        lease: Duration::from_secs(10),
        metrics: Default::default(),
    };
    let outcomes = reporter.pass().await.unwrap().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, ReportOutcome::Confirmed);
    assert!(store.pending_reports().await.unwrap().is_empty());
    assert_eq!(nonce().await, after_send, "a report was sent twice");
    assert_eq!(
        as_owner.getTask(c).call().await.unwrap().status,
        TaskStatus::ParametersUploaded.as_u8()
    );

    // A report whose task already moved on (no transaction hash recorded) is dropped, not sent.
    let other = TaskSecret::random();
    assert!(as_creator
        .createTask(
            0,
            other.commitment(),
            other.nonce,
            vec!["base:m".into()],
            8,
            String::new(),
            0,
            [1, 0, 0],
            1,
            B256::repeat_byte(0x5A)
        )
        .value(U256::from(100u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    // The node is busy, so the task is queued: a parameters report does not apply to it.
    assert_eq!(
        as_owner
            .getTask(other.commitment())
            .call()
            .await
            .unwrap()
            .status,
        TaskStatus::Queued.as_u8()
    );
    store
        .put_params(
            &other.commitment(),
            &StoredParams::new("{}", other.params_salt()),
            2,
        )
        .await
        .unwrap();
    let outcomes = reporter.pass().await.unwrap().unwrap();
    assert_eq!(outcomes[0].1, ReportOutcome::NotApplicable);
    assert_eq!(nonce().await, after_send);
    assert!(store.pending_reports().await.unwrap().is_empty());
}
