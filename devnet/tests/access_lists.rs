//! EIP-2929/2930 on the devnet as on Nitro: the precompiles start every transaction warm, an
//! access list costs its intrinsic gas and warms what it names. Gas is compared without the L1
//! poster part (`gasUsedForL1`), which depends on each transaction's size. Measured with a WAT program that
//! calls the address given as calldata, so that two transactions differ only in that address.

use alloy::eips::eip2930::{AccessList, AccessListItem};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use devnet::testnet::{gas_used_for_l1, sign_raw, Testnet};

/// Calls (no value, no calldata) the 20-byte address it is given and returns nothing.
const CALLER: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "call_contract"
    (func $call (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (call $read_args (i32.const 0))
    (drop (call $call (i32.const 0) (i32.const 64) (i32.const 0) (i32.const 32)
      (i64.const 100000) (i32.const 96)))
    i32.const 0))"#;

/// Calls the address in the first 20 bytes of its calldata with the rest as calldata.
const FORWARDER: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "call_contract"
    (func $call (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (drop (call $call (i32.const 0) (i32.const 20) (i32.sub (local.get $len) (i32.const 20))
      (i32.const 1024) (i64.const 100000) (i32.const 2048)))
    i32.const 0))"#;

/// Calls the address in the first 20 bytes of its calldata, without calldata, sending the value
/// in the next 32 bytes.
const VALUE_SENDER: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "call_contract"
    (func $call (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (drop (call $call (i32.const 0) (i32.const 1024) (i32.const 0) (i32.const 20)
      (i64.const 100000) (i32.const 2048)))
    i32.const 0))"#;

/// Sends `tx` as `me` with the given nonce and a 1,000,000 gas limit; its L2 gas (the receipt's
/// `gasUsed` less `gasUsedForL1`, which varies with the transaction's size). It must succeed.
async fn l2_gas_of(
    provider: &impl Provider,
    me: &alloy::signers::local::PrivateKeySigner,
    tx: TransactionRequest,
    nonce: u64,
) -> u64 {
    let tx = tx.with_nonce(nonce).with_gas_limit(1_000_000);
    let raw = sign_raw(me, tx).await.unwrap();
    let hash = *provider.send_raw_transaction(&raw).await.unwrap().tx_hash();
    let receipt = provider.get_transaction_receipt(hash).await.unwrap();
    let receipt = receipt
        .filter(|r| r.status())
        .expect("the transaction succeeds");
    receipt.gas_used - gas_used_for_l1(provider, hash).await.unwrap()
}

fn low_address(n: u16) -> Address {
    let mut a = [0u8; 20];
    a[18..].copy_from_slice(&n.to_be_bytes());
    Address::new(a)
}

#[tokio::test(flavor = "multi_thread")]
async fn precompiles_start_warm_and_access_lists_warm_what_they_name() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let wasm = wat::parse_str(CALLER).unwrap();
    let program = devnet::deploy::deploy_wasm(&net.url, me.clone(), &wasm)
        .await
        .unwrap();
    let mut nonce = provider.get_transaction_count(me.address()).await.unwrap();
    let mut gas_of = |tx: TransactionRequest| {
        nonce += 1;
        let (provider, me) = (provider.clone(), me.clone());
        async move { l2_gas_of(&provider, &me, tx, nonce - 1).await }
    };
    let calling = |target: Address| {
        TransactionRequest::default()
            .with_to(program)
            .with_input(target.to_vec())
    };

    // The identity precompile (0x04) is warm: 100 for the access plus its own 15, where an
    // account nobody touched yet costs 2,600.
    let identity = gas_of(calling(low_address(0x04))).await;
    // Same calldata cost as 0x04: one non-zero byte.
    let cold = low_address(0x99);
    let cold_call = gas_of(calling(cold)).await;
    assert_eq!(cold_call - identity, 2_600 - 100 - 15);
    // ArbSys (0x64) answers a call without a selector as Nitro's precompile dispatch does: a
    // revert that burns all the gas it was given (the program passes 100,000), which the program
    // ignores.
    let arb_sys = gas_of(calling(low_address(0x64))).await;
    assert_eq!(arb_sys - identity, 100_000 - 15);

    // Named in the access list, a fresh account is warm: 2,400 of intrinsic gas instead of the
    // 2,500 a cold access costs over a warm one.
    let other = low_address(0x98);
    let listed = gas_of(
        calling(other).with_access_list(AccessList(vec![AccessListItem {
            address: other,
            storage_keys: vec![],
        }])),
    )
    .await;
    assert_eq!(listed, cold_call - 2_600 + 100 + 2_400);

    // A plain transfer pays 2,400 per listed address and 1,900 per listed storage key.
    let transfer = TransactionRequest::default()
        .with_to(Address::repeat_byte(0x55))
        .with_value(U256::from(1))
        .with_access_list(AccessList(vec![AccessListItem {
            address: Address::repeat_byte(0x77),
            storage_keys: vec![B256::repeat_byte(1), B256::repeat_byte(2)],
        }]));
    assert_eq!(gas_of(transfer).await, 21_000 + 2_400 + 2 * 1_900);
}

