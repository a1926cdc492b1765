//! Ethereum JSON-RPC over HTTP (axum): the methods wallets, alloy/ethers providers, Foundry's cast
//! and cargo-stylus use, plus anvil's test controls (`evm_increaseTime`, `evm_mine`,
//! `evm_snapshot` / `evm_revert`, `anvil_setBalance`).

use std::sync::Arc;

use alloy::consensus::transaction::Recovered;
use alloy::consensus::Transaction as _;
use alloy::primitives::{Address, Bloom, Bytes, B256, U256};
use alloy::rpc::types::state::StateOverride;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::evm::exec::Outcome;
use crate::node::chain::{Block, CallRequest, Chain, MinedTx, BASE_FEE};

pub type SharedChain = Arc<Mutex<Chain>>;

/// A JSON-RPC error: code, message and optional data (revert data as hex).
#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError {
            code: -32602,
            message: message.into(),
            data: None,
        }
    }
}

type RpcResult = Result<Value, RpcError>;

pub fn router(chain: SharedChain) -> Router {
    Router::new()
        .route("/", post(handle))
        .with_state(chain)
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
}

/// Most requests in one batch (geth's default `BatchRequestLimit`, `node/defaults.go`).
pub const MAX_BATCH: usize = 1000;

/// JSON-RPC 2.0 over HTTP: every answer is a JSON-RPC object (or a batch of them), whatever the
/// body; the body is parsed here rather than by a JSON extractor, so that malformed JSON, a
/// missing content type or bytes that are not UTF-8 get a -32700 error instead of plain text.
async fn handle(State(chain): State<SharedChain>, body: axum::body::Bytes) -> Json<Value> {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Json(error_object(
                Value::Null,
                -32700,
                format!("parse error: {e}"),
            ))
        }
    };
    match request {
        Value::Array(calls) if calls.is_empty() => Json(error_object(
            Value::Null,
            -32600,
            "invalid request: empty batch".into(),
        )),
        Value::Array(calls) if calls.len() > MAX_BATCH => Json(error_object(
            Value::Null,
            -32600,
            format!(
                "batch too large: {} requests, at most {MAX_BATCH}",
                calls.len()
            ),
        )),
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for call in calls {
                out.push(one(&chain, call).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&chain, call).await),
    }
}

fn error_object(id: Value, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Checks the request object (JSON-RPC 2.0 section 4) and answers it.
async fn one(chain: &SharedChain, call: Value) -> Value {
    let Value::Object(call) = call else {
        return error_object(
            Value::Null,
            -32600,
            "invalid request: expected a JSON object".into(),
        );
    };
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    if !matches!(id, Value::Null | Value::String(_) | Value::Number(_)) {
        return error_object(
            Value::Null,
            -32600,
            "invalid request: id must be a string, a number or null".into(),
        );
    }
    if call.get("jsonrpc") != Some(&json!("2.0")) {
        return error_object(
            id,
            -32600,
            "invalid request: \"jsonrpc\" must be \"2.0\"".into(),
        );
    }
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error_object(
            id,
            -32600,
            "invalid request: method must be a string".into(),
        );
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(p)) => p.clone(),
        Some(_) => {
            return error_object(id, -32602, "invalid params: params must be an array".into())
        }
    };
    if let Some(most) = max_params(method) {
        if params.len() > most {
            // geth's wording.
            return error_object(
                id,
                -32602,
                format!("too many arguments, want at most {most}"),
            );
        }
    }
    tracing::debug!(method, "rpc request");
    let mut chain = chain.lock().await;
    match dispatch(&mut chain, method, &params) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => {
            tracing::debug!(method, code = e.code, message = %e.message, "rpc error");
            let mut error = json!({"code": e.code, "message": e.message});
            if let Some(data) = e.data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

/// How many parameters each method takes at most (as geth's and anvil's signatures); `None` for
/// a method the devnet does not serve.
fn max_params(method: &str) -> Option<usize> {
    Some(match method {
        "web3_clientVersion"
        | "net_version"
        | "net_listening"
        | "eth_chainId"
        | "eth_syncing"
        | "eth_accounts"
        | "eth_blockNumber"
        | "eth_gasPrice"
        | "eth_maxPriorityFeePerGas"
        | "evm_snapshot"
        | "anvil_snapshot" => 0,
        "eth_sendRawTransaction"
        | "eth_sendTransaction"
        | "eth_getTransactionReceipt"
        | "eth_getTransactionByHash"
        | "eth_getRawTransactionByHash"
        | "eth_getLogs"
        | "evm_increaseTime"
        | "evm_mine"
        | "anvil_mine"
        | "evm_revert"
        | "anvil_revert" => 1,
        "eth_getBalance"
        | "eth_getTransactionCount"
        | "eth_getCode"
        | "eth_getBlockByNumber"
        | "eth_getBlockByHash"
        | "anvil_setBalance"
        | "hardhat_setBalance"
        | "anvil_setCode"
        | "hardhat_setCode"
        | "debug_traceTransaction" => 2,
        "eth_getStorageAt" | "eth_call" | "eth_estimateGas" | "eth_feeHistory" => 3,
        _ => return None,
    })
}

/// The optional "full transactions" flag of the block methods.
fn full_transactions(p: &[Value]) -> Result<bool, RpcError> {
    match p.get(1) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(RpcError::invalid_params(format!(
            "parameter 1 (full transactions): expected a boolean, got {other}"
        ))),
    }
}

