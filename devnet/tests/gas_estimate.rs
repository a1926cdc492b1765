//! eth_estimateGas as go-ethereum answers it (Nitro's `eth/gasestimator`): the lowest gas limit
//! with which the transaction succeeds, within 1.5%, found by bisection, plus the L1 poster gas;
//! 21000 (plus that) for a plain transfer; the revert of a call that fails at the cap; "gas required exceeds allowance" when the
//! caller's own limit is too low.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use devnet::testnet::{public_key, sign_raw, TestConfig, Testnet, TEST_GPU};
use protocol::bindings::ITaskContract;

#[tokio::test(flavor = "multi_thread")]
async fn the_estimate_is_the_lowest_limit_that_succeeds() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let stake = U256::from(1000u64);
    let config = TestConfig::with_dev_accounts(&net.signers, stake);
    let contract = net.deploy_task_contract(&config).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let node = net.signers[3].clone();
    let join = ITaskContract::joinCall {
        gpu_name: TEST_GPU.into(),
        gpu_vram: 24,
        version: [1, 0, 0],
        public_key: public_key(&node).into(),
        model_ids: vec!["base:org/model".into()],
    };
    let tx = TransactionRequest::default()
        .with_from(node.address())
        .with_to(contract)
        .with_input(join.abi_encode())
        .with_value(stake);
    let estimate = provider.estimate_gas(tx.clone()).await.unwrap();

    // 3% less fails (out of gas); the estimate itself succeeds, on the same state.
    let send = |gas: u64, nonce: u64| {
        let tx = tx.clone().with_gas_limit(gas).with_nonce(nonce);
        let (provider, node) = (provider.clone(), node.clone());
        async move {
            let raw = sign_raw(&node, tx).await.unwrap();
            provider
                .send_raw_transaction(&raw)
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
        }
    };
    let short = send(estimate * 97 / 100, 0).await;
    assert!(
        !short.status(),
        "3% under the estimate should run out of gas"
    );
    let exact = send(estimate, 1).await;
    assert!(exact.status(), "the estimate {estimate} should be enough");
    // The limit is above the gas used (the 63/64 rule of the calls the contract makes, the
    // storage-flush sentry), and not by much.
    assert!(
        exact.gas_used <= estimate,
        "{} > {estimate}",
        exact.gas_used
    );

    // A plain transfer: 21000, plus the L1 poster gas of Nitro's stand-in transaction.
    let transfer = TransactionRequest::default()
        .with_from(node.address())
        .with_to(Address::repeat_byte(0x42))
        .with_value(U256::from(1));
    let l1 = devnet::l1_pricing::estimation_poster_gas(
        Some(Address::repeat_byte(0x42)),
        U256::from(1),
        &Default::default(),
        None,
        devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT,
        devnet::chain::BASE_FEE,
        devnet::chain::BASE_FEE,
    );
    assert!(l1 > 0);
    assert_eq!(provider.estimate_gas(transfer).await.unwrap(), 21_000 + l1);

    // A call that reverts at the cap answers with its revert (joining twice).
    let e = provider
        .estimate_gas(tx.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("execution reverted"), "{e}");
    // The caller's own limit caps the search.
    let other = net.signers[4].clone();
    let capped = TransactionRequest::default()
        .with_from(other.address())
        .with_to(contract)
        .with_input(
            ITaskContract::joinCall {
                public_key: public_key(&other).into(),
                ..join.clone()
            }
            .abi_encode(),
        )
        .with_value(stake)
        .with_gas_limit(30_000);
    let e = provider.estimate_gas(capped).await.unwrap_err().to_string();
    assert!(e.contains("gas required exceeds allowance (30000)"), "{e}");
}
