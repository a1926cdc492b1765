//! A program's storage writes reach the chain only through `storage_flush_cache`, as on Nitro:
//! writes left in the cache when the program returns are discarded.

use alloy::network::TransactionBuilder;
use alloy::primitives::{B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use devnet::testnet::{sign_raw, Testnet};

/// Caches 42 into slot 0, then flushes only if its one-byte argument is 1.
const WRITER: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "storage_cache_bytes32" (func $cache (param i32 i32)))
  (import "vm_hooks" "storage_flush_cache" (func $flush (param i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (call $read_args (i32.const 0))
    (i32.store8 (i32.const 95) (i32.const 42))
    (call $cache (i32.const 32) (i32.const 64))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 1))
      (then (call $flush (i32.const 0))))
    i32.const 0))"#;

#[tokio::test(flavor = "multi_thread")]
async fn unflushed_writes_are_discarded() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let program =
        devnet::deploy::deploy_wasm(&net.url, me.clone(), &wat::parse_str(WRITER).unwrap())
            .await
            .unwrap();
    let mut nonce = provider.get_transaction_count(me.address()).await.unwrap();
    for (flush, expected) in [(0u8, U256::ZERO), (1, U256::from(42))] {
        let tx = TransactionRequest::default()
            .with_to(program)
            .with_input(vec![flush])
            .with_nonce(nonce)
            .with_gas_limit(200_000);
        nonce += 1;
        let raw = sign_raw(&me, tx).await.unwrap();
        let receipt = provider
            .send_raw_transaction(&raw)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "the program returns success either way");
        let slot = provider
            .get_storage_at(program, U256::from_be_bytes(B256::ZERO.0))
            .await
            .unwrap();
        assert_eq!(slot, expected, "flush = {flush}");
    }
}
