//! Bad input gets a JSON-RPC error with a clear message, and the devnet keeps serving.

use std::io::{Read, Write};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{sign_raw, Testnet, CHAIN_ID};

async fn signed(signer: &PrivateKeySigner, nonce: u64, chain_id: u64, value: U256) -> String {
    let tx = TransactionRequest::default()
        .with_to(Address::repeat_byte(0x55))
        .with_value(value)
        .with_nonce(nonce)
        .with_chain_id(chain_id);
    format!(
        "0x{}",
        alloy::hex::encode(sign_raw(signer, tx).await.unwrap())
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_clear_errors() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let send = |raw: String| {
        let provider = provider.clone();
        async move {
            provider
                .raw_request::<_, serde_json::Value>("eth_sendRawTransaction".into(), (raw,))
                .await
                .map_err(|e| e.to_string())
        }
    };
    let me = &net.signers[0];

    let e = send("0x1234".into()).await.unwrap_err();
    assert!(e.to_lowercase().contains("decod"), "{e}");
    let e = send(signed(me, 0, 1, U256::from(1)).await)
        .await
        .unwrap_err();
    assert!(e.contains("chain"), "{e}");
    send(signed(me, 0, CHAIN_ID, U256::from(1)).await)
        .await
        .unwrap();
    let e = send(signed(me, 0, CHAIN_ID, U256::from(2)).await)
        .await
        .unwrap_err();
    assert!(e.contains("nonce too low"), "{e}");
    let e = send(signed(me, 5, CHAIN_ID, U256::from(2)).await)
        .await
        .unwrap_err();
    assert!(e.contains("nonce too high"), "{e}");
    let poor = PrivateKeySigner::random();
    let e = send(signed(&poor, 0, CHAIN_ID, U256::from(1)).await)
        .await
        .unwrap_err();
    assert!(e.contains("insufficient funds"), "{e}");

    // EIP-3607: an account with code sends no transaction; one with an EIP-7702 delegation does.
    let with_code = &net.signers[5];
    provider
        .raw_request::<_, serde_json::Value>(
            "anvil_setCode".into(),
            (with_code.address(), "0x600060fd"),
        )
        .await
        .unwrap();
    let e = send(signed(with_code, 0, CHAIN_ID, U256::from(1)).await)
        .await
        .unwrap_err();
    assert!(
        e.contains(&format!(
            "sender not an eoa: address {}, len(code): 4",
            with_code.address()
        )),
        "{e}"
    );
    let delegation = format!("0xef0100{}", "11".repeat(20));
    provider
        .raw_request::<_, serde_json::Value>(
            "anvil_setCode".into(),
            (with_code.address(), delegation),
        )
        .await
        .unwrap();
    send(signed(with_code, 0, CHAIN_ID, U256::from(1)).await)
        .await
        .unwrap();

    let e = provider
        .raw_request::<_, serde_json::Value>("eth_frobnicate".into(), ())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("eth_frobnicate is not supported"), "{e}");
    let e = provider
        .raw_request::<_, serde_json::Value>("eth_getBalance".into(), ("not an address", "latest"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("parameter 0"), "{e}");

    // A body that is not JSON gets a JSON-RPC parse error (-32700), and the devnet keeps
    // answering (`rpc_robustness.rs` covers the other malformed requests).
    let address = net.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let body = "{not json";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("-32700"), "{answer}");
    assert_eq!(provider.get_chain_id().await.unwrap(), CHAIN_ID);
    // The first transfer and the delegated account's.
    assert_eq!(provider.get_block_number().await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn running_out_of_gas_reverts_and_keeps_the_fee() {
    use devnet::testnet::{public_key, TestConfig, TEST_GPU};

    let net = Testnet::spawn(&[]).await.unwrap();
    let contract = net
        .deploy_task_contract(&TestConfig::with_dev_accounts(&net.signers, U256::from(1)))
        .await
        .unwrap();
    let node = &net.signers[3];
    let c = net.contract_as(node, contract).await.unwrap();
    let join = c
        .join(
            TEST_GPU.into(),
            24,
            [1, 0, 0],
            public_key(node).into(),
            vec![],
        )
        .value(U256::from(1));
    // eth_call with too little gas: an out-of-gas error.
    let e = match join.clone().gas(60_000).call().await {
        Ok(_) => panic!("60,000 gas is not enough for join"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("out of gas"), "{e}");
    // A transaction with too little gas is mined as failed: all its gas is spent, nothing else
    // changes.
    let provider = c.provider().clone();
    let before = provider.get_balance(node.address()).await.unwrap();
    let receipt = join
        .gas(60_000)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(!receipt.status());
    assert_eq!(receipt.gas_used, 60_000);
    let after = provider.get_balance(node.address()).await.unwrap();
    assert_eq!(
        before - after,
        U256::from(60_000u64) * U256::from(receipt.effective_gas_price)
    );
    assert_eq!(c.nodeCount().call().await.unwrap(), 0);
    assert_eq!(provider.get_balance(contract).await.unwrap(), U256::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostio_traces_are_asked_for_with_nitros_tracer() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let trace = |hash: String, options: serde_json::Value| {
        let provider = provider.clone();
        async move {
            provider
                .raw_request::<_, serde_json::Value>(
                    "debug_traceTransaction".into(),
                    (hash, options),
                )
                .await
                .map_err(|e| e.to_string())
        }
    };
    let hash: String = provider
        .raw_request(
            "eth_sendRawTransaction".into(),
            (signed(&net.signers[0], 0, CHAIN_ID, U256::from(1)).await,),
        )
        .await
        .unwrap();
    let stylus = serde_json::json!({"tracer": "stylusTracer"});
    // A transfer runs no program: an empty trace.
    assert_eq!(
        trace(hash.clone(), stylus.clone()).await.unwrap(),
        serde_json::json!([])
    );
    // geth's other tracers are not served.
    let e = trace(hash.clone(), serde_json::json!({"tracer": "callTracer"}))
        .await
        .unwrap_err();
    assert!(e.contains("only Nitro's stylusTracer"), "{e}");
    let e = trace(hash, serde_json::json!({})).await.unwrap_err();
    assert!(e.contains("stylusTracer"), "{e}");
    let e = trace(format!("0x{}", "ab".repeat(32)), stylus)
        .await
        .unwrap_err();
    assert!(e.contains("transaction not found"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_last_traces_are_kept() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let me = &net.signers[0];
    let mut hashes = Vec::new();
    for nonce in 0..=devnet::chain::KEPT_TRACES as u64 {
        let hash: String = provider
            .raw_request(
                "eth_sendRawTransaction".into(),
                (signed(me, nonce, CHAIN_ID, U256::from(1)).await,),
            )
            .await
            .unwrap();
        hashes.push(hash);
    }
    let trace = |hash: &String| {
        let provider = provider.clone();
        let hash = hash.clone();
        async move {
            provider
                .raw_request::<_, serde_json::Value>(
                    "debug_traceTransaction".into(),
                    (hash, serde_json::json!({"tracer": "stylusTracer"})),
                )
                .await
                .map_err(|e| e.to_string())
        }
    };
    // The first of 1,025 is still mined, but its trace is gone; the last is kept.
    let e = trace(&hashes[0]).await.unwrap_err();
    assert!(e.contains("not kept"), "{e}");
    assert!(trace(&hashes[1]).await.is_ok());
    assert!(trace(hashes.last().unwrap()).await.is_ok());
}
