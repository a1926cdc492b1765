//! Conformance with Nitro's own published figures: `system_tests/program_ink_test.go` in
//! OffchainLabs/nitro asserts the exact ink each hostio takes on a Nitro node, read through
//! `debug_traceTransaction` with the `stylusTracer` (`startInk - endInk`). The same cases run here
//! against the devnet, with the devnet's tracer, and must give the same numbers. Nitro's test
//! programs (its Rust `hostio-test` and `multicall`, its `.wat` files) are not copied: each case
//! runs a program written here that makes the same hostio call in the same conditions (warm or
//! cold account, cached or not, the same data sizes). Cases whose figure depends on Nitro's own
//! test contracts' bytecode (`account_code` of its `.wat` files, calls into its Solidity
//! `HostioTest`, `create1`/`create2` of its `ProgramTest`) are left out.

use std::collections::HashMap;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use devnet::precompiles::{ArbosTest, ARBOS_TEST};
use devnet::testnet::Testnet;

/// Nitro's `HOSTIO_INK`, `PTR_INK` and `EVM_API_INK` (`program_ink_test.go`).
const HOSTIO_INK: u64 = 8400;
const PTR_INK: u64 = 5040;
const EVM_API_INK: u64 = 59673;

struct Net {
    _net: Testnet,
    url: String,
    owner: DynProvider,
    owner_key: alloy::signers::local::PrivateKeySigner,
}

async fn net() -> Net {
    // No L1 poster gas: the transactions' gas then only matters for running out.
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let owner_key = net.signers[0].clone();
    let owner = net.wallet(&owner_key).unwrap();
    Net {
        url: net.url.clone(),
        _net: net,
        owner,
        owner_key,
    }
}

impl Net {
    async fn deploy(&self, wat: &str) -> Address {
        let wasm = wat::parse_str(wat).unwrap_or_else(|e| panic!("{e}\n{wat}"));
        devnet::deploy::deploy_wasm(&self.url, self.owner_key.clone(), &wasm)
            .await
            .unwrap()
    }

    /// Sends `data` to `program` with Nitro's 32,000,000 gas and returns the ink each hostio
    /// took, by name, in call order (`stylusHostiosInkUsage`: top-level records only).
    async fn ink(&self, program: Address, data: Vec<u8>) -> HashMap<String, Vec<u64>> {
        let trace = self.trace(program, data).await;
        let mut ink: HashMap<String, Vec<u64>> = HashMap::new();
        for record in trace.as_array().unwrap() {
            let start = record["startInk"].as_u64().unwrap();
            let end = record["endInk"].as_u64().unwrap();
            ink.entry(record["name"].as_str().unwrap().to_string())
                .or_default()
                .push(start - end);
        }
        ink
    }

    /// Sends `data` to `program` and returns the transaction's stylusTracer trace.
    async fn trace(&self, program: Address, data: Vec<u8>) -> serde_json::Value {
        // The deployments went through another provider: the nonce is asked afresh.
        let nonce = self
            .owner
            .get_transaction_count(self.owner_key.address())
            .await
            .unwrap();
        let receipt = self
            .owner
            .send_transaction(
                TransactionRequest::default()
                    .with_to(program)
                    .with_input(data)
                    .with_nonce(nonce)
                    .with_gas_limit(32_000_000),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status(), "the transaction failed");
        self.owner
            .raw_request(
                "debug_traceTransaction".into(),
                (
                    receipt.transaction_hash,
                    serde_json::json!({"tracer": "stylusTracer"}),
                ),
            )
            .await
            .unwrap()
    }

    async fn check(&self, program: Address, data: Vec<u8>, hostio: &str, expected: &[u64]) {
        let ink = self.ink(program, data).await;
        assert_eq!(
            ink.get(hostio).map(Vec::as_slice),
            Some(expected),
            "{hostio}: all records {ink:?}"
        );
    }
}