fn quantity(v: impl std::fmt::LowerHex) -> Value {
    json!(format!("{v:#x}"))
}

fn param<T: serde::de::DeserializeOwned>(
    params: &[Value],
    i: usize,
    name: &str,
) -> Result<T, RpcError> {
    let v = params
        .get(i)
        .cloned()
        .ok_or_else(|| RpcError::invalid_params(format!("missing parameter {i} ({name})")))?;
    serde_json::from_value(v)
        .map_err(|e| RpcError::invalid_params(format!("parameter {i} ({name}): {e}")))
}

/// A block tag or number; "pending" and "latest" are the newest block.
fn block_number(chain: &Chain, v: Option<&Value>) -> Result<u64, RpcError> {
    match v {
        None | Some(Value::Null) => Ok(chain.block_number()),
        Some(Value::String(s)) => match s.as_str() {
            "latest" | "pending" | "safe" | "finalized" => Ok(chain.block_number()),
            "earliest" => Ok(0),
            hex => u64::from_str_radix(hex.trim_start_matches("0x"), 16)
                .map_err(|_| RpcError::invalid_params(format!("bad block number {hex}"))),
        },
        Some(Value::Object(o)) => {
            if let Some(n) = o.get("blockNumber") {
                return block_number(chain, Some(n));
            }
            if let Some(h) = o.get("blockHash") {
                let h: B256 = serde_json::from_value(h.clone())
                    .map_err(|e| RpcError::invalid_params(e.to_string()))?;
                return chain
                    .block_by_hash(&h)
                    .map(|b| b.header.number)
                    .ok_or_else(|| RpcError::invalid_params("unknown block hash"));
            }
            Err(RpcError::invalid_params("bad block parameter"))
        }
        Some(other) => Err(RpcError::invalid_params(format!("bad block {other}"))),
    }
}

/// The devnet keeps only the latest state: reads of older blocks are refused rather than answered
/// with the wrong state.
fn latest_only(chain: &Chain, v: Option<&Value>) -> Result<(), RpcError> {
    let n = block_number(chain, v)?;
    if n != chain.block_number() {
        return Err(RpcError {
            code: -32000,
            message: format!(
                "the devnet keeps only the latest state (block {}), not block {n}",
                chain.block_number()
            ),
            data: None,
        });
    }
    Ok(())
}

