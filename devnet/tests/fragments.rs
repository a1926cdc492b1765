//! ArbOS 60's fragmented programs, built as cargo-stylus 0.10 builds them (`EF F0 01` fragments of
//! the compressed WASM, an `EF F0 02` root naming them), activated and run; Nitro's limits on
//! roots (`arbos/programs/programs.go`, `getWasmFromRootStylus`); and the recent-programs
//! discount (a program called again in the same block pays the cached init price).

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use devnet::precompiles::{ArbWasm, ARB_WASM};
use devnet::program::{compress, init_code, MAX_CODE_SIZE};
use devnet::testnet::{Testnet, RETURNING_PROGRAM};

/// 40 KB of incompressible bytes (xorshift).
fn blob() -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..40_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A program holding the blob, which answers with the byte at the offset its first two calldata
/// bytes name (little-endian).
fn big_program() -> Vec<u8> {
    let blob: String = blob().iter().map(|b| format!("\\{b:02x}")).collect();
    wat::parse_str(format!(
        r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "write_result" (func $write_result (param i32 i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 1024) "{blob}")
  (func (export "user_entrypoint") (param i32) (result i32)
    (call $read_args (i32.const 0))
    (call $write_result
      (i32.add (i32.const 1024) (i32.load16_u (i32.const 0)))
      (i32.const 1))
    i32.const 0))"#
    ))
    .unwrap()
}

fn root(wasm_len: u32, fragments: &[Address]) -> Vec<u8> {
    let mut code = vec![0xef, 0xf0, 0x02, 0x00];
    code.extend(wasm_len.to_be_bytes());
    for f in fragments {
        code.extend(f.as_slice());
    }
    code
}

#[tokio::test(flavor = "multi_thread")]
async fn a_program_over_24_kib_runs_from_its_fragments() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(net.signers[0].clone()))
        .connect(&net.url)
        .await
        .unwrap();
    let create = async |code: Vec<u8>| -> Address {
        let r = provider
            .send_transaction(
                TransactionRequest::default()
                    .with_deploy_code(init_code(&code))
                    .with_gas_limit(10_000_000),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status(), "CREATE of {} bytes", code.len());
        r.contract_address.unwrap()
    };
    let activate = |program: Address| {
        TransactionRequest::default()
            .with_to(ARB_WASM)
            .with_value(U256::from(10u64).pow(U256::from(17)))
            .with_input(ArbWasm::activateProgramCall { program }.abi_encode())
            .with_gas_limit(20_000_000)
    };
    let wasm = big_program();
    // Too big for one program: the compressed WASM is over 24 KiB.
    let compressed = compress(&wasm)[4..].to_vec();
    assert!(compressed.len() + 4 > MAX_CODE_SIZE, "{}", compressed.len());
    // Split as cargo-stylus splits: pieces of 24,576 - 3 bytes, each behind EF F0 01.
    let mut fragments = Vec::new();
    let mut sizes = Vec::new();
    for piece in compressed.chunks(MAX_CODE_SIZE - 3) {
        let code = [&[0xef, 0xf0, 0x01][..], piece].concat();
        sizes.push(code.len());
        fragments.push(create(code).await);
    }
    assert_eq!(fragments.len(), 2);

    // A fragment cannot be activated by itself; the code is read, so the rest of the gas stays.
    let err = provider.call(activate(fragments[0])).await.unwrap_err();
    assert!(err.to_string().contains("execution reverted"), "{err}");

    // A root naming three fragments, or the wrong length, is refused.
    let three = create(root(
        wasm.len() as u32,
        &[fragments[0], fragments[1], fragments[1]],
    ))
    .await;
    let r = provider
        .send_transaction(activate(three))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(!r.status());
    assert!(r.gas_used < 5_000_000, "{}", r.gas_used);
    let short = create(root(wasm.len() as u32 - 1, &fragments)).await;
    assert!(provider.call(activate(short)).await.is_err());

    // The root: activation reads both fragments (cold: 2,600 each, plus 3 gas a word of code).
    let program = create(root(wasm.len() as u32, &fragments)).await;
    let reads: u64 = sizes
        .iter()
        .map(|s| 2_600 + 3 * (*s as u64).div_ceil(32))
        .sum();
    let good = provider
        .send_transaction(activate(program))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(good.status());
    // Its gas: calldata, the precompile (803), the fixed 1,659,168, the two fragment reads, the
    // compilation (28 gas a microsecond: WASM bytes, 40,000 data bytes, one page, and the
    // entrypoint's 63 operators after instrumentation: 10 of its own, 3 basic blocks of 12
    // metering operators, 17 of stack accounting), the event and the result.
    let len = wasm.len() as u64;
    let compile =
        28 * (len * 31_733 / 100_000 + 40_000 * 17_376 / 100_000 + 2_217 + 63 * 535 / 1_000);
    let input = ArbWasm::activateProgramCall { program }.abi_encode();
    assert_eq!(
        good.gas_used,
        devnet::gas::intrinsic_gas(&input, false) + 803 + 1_659_168 + reads + compile + 2_149 + 6
    );
    // It runs: byte 0x1234 of the blob.
    let out = provider
        .call(
            TransactionRequest::default()
                .with_to(program)
                .with_input(vec![0x34, 0x12]),
        )
        .await
        .unwrap();
    assert_eq!(out.to_vec(), vec![blob()[0x1234]]);
}

