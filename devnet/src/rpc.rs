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

use crate::chain::{Block, CallRequest, Chain, MinedTx, BASE_FEE};
use crate::exec::Outcome;

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

async fn handle(State(chain): State<SharedChain>, Json(body): Json<Value>) -> Json<Value> {
    match body {
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

async fn one(chain: &SharedChain, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "invalid request: no method"}});
    };
    let params = call.get("params").cloned().unwrap_or(json!([]));
    let params = match params {
        Value::Array(p) => p,
        Value::Null => Vec::new(),
        other => vec![other],
    };
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

fn execution_error(r: &crate::exec::CallResult) -> RpcError {
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

fn log_json(log: &crate::state::Log, t: &MinedTx, block_hash: B256, log_index: u64) -> Value {
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
    let block_hash = chain
        .block(t.block_number)
        .map(|b| b.hash)
        .unwrap_or_default();
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
            let r = chain.call(&req).map_err(|e| RpcError { code: -32602, message: e.to_string(), data: None })?;
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
        "eth_getRawTransactionByHash" => {
            let h: B256 = param(p, 0, "hash")?;
            Ok(chain.raw_transaction(&h).map_or(Value::Null, |r| json!(Bytes::from(r))))
        }
        "eth_getBlockByNumber" => {
            let n = block_number(chain, p.first())?;
            let full = p.get(1).and_then(Value::as_bool).unwrap_or(false);
            Ok(chain.block(n).map_or(Value::Null, |b| block_json(chain, b, full)))
        }
        "eth_getBlockByHash" => {
            let h: B256 = param(p, 0, "hash")?;
            let full = p.get(1).and_then(Value::as_bool).unwrap_or(false);
            Ok(chain.block_by_hash(&h).map_or(Value::Null, |b| block_json(chain, b, full)))
        }
        "eth_getLogs" => {
            let f = p.first().cloned().unwrap_or(json!({}));
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
            chain.increase_time(s.saturating_to());
            Ok(quantity(s))
        }
        "evm_mine" | "anvil_mine" => {
            // In interval mode the pending transactions go into this block.
            chain.mine_pending();
            Ok(json!("0x0"))
        }
        "evm_snapshot" | "anvil_snapshot" => Ok(quantity(chain.snapshot())),
        "evm_revert" | "anvil_revert" => {
            let id: U256 = param(p, 0, "snapshot id")?;
            Ok(json!(chain.revert_to_snapshot(id.saturating_to())))
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