fn call_request(v: &Value) -> Result<CallRequest, RpcError> {
    if !v.is_object() {
        return Err(RpcError::invalid_params(
            "parameter 0 (call object): expected an object",
        ));
    }
    let get = |k: &str| v.get(k).filter(|x| !x.is_null()).cloned();
    let parse = |k: &str| -> Result<Option<U256>, RpcError> {
        get(k)
            .map(serde_json::from_value::<U256>)
            .transpose()
            .map_err(|e| RpcError::invalid_params(format!("{k}: {e}")))
    };
    let data = get("input")
        .or_else(|| get("data"))
        .map(serde_json::from_value::<Bytes>)
        .transpose()
        .map_err(|e| RpcError::invalid_params(format!("input: {e}")))?
        .unwrap_or_default();
    Ok(CallRequest {
        from: get("from")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| RpcError::invalid_params(format!("from: {e}")))?,
        to: get("to")
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| RpcError::invalid_params(format!("to: {e}")))?,
        data,
        value: parse("value")?.unwrap_or_default(),
        gas: parse("gas")?.map(|g| g.saturating_to()),
        overrides: StateOverride::default(),
    })
}

/// The optional state-override object of eth_call / eth_estimateGas.
fn overrides(v: Option<&Value>) -> Result<StateOverride, RpcError> {
    match v {
        None | Some(Value::Null) => Ok(StateOverride::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| RpcError::invalid_params(format!("state overrides: {e}"))),
    }
}

fn execution_error(r: &crate::evm::exec::CallResult) -> RpcError {
    match &r.outcome {
        Outcome::Revert => RpcError {
            code: 3,
            message: "execution reverted".into(),
            data: Some(json!(Bytes::from(r.output.clone()))),
        },
        Outcome::OutOfGas => RpcError {
            code: -32000,
            message: "out of gas".into(),
            data: None,
        },
        Outcome::Failure(why) => RpcError {
            code: -32000,
            message: format!("execution failed: {why}"),
            data: None,
        },
        Outcome::Success => unreachable!("only failures are errors"),
    }
}

fn block_json(chain: &Chain, b: &Block, full: bool) -> Value {
    let header = alloy::rpc::types::Header {
        hash: b.hash,
        inner: b.header.clone(),
        total_difficulty: Some(U256::ZERO),
        size: Some(U256::from(600 + 100 * b.transactions.len())),
    };
    let mut v = serde_json::to_value(&header).expect("headers serialize");
    v["transactions"] = if full {
        Value::Array(
            b.transactions
                .iter()
                .filter_map(|h| chain.transaction(h))
                .map(tx_json)
                .collect(),
        )
    } else {
        json!(b.transactions)
    };
    v["uncles"] = json!([]);
    // Nitro's go-ethereum adds Arbitrum's header information (`internal/ethapi`,
    // `fillArbitrumHeaderInfo`).
    v["l1BlockNumber"] = quantity(crate::chain::l1_block_number_of(&b.header));
    v["sendRoot"] = json!(B256::ZERO);
    v["sendCount"] = quantity(0u64);
    v
}

fn tx_json(t: &MinedTx) -> Value {
    let tx = alloy::rpc::types::Transaction {
        inner: Recovered::new_unchecked(t.envelope.clone(), t.from),
        block_hash: None,
        block_number: Some(t.block_number),
        transaction_index: Some(t.index),
        effective_gas_price: Some(t.effective_gas_price),
        block_timestamp: None,
    };
    serde_json::to_value(&tx).expect("transactions serialize")
}

fn log_json(log: &crate::evm::state::Log, t: &MinedTx, block_hash: B256, log_index: u64) -> Value {
    json!({
        "address": log.address,
        "topics": log.topics,
        "data": log.data,
        "blockNumber": quantity(t.block_number),
        "blockHash": block_hash,
        "blockTimestamp": Value::Null,
        "transactionHash": t.hash,
        "transactionIndex": quantity(t.index),
        "logIndex": quantity(log_index),
        "removed": false,
    })
}

