//! Junk on the JSON-RPC endpoint (issue 16's findings): every request gets a JSON-RPC answer with
//! the code the JSON-RPC 2.0 specification names, out-of-range values are refused instead of
//! breaking the chain, transactions geth would refuse are refused with geth's words, and a fuzz
//! run of random methods and parameters never goes unanswered.

use std::io::{Read, Write};
use std::net::TcpStream;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::rpc::types::TransactionRequest;
use devnet::rpc::MAX_BATCH;
use devnet::testnet::{sign_raw, Testnet};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

/// POSTs `body` with an optional content type; the HTTP status and the parsed JSON answer.
fn post(url: &str, content_type: Option<&str>, body: &[u8]) -> (u16, Value) {
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).expect("connect to the devnet");
    let mut head = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = content_type {
        head.push_str(&format!("Content-Type: {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text[9..12].parse().expect("an HTTP status");
    let body_at = text.find("\r\n\r\n").expect("an HTTP body") + 4;
    // Chunked or not, the JSON object is the body's only brace-delimited part.
    let raw = &text[body_at..];
    let start = raw.find(['{', '[']).unwrap_or(0);
    let end = raw.rfind(['}', ']']).map_or(raw.len(), |e| e + 1);
    let json =
        serde_json::from_str(&raw[start..end]).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"));
    (status, json)
}

fn call(url: &str, request: Value) -> Value {
    let (status, answer) = post(
        url,
        Some("application/json"),
        request.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    answer
}

/// The error code of an answer, with its message for the assertion text.
fn error_code(answer: &Value) -> (i64, String) {
    let e = answer
        .get("error")
        .unwrap_or_else(|| panic!("expected an error: {answer}"));
    (
        e["code"].as_i64().expect("an integer code"),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// The devnet's chain id as eth_chainId answers it.
const CHAIN_HEX: &str = "0x64aba";

fn request(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_json_rpc_errors() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let url = net.url.clone();
    tokio::task::spawn_blocking(move || {
        // Not JSON, not UTF-8, no content type: -32700 in a JSON-RPC object.
        for body in [&b"{not json"[..], &[0xff, 0xfe, 0x00][..], b""] {
            let (status, answer) = post(&url, Some("application/json"), body);
            assert_eq!(status, 200);
            assert_eq!(error_code(&answer).0, -32700, "{answer}");
            assert_eq!(answer["id"], Value::Null);
        }
        let ok = request("eth_chainId", json!([])).to_string();
        let (status, answer) = post(&url, None, ok.as_bytes());
        assert_eq!((status, &answer["result"]), (200, &json!(CHAIN_HEX)));
        let (_, answer) = post(&url, Some("text/plain"), ok.as_bytes());
        assert_eq!(answer["result"], json!(CHAIN_HEX));

        // Invalid request objects: -32600.
        let invalid = [
            json!({"id": 1, "method": "eth_chainId"}),
            json!({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}),
            json!({"jsonrpc": "2.0", "id": 1, "method": 5}),
            json!({"jsonrpc": "2.0", "id": 1}),
            json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "eth_chainId"}),
            json!("eth_chainId"),
            json!(42),
            json!([]),
        ];
        for r in invalid {
            let answer = call(&url, r.clone());
            assert_eq!(error_code(&answer).0, -32600, "{r} -> {answer}");
        }
        // The id is echoed whenever the request has a usable one.
        let answer = call(&url, json!({"id": "abc", "method": "eth_chainId"}));
        assert_eq!(answer["id"], json!("abc"));

        // Batches: answered one by one, up to the limit.
        let answer = call(
            &url,
            json!([request("eth_chainId", json!([])), json!(1), {"jsonrpc": "2.0", "id": 9, "method": "nope"}]),
        );
        let answers = answer.as_array().expect("a batch answer");
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0]["result"], json!(CHAIN_HEX));
        assert_eq!(error_code(&answers[1]).0, -32600);
        assert_eq!(error_code(&answers[2]).0, -32601);
        assert_eq!(answers[2]["id"], json!(9));
        let too_many: Vec<Value> = (0..=MAX_BATCH)
            .map(|_| request("eth_chainId", json!([])))
            .collect();
        let (code, message) = error_code(&call(&url, json!(too_many)));
        assert_eq!(code, -32600);
        assert!(message.contains("batch too large"), "{message}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_parameters_are_refused() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let url = net.url.clone();
    tokio::task::spawn_blocking(move || {
        let refused = [
            ("eth_estimateGas", json!(["x"])),
            ("eth_call", json!([7, "latest"])),
            ("eth_getLogs", json!(["x"])),
            ("eth_getLogs", json!([])),
            ("evm_mine", json!(["x"])),
            ("eth_blockNumber", json!([1])),
            ("eth_getBlockByNumber", json!(["latest", "x"])),
            ("eth_getBalance", json!(["not an address", "latest"])),
            ("eth_chainId", json!({"named": "params"})),
            ("evm_increaseTime", json!(["0xffffffffffffffff"])),
            (
                "evm_increaseTime",
                json!(["0x10000000000000000000000000000000000000000"]),
            ),
            ("evm_increaseTime", json!([-5])),
        ];
        for (method, params) in refused {
            let answer = call(&url, request(method, params.clone()));
            let (code, message) = error_code(&answer);
            assert_eq!(code, -32602, "{method} {params}: {message}");
        }
        let (_, message) = error_code(&call(&url, request("eth_blockNumber", json!([1]))));
        assert_eq!(message, "too many arguments, want at most 0");

        // After the refused time jumps the chain still mines, calls and answers.
        let before = call(&url, request("eth_blockNumber", json!([])))["result"].clone();
        assert!(call(&url, request("evm_mine", json!([])))
            .get("result")
            .is_some());
        assert!(call(&url, request("evm_mine", json!(null)))
            .get("result")
            .is_some());
        let after = call(&url, request("eth_blockNumber", json!([])))["result"].clone();
        assert_ne!(before, after);
        let answer = call(
            &url,
            request(
                "eth_call",
                json!([{"to": format!("{:#x}", Address::repeat_byte(1))}, "latest"]),
            ),
        );
        assert!(answer.get("result").is_some(), "{answer}");
        // A large but valid jump is fine.
        let answer = call(
            &url,
            request("evm_increaseTime", json!([86_400u64 * 365 * 1000])),
        );
        assert!(answer.get("result").is_some(), "{answer}");
        assert!(call(&url, request("evm_mine", json!([])))
            .get("result")
            .is_some());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_geth_refuses_are_refused() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let me = net.signers[0].clone();
    let send = |raw: Vec<u8>| {
        let url = net.url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let raw = format!("{}", Bytes::from(raw));
                error_code(&call(&url, request("eth_sendRawTransaction", json!([raw])))).1
            })
            .await
            .unwrap()
        }
    };
    let base = || {
        TransactionRequest::default()
            .with_to(Address::repeat_byte(0x55))
            .with_value(U256::from(1))
            .with_nonce(0)
    };
    // EIP-1559: a tip above the fee cap.
    let tx = base()
        .with_max_fee_per_gas(200_000_000)
        .with_max_priority_fee_per_gas(300_000_000);
    let e = send(sign_raw(&me, tx).await.unwrap()).await;
    assert!(
        e.contains("max priority fee per gas higher than max fee per gas"),
        "{e}"
    );
    // Over Nitro's sequencer limit on a transaction's size.
    let tx = base()
        .with_input(vec![1u8; 96_000])
        .with_gas_limit(5_000_000);
    let e = send(sign_raw(&me, tx).await.unwrap()).await;
    assert!(e.starts_with("oversized data"), "{e}");
    // EIP-3860: init code over twice the code size limit.
    let tx = TransactionRequest::default()
        .with_deploy_code(vec![0u8; 2 * 24_576 + 1])
        .with_nonce(0)
        .with_gas_limit(20_000_000);
    let e = send(sign_raw(&me, tx).await.unwrap()).await;
    assert!(e.starts_with("max initcode size exceeded"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_precompiles_fail_loudly() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let url = net.url.clone();
    tokio::task::spawn_blocking(move || {
        // The KZG point evaluation (0x0a) and ArbRetryableTx (0x6e) exist on Nitro but not here:
        // an error, not the empty success of an account without code.
        for to in ["0x000000000000000000000000000000000000000a", "0x000000000000000000000000000000000000006e"] {
            let answer = call(&url, request("eth_call", json!([{"to": to, "data": "0x01"}, "latest"])));
            let (_, message) = error_code(&answer);
            assert!(message.contains("is not implemented by the devnet"), "{to}: {message}");
        }
        // An implemented one answers.
        let answer = call(
            &url,
            request("eth_call", json!([{"to": "0x0000000000000000000000000000000000000004", "data": "0x0102"}, "latest"])),
        );
        assert_eq!(answer["result"], json!("0x0102"));
        // ArbSys.arbOSVersion() answers 55 + the ArbOS version whose rules the devnet follows.
        let answer = call(
            &url,
            request("eth_call", json!([{"to": "0x0000000000000000000000000000000000000064", "data": "0x051038f2"}, "latest"])),
        );
        assert_eq!(
            answer["result"],
            json!(format!("0x{:064x}", 55 + devnet::precompiles::ARBOS_VERSION))
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn tips_are_dropped_as_arbos_does() {
    use alloy::providers::{Provider, ProviderBuilder};
    let net = Testnet::spawn(&[]).await.unwrap();
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let me = &net.signers[1];
    let before = provider.get_balance(me.address()).await.unwrap();
    let tx = TransactionRequest::default()
        .with_to(Address::repeat_byte(0x55))
        .with_value(U256::from(1))
        .with_nonce(0)
        .with_max_fee_per_gas(5_000_000_000)
        .with_max_priority_fee_per_gas(2_000_000_000);
    let raw = sign_raw(me, tx).await.unwrap();
    let receipt = provider
        .send_raw_transaction(&raw)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let base = devnet::chain::BASE_FEE as u128;
    assert_eq!(receipt.effective_gas_price, base);
    let after = provider.get_balance(me.address()).await.unwrap();
    assert_eq!(
        before - after,
        U256::from(1) + U256::from(receipt.gas_used) * U256::from(base)
    );
}

/// Any JSON value, a few levels deep, with the strings a client might send by mistake.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "latest",
            "pending",
            "earliest",
            "0x",
            "0x0",
            "0x1",
            "0xffffffffffffffff",
            "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "0x5555555555555555555555555555555555555555",
            "x",
            "",
            "-1",
        ])
        .prop_map(|s| json!(s)),
        "[ -~]{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "to",
                    "from",
                    "data",
                    "input",
                    "value",
                    "gas",
                    "fromBlock",
                    "toBlock",
                    "address",
                    "topics",
                    "blockHash",
                    "balance",
                    "code",
                    "x",
                ]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

const METHODS: &[&str] = &[
    "eth_chainId",
    "net_version",
    "eth_blockNumber",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_getTransactionReceipt",
    "eth_getTransactionByHash",
    "eth_getRawTransactionByHash",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getLogs",
    "eth_gasPrice",
    "eth_feeHistory",
    "eth_maxPriorityFeePerGas",
    "eth_accounts",
    "eth_syncing",
    "evm_increaseTime",
    "evm_mine",
    "evm_snapshot",
    "anvil_setBalance",
    "anvil_setCode",
    "eth_sendTransaction",
    "eth_frobnicate",
    "",
];

#[tokio::test(flavor = "multi_thread")]
async fn random_requests_are_always_answered() {
    let net = Testnet::spawn(&[]).await.unwrap();
    let url = net.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases: 400,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (prop::sample::select(METHODS), junk(), any::<u32>());
        runner
            .run(&strategy, |(method, params, id)| {
                let r = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
                let (status, answer) =
                    post(&url, Some("application/json"), r.to_string().as_bytes());
                prop_assert_eq!(status, 200);
                prop_assert_eq!(&answer["jsonrpc"], &json!("2.0"));
                let has_result = answer.get("result").is_some();
                let has_error = answer.get("error").is_some();
                prop_assert!(has_result != has_error, "{}", answer);
                if has_error {
                    prop_assert!(answer["error"]["code"].is_i64(), "{}", answer);
                    // A request whose params are not an array never reaches a method.
                    if !(params.is_array() || params.is_null()) {
                        prop_assert_eq!(&answer["error"]["code"], &json!(-32602));
                    }
                } else {
                    prop_assert_eq!(&answer["id"], &json!(id));
                }
                Ok(())
            })
            .unwrap();
        // And the chain still serves.
        let answer = call(&url, request("eth_chainId", json!([])));
        assert_eq!(answer["result"], json!(CHAIN_HEX));
        assert!(call(&url, request("evm_mine", json!([])))
            .get("result")
            .is_some());
    })
    .await
    .unwrap();
}
