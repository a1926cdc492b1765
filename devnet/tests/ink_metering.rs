//! Execution is metered operator by operator as Nitro meters it: small programs read
//! `evm_ink_left` before and after a piece of code and return the difference, which must equal
//! the figure worked by hand from Nitro's tables (`crates/prover/src/programs/meter.rs`
//! `pricing_v1`, a 2,450-ink header per basic block, `dynamic.rs` 100 ink a byte for
//! `memory.fill`, `heap.rs` and `arbos/programs/memory.go` for `memory.grow`, the hostio's own
//! 8,400 ink from `arbutil/src/pricing.rs`).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use devnet::testnet::{sign_raw, Testnet};

/// Imports and the argument reading every measuring program shares; `$n` is the first byte of
/// the calldata, `$before` the ink left after the first `evm_ink_left`.
const HEAD: &str = r#"
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
  (import "vm_hooks" "evm_ink_left" (func $ink_left (result i64)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)"#;

/// Stores `$before - ink now` at 0 and returns those 8 bytes.
const TAIL: &str = r#"
    (i64.store (i32.const 0) (i64.sub (local.get $before) (call $ink_left)))
    (call $write_result (i32.const 0) (i32.const 8))
    i32.const 0"#;

fn program(body: &str) -> String {
    format!(
        r#"(module {HEAD}
  (func (export "user_entrypoint") (param $len i32) (result i32) (local $n i32) (local $before i64)
    (call $read_args (i32.const 0))
    (local.set $n (i32.load8_u (i32.const 0)))
    (local.set $before (call $ink_left))
    {body}
    {TAIL}))"#
    )
}

/// Counts `$n` down to zero.
fn count_down() -> String {
    program(
        r#"(block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))"#,
    )
}

async fn measure(url: &str, program: Address, n: u8) -> u64 {
    let provider = ProviderBuilder::new().connect(url).await.unwrap();
    let out = provider
        .call(
            TransactionRequest::default()
                .with_to(program)
                .with_input(vec![n]),
        )
        .await
        .unwrap();
    u64::from_le_bytes(out[..8].try_into().unwrap())
}

async fn deploy(net: &Testnet, wat: &str) -> Address {
    devnet::deploy::deploy_wasm(
        &net.url,
        net.signers[0].clone(),
        &wat::parse_str(wat).unwrap(),
    )
    .await
    .unwrap()
}

const HEADER: u64 = 2_450;
const HOSTIO: u64 = 8_400;
/// Every measurement ends with the segment `i32.const 0, local.get $before, call $ink_left`
/// and that hostio's own price.
const CLOSING: u64 = (1 + 75 + 3_800) + HEADER + HOSTIO;

