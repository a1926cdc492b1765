//! ArbGasInfo and ArbOwnerPublic answer what the devnet charges and who owns it, and ArbWasm
//! what it knows of programs, priced as Nitro prices precompile views (800 to open the ArbOS state, 800 per ArbOS storage read, 3 a word of
//! arguments and results).

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolCall;
use devnet::precompiles::{
    ArbGasInfo, ArbOwnerPublic, ArbWasm, ARB_GAS_INFO, ARB_OWNER_PUBLIC, ARB_WASM, CHAIN_OWNER,
};
use devnet::testnet::{gas_used_for_l1, Testnet, RETURNING_PROGRAM};

/// Calls ArbGasInfo.getCurrentTxL1GasFees() and logs the answer (no topics).
const FEE_LOGGER: &str = r#"(module
  (import "vm_hooks" "call_contract"
    (func $call (param i32 i32 i32 i32 i64 i32) (result i32)))
  (import "vm_hooks" "read_return_data" (func $read (param i32 i32 i32) (result i32)))
  (import "vm_hooks" "emit_log" (func $log (param i32 i32 i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  ;; ArbGasInfo's address at 0, the selector at 20, no value at 64.
  (data (i32.const 19) "\6c")
  (data (i32.const 20) "\c6\f7\de\0e")
  (func (export "user_entrypoint") (param i32) (result i32)
    (drop (call $call (i32.const 0) (i32.const 20) (i32.const 4) (i32.const 64)
      (i64.const 100000) (i32.const 96)))
    (drop (call $read (i32.const 128) (i32.const 0) (i32.const 32)))
    (call $log (i32.const 128) (i32.const 32) (i32.const 0))
    i32.const 0))"#;

#[tokio::test(flavor = "multi_thread")]
async fn gas_info_and_owner_views() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    // Deployed first: the provider below counts nonces from here on.
    let logger =
        devnet::deploy::deploy_wasm(&net.url, me.clone(), &wat::parse_str(FEE_LOGGER).unwrap())
            .await
            .unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(me.clone()))
        .connect(&net.url)
        .await
        .unwrap();
    let call = async |to: Address, input: Vec<u8>| -> Bytes {
        provider
            .call(TransactionRequest::default().with_to(to).with_input(input))
            .await
            .unwrap()
    };
    // A successful transaction's receipt and its L1 poster gas.
    let mined = async |tx: TransactionRequest| -> (TransactionReceipt, u64) {
        let r = provider
            .send_transaction(tx)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        let l1 = gas_used_for_l1(&provider, r.transaction_hash)
            .await
            .unwrap();
        (r, l1)
    };
    // The view's price: a transaction's L2 gas less its intrinsic gas.
    let price = async |to: Address, input: Vec<u8>| -> u64 {
        let intrinsic = devnet::gas::intrinsic_gas(&input, false);
        let (r, l1) = mined(TransactionRequest::default().with_to(to).with_input(input)).await;
        r.gas_used - l1 - intrinsic
    };

    // The devnet's prices: base fee 0.1 gwei, L1 price 0.1 gwei a unit (16 units a byte).
    let gwei_tenth = U256::from(100_000_000u64);
    let out = call(ARB_GAS_INFO, ArbGasInfo::getPricesInWeiCall {}.abi_encode()).await;
    let p = ArbGasInfo::getPricesInWeiCall::abi_decode_returns(&out).unwrap();
    assert_eq!(
        (p._0, p._1, p._2, p._3, p._4, p._5),
        (
            gwei_tenth * U256::from(16 * 140),
            gwei_tenth * U256::from(16),
            gwei_tenth * U256::from(20_000),
            gwei_tenth,
            U256::ZERO,
            gwei_tenth
        )
    );
    let out = call(
        ARB_GAS_INFO,
        ArbGasInfo::getL1BaseFeeEstimateCall {}.abi_encode(),
    )
    .await;
    assert_eq!(
        ArbGasInfo::getL1BaseFeeEstimateCall::abi_decode_returns(&out).unwrap(),
        gwei_tenth
    );
    let out = call(
        ARB_GAS_INFO,
        ArbGasInfo::getGasAccountingParamsCall {}.abi_encode(),
    )
    .await;
    let g = ArbGasInfo::getGasAccountingParamsCall::abi_decode_returns(&out).unwrap();
    assert_eq!(
        (g._0, g._1, g._2),
        (
            U256::from(7_000_000),
            U256::from(32_000_000),
            U256::from(32_000_000)
        )
    );
    // Prices: opening + two reads + six result words; one read + one word.
    assert_eq!(
        price(ARB_GAS_INFO, ArbGasInfo::getPricesInWeiCall {}.abi_encode()).await,
        800 + 1_600 + 18
    );
    assert_eq!(
        price(
            ARB_GAS_INFO,
            ArbGasInfo::getMinimumGasPriceCall {}.abi_encode()
        )
        .await,
        800 + 800 + 3
    );

    // getCurrentTxL1GasFees, asked by a program inside a transaction: that transaction's L1 gas
    // at the base fee.
    let (r, l1) = mined(TransactionRequest::default().with_to(logger)).await;
    assert!(l1 > 0);
    let logged = U256::from_be_slice(r.logs()[0].data().data.as_ref());
    assert_eq!(logged, U256::from(l1) * gwei_tenth);

    // ArbOwnerPublic: development account 0 owns the chain.
    let out = call(
        ARB_OWNER_PUBLIC,
        ArbOwnerPublic::getAllChainOwnersCall {}.abi_encode(),
    )
    .await;
    assert_eq!(
        ArbOwnerPublic::getAllChainOwnersCall::abi_decode_returns(&out).unwrap(),
        vec![CHAIN_OWNER]
    );
    for (who, owner) in [(CHAIN_OWNER, true), (net.signers[1].address(), false)] {
        let out = call(
            ARB_OWNER_PUBLIC,
            ArbOwnerPublic::isChainOwnerCall { addr: who }.abi_encode(),
        )
        .await;
        assert_eq!(
            ArbOwnerPublic::isChainOwnerCall::abi_decode_returns(&out).unwrap(),
            owner
        );
    }
    let out = call(
        ARB_OWNER_PUBLIC,
        ArbOwnerPublic::getBrotliCompressionLevelCall {}.abi_encode(),
    )
    .await;
    assert_eq!(
        ArbOwnerPublic::getBrotliCompressionLevelCall::abi_decode_returns(&out).unwrap(),
        1
    );
    // The owners: opening, the set's size and its one member, three result words (offset,
    // length, address).
    assert_eq!(
        price(
            ARB_OWNER_PUBLIC,
            ArbOwnerPublic::getAllChainOwnersCall {}.abi_encode()
        )
        .await,
        800 + 1_600 + 9
    );
    // ArbOS 60's: two fragments per program, tips not collected.
    let out = call(
        ARB_OWNER_PUBLIC,
        ArbOwnerPublic::getMaxStylusContractFragmentsCall {}.abi_encode(),
    )
    .await;
    assert_eq!(
        ArbOwnerPublic::getMaxStylusContractFragmentsCall::abi_decode_returns(&out).unwrap(),
        2
    );
    let out = call(
        ARB_OWNER_PUBLIC,
        ArbOwnerPublic::getCollectTipsCall {}.abi_encode(),
    )
    .await;
    assert!(!ArbOwnerPublic::getCollectTipsCall::abi_decode_returns(&out).unwrap());
    // A view sent value reverts and takes all the gas, as Nitro's dispatch does.
    let paid = provider
        .send_transaction(
            TransactionRequest::default()
                .with_to(ARB_GAS_INFO)
                .with_value(U256::from(1))
                .with_gas_limit(100_000)
                .with_input(ArbGasInfo::getMinimumGasPriceCall {}.abi_encode()),
        )
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(!paid.status());
    assert_eq!(paid.gas_used, 100_000);
    // A method ArbOwnerPublic does not have reverts.
    let selector = alloy::primitives::keccak256("noSuchMethod()")[..4].to_vec();
    assert!(provider
        .call(
            TransactionRequest::default()
                .with_to(ARB_OWNER_PUBLIC)
                .with_input(selector)
        )
        .await
        .is_err());
}

