//! Sends the node's transactions so that a crash never makes it send one action twice: each
//! transaction is signed locally with a locally managed nonce, written to the record, and only
//! then broadcast. After a restart, pending transactions are looked up by hash and rebroadcast
//! byte for byte (the same hash), never re-signed. A nonce error resynchronises the counter from
//! the chain.

use std::sync::Arc;
use std::time::Duration;

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::{RpcError, TransportErrorKind};
use tokio::sync::Mutex;

use crate::record::{Record, RecordError, TxRecord, TxState};

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The contract refuses the call in the current state (found by the gas estimate or the
    /// receipt); sending it again would not help.
    #[error("the contract refused {action}: {reason}")]
    Refused { action: String, reason: String },
    /// The RPC endpoint is unreachable or failing; the action is retried later.
    #[error("RPC: {0}")]
    Rpc(String),
    #[error("signing: {0}")]
    Signing(String),
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl TxError {
    pub fn is_refusal(&self) -> bool {
        matches!(self, TxError::Refused { .. })
    }
}

pub use protocol::contract_error::describe_rpc_error;

pub struct Transactor {
    provider: DynProvider,
    wallet: EthereumWallet,
    address: Address,
    chain_id: u64,
    record: Arc<Record>,
    next_nonce: Mutex<Option<u64>>,
    pub receipt_timeout: Duration,
}

impl Transactor {
    pub fn new(
        provider: DynProvider,
        signer: PrivateKeySigner,
        chain_id: u64,
        record: Arc<Record>,
    ) -> Self {
        Self {
            provider,
            address: signer.address(),
            wallet: EthereumWallet::from(signer),
            chain_id,
            record,
            next_nonce: Mutex::new(None),
            receipt_timeout: Duration::from_secs(120),
        }
    }

    pub fn address(&self) -> Address {
        self.address
    }

    async fn chain_nonce(&self) -> Result<u64, TxError> {
        self.provider
            .get_transaction_count(self.address)
            .pending()
            .await
            .map_err(|e| TxError::Rpc(e.to_string()))
    }

    /// Sends `action` unless a transaction for it on `task` is already pending or mined, and
    /// waits for its receipt. Returns the transaction's record.
    pub async fn send_once(
        &self,
        action: &str,
        task: Option<B256>,
        to: Address,
        input: Bytes,
        value: U256,
    ) -> Result<TxRecord, TxError> {
        let earlier = self.record.txs_for(task.as_ref(), action)?;
        if let Some(tx) = earlier
            .iter()
            .find(|t| matches!(t.state, TxState::Pending | TxState::Mined))
        {
            return self.settle(tx.clone()).await;
        }
        self.send_new(action, task, to, input, value).await
    }

    /// Signs, records and broadcasts a new transaction, then waits for its receipt.
    pub async fn send_new(
        &self,
        action: &str,
        task: Option<B256>,
        to: Address,
        input: Bytes,
        value: U256,
    ) -> Result<TxRecord, TxError> {
        let request = TransactionRequest::default()
            .with_from(self.address)
            .with_to(to)
            .with_input(input)
            .with_value(value);
        let gas = match self.provider.estimate_gas(request.clone()).await {
            Ok(gas) => gas,
            Err(e) => {
                let (reverted, reason) = describe_rpc_error(&e);
                return Err(if reverted {
                    TxError::Refused {
                        action: action.into(),
                        reason,
                    }
                } else {
                    TxError::Rpc(reason)
                });
            }
        };
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| TxError::Rpc(e.to_string()))?;
        for _ in 0..3 {
            let mut next = self.next_nonce.lock().await;
            let nonce = match *next {
                Some(n) => n,
                None => self.chain_nonce().await?,
            };
            let envelope = request
                .clone()
                .with_nonce(nonce)
                .with_chain_id(self.chain_id)
                // Headroom over the estimate: state can move between estimate and inclusion.
                .with_gas_limit(gas.saturating_mul(13) / 10 + 20_000)
                .with_max_fee_per_gas(fees.max_fee_per_gas)
                .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
                .build(&self.wallet)
                .await
                .map_err(|e| TxError::Signing(e.to_string()))?;
            let tx = TxRecord {
                hash: *envelope.tx_hash(),
                nonce,
                action: action.into(),
                task,
                raw: envelope.encoded_2718(),
                state: TxState::Pending,
            };
            // Recorded before it leaves this process: a crash from here on finds it.
            self.record.insert_tx(&tx)?;
            match self.provider.send_raw_transaction(&tx.raw).await {
                Ok(_) => {
                    *next = Some(nonce + 1);
                    drop(next);
                    return self.settle(tx).await;
                }
                Err(e) if is_nonce_error(&e) => {
                    tracing::warn!(
                        nonce,
                        "nonce {nonce} already used; resynchronising from the chain"
                    );
                    self.record.set_tx_state(&tx.hash, TxState::Dropped)?;
                    *next = Some(self.chain_nonce().await?);
                }
                Err(e) => {
                    // Unknown whether it arrived: it stays pending and is looked up or
                    // rebroadcast later, never re-signed. The nonce stays taken.
                    *next = Some(nonce + 1);
                    return Err(TxError::Rpc(e.to_string()));
                }
            }
        }
        Err(TxError::Rpc("the nonce kept changing under us".into()))
    }

    /// Waits for a recorded transaction's receipt, rebroadcasting it if the chain does not know
    /// it.
    pub async fn settle(&self, tx: TxRecord) -> Result<TxRecord, TxError> {
        if tx.state != TxState::Pending {
            return Ok(tx);
        }
        let deadline = tokio::time::Instant::now() + self.receipt_timeout;
        let mut rebroadcast = false;
        loop {
            let receipt = self
                .provider
                .get_transaction_receipt(tx.hash)
                .await
                .map_err(|e| TxError::Rpc(e.to_string()))?;
            if let Some(receipt) = receipt {
                let state = if receipt.status() {
                    TxState::Mined
                } else {
                    TxState::Reverted
                };
                self.record.set_tx_state(&tx.hash, state)?;
                return Ok(TxRecord { state, ..tx });
            }
            if !rebroadcast {
                rebroadcast = true;
                let known = self
                    .provider
                    .get_transaction_by_hash(tx.hash)
                    .await
                    .map_err(|e| TxError::Rpc(e.to_string()))?
                    .is_some();
                if !known {
                    match self.provider.send_raw_transaction(&tx.raw).await {
                        Ok(_) => {}
                        Err(e) if e.to_string().contains("already known") => {}
                        Err(e) if is_nonce_error(&e) => {
                            // Its nonce was used by another of our transactions: it can never
                            // be mined.
                            self.record.set_tx_state(&tx.hash, TxState::Dropped)?;
                            *self.next_nonce.lock().await = None;
                            return Ok(TxRecord {
                                state: TxState::Dropped,
                                ..tx
                            });
                        }
                        Err(e) => return Err(TxError::Rpc(e.to_string())),
                    }
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Err(TxError::Rpc(format!(
                    "no receipt for {} after {:?}",
                    tx.hash, self.receipt_timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Settles every pending transaction of the record (after a restart or an outage).
    pub async fn settle_pending(&self) -> Result<Vec<TxRecord>, TxError> {
        let mut settled = Vec::new();
        for tx in self.record.pending_txs()? {
            settled.push(self.settle(tx).await?);
        }
        Ok(settled)
    }
}

fn is_nonce_error(e: &RpcError<TransportErrorKind>) -> bool {
    let text = e.to_string().to_lowercase();
    text.contains("nonce too low")
        || text.contains("nonce too high")
        || text.contains("invalid nonce")
}