/// A program that copies its calldata to memory at 0 and calls `hostio` (WAT signature
/// `params`/`results`) once with the WAT operands `args`, dropping what it returns; outputs go
/// to 0x8000 and up. `pages` of memory.
fn probe(hostio: &str, params: &str, results: &str, args: &str, pages: u32) -> String {
    let import = if hostio == "pay_for_memory_grow" {
        String::new()
    } else {
        let results = if results.is_empty() {
            String::new()
        } else {
            format!("(result {results})")
        };
        format!(r#"(import "vm_hooks" "{hostio}" (func $hostio (param {params}) {results}))"#)
    };
    let callee = if hostio == "pay_for_memory_grow" {
        "$grow"
    } else {
        "$hostio"
    };
    let drop = if results.is_empty() { "" } else { "drop" };
    format!(
        r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func $grow (param i32)))
  {import}
  (memory (export "memory") {pages})
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (call {callee} {args})
    {drop}
    i32.const 0))"#
    )
}

fn word(n: u64) -> Vec<u8> {
    U256::from(n).to_be_bytes::<32>().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_hostios_take_nitros_ink() {
    let n = net().await;
    // TestSimpleInkUsage: hostios that write nothing, or one word or address.
    for (hostio, results) in [
        ("return_data_size", "i32"),
        ("evm_gas_left", "i64"),
        ("evm_ink_left", "i64"),
        ("chainid", "i64"),
        ("block_gas_limit", "i64"),
        ("block_number", "i64"),
        ("block_timestamp", "i64"),
        ("tx_ink_price", "i32"),
        ("msg_reentrant", "i32"),
    ] {
        let p = n.deploy(&probe(hostio, "", results, "", 1)).await;
        n.check(p, vec![], hostio, &[HOSTIO_INK]).await;
    }
    for hostio in [
        "block_basefee",
        "block_coinbase",
        "contract_address",
        "msg_sender",
        "msg_value",
        "tx_gas_price",
        "tx_origin",
    ] {
        let p = n
            .deploy(&probe(hostio, "i32", "", "(i32.const 0x8000)", 1))
            .await;
        n.check(p, vec![], hostio, &[HOSTIO_INK + PTR_INK]).await;
    }
    // exit_early takes nothing (it is traced, then the program stops).
    let p = n
        .deploy(&probe("exit_early", "i32", "", "(i32.const 0)", 1))
        .await;
    n.check(p, vec![], "exit_early", &[0]).await;
    // The sender's account is warm: 100 gas with the EVM API's ink.
    let p = n
        .deploy(&probe(
            "account_balance",
            "i32 i32",
            "",
            "(i32.const 0) (i32.const 0x8000)",
            1,
        ))
        .await;
    let owner = n.owner_key.address().to_vec();
    n.check(
        p,
        owner,
        "account_balance",
        &[HOSTIO_INK + 2 * PTR_INK + EVM_API_INK + 1_000_000],
    )
    .await;
    for hostio in ["transient_load_bytes32", "transient_store_bytes32"] {
        let p = n
            .deploy(&probe(
                hostio,
                "i32 i32",
                "",
                "(i32.const 0) (i32.const 32)",
                1,
            ))
            .await;
        let data = [word(0xdead), word(0xbeef)].concat();
        n.check(
            p,
            data,
            hostio,
            &[HOSTIO_INK + 2 * PTR_INK + EVM_API_INK + 1_000_000],
        )
        .await;
    }
    // Another program's account, cold: the code size pays EXTCODESIZE's 700 on top.
    let other = n.deploy(&probe("chainid", "", "i64", "", 1)).await;
    let p = n
        .deploy(&probe(
            "account_code_size",
            "i32",
            "i32",
            "(i32.const 0)",
            1,
        ))
        .await;
    n.check(p, other.to_vec(), "account_code_size", &[33_068_073])
        .await;
    let p = n
        .deploy(&probe(
            "account_codehash",
            "i32 i32",
            "",
            "(i32.const 0) (i32.const 0x8000)",
            1,
        ))
        .await;
    n.check(p, other.to_vec(), "account_codehash", &[26_078_153])
        .await;
    // TestAccountCodeInkUsage's four figures are 33,068,073 plus the write price of the code
    // copied (5,040 + 30 a byte past 32): here the whole code of `other`, cold.
    let code = n.owner.get_code_at(other).await.unwrap();
    let args = format!(
        "(i32.const 0) (i32.const 0) (i32.const {}) (i32.const 0x8000)",
        code.len()
    );
    let p = n
        .deploy(&probe("account_code", "i32 i32 i32 i32", "i32", &args, 1))
        .await;
    let write = PTR_INK + 30 * (code.len() as u64 - 32);
    n.check(p, other.to_vec(), "account_code", &[33_068_073 + write])
        .await;
    // read_args: the probe's own (calldata of 4, 36 and 100 bytes), TestReadArgsInkUsage.
    let p = n.deploy(&probe("chainid", "", "i64", "", 1)).await;
    for len in [4u64, 36, 100] {
        n.check(
            p,
            vec![7; len as usize],
            "read_args",
            &[HOSTIO_INK + PTR_INK + 30 * len.saturating_sub(32)],
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn math_and_keccak_take_nitros_ink() {
    let n = net().await;
    let two = "(i32.const 0) (i32.const 32)";
    let three = "(i32.const 0) (i32.const 32) (i32.const 64)";
    for (hostio, args, params, data, ink) in [
        (
            "math_div",
            two,
            "i32 i32",
            [word(1), word(3)].concat(),
            43_520,
        ),
        (
            "math_mod",
            two,
            "i32 i32",
            [word(1), word(3)].concat(),
            43_520,
        ),
        (
            "math_add_mod",
            three,
            "i32 i32 i32",
            [word(1), word(3), word(5)].concat(),
            49_560,
        ),
        (
            "math_mul_mod",
            three,
            "i32 i32 i32",
            [word(1), word(3), word(5)].concat(),
            52_660,
        ),
    ] {
        let p = n.deploy(&probe(hostio, params, "", args, 1)).await;
        n.check(p, data, hostio, &[ink]).await;
    }
    // TestPowInkUsage: 1 to the power 2^(8k-1), an exponent of k bytes.
    let pow = n.deploy(&probe("math_pow", "i32 i32", "", two, 1)).await;
    for (bytes, ink) in [(1u32, 61_520), (2, 79_020), (10, 219_020), (32, 604_020)] {
        let exponent = U256::from(1) << (bytes * 8 - 1);
        let data = [word(1), exponent.to_be_bytes::<32>().to_vec()].concat();
        n.check(pow, data, "math_pow", &[ink]).await;
    }
    // TestKeccakInkUsage.
    for (size, ink) in [(10u64, 121_800), (100, 163_800), (1000, 751_800)] {
        let args = format!("(i32.const 0) (i32.const {size}) (i32.const 0x8000)");
        let p = n
            .deploy(&probe("native_keccak256", "i32 i32 i32", "", &args, 1))
            .await;
        n.check(p, vec![0x5a; size as usize], "native_keccak256", &[ink])
            .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_results_and_memory_take_nitros_ink() {
    let n = net().await;
    // TestLogInkUsage: the topics then the data, as the SDK lays them out for emit_log.
    for (topics, size, ink) in [
        (0u64, 0u64, 3_834_454),
        (0, 10, 4_634_454),
        (0, 100, 11_838_194),
        (1, 100, 15_589_954),
        (2, 100, 19_341_714),
        (3, 100, 23_093_474),
        (4, 100, 26_845_234),
    ] {
        let len = 32 * topics + size;
        let args = format!("(i32.const 0) (i32.const {len}) (i32.const {topics})");
        let p = n
            .deploy(&probe("emit_log", "i32 i32 i32", "", &args, 1))
            .await;
        n.check(p, vec![0x33; len as usize], "emit_log", &[ink])
            .await;
    }
    // TestWriteResultInkUsage: empty, and an ABI array of 0 and of 10,000 words.
    for len in [0u64, 64, 32 * 10_000 + 64] {
        let pages = (len / 65_536 + 1) as u32;
        let args = format!("(i32.const 0) (i32.const {len})");
        let p = n
            .deploy(&probe("write_result", "i32 i32", "", &args, pages))
            .await;
        let read = 16_381 + 55 * len.saturating_sub(32);
        n.check(p, vec![], "write_result", &[HOSTIO_INK + 2 * read])
            .await;
    }
    // TestStorageCacheBytes32InkUsage.
    let p = n
        .deploy(&probe(
            "storage_cache_bytes32",
            "i32 i32",
            "",
            "(i32.const 0) (i32.const 32)",
            1,
        ))
        .await;
    n.check(
        p,
        [word(1), word(2)].concat(),
        "storage_cache_bytes32",
        &[HOSTIO_INK + 2 * PTR_INK],
    )
    .await;
    // TestPayForMemoryGrowInkUsage: growing by 0 costs the hostio; by 100 pages from the one
    // the program holds, Nitro's memory model (1,000 a page past the 2 free ones and the
    // exponential term).
    let p = n
        .deploy(&probe("pay_for_memory_grow", "", "", "(i32.const 100)", 1))
        .await;
    n.check(p, vec![], "pay_for_memory_grow", &[9_320_660_000])
        .await;
    let p = n
        .deploy(&probe("pay_for_memory_grow", "", "", "(i32.const 0)", 1))
        .await;
    n.check(p, vec![], "pay_for_memory_grow", &[HOSTIO_INK])
        .await;
}

/// Runs the storage commands of its calldata (1 load slot; 2 cache slot value; 3 flush; 4 flush
/// and clear the cache), then flushes, as an SDK program's entrypoint does on success.
const STORAGE: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "storage_load_bytes32" (func $load (param i32 i32)))
  (import "vm_hooks" "storage_cache_bytes32" (func $store (param i32 i32)))
  (import "vm_hooks" "storage_flush_cache" (func $flush (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (local $p i32) (local $op i32)
    (call $read_args (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
        (local.set $op (i32.load8_u (local.get $p)))
        (if (i32.or (i32.eqz (local.get $op)) (i32.gt_u (local.get $op) (i32.const 4)))
          (then unreachable))
        (if (i32.eq (local.get $op) (i32.const 1))
          (then
            (call $load (i32.add (local.get $p) (i32.const 1)) (i32.const 0x8000))
            (local.set $p (i32.add (local.get $p) (i32.const 33)))))
        (if (i32.eq (local.get $op) (i32.const 2))
          (then
            (call $store (i32.add (local.get $p) (i32.const 1)) (i32.add (local.get $p) (i32.const 33)))
            (local.set $p (i32.add (local.get $p) (i32.const 65)))))
        (if (i32.eq (local.get $op) (i32.const 3))
          (then
            (call $flush (i32.const 0))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (if (i32.eq (local.get $op) (i32.const 4))
          (then
            (call $flush (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))
        (br $next)))
    (call $flush (i32.const 0))
    i32.const 0))"#;

fn load(slot: B256) -> Vec<u8> {
    [&[1u8][..], slot.as_slice()].concat()
}

fn store(slot: B256, value: B256) -> Vec<u8> {
    [&[2u8][..], slot.as_slice(), value.as_slice()].concat()
}

const FLUSH: [u8; 1] = [3];
const CLEAR: [u8; 1] = [4];

#[tokio::test(flavor = "multi_thread")]
async fn storage_takes_nitros_ink() {
    // TestStorageInkCost, its cases in its order on one program (each a transaction, so every
    // slot starts cold).
    let n = net().await;
    let p = n.deploy(STORAGE).await;
    let slot = B256::repeat_byte(0x5e);
    let value = |b: u8| B256::repeat_byte(b);
    let flush = "storage_flush_cache";
    let load_ = "storage_load_bytes32";
    // initialWrite: zero to non-zero, cold (22,100 gas).
    n.check(p, store(slot, value(1)), flush, &[221_068_073])
        .await;
    // readOnce: cold (2,100 gas) plus the EVM API's ink in whole gas (5).
    n.check(p, load(slot), load_, &[21_068_480]).await;
    // readTwice: the second read is the cache's.
    n.check(
        p,
        [load(slot), load(slot)].concat(),
        load_,
        &[21_068_480, 18_480],
    )
    .await;
    // readTwiceWithFlushBetween: a flush keeps the cache.
    let data = [
        load(slot),
        store(slot, value(2)),
        FLUSH.to_vec(),
        load(slot),
    ]
    .concat();
    n.check(p, data, load_, &[21_068_480, 18_480]).await;
    // readTwiceWithClearBetween: a cleared cache reads again, warm.
    let data = [load(slot), CLEAR.to_vec(), load(slot)].concat();
    n.check(p, data, load_, &[21_068_480, 1_068_480]).await;
    // writeNonZeroedSlot: non-zero to non-zero, cold (5,000 gas).
    n.check(p, store(slot, value(3)), flush, &[50_068_073])
        .await;
    // writeTwiceWithFlushBetween: the second flush writes a slot already written (100 gas).
    let data = [store(slot, value(4)), FLUSH.to_vec(), store(slot, value(5))].concat();
    n.check(p, data, flush, &[50_068_073, 1_068_073]).await;
    // writeTwiceWithoutFlushBetween: one flush of the last value.
    let data = [store(slot, value(6)), store(slot, value(7))].concat();
    n.check(p, data, flush, &[50_068_073]).await;
    // writeZeroToNonZeroedSlot.
    n.check(p, store(slot, B256::ZERO), flush, &[50_068_073])
        .await;
    // readZero.
    n.check(p, load(slot), load_, &[21_068_480]).await;
}

/// Calls (`call_contract`, `delegate_call_contract` or `static_call_contract`, by `kind`) the
/// address in the first 20 bytes of its calldata with the rest, then reads all the return data.
fn caller(kind: &str) -> String {
    let (params, value) = if kind == "call_contract" {
        ("i32 i32 i32 i32 i64 i32", "(i32.const 0x7000)")
    } else {
        ("i32 i32 i32 i64 i32", "")
    };
    format!(
        r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (import "vm_hooks" "{kind}" (func $call (param {params}) (result i32)))
  (import "vm_hooks" "read_return_data" (func $read (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (drop (call $call (i32.const 0) (i32.const 20) (i32.sub (local.get $len) (i32.const 20))
      {value} (i64.const -1) (i32.const 0x6000)))
    (drop (call $read (i32.const 0x8000) (i32.const 0) (i32.load (i32.const 0x6000))))
    i32.const 0))"#
    )
}

/// Returns its calldata (Nitro's `write-args.wat` does the same).
const ECHO: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (call $write_result (i32.const 0) (local.get $len))
    i32.const 0))"#;

#[tokio::test(flavor = "multi_thread")]
async fn calls_and_return_data_take_nitros_ink() {
    let n = net().await;
    // TestCallInkUsage/burnGas: ArbosTest.burnArbGas(0) (0x69, warm as every precompile), which
    // uses 3 gas for its argument, through each call hostio.
    let burn = ArbosTest::burnArbGasCall {
        gasAmount: U256::ZERO,
    }
    .abi_encode();
    for kind in [
        "call_contract",
        "delegate_call_contract",
        "static_call_contract",
    ] {
        let p = n.deploy(&caller(kind)).await;
        let data = [ARBOS_TEST.as_slice(), &burn].concat();
        n.check(p, data, kind, &[1_146_395]).await;
    }
    // TestReturnDataInkUsage: the return data of a program echoing N bytes, read whole.
    let echo = n.deploy(ECHO).await;
    let p = n.deploy(&caller("call_contract")).await;
    // The trace's shape (`stylus_tracer_test.go`): the entry with the calldata length, the call
    // record with the callee and the hostios run there as its steps, the return with status 0.
    let trace = n.trace(p, [echo.as_slice(), &[1, 2, 3]].concat()).await;
    let names = |t: &serde_json::Value| -> Vec<String> {
        t.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&trace),
        [
            "user_entrypoint",
            "read_args",
            "call_contract",
            "read_return_data",
            "user_returned"
        ]
    );
    assert_eq!(trace[0]["args"], "0x00000017");
    assert_eq!(trace[4]["outs"], "0x00000000");
    let call = &trace[2];
    assert_eq!(call["address"], serde_json::json!(echo));
    assert_eq!(
        names(&call["steps"]),
        [
            "user_entrypoint",
            "read_args",
            "write_result",
            "user_returned"
        ]
    );
    assert_eq!(call["steps"][0]["args"], "0x00000003");
    for (size, ink) in [
        (10usize, 73_113),
        (100, 75_153),
        (1000, 102_153),
        (10_000, 372_153),
    ] {
        let data = [echo.as_slice(), &vec![0x42; size]].concat();
        n.check(p, data, "read_return_data", &[ink]).await;
    }
}
