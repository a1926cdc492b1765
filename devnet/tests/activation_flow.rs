//! What `cargo stylus check` and `cargo stylus deploy` ask of the chain, on the real compiled
//! verifier: an eth_call that places code at an address by state override and activates it there,
//! `ArbWasm.codehashVersion`, and activation by code (a second copy of activated code runs
//! without its own activation, as on Nitro).

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::state::{AccountOverride, StateOverride};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolError};
use devnet::precompiles::{ArbWasm, ARB_WASM};
use devnet::program::{compress, init_code};
use devnet::testnet::{build_programs, TestConfig, Testnet};
use protocol::bindings::ITaskContract;
use serde_json::json;

/// The revert data of a failed eth_call.
fn revert_data(e: &alloy::transports::RpcError<alloy::transports::TransportErrorKind>) -> Vec<u8> {
    let payload = e.as_error_resp().expect("an error response");
    let data = payload.data.as_ref().expect("revert data").get();
    let hex: String = serde_json::from_str(data).unwrap();
    alloy::hex::decode(hex).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_and_deploy_flow_of_cargo_stylus() {
    let verifier_wasm = build_programs().unwrap().verifier;
    let net = Testnet::spawn(&[]).await.unwrap();
    let (url, signers) = (net.url.clone(), net.signers.clone());
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signers[0].clone()))
        .connect(&url)
        .await
        .unwrap();
    let code = compress(&verifier_wasm);
    let code_hash = keccak256(&code);

    // Not activated anywhere yet.
    let version_of = TransactionRequest::default().with_to(ARB_WASM).with_input(
        ArbWasm::codehashVersionCall {
            codehash: code_hash,
        }
        .abi_encode(),
    );
    let err = provider.call(version_of.clone()).await.unwrap_err();
    assert_eq!(
        revert_data(&err),
        ArbWasm::ProgramNotActivated {}.abi_encode()
    );

    // `cargo stylus check`: a random sender with a huge balance activates the code placed at a
    // random address, all by override; the data fee comes back and nothing is kept.
    let sender = Address::repeat_byte(0x5e);
    let at = Address::repeat_byte(0xc0);
    let overrides: StateOverride = [
        (sender, AccountOverride::default().with_balance(U256::MAX)),
        (at, AccountOverride::default().with_code(code.clone())),
    ]
    .into_iter()
    .collect();
    let activate = TransactionRequest::default()
        .with_from(sender)
        .with_to(ARB_WASM)
        .with_value(U256::from(10u64).pow(U256::from(18)))
        .with_input(ArbWasm::activateProgramCall { program: at }.abi_encode());
    let out = provider
        .call(activate)
        .overrides(overrides)
        .await
        .expect("activation by override succeeds");
    let r = ArbWasm::activateProgramCall::abi_decode_returns(&out).unwrap();
    // The data fee of about 1 MB of estimated machine code (tests/activation_fee.rs checks it
    // to the wei on a small module).
    assert!(
        r.dataFee > U256::from(10u64).pow(U256::from(13)),
        "{}",
        r.dataFee
    );
    assert!(provider.get_code_at(at).await.unwrap().is_empty());
    assert!(provider.call(version_of.clone()).await.is_err());

    // `cargo stylus deploy`: CREATE, then activation; afterwards the code hash has a version.
    let first = devnet::deploy::deploy_wasm(&url, signers[0].clone(), &verifier_wasm)
        .await
        .unwrap();
    let v = provider.call(version_of).await.expect("activated code");
    assert_eq!(
        ArbWasm::codehashVersionCall::abi_decode_returns(&v).unwrap(),
        devnet::program::STYLUS_VERSION
    );

    // A second copy of the same code runs at once; activating it again is "up to date".
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(init_code(&code)))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let second = receipt.contract_address.unwrap();
    assert_ne!(first, second);
    let calldata = alloy::hex::decode("deadbeef").unwrap();
    let copy = provider
        .call(
            TransactionRequest::default()
                .with_to(second)
                .with_input(calldata.clone()),
        )
        .await;
    let original = provider
        .call(
            TransactionRequest::default()
                .with_to(first)
                .with_input(calldata),
        )
        .await;
    // Both copies answer alike (the same program runs), whatever the answer to a bad selector is.
    assert_eq!(
        format!("{:?}", copy.map_err(|e| revert_data(&e))),
        format!("{:?}", original.map_err(|e| revert_data(&e)))
    );
    let again = TransactionRequest::default()
        .with_to(ARB_WASM)
        .with_input(ArbWasm::activateProgramCall { program: second }.abi_encode());
    let err = provider.call(again).await.unwrap_err();
    assert_eq!(revert_data(&err), ArbWasm::ProgramUpToDate {}.abi_encode());

    // Storage overrides: `state` replaces an account's whole storage for the call only.
    let contract = net
        .deploy_task_contract(&TestConfig::with_dev_accounts(&signers, U256::from(1000)))
        .await
        .unwrap();
    let get_config = TransactionRequest::default()
        .with_to(contract)
        .with_input(ITaskContract::getConfigCall {}.abi_encode());
    let owner_of = |out: &[u8]| {
        ITaskContract::getConfigCall::abi_decode_returns(out)
            .unwrap()
            .owner
    };
    let wiped: StateOverride = [(
        contract,
        AccountOverride {
            state: Some(Default::default()),
            ..Default::default()
        },
    )]
    .into_iter()
    .collect();
    let err = provider
        .call(get_config.clone())
        .overrides(wiped)
        .await
        .unwrap_err();
    assert_eq!(
        revert_data(&err),
        ITaskContract::NotInitialized {}.abi_encode(),
        "storage replaced by nothing: not constructed"
    );
    let out = provider.call(get_config).await.unwrap();
    assert_eq!(
        owner_of(&out),
        signers[0].address(),
        "the real state is kept"
    );

    // Overrides the devnet cannot honour are refused with a clear message.
    let call = json!({"to": format!("{contract}"), "data": "0x"});
    let both = json!({ format!("{contract}"): {"state": {}, "stateDiff": {}} });
    let err = provider
        .raw_request::<_, serde_json::Value>("eth_call".into(), (call.clone(), "latest", both))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("either state or stateDiff"),
        "{err}"
    );
    let moved = json!({ "0x0000000000000000000000000000000000000001": {"movePrecompileToAddress": format!("{contract}")} });
    let err = provider
        .raw_request::<_, serde_json::Value>("eth_call".into(), (call.clone(), "latest", moved))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("movePrecompileToAddress"), "{err}");
    let bad = json!({ format!("{contract}"): {"balance": "lots"} });
    let err = provider
        .raw_request::<_, serde_json::Value>("eth_call".into(), (call, "latest", bad))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("state overrides"), "{err}");
}