#[tokio::test(flavor = "multi_thread")]
async fn loops_pay_each_operator_and_each_basic_block() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let counter = deploy(&net, &count_down()).await;
    // Before the loop: `local.set $before, block, loop` (the loop ends a basic block).
    let entry = 210 + 1 + 1 + HEADER;
    // One test of the counter: `local.get, i32.eqz, br_if`.
    let test = 75 + 170 + 765 + HEADER;
    // One step down: `local.get, i32.const, i32.sub, local.set, br`.
    let step = 75 + 1 + 70 + 210 + 765 + HEADER;
    assert_eq!(test + step, 7_031);
    for n in [0u8, 1, 100, 255] {
        let expected = entry + u64::from(n) * (test + step) + test + CLOSING;
        assert_eq!(measure(&net.url, counter, n).await, expected, "n = {n}");
    }
    assert_eq!(measure(&net.url, counter, 0).await, 20_848);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_fill_pays_per_byte_and_memory_grow_pays_the_memory_model() {
    let net = Testnet::spawn(&[]).await.unwrap();
    // Fills 256 x $n bytes: one basic block from `local.set $before` to the closing call.
    let filler = deploy(
        &net,
        &program(
            "(memory.fill (i32.const 64) (i32.const 7) (i32.shl (local.get $n) (i32.const 8)))",
        ),
    )
    .await;
    let fixed = 210 + 1 + 1 + 75 + 1 + 70 + 950 + (1 + 75 + 3_800) + HEADER + HOSTIO;
    for n in [0u8, 1, 200] {
        let expected = fixed + 100 * 256 * u64::from(n);
        assert_eq!(measure(&net.url, filler, n).await, expected, "n = {n}");
    }
    // Grows by $n pages from 1: `memory.grow` costs 8,050 ink, then the page price through
    // pay_for_memory_grow (its call is inserted, not metered): 2 pages free per transaction,
    // 1,000 gas a page beyond, plus the exponential term (still 0 at 4 pages).
    let grower = deploy(&net, &program("(drop (memory.grow (local.get $n)))")).await;
    let fixed = 210 + 75 + 8_050 + 9 + (1 + 75 + 3_800) + HEADER + HOSTIO;
    assert_eq!(measure(&net.url, grower, 0).await, fixed + HOSTIO);
    assert_eq!(measure(&net.url, grower, 1).await, fixed);
    assert_eq!(
        measure(&net.url, grower, 3).await,
        fixed + 2 * 1_000 * 10_000
    );
    // Past the 128-page limit the memory model's price is unpayable: out of gas, not a grow.
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let err = provider
        .call(
            TransactionRequest::default()
                .with_to(grower)
                .with_input(vec![200])
                .with_gas_limit(30_000_000),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("out of gas"), "{err}");
}

/// Running out of ink and out of stack both take all the gas (`programs.go`: ErrOutOfGas,
/// vm.ErrDepth); a trap returns what is left, like a revert.
#[tokio::test(flavor = "multi_thread")]
async fn exhausted_ink_and_stack_take_all_the_gas_a_trap_does_not() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let counter = deploy(&net, &count_down()).await;
    let endless = deploy(
        &net,
        r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32) (loop $l (br $l)) i32.const 0))"#,
    )
    .await;
    let recursive = deploy(
        &net,
        r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func $deeper (call $deeper))
  (func (export "user_entrypoint") (param i32) (result i32) (call $deeper) i32.const 0))"#,
    )
    .await;
    let trapping = deploy(
        &net,
        r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32) unreachable))"#,
    )
    .await;
    let mut nonce = provider.get_transaction_count(me.address()).await.unwrap();
    let limit = 400_000u64;
    let mut send = async |to: Address, input: Vec<u8>| {
        let tx = TransactionRequest::default()
            .with_to(to)
            .with_input(Bytes::from(input))
            .with_nonce(nonce)
            .with_gas_limit(limit);
        nonce += 1;
        let raw = sign_raw(&me, tx).await.unwrap();
        provider
            .send_raw_transaction(&raw)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
    };
    let fine = send(counter, vec![255]).await;
    assert!(fine.status());
    assert!(fine.gas_used < 100_000, "{}", fine.gas_used);
    let ink = send(endless, vec![]).await;
    assert!(!ink.status());
    assert_eq!(ink.gas_used, limit, "out of ink takes all the gas");
    let stack = send(recursive, vec![]).await;
    assert!(!stack.status());
    assert_eq!(stack.gas_used, limit, "out of stack takes all the gas");
    let trap = send(trapping, vec![]).await;
    assert!(!trap.status());
    assert!(
        trap.gas_used < 100_000,
        "a trap keeps the rest: {}",
        trap.gas_used
    );
    // And the reasons, through eth_call.
    let reason = |to: Address, gas: u64| {
        let provider = provider.clone();
        async move {
            provider
                .call(
                    TransactionRequest::default()
                        .with_to(to)
                        .with_input(vec![255])
                        .with_gas_limit(gas),
                )
                .await
                .unwrap_err()
                .to_string()
        }
    };
    let e = reason(endless, limit).await;
    assert!(e.contains("out of gas"), "{e}");
    let e = reason(recursive, limit).await;
    assert!(e.contains("out of stack"), "{e}");
}
