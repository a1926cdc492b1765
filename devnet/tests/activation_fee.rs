//! Activation costs what Nitro charges: `ArbWasm.activateProgram`'s fixed gas, the module's
//! compilation gas and the data fee (`precompiles/ArbWasm.go`, `arbos/programs/programs.go`,
//! `data_pricer.go`, `crates/prover/src/programs/mod.rs`), worked by hand here for a small module.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolError, SolEvent};
use devnet::precompiles::{ArbWasm, ARB_WASM, NETWORK_FEE_ACCOUNT};
use devnet::program::{compress, init_code};
use devnet::testnet::Testnet;

fn module(entry_body: &str, extra: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param i32) (result i32) {entry_body}) {extra})"#
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn activation_pays_nitros_gas_and_data_fee() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let me = net.signers[0].clone();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(me.clone()))
        .connect(&net.url)
        .await
        .unwrap();
    // A transaction's receipt, once mined.
    let mined = async |tx: TransactionRequest| {
        provider
            .send_transaction(tx)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
    };
    let create = async |wasm: &[u8]| -> Address {
        provider
            .send_transaction(
                TransactionRequest::default().with_deploy_code(init_code(&compress(wasm))),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
            .contract_address
            .unwrap()
    };
    let activate = |program: Address, value: U256| {
        TransactionRequest::default()
            .with_to(ARB_WASM)
            .with_value(value)
            .with_input(ArbWasm::activateProgramCall { program }.abi_encode())
            .with_gas_limit(3_000_000)
    };
    let wasm = module("i32.const 0", "");
    let program = create(&wasm).await;

    // The machine-code estimate (`binary.rs`): one function of type (i32) -> i32.
    let len = wasm.len() as u64;
    let asm = 512_000 + 996_829 / 1_000 + 2 * 11_416 / 1_000 + len * 62_628 / 10_000;
    // The first activation on a fresh chain: the demand is this module alone.
    let (_, fee) = devnet::gas::data_fee(0, 0, asm as u32, 2_000_000_000);
    let fee = U256::from(fee);
    assert!(fee > U256::from(4u64 * 10u64.pow(13)), "{fee}");

    // Sending nothing: `ProgramInsufficientValue(0, fee)`, which names the fee.
    let err = provider
        .call(activate(program, U256::ZERO))
        .await
        .unwrap_err();
    let data = err.as_error_resp().unwrap().as_revert_data().unwrap();
    assert_eq!(
        data.as_ref(),
        ArbWasm::ProgramInsufficientValue {
            have: U256::ZERO,
            want: fee
        }
        .abi_encode()
    );
    // One wei short: the transaction fails, keeping the gas left; nothing is activated.
    let short = mined(activate(program, fee - U256::from(1))).await;
    assert!(!short.status());
    assert!(short.gas_used < 2_000_000, "{}", short.gas_used);

    // Enough, with a margin: the fee is taken, the margin comes back.
    let margin = U256::from(10u64.pow(15));
    let before = provider.get_balance(me.address()).await.unwrap();
    let network_before = provider.get_balance(NETWORK_FEE_ACCOUNT).await.unwrap();
    let tx = activate(program, fee + margin);
    let input = tx.input.input().cloned().unwrap_or_default();
    let receipt = mined(tx).await;
    assert!(receipt.status());
    let after = provider.get_balance(me.address()).await.unwrap();
    let paid_gas = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(before - after, fee + paid_gas);
    assert_eq!(provider.get_balance(ARB_WASM).await.unwrap(), U256::ZERO);
    // The fee and the gas (all L2 here: no L1 price) went to the network fee account.
    assert_eq!(
        provider.get_balance(NETWORK_FEE_ACCOUNT).await.unwrap() - network_before,
        fee + paid_gas
    );

    // Its gas: the calldata, the precompile's opening of the ArbOS state and copying of the
    // argument (800 + 3), the fixed 1,659,168, the compilation (28 gas a microsecond: the WASM's
    // bytes, 2,217 for its one page, 0.535 per operator of the 31 the entrypoint has after
    // instrumentation), the event (375 + 2 x 375 + 8 x 128) and copying the two-word result.
    let compile = 28 * (len * 31_733 / 100_000 + 2_217 + 31 * 535 / 1_000);
    let expected =
        devnet::gas::intrinsic_gas(&input, false) + 803 + 1_659_168 + compile + 2_149 + 6;
    assert_eq!(receipt.gas_used, expected);
    let log = receipt
        .logs()
        .iter()
        .find(|l| l.address() == ARB_WASM)
        .expect("ProgramActivated");
    let code_hash = keccak256(compress(&wasm));
    assert_eq!(
        log.topics(),
        &[ArbWasm::ProgramActivated::SIGNATURE_HASH, code_hash]
    );
    let event = ArbWasm::ProgramActivated::decode_log_data(log.data()).unwrap();
    assert_eq!(
        (event.program, event.dataFee, event.version),
        (program, fee, 2)
    );

    // The next activation pays more a byte: the demand still holds the first one's bytes.
    let second = create(&module("i32.const 1", "")).await;
    let err = provider
        .call(activate(second, U256::ZERO))
        .await
        .unwrap_err();
    let data = err.as_error_resp().unwrap().as_revert_data().unwrap();
    let want = ArbWasm::ProgramInsufficientValue::abi_decode(&data)
        .unwrap()
        .want;
    assert!(want > fee, "{want} after {fee}");

    // A module the parser refuses takes all the gas; code that is not Stylus does not.
    let locals = "(local i32)".repeat(349);
    let refused = create(&module("i32.const 0", &format!("(func {locals})"))).await;
    let r = mined(activate(refused, fee * U256::from(2))).await;
    assert!(!r.status());
    assert_eq!(r.gas_used, 3_000_000);
    let evm = provider
        .send_transaction(
            TransactionRequest::default().with_deploy_code(Bytes::from_static(&[
                0x60, 0x01, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3,
            ])),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .contract_address
        .unwrap();
    let err = provider.call(activate(evm, U256::ZERO)).await.unwrap_err();
    let data = err.as_error_resp().unwrap().as_revert_data().unwrap();
    assert_eq!(data.as_ref(), ArbWasm::ProgramNotWasm {}.abi_encode());
    let r = mined(activate(evm, U256::ZERO)).await;
    assert!(!r.status());
    assert!(r.gas_used < 2_000_000, "{}", r.gas_used);
}