/// ArbSys's views cost what Nitro charges: the ArbOS state opened (one storage read, 800), 3 gas a
/// word of arguments and of result; the identity precompile with the same 4 bytes costs 15 + 3.
/// Both are warm, so the difference between two otherwise equal transactions is the price.
#[tokio::test(flavor = "multi_thread")]
async fn arbsys_views_cost_what_nitro_charges() {
    use alloy::sol_types::SolCall;
    alloy::sol! {
        function arbBlockNumber() external view returns (uint256);
        function arbBlockHash(uint256 arbBlockNum) external view returns (bytes32);
    }
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let program =
        devnet::deploy::deploy_wasm(&net.url, me.clone(), &wat::parse_str(FORWARDER).unwrap())
            .await
            .unwrap();
    let mut nonce = provider.get_transaction_count(me.address()).await.unwrap();
    let mut l2_gas = |target: Address, calldata: Vec<u8>| {
        let mut input = target.to_vec();
        input.extend(calldata);
        let tx = TransactionRequest::default()
            .with_to(program)
            .with_input(input);
        nonce += 1;
        let (provider, me) = (provider.clone(), me.clone());
        async move { l2_gas_of(&provider, &me, tx, nonce - 1).await }
    };
    let selector = arbBlockNumberCall {}.abi_encode();
    let identity = l2_gas(low_address(0x04), selector.clone()).await;
    let block_number = l2_gas(low_address(0x64), selector).await;
    assert_eq!(block_number - identity, (800 + 3) - (15 + 3));
    // One word of arguments too (calldata of the same length sent to identity).
    let hash_call = arbBlockHashCall {
        arbBlockNum: U256::from(1),
    }
    .abi_encode();
    let identity = l2_gas(low_address(0x04), hash_call.clone()).await;
    let block_hash = l2_gas(low_address(0x64), hash_call).await;
    assert_eq!(block_hash - identity, (800 + 3 + 3) - (15 + 3 * 2));
}

/// A value transfer from a Stylus program costs what Nitro charges (`arbos/programs/api.go`,
/// doCall): 9,000 more than the same call without value. The callee gets the 2,300 stipend on
/// top, and an unused stipend is not a gain for the caller (an EVM CALL would come out 2,300
/// cheaper).
#[tokio::test(flavor = "multi_thread")]
async fn a_value_call_pays_the_value_transfer_and_gains_nothing_from_the_stipend() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let program =
        devnet::deploy::deploy_wasm(&net.url, me.clone(), &wat::parse_str(VALUE_SENDER).unwrap())
            .await
            .unwrap();
    provider
        .raw_request::<_, serde_json::Value>("anvil_setBalance".into(), (program, "0x3e8"))
        .await
        .unwrap();
    let payee = net.signers[1].address();
    let mut nonce = provider.get_transaction_count(me.address()).await.unwrap();
    let mut l2_gas = |value: u8| {
        let mut input = payee.to_vec();
        let mut word = [0u8; 32];
        word[31] = value;
        input.extend(word);
        let tx = TransactionRequest::default()
            .with_to(program)
            .with_input(input);
        nonce += 1;
        let (provider, me) = (provider.clone(), me.clone());
        async move { l2_gas_of(&provider, &me, tx, nonce - 1).await }
    };
    let without = l2_gas(0).await;
    let with = l2_gas(1).await;
    // 9,000 for the transfer, and 16 instead of 4 for the one calldata byte that differs.
    assert_eq!(with - without, 9_000 + (16 - 4));
    assert_eq!(
        provider.get_balance(payee).await.unwrap(),
        devnet::accounts::dev_balance() + U256::from(1)
    );
}
