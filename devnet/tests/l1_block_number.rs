//! The L1 block number as Arbitrum exposes it: programs read it as `block.number`
//! (`arbos/programs/programs.go`), headers carry it in the mix hash next to the ArbOS version
//! (`core/types/arb_types.go`, `HeaderInfo`), and blocks and receipts report it as
//! `l1BlockNumber` (`internal/ethapi`). The devnet counts one L1 block per 12 seconds of its
//! clock from its first block.

use alloy::network::TransactionBuilder;
use alloy::primitives::B256;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use devnet::chain::L1_BLOCK_SECONDS;
use devnet::precompiles::ARBOS_VERSION;
use devnet::testnet::Testnet;
use serde_json::Value;

/// Logs `block_number` as 8 little-endian bytes.
const LOG_BLOCK_NUMBER: &str = r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "block_number" (func $number (result i64)))
  (import "vm_hooks" "emit_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32)
    (i64.store (i32.const 0) (call $number))
    (call $log (i32.const 0) (i32.const 8) (i32.const 0))
    i32.const 0))"#;

fn number(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

async fn raw(provider: &impl Provider, method: &'static str, params: Value) -> Value {
    provider
        .raw_request::<_, Value>(method.into(), params)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn programs_blocks_and_receipts_see_the_l1_block_number() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let wasm = wat::parse_str(LOG_BLOCK_NUMBER).unwrap();
    let program = net.deploy(&wasm).await.unwrap();
    let provider = net.wallet(&net.signers[1]).unwrap();
    let genesis = raw(
        &provider,
        "eth_getBlockByNumber",
        serde_json::json!(["0x0", false]),
    )
    .await;
    assert_eq!(number(&genesis["l1BlockNumber"]), 0);

    // Now, and after twenty minutes more (a hundred L1 blocks).
    let mut seen = Vec::new();
    for jump in [0u64, 1_200] {
        if jump > 0 {
            raw(&provider, "evm_increaseTime", serde_json::json!([jump])).await;
        }
        let receipt = provider
            .send_transaction(TransactionRequest::default().with_to(program))
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status());
        let hash = receipt.transaction_hash;
        let raw_receipt = raw(
            &provider,
            "eth_getTransactionReceipt",
            serde_json::json!([hash]),
        )
        .await;
        let block_number = number(&raw_receipt["blockNumber"]);
        let block = raw(
            &provider,
            "eth_getBlockByNumber",
            serde_json::json!([format!("0x{block_number:x}"), false]),
        )
        .await;
        // One L1 block per 12 seconds since the first block.
        let elapsed = number(&block["timestamp"]) - number(&genesis["timestamp"]);
        let l1 = 1 + elapsed / L1_BLOCK_SECONDS;
        assert_eq!(number(&block["l1BlockNumber"]), l1);
        assert_eq!(number(&raw_receipt["l1BlockNumber"]), l1);
        // What the program read.
        let logged = &receipt.inner.logs()[0];
        assert_eq!(logged.address(), program);
        assert_eq!(logged.data().data.as_ref(), l1.to_le_bytes());
        // The header's Arbitrum fields: send count 0, the L1 block, the ArbOS version; send
        // root zero (no L2-to-L1 messages); difficulty 1.
        let mix: B256 = serde_json::from_value(block["mixHash"].clone()).unwrap();
        assert_eq!(mix[..8], [0u8; 8]);
        assert_eq!(mix[8..16], l1.to_be_bytes());
        assert_eq!(mix[16..24], ARBOS_VERSION.to_be_bytes());
        assert_eq!(block["extraData"], serde_json::json!(B256::ZERO));
        assert_eq!(block["sendRoot"], serde_json::json!(B256::ZERO));
        assert_eq!(number(&block["sendCount"]), 0);
        assert_eq!(number(&block["difficulty"]), 1);
        // The L2 number is not the L1 number.
        assert_ne!(block_number, l1);
        seen.push(l1);
    }
    assert!(seen[1] >= seen[0] + 1_200 / L1_BLOCK_SECONDS, "{seen:?}");
}
