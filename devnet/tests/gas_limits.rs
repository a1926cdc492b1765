//! ArbOS's gas limits rather than go-ethereum's: a transaction runs at most the per-transaction
//! limit and gets the rest of its gas limit back (`arbos/tx_processor.go`, `GasChargingHook`,
//! `computeHoldGas`), a block starts transactions while 21,000 of its compute gas is left
//! (`arbos/block_processor.go`), and headers and programs see go-ethereum's limit, 2^50
//! (`l2pricing.GethBlockGasLimit`). The L1 price is 0 here so that every gas figure is exact.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use devnet::accounts::{dev_balance, dev_signers};
use devnet::chain::{
    CallRequest, Chain, TxError, BASE_FEE, BLOCK_GAS_LIMIT, GETH_BLOCK_GAS_LIMIT, TX_GAS_LIMIT,
};
use devnet::precompiles::{ArbWasm, ARB_WASM};
use devnet::program::{compress, init_code};
use devnet::testnet::{sign_raw, CHAIN_ID};

/// Loops until its ink runs out: it uses all the gas it is given.
const SPIN: &str = r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (loop $again (br $again))
    i32.const 0))"#;

/// Returns `block_gas_limit` as 8 little-endian bytes.
const GAS_LIMIT_PROBE: &str = r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "block_gas_limit" (func $limit (result i64)))
  (import "vm_hooks" "write_result" (func $write (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (i64.store (i32.const 0) (call $limit))
    (call $write (i32.const 0) (i32.const 8))
    i32.const 0))"#;

fn chain() -> (Chain, Vec<PrivateKeySigner>) {
    let signers = dev_signers().unwrap();
    let prefund: Vec<_> = signers
        .iter()
        .map(|s| (s.address(), dev_balance()))
        .collect();
    let mut chain = Chain::new(CHAIN_ID, &prefund).unwrap();
    chain.set_l1_price_per_unit(0);
    (chain, signers)
}

async fn send(
    chain: &mut Chain,
    signer: &PrivateKeySigner,
    nonce: u64,
    tx: TransactionRequest,
) -> Result<B256, TxError> {
    let raw = sign_raw(signer, tx.with_nonce(nonce)).await.unwrap();
    chain.send_raw_transaction(&raw)
}

/// Deploys and activates `wat` from `signer` (nonces `nonce` and `nonce + 1`), mined at once.
async fn deploy(chain: &mut Chain, signer: &PrivateKeySigner, nonce: u64, wat: &str) -> Address {
    let wasm = wat::parse_str(wat).unwrap();
    let create = TransactionRequest::default()
        .with_deploy_code(init_code(&compress(&wasm)))
        .with_gas_limit(5_000_000);
    let hash = send(chain, signer, nonce, create).await.unwrap();
    let program = chain.transaction(&hash).unwrap().contract_address.unwrap();
    // More than the data fee; the rest comes back.
    let activate = TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_value(U256::from(10u64.pow(16)))
        .with_input(ArbWasm::activateProgramCall { program }.abi_encode())
        .with_gas_limit(5_000_000);
    let hash = send(chain, signer, nonce + 1, activate).await.unwrap();
    assert!(chain.transaction(&hash).unwrap().success);
    program
}

#[tokio::test]
async fn a_transaction_runs_at_most_the_per_transaction_limit_and_gets_the_rest_back() {
    let (mut chain, s) = chain();
    let spin = deploy(&mut chain, &s[0], 0, SPIN).await;
    let me = s[1].address();
    let before = chain.balance(&me);
    // 40,000,000 is over ArbOS's 32,000,000 but far under the header's limit: accepted, and
    // the program runs 32,000,000 less the 21,000 intrinsic gas before its ink runs out.
    let tx = TransactionRequest::default()
        .with_to(spin)
        .with_gas_limit(40_000_000);
    let hash = send(&mut chain, &s[1], 0, tx).await.unwrap();
    let mined = chain.transaction(&hash).unwrap().clone();
    assert!(!mined.success);
    assert_eq!(mined.gas_used, TX_GAS_LIMIT);
    assert_eq!(
        before - chain.balance(&me),
        U256::from(TX_GAS_LIMIT) * U256::from(BASE_FEE)
    );

    // Over the header's limit: refused as go-ethereum's pool refuses it.
    let tx = TransactionRequest::default()
        .with_to(spin)
        .with_gas_limit(GETH_BLOCK_GAS_LIMIT + 1);
    assert!(matches!(
        send(&mut chain, &s[1], 1, tx).await,
        Err(TxError::GasLimit(l)) if l == GETH_BLOCK_GAS_LIMIT + 1
    ));

    // Headers and programs see go-ethereum's limit.
    let header = &chain.block(mined.block_number).unwrap().header;
    assert_eq!(header.gas_limit, GETH_BLOCK_GAS_LIMIT);
    let probe = deploy(&mut chain, &s[0], 2, GAS_LIMIT_PROBE).await;
    let out = chain
        .call(&CallRequest {
            to: Some(probe),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(out.output, GETH_BLOCK_GAS_LIMIT.to_le_bytes());
}

#[tokio::test]
async fn a_block_starts_transactions_while_21000_of_its_compute_gas_is_left() {
    let (mut chain, s) = chain();
    let spin = deploy(&mut chain, &s[0], 0, SPIN).await;
    chain.set_block_time(Some(1));
    // Three transactions that each burn 20,000,000: the second starts with 12,000,000 of the
    // block's 32,000,000 left, the third finds none left and waits for the next block.
    let mut hashes = Vec::new();
    for nonce in 0..3 {
        let tx = TransactionRequest::default()
            .with_to(spin)
            .with_gas_limit(20_000_000);
        hashes.push(send(&mut chain, &s[1], nonce, tx).await.unwrap());
    }
    let first = chain.mine_pending();
    assert_eq!(chain.block(first).unwrap().transactions, hashes[..2]);
    let used = chain.block(first).unwrap().header.gas_used;
    assert_eq!(used, 40_000_000);
    assert!(used > BLOCK_GAS_LIMIT);
    assert_eq!(chain.pending_count(), 1);
    let second = chain.mine_pending();
    assert_eq!(chain.block(second).unwrap().transactions, hashes[2..]);
    assert_eq!(chain.pending_count(), 0);
}