/// ArbOS 60: a program called again in the same block pays only the cached init price
/// (`MinInitGas` 69 x 128 and its `init_cost` left out); the next block starts afresh.
#[tokio::test(flavor = "multi_thread")]
async fn a_program_called_again_in_the_block_pays_the_cached_price() {
    // Interval blocks, sealed by hand (evm_mine) well before the hour is up.
    let net = Testnet::spawn_configured(&[], Some(3_600), 0)
        .await
        .unwrap();
    let me = net.signers[0].clone();
    let wasm = wat::parse_str(RETURNING_PROGRAM).unwrap();
    // Deployment and activation land in one block, sealed here.
    let url = net.url.clone();
    let deploy = tokio::spawn(async move {
        devnet::deploy::deploy_wasm(&url, me, &wasm)
            .await
            .map(|a| (a, wasm))
    });
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(net.signers[0].clone()))
        .connect(&net.url)
        .await
        .unwrap();
    let mine = async || {
        provider
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .unwrap();
    };
    let (program, wasm) = loop {
        mine().await;
        if deploy.is_finished() {
            break deploy.await.unwrap().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut nonce = provider
        .get_transaction_count(net.signers[0].address())
        .await
        .unwrap();
    let mut call = async || {
        let tx = TransactionRequest::default()
            .with_to(program)
            .with_nonce(nonce)
            .with_gas_limit(200_000);
        nonce += 1;
        provider.send_transaction(tx).await.unwrap()
    };
    // Two calls in one block, one in the next.
    let first = call().await;
    let second = call().await;
    mine().await;
    let third = call().await;
    mine().await;
    let first = first.get_receipt().await.unwrap().gas_used;
    let second = second.get_receipt().await.unwrap().gas_used;
    let third = third.get_receipt().await.unwrap().gas_used;
    let init_cost = 8_252 / 1_000 + 2 * 1_059 / 1_000 + wasm.len() as u64 * 1_286 / 10_000;
    assert_eq!(first - second, 69 * 128 + init_cost);
    assert_eq!(third, first);
}

/// Roots Nitro refuses before reading anything (`getWasmFromRootStylus`), and fragments that
/// are not fragments: each refused with Nitro's words, none inflating more than the root claims.
#[test]
fn malformed_roots_and_fragments_are_refused() {
    use devnet::program::{assemble, root_of, ActivationError, Root};
    let a = Address::repeat_byte(1);
    // Not a whole number of addresses.
    let mut ragged = root(100, &[a]);
    ragged.pop();
    assert_eq!(
        root_of(&ragged).unwrap().unwrap_err().to_string(),
        "invalid wasm: malformed root program"
    );
    assert!(
        root_of(&compress(b"\0asm")).is_none(),
        "a classic program is no root"
    );
    let refused = |root: &Root, codes: &[Vec<u8>]| {
        let codes: Vec<_> = codes.iter().cloned().map(Into::into).collect();
        assemble(root, &codes).unwrap_err()
    };
    let piece = [&[0xef, 0xf0, 0x01][..], &compress(b"\0asm")[4..]].concat();
    let zero = root_of(&root(8, &[])).unwrap().unwrap();
    assert_eq!(
        refused(&zero, &[]).to_string(),
        "invalid wasm: fragment count cannot be zero"
    );
    let huge = root_of(&root(128 * 1024 + 1, &[a])).unwrap().unwrap();
    assert_eq!(
        refused(&huge, std::slice::from_ref(&piece)).to_string(),
        "invalid wasm: decompressedLength 131073 is greater then MaxWasmSize 131072"
    );
    // A fragment address whose code is a classic program, not a fragment.
    let one = root_of(&root(8, &[a])).unwrap().unwrap();
    let e = refused(&one, &[compress(b"\0asm")]);
    assert!(e.to_string().ends_with("holds no Stylus fragment"), "{e}");
    assert!(!e.takes_all_gas());
    // A root that claims fewer bytes than its fragments inflate to: the mismatch, found after
    // at most one byte past the claim.
    let short = root_of(&root(3, &[a])).unwrap().unwrap();
    assert_eq!(
        refused(&short, std::slice::from_ref(&piece)),
        ActivationError::Fragments(
            "invalid wasm: decompressed length 4 does not match expected length 3".into()
        )
    );
    // The same root with the right length assembles.
    let right = root_of(&root(4, &[a])).unwrap().unwrap();
    assert_eq!(assemble(&right, &[piece.into()]).unwrap(), b"\0asm");
}