fn receipt_json(chain: &Chain, t: &MinedTx) -> Value {
    let block = chain.block(t.block_number);
    let block_hash = block.map(|b| b.hash).unwrap_or_default();
    let l1_block_number = block.map_or(0, |b| crate::chain::l1_block_number_of(&b.header));
    let mut bloom = Bloom::default();
    for log in &t.logs {
        bloom.accrue(alloy::primitives::BloomInput::Raw(log.address.as_slice()));
        for topic in &log.topics {
            bloom.accrue(alloy::primitives::BloomInput::Raw(topic.as_slice()));
        }
    }
    let logs: Vec<Value> = t
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| log_json(l, t, block_hash, t.first_log_index + i as u64))
        .collect();
    json!({
        "transactionHash": t.hash,
        "transactionIndex": quantity(t.index),
        "blockHash": block_hash,
        "blockNumber": quantity(t.block_number),
        "from": t.from,
        "to": t.envelope.to(),
        "cumulativeGasUsed": quantity(t.cumulative_gas_used),
        "gasUsed": quantity(t.gas_used),
        // Arbitrum's receipts say how much of the gas paid for posting the transaction to L1.
        "gasUsedForL1": quantity(t.gas_used_for_l1),
        "l1BlockNumber": quantity(l1_block_number),
        "effectiveGasPrice": quantity(t.effective_gas_price),
        "contractAddress": t.contract_address,
        "logs": logs,
        "logsBloom": bloom,
        "status": if t.success { "0x1" } else { "0x0" },
        "type": quantity(t.envelope.tx_type() as u8),
    })
}