/// NodeInterface.gasEstimateComponents through eth_call: the estimate eth_estimateGas gives, its
/// L1 part, the base fee and the L1 price.
#[tokio::test(flavor = "multi_thread")]
async fn node_interface_splits_an_estimate() {
    use devnet::node_interface::{NodeInterface, NODE_INTERFACE};
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let from = net.signers[0].address();
    let to = net.signers[1].address();
    let out = provider
        .call(
            TransactionRequest::default()
                .with_from(from)
                .with_to(NODE_INTERFACE)
                .with_input(
                    NodeInterface::gasEstimateComponentsCall {
                        to,
                        contractCreation: false,
                        data: Bytes::new(),
                    }
                    .abi_encode(),
                ),
        )
        .await
        .unwrap();
    let c = NodeInterface::gasEstimateComponentsCall::abi_decode_returns(&out).unwrap();
    let estimate = provider
        .estimate_gas(TransactionRequest::default().with_from(from).with_to(to))
        .await
        .unwrap();
    assert_eq!(c.gasEstimate, estimate);
    // A plain transfer: 21,000 plus the L1 part.
    assert_eq!(c.gasEstimate, 21_000 + c.gasEstimateForL1);
    assert!(c.gasEstimateForL1 > 0);
    assert_eq!(c.baseFee, U256::from(100_000_000u64));
    assert_eq!(c.l1BaseFeeEstimate, U256::from(100_000_000u64));
    // The virtual contract itself cannot be estimated.
    let err = provider
        .call(
            TransactionRequest::default()
                .with_to(NODE_INTERFACE)
                .with_input(
                    NodeInterface::gasEstimateComponentsCall {
                        to: NODE_INTERFACE,
                        contractCreation: false,
                        data: Bytes::new(),
                    }
                    .abi_encode(),
                ),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot estimate virtual contract"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn arb_wasm_views_pay_for_what_they_read() {
    // No L1 gas: a transaction's gas is its intrinsic gas plus the view's.
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let me = net.signers[0].clone();
    let wasm = wat::parse_str(RETURNING_PROGRAM).unwrap();
    let program = devnet::deploy::deploy_wasm(&net.url, me.clone(), &wasm)
        .await
        .unwrap();
    let codehash = alloy::primitives::keccak256(devnet::program::compress(&wasm));
    let provider = net.wallet(&me).unwrap();
    let price = async |input: Vec<u8>| -> u64 {
        let intrinsic = devnet::gas::intrinsic_gas(&input, false);
        let r = provider
            .send_transaction(
                TransactionRequest::default()
                    .with_to(ARB_WASM)
                    .with_input(input),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        r.gas_used - intrinsic
    };
    // `precompiles/ArbWasm.go`: opening the state (800), 3 a word of arguments and result, the
    // parameters (100), the program's record (800), and for programVersion the address's code
    // hash (2,600 whether or not the account is warm).
    assert_eq!(
        price(ArbWasm::stylusVersionCall {}.abi_encode()).await,
        800 + 100 + 3
    );
    assert_eq!(
        price(ArbWasm::codehashVersionCall { codehash }.abi_encode()).await,
        800 + 3 + 100 + 800 + 3
    );
    assert_eq!(
        price(ArbWasm::codehashAsmSizeCall { codehash }.abi_encode()).await,
        800 + 3 + 100 + 800 + 3
    );
    assert_eq!(
        price(ArbWasm::programVersionCall { program }.abi_encode()).await,
        800 + 3 + 2_600 + 100 + 800 + 3
    );
}
