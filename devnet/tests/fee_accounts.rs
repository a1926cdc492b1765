//! Where a transaction's gas money goes and what comes back, as ArbOS settles it: the L2 part to
//! the network fee account, the L1 poster part to the L1 pricer's pool (`arbos/tx_processor.go`,
//! `EndTxHook`), the EIP-3529 refund capped at a fifth of the gas less the poster gas
//! (`NonrefundableGas`), and every block's coinbase the batch poster (`arbos/block_processor.go`).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use devnet::chain::BASE_FEE;
use devnet::l1_pricing::{BATCH_POSTER, L1_PRICER_FUNDS_POOL};
use devnet::precompiles::{ArbOwnerPublic, ARB_OWNER_PUBLIC, NETWORK_FEE_ACCOUNT};
use devnet::testnet::{gas_used_for_l1, view, Testnet};

/// Returns the block's coinbase (20 bytes).
const COINBASE: &str = r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "block_coinbase" (func $coinbase (param i32)))
  (import "vm_hooks" "write_result" (func $write (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (call $coinbase (i32.const 0))
    (call $write (i32.const 0) (i32.const 20))
    i32.const 0))"#;

/// Writes 1 to slot 0 and flushes, then writes its one calldata byte less one and flushes
/// again: with 0x01 the slot is cleared in the transaction that set it (19,900 back on the
/// refund counter), with 0x03 it keeps 2 (nothing back), for the same gas before the refund.
const SET_THEN_WRITE: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "storage_cache_bytes32" (func $store (param i32 i32)))
  (import "vm_hooks" "storage_flush_cache" (func $flush (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (call $read_args (i32.const 95))
    (i32.store8 (i32.const 63) (i32.const 1))
    (call $store (i32.const 0) (i32.const 32))
    (call $flush (i32.const 0))
    (i32.store8 (i32.const 95) (i32.sub (i32.load8_u (i32.const 95)) (i32.const 1)))
    (call $store (i32.const 0) (i32.const 64))
    (call $flush (i32.const 0))
    i32.const 0))"#;

async fn send(provider: &impl Provider, tx: TransactionRequest) -> TransactionReceipt {
    let receipt = provider
        .send_transaction(tx)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    receipt
}

#[tokio::test(flavor = "multi_thread")]
async fn gas_money_goes_to_the_network_fee_account_and_the_l1_pricers_pool() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[1].address();
    let provider = net.wallet(&net.signers[1]).unwrap();
    let balances = async || {
        let mut b = Vec::new();
        for a in [me, NETWORK_FEE_ACCOUNT, L1_PRICER_FUNDS_POOL] {
            b.push(provider.get_balance(a).await.unwrap());
        }
        b
    };
    let before = balances().await;
    let receipt = send(
        &provider,
        TransactionRequest::default()
            .with_to(Address::repeat_byte(0x77))
            .with_value(U256::from(1)),
    )
    .await;
    let after = balances().await;
    let l1_gas = gas_used_for_l1(&provider, receipt.transaction_hash)
        .await
        .unwrap();
    assert!(l1_gas > 0);
    let wei = |gas: u64| U256::from(gas) * U256::from(BASE_FEE);
    assert_eq!(before[0] - after[0], U256::from(1) + wei(receipt.gas_used));
    assert_eq!(after[1] - before[1], wei(receipt.gas_used - l1_gas));
    assert_eq!(after[2] - before[2], wei(l1_gas));

    // ArbOwnerPublic names the account; no infrastructure fee account is set.
    let network = view(
        &provider,
        ARB_OWNER_PUBLIC,
        &ArbOwnerPublic::getNetworkFeeAccountCall {},
    )
    .await
    .unwrap();
    assert_eq!(network, NETWORK_FEE_ACCOUNT);
    let infra = view(
        &provider,
        ARB_OWNER_PUBLIC,
        &ArbOwnerPublic::getInfraFeeAccountCall {},
    )
    .await
    .unwrap();
    assert_eq!(infra, Address::ZERO);

    // The coinbase is the batch poster's, in the header and to a program.
    let block = provider
        .get_block_by_number(receipt.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(block.header.beneficiary, BATCH_POSTER);
    let wasm = wat::parse_str(COINBASE).unwrap();
    let program = net.deploy(&wasm).await.unwrap();
    let out = provider
        .call(TransactionRequest::default().with_to(program))
        .await
        .unwrap();
    assert_eq!(out, Bytes::from(BATCH_POSTER.to_vec()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_refund_is_capped_at_a_fifth_of_the_gas_less_the_poster_gas() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let wasm = wat::parse_str(SET_THEN_WRITE).unwrap();
    let program = net.deploy(&wasm).await.unwrap();
    let provider = net.wallet(&net.signers[1]).unwrap();
    // Gas used and poster gas of a run with `byte` as its calldata.
    let run = async |byte: u8| {
        let receipt = send(
            &provider,
            TransactionRequest::default()
                .with_to(program)
                .with_input(vec![byte])
                .with_gas_limit(1_000_000),
        )
        .await;
        let l1_gas = gas_used_for_l1(&provider, receipt.transaction_hash)
            .await
            .unwrap();
        assert!(l1_gas > 0);
        (receipt.gas_used, l1_gas)
    };
    // Cleared first, while the slot is still zero at the start; then kept.
    let (cleared, cleared_l1) = run(0x01).await;
    let (kept, kept_l1) = run(0x03).await;
    // The L2 gas both spend before the refund; the cap, not the counter, decides.
    let l2 = kept - kept_l1;
    assert!(l2 / 5 < 19_900, "{l2}");
    assert_eq!(cleared - cleared_l1, l2 - l2 / 5);
}