fn dispatch(chain: &mut Chain, method: &str, p: &[Value]) -> RpcResult {
    match method {
        "web3_clientVersion" => Ok(json!(concat!("stylus-devnet/", env!("CARGO_PKG_VERSION")))),
        "net_version" => Ok(json!(chain.chain_id.to_string())),
        "net_listening" => Ok(json!(true)),
        "eth_chainId" => Ok(quantity(chain.chain_id)),
        "eth_syncing" => Ok(json!(false)),
        "eth_accounts" => Ok(json!(crate::accounts::dev_addresses()
            .map_err(|e| RpcError { code: -32603, message: e.to_string(), data: None })?)),
        "eth_blockNumber" => Ok(quantity(chain.block_number())),
        "eth_gasPrice" => Ok(quantity(BASE_FEE)),
        "eth_maxPriorityFeePerGas" => Ok(quantity(0u64)),
        "eth_feeHistory" => {
            let count: U256 = param(p, 0, "blockCount")?;
            let newest = block_number(chain, p.get(1))?;
            let count = count.saturating_to::<u64>().clamp(1, 1024).min(newest + 1);
            let oldest = newest + 1 - count;
            let percentiles: Vec<f64> = p
                .get(2)
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| RpcError::invalid_params(e.to_string()))?
                .unwrap_or_default();
            let ratios: Vec<f64> = (oldest..=newest)
                .map(|n| {
                    chain.block(n).map_or(0.0, |b| {
                        b.header.gas_used as f64 / b.header.gas_limit as f64
                    })
                })
                .collect();
            let rewards: Vec<Vec<Value>> = (oldest..=newest)
                .map(|_| percentiles.iter().map(|_| quantity(0u64)).collect())
                .collect();
            Ok(json!({
                "oldestBlock": quantity(oldest),
                "baseFeePerGas": (oldest..=newest + 1).map(|_| quantity(BASE_FEE)).collect::<Vec<_>>(),
                "gasUsedRatio": ratios,
                "reward": rewards,
            }))
        }
        "eth_getBalance" => {
            let a: Address = param(p, 0, "address")?;
            latest_only(chain, p.get(1))?;
            Ok(quantity(chain.balance(&a)))
        }
        "eth_getTransactionCount" => {
            let a: Address = param(p, 0, "address")?;
            block_number(chain, p.get(1))?;
            // "pending" counts the transactions waiting for the next block (interval mode).
            if p.get(1).and_then(Value::as_str) == Some("pending") {
                return Ok(quantity(chain.pending_nonce(&a)));
            }
            Ok(quantity(chain.nonce(&a)))
        }
        "eth_getCode" => {
            let a: Address = param(p, 0, "address")?;
            latest_only(chain, p.get(1))?;
            Ok(json!(chain.code(&a)))
        }
        "eth_getStorageAt" => {
            let a: Address = param(p, 0, "address")?;
            let slot: U256 = param(p, 1, "slot")?;
            latest_only(chain, p.get(2))?;
            Ok(json!(chain.storage_at(&a, &B256::from(slot))))
        }
        "eth_call" => {
            let req = call_request(p.first().ok_or_else(|| RpcError::invalid_params("missing call object"))?)?;
            latest_only(chain, p.get(1))?;
            let req = CallRequest { overrides: overrides(p.get(2))?, ..req };
            let r = match crate::node::node_interface::intercept(chain, &req) {
                // NodeInterface's refusals are execution errors, as Nitro reports them.
                Some(answer) => answer.map_err(|e| RpcError { code: -32000, message: e.to_string(), data: None })?,
                None => chain.call(&req).map_err(|e| RpcError { code: -32602, message: e.to_string(), data: None })?,
            };
            if r.ok() {
                Ok(json!(Bytes::from(r.output)))
            } else {
                Err(execution_error(&r))
            }
        }
        "eth_estimateGas" => {
            let req = call_request(p.first().ok_or_else(|| RpcError::invalid_params("missing call object"))?)?;
            latest_only(chain, p.get(1))?;
            let req = CallRequest { overrides: overrides(p.get(2))?, ..req };
            let r = chain.estimate_gas(&req).map_err(|e| RpcError { code: -32602, message: e.to_string(), data: None })?;
            if r.ok() {
                Ok(quantity(r.gas_used))
            } else {
                Err(execution_error(&r))
            }
        }
        "eth_sendRawTransaction" => {
            let raw: Bytes = param(p, 0, "data")?;
            chain
                .send_raw_transaction(&raw)
                .map(|h| json!(h))
                .map_err(|e| RpcError { code: -32000, message: e.to_string(), data: None })
        }
        "eth_sendTransaction" => Err(RpcError {
            code: -32601,
            message: "the devnet holds no keys: sign the transaction and use eth_sendRawTransaction (the development keys are printed at start)".into(),
            data: None,
        }),
        "eth_getTransactionReceipt" => {
            let h: B256 = param(p, 0, "hash")?;
            Ok(chain.transaction(&h).map_or(Value::Null, |t| receipt_json(chain, t)))
        }
        "eth_getTransactionByHash" => {
            let h: B256 = param(p, 0, "hash")?;
            Ok(chain.transaction(&h).map_or(Value::Null, |t| {
                let mut v = tx_json(t);
                v["blockHash"] = json!(chain.block(t.block_number).map(|b| b.hash));
                v
            }))
        }
        // Nitro's `stylusTracer` (`execution/gethexec/stylus_tracer.go`); geth's other tracers
        // are not served.
        "debug_traceTransaction" => {
            let h: B256 = param(p, 0, "hash")?;
            let tracer = p.get(1).and_then(|o| o.get("tracer")).and_then(Value::as_str);
            if tracer != Some("stylusTracer") {
                return Err(RpcError::invalid_params(
                    "the devnet serves only Nitro's stylusTracer: give {\"tracer\": \"stylusTracer\"}",
                ));
            }
            if chain.transaction(&h).is_none() {
                return Err(RpcError { code: -32000, message: "transaction not found".into(), data: None });
            }
            chain.hostio_trace(&h).map(|t| json!(t)).ok_or_else(|| RpcError {
                code: -32000,
                message: format!(
                    "trace of {h} not kept: the devnet keeps those of the last {} transactions mined since it started",
                    crate::node::chain::KEPT_TRACES
                ),
                data: None,
            })
        }
        "eth_getRawTransactionByHash" => {
            let h: B256 = param(p, 0, "hash")?;
            Ok(chain.raw_transaction(&h).map_or(Value::Null, |r| json!(Bytes::from(r))))
        }
        "eth_getBlockByNumber" => {
            let n = block_number(chain, p.first())?;
            let full = full_transactions(p)?;
            Ok(chain.block(n).map_or(Value::Null, |b| block_json(chain, b, full)))
        }
        "eth_getBlockByHash" => {
            let h: B256 = param(p, 0, "hash")?;
            let full = full_transactions(p)?;
            Ok(chain.block_by_hash(&h).map_or(Value::Null, |b| block_json(chain, b, full)))
        }
        "eth_getLogs" => {
            let f = p.first().cloned().unwrap_or(Value::Null);
            if !f.is_object() {
                return Err(RpcError::invalid_params("parameter 0 (filter): expected an object"));
            }
            let (from, to) = if let Some(h) = f.get("blockHash").filter(|h| !h.is_null()) {
                let n = block_number(chain, Some(&json!({"blockHash": h})))?;
                (n, n)
            } else {
                (
                    block_number(chain, f.get("fromBlock"))?,
                    block_number(chain, f.get("toBlock"))?,
                )
            };
            let addresses: Vec<Address> = match f.get("address") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => serde_json::from_value(Value::Array(a.clone()))
                    .map_err(|e| RpcError::invalid_params(format!("address: {e}")))?,
                Some(one) => vec![serde_json::from_value(one.clone())
                    .map_err(|e| RpcError::invalid_params(format!("address: {e}")))?],
            };
            let topics: Vec<Vec<B256>> = match f.get("topics") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .map(|t| match t {
                        Value::Null => Ok(Vec::new()),
                        Value::Array(any) => serde_json::from_value(Value::Array(any.clone())),
                        one => serde_json::from_value(one.clone()).map(|t: B256| vec![t]),
                    })
                    .collect::<Result<_, _>>()
                    .map_err(|e| RpcError::invalid_params(format!("topics: {e}")))?,
                Some(_) => return Err(RpcError::invalid_params("topics must be an array")),
            };
            Ok(Value::Array(
                chain
                    .logs(from, to, &addresses, &topics)
                    .into_iter()
                    .map(|(log, t, i)| {
                        let bh = chain.block(t.block_number).map(|b| b.hash).unwrap_or_default();
                        log_json(&log, t, bh, i)
                    })
                    .collect(),
            ))
        }
        "evm_increaseTime" => {
            let s: U256 = param(p, 0, "seconds")?;
            let s = u64::try_from(s)
                .ok()
                .and_then(|s| chain.increase_time(s).ok().map(|_| s))
                .ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "seconds: {s} would move the clock past {}",
                        crate::node::chain::MAX_TIMESTAMP
                    ))
                })?;
            Ok(quantity(s))
        }
        "evm_mine" | "anvil_mine" => {
            if p.first().is_some_and(|v| !v.is_null()) {
                return Err(RpcError::invalid_params(
                    "the devnet mines one block now: no timestamp or options (use evm_increaseTime)",
                ));
            }
            // In interval mode the pending transactions go into this block.
            chain.mine_pending();
            Ok(json!("0x0"))
        }
        "evm_snapshot" | "anvil_snapshot" => Ok(quantity(chain.snapshot())),
        "evm_revert" | "anvil_revert" => {
            let id: U256 = param(p, 0, "snapshot id")?;
            // An id beyond any snapshot taken reverts nothing.
            Ok(json!(u64::try_from(id).is_ok_and(|id| chain.revert_to_snapshot(id))))
        }
        "anvil_setBalance" | "hardhat_setBalance" => {
            let address: Address = param(p, 0, "address")?;
            let balance: U256 = param(p, 1, "balance")?;
            chain.set_balance(address, balance);
            Ok(Value::Null)
        }
        "anvil_setCode" | "hardhat_setCode" => {
            let address: Address = param(p, 0, "address")?;
            let code: Bytes = param(p, 1, "code")?;
            chain.set_code(address, code);
            Ok(Value::Null)
        }
        other => Err(RpcError {
            code: -32601,
            message: format!("method {other} is not supported by the devnet"),
            data: None,
        }),
    }
}
