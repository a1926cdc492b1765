//! The chain: accounts, blocks (one per transaction, or empty ones on demand), transactions with
//! signature, nonce, balance and gas checks, receipts and logs.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use alloy::consensus::transaction::SignerRecoverable;
use alloy::consensus::{Header, Transaction as _, TxEnvelope};
use alloy::eips::eip2718::{Decodable2718, Encodable2718};
use alloy::primitives::{keccak256, Address, Bloom, Bytes, TxKind, B256, U256};

use crate::evm::exec::{self, BlockEnv, CallResult, Exec, Message, Outcome};
use crate::evm::state::{Log, State};
use crate::gas;
use crate::node::l1_pricing;
use crate::precompiles::NETWORK_FEE_ACCOUNT;
use crate::stylus::program::ProgramCache;
use crate::stylus::trace::{HostioTrace, HostioTracer};
use alloy::rpc::types::state::StateOverride;

/// Arbitrum's minimum base fee (0.01 gwei on Arbitrum One; Sepolia runs at 0.1 gwei).
pub const BASE_FEE: u64 = 100_000_000;
/// ArbOS's gas limits (`arbos/l2pricing/model.go`): a block's compute gas
/// (`InitialPerBlockGasLimitV6`) and, since ArbOS 50, a transaction's (`InitialPerTxGasLimitV50`).
pub const BLOCK_GAS_LIMIT: u64 = 32_000_000;
pub const TX_GAS_LIMIT: u64 = 32_000_000;
/// The gas limit every block header carries and programs read (`l2pricing.GethBlockGasLimit`):
/// ArbOS limits gas itself, so go-ethereum's limit is out of the way.
pub const GETH_BLOCK_GAS_LIMIT: u64 = 1 << 50;

#[derive(Debug, thiserror::Error)]
pub enum TxError {
    #[error("transaction could not be decoded: {0}")]
    Decode(String),
    #[error("invalid signature")]
    Signature,
    #[error("wrong chain id: expected {expected}, got {got:?}")]
    ChainId { expected: u64, got: Option<u64> },
    #[error("nonce too low: next nonce {expected}, tx nonce {got}")]
    NonceTooLow { expected: u64, got: u64 },
    #[error("nonce too high: next nonce {expected}, tx nonce {got}")]
    NonceTooHigh { expected: u64, got: u64 },
    #[error("insufficient funds for gas * price + value: have {have} want {want}")]
    InsufficientFunds { have: U256, want: U256 },
    #[error("intrinsic gas too low: have {have}, want {want}")]
    IntrinsicGas { have: u64, want: u64 },
    #[error("max fee per gas less than block base fee: maxFeePerGas {have}, baseFee {base}")]
    FeeTooLow { have: u128, base: u64 },
    #[error("gas limit {0} exceeds the block gas limit")]
    GasLimit(u64),
    /// go-ethereum `core/error.go` ErrTipAboveFeeCap.
    #[error("max priority fee per gas higher than max fee per gas: maxPriorityFeePerGas {tip}, maxFeePerGas {cap}")]
    TipAboveFeeCap { tip: u128, cap: u128 },
    /// go-ethereum `core/txpool/errors.go` ErrOversizedData, returned by Nitro's sequencer above
    /// its `max-tx-data-size`.
    #[error("oversized data: transaction size {size}, limit {limit}")]
    OversizedData { size: usize, limit: usize },
    /// go-ethereum `core/error.go` ErrMaxInitCodeSizeExceeded (EIP-3860).
    #[error("max initcode size exceeded: code size {size} limit {limit}")]
    InitCodeSize { size: usize, limit: usize },
    /// go-ethereum `core/error.go` ErrSenderNoEOA (EIP-3607).
    #[error("sender not an eoa: address {address}, len(code): {code_len}")]
    SenderNoEoa { address: Address, code_len: usize },
    #[error("transaction already known")]
    Known,
    #[error("{0}")]
    Unsupported(String),
}

/// Largest signed transaction Nitro's sequencer accepts (`DefaultSequencerConfig.MaxTxDataSize`).
pub const MAX_TX_SIZE: usize = 95_000;
/// EIP-3860's init code limit, twice the 24 KiB code size limit Arbitrum keeps.
pub const MAX_INIT_CODE_SIZE: usize = 2 * 24_576;

/// The devnet has no L1: it counts one L1 block per 12 seconds of its clock (Ethereum's slot)
/// from its first block on, standing for the L1 head a sequencer sees. Programs read this
/// number as `block.number` on Arbitrum (`arbos/programs/programs.go`, `blockNumber:
/// l1BlockNumber`); ArbSys.arbBlockNumber gives the L2 number.
pub const L1_BLOCK_SECONDS: u64 = 12;

/// The header fields Nitro fills with Arbitrum's block information (`core/types/arb_types.go`,
/// `HeaderInfo`): the extra data is the send root, the mix hash holds the send count, the L1
/// block number and the ArbOS version, 8 big-endian bytes each; the difficulty is 1.
pub fn arbitrum_header_info(l1_block_number: u64) -> (Bytes, B256) {
    let mut mix = [0u8; 32];
    // No L2-to-L1 messages: the send count is 0 and the send root zero.
    mix[8..16].copy_from_slice(&l1_block_number.to_be_bytes());
    mix[16..24].copy_from_slice(&crate::precompiles::ARBOS_VERSION.to_be_bytes());
    (Bytes::from(vec![0u8; 32]), B256::from(mix))
}

/// The L1 block number a header carries (0 for headers without Arbitrum's information).
pub fn l1_block_number_of(header: &Header) -> u64 {
    u64::from_be_bytes(header.mix_hash[8..16].try_into().expect("8 bytes"))
}

/// The latest block timestamp the devnet produces: far beyond any real date (year 292 billion),
/// and low enough that every tool's signed 64-bit time arithmetic stays valid.
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// `evm_increaseTime` past [`MAX_TIMESTAMP`].
#[derive(Debug, thiserror::Error)]
#[error("the clock cannot move past {MAX_TIMESTAMP}")]
pub struct TimeOutOfRange;

fn wall_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A mined transaction with its receipt data.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MinedTx {
    /// Saved as its signed EIP-2718 bytes.
    #[serde(with = "crate::node::persist::raw_envelope")]
    pub envelope: TxEnvelope,
    pub hash: B256,
    pub from: Address,
    pub block_number: u64,
    pub index: u64,
    pub gas_used: u64,
    /// The part of `gas_used` that pays for posting the transaction to L1.
    #[serde(default)]
    pub gas_used_for_l1: u64,
    /// Gas of this and the earlier transactions of its block.
    pub cumulative_gas_used: u64,
    /// Block-wide index of its first log.
    pub first_log_index: u64,
    pub success: bool,
    pub logs: Vec<Log>,
    pub contract_address: Option<Address>,
    pub effective_gas_price: u128,
    /// Why it failed (revert data or a reason), for debugging and `devnet` logs.
    pub output: Bytes,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Block {
    pub header: Header,
    pub hash: B256,
    pub transactions: Vec<B256>,
}

/// A checked transaction waiting for its block.
#[derive(Clone, Debug)]
pub struct PendingTx {
    pub envelope: TxEnvelope,
    pub hash: B256,
    pub from: Address,
}

/// A call request (eth_call / eth_estimateGas).
#[derive(Clone, Debug, Default)]
pub struct CallRequest {
    pub from: Option<Address>,
    pub to: Option<Address>,
    pub data: Bytes,
    pub value: U256,
    pub gas: Option<u64>,
    /// geth-style state overrides, applied for this call only.
    pub overrides: StateOverride,
}

/// Applies geth-style state overrides to `state` (journaled, so the caller's revert undoes them).
fn apply_overrides(state: &mut State, overrides: &StateOverride) -> anyhow::Result<()> {
    for (address, o) in overrides {
        if o.move_precompile_to.is_some() {
            anyhow::bail!("state override of {address}: movePrecompileToAddress is not supported by the devnet");
        }
        if o.state.is_some() && o.state_diff.is_some() {
            anyhow::bail!("state override of {address}: give either state or stateDiff, not both");
        }
        if let Some(balance) = o.balance {
            state.update(*address, |a| a.balance = balance);
        }
        if let Some(nonce) = o.nonce {
            state.update(*address, |a| a.nonce = nonce);
        }
        if let Some(code) = &o.code {
            state.set_code(*address, code.clone());
        }
        if let Some(slots) = &o.state {
            for slot in state.storage_slots(address) {
                state.set_storage(*address, slot, B256::ZERO);
            }
            for (slot, value) in slots {
                state.set_storage(*address, *slot, *value);
            }
        }
        if let Some(slots) = &o.state_diff {
            for (slot, value) in slots {
                state.set_storage(*address, *slot, *value);
            }
        }
    }
    Ok(())
}

pub struct Chain {
    pub chain_id: u64,
    pub(crate) state: State,
    pub(crate) blocks: Vec<Block>,
    pub(crate) block_by_hash: HashMap<B256, u64>,
    pub(crate) txs: HashMap<B256, MinedTx>,
    pub(crate) programs: Arc<ProgramCache>,
    /// Seconds added to the wall clock (evm_increaseTime).
    pub(crate) time_offset: u64,
    /// Interval mode: seconds between blocks; None mines each transaction at once.
    pub(crate) block_time: Option<u64>,
    /// Transactions waiting for the next block (interval mode).
    pub(crate) pending: Vec<PendingTx>,
    /// Saved copies of the chain (evm_snapshot), by id - 1.
    pub(crate) snapshots: Vec<crate::node::persist::Snapshot>,
    /// The L1 price per calldata unit, in wei (ArbGasInfo's L1 base fee estimate).
    pub(crate) l1_price_per_unit: u128,
    /// Programs called in the block being built (ArbOS 60's recent-programs discount).
    pub(crate) recent_programs: crate::stylus::program::RecentPrograms,
    /// The hostio traces of the last [`KEPT_TRACES`] transactions (`debug_traceTransaction`),
    /// oldest first; not saved with the state.
    pub(crate) hostio_traces: VecDeque<(B256, Vec<HostioTrace>)>,
}

/// How many transactions' hostio traces the chain keeps.
pub const KEPT_TRACES: usize = 1024;

impl Chain {
    pub fn new(chain_id: u64, prefund: &[(Address, U256)]) -> anyhow::Result<Chain> {
        let mut state = State::default();
        for (a, balance) in prefund {
            state.update(*a, |acc| acc.balance = *balance);
        }
        state.begin_transaction();
        let mut chain = Chain {
            chain_id,
            state,
            blocks: Vec::new(),
            block_by_hash: HashMap::new(),
            txs: HashMap::new(),
            programs: Arc::new(ProgramCache::new()?),
            time_offset: 0,
            block_time: None,
            pending: Vec::new(),
            snapshots: Vec::new(),
            l1_price_per_unit: l1_pricing::DEFAULT_PRICE_PER_UNIT,
            recent_programs: Default::default(),
            hostio_traces: VecDeque::new(),
        };
        chain.seal(Vec::new(), 0, Vec::new());
        Ok(chain)
    }

    pub fn block_number(&self) -> u64 {
        self.blocks.len() as u64 - 1
    }

    pub fn latest(&self) -> &Block {
        self.blocks.last().expect("genesis exists")
    }

    pub fn block(&self, number: u64) -> Option<&Block> {
        self.blocks.get(number as usize)
    }

    pub fn block_by_hash(&self, hash: &B256) -> Option<&Block> {
        self.block_by_hash.get(hash).and_then(|n| self.block(*n))
    }

    /// What Nitro's `stylusTracer` gives for a mined transaction: its programs' hostios with the
    /// ink before and after each. None when the transaction is unknown or its trace is no
    /// longer kept (one of the last [`KEPT_TRACES`], mined since the devnet started).
    pub fn hostio_trace(&self, hash: &B256) -> Option<&[HostioTrace]> {
        self.hostio_traces
            .iter()
            .rev()
            .find(|(h, _)| h == hash)
            .map(|(_, t)| t.as_slice())
    }

    pub fn transaction(&self, hash: &B256) -> Option<&MinedTx> {
        self.txs.get(hash)
    }

    pub fn balance(&self, a: &Address) -> U256 {
        self.state.balance(a)
    }

    pub fn nonce(&self, a: &Address) -> u64 {
        self.state.nonce(a)
    }

    pub fn code(&self, a: &Address) -> Bytes {
        self.state.code(a)
    }

    pub fn storage_at(&self, a: &Address, slot: &B256) -> B256 {
        self.state.storage(a, slot)
    }

    /// Every non-zero slot of `a`, sorted.
    pub fn storage_of(&self, a: &Address) -> Vec<(B256, B256)> {
        let mut slots: Vec<(B256, B256)> = self
            .state
            .storage_slots(a)
            .into_iter()
            .map(|slot| (slot, self.state.storage(a, &slot)))
            .filter(|(_, value)| !value.is_zero())
            .collect();
        slots.sort();
        slots
    }

    /// Moves the clock on by `seconds` (`evm_increaseTime`); refused when the next block's
    /// timestamp would pass [`MAX_TIMESTAMP`].
    pub fn increase_time(&mut self, seconds: u64) -> Result<(), TimeOutOfRange> {
        let offset = self
            .time_offset
            .checked_add(seconds)
            .filter(|o| {
                wall_clock()
                    .checked_add(*o)
                    .is_some_and(|t| t <= MAX_TIMESTAMP)
            })
            .ok_or(TimeOutOfRange)?;
        self.time_offset = offset;
        Ok(())
    }

    /// The timestamp the next block gets: the wall clock plus the time moved on by
    /// `evm_increaseTime`, never before the latest block.
    pub fn now(&self) -> u64 {
        let parent = self.blocks.last().map_or(0, |b| b.header.timestamp);
        wall_clock()
            .saturating_add(self.time_offset)
            .min(MAX_TIMESTAMP)
            .max(parent)
    }

    fn next_block_env(&self) -> BlockEnv {
        let number = self.blocks.len() as u64;
        let first = number.saturating_sub(256);
        let timestamp = self.now();
        // Genesis carries no Arbitrum information (L1 block 0); the L1 count starts at 1.
        let l1_block_number = self.blocks.first().map_or(0, |genesis| {
            1 + timestamp.saturating_sub(genesis.header.timestamp) / L1_BLOCK_SECONDS
        });
        BlockEnv {
            number,
            l1_block_number,
            timestamp,
            basefee: U256::from(BASE_FEE),
            coinbase: l1_pricing::BATCH_POSTER,
            gas_limit: GETH_BLOCK_GAS_LIMIT,
            chain_id: self.chain_id,
            recent_hashes: self.blocks[first as usize..]
                .iter()
                .map(|b| b.hash)
                .collect(),
            first_recent: first,
            l1_price_per_unit: U256::from(self.l1_price_per_unit),
        }
    }

    /// Interval mode (`Some(seconds)`, blocks sealed by the caller's timer with
    /// [`Chain::mine_pending`]) or a block per transaction (`None`).
    /// Sets the L1 price per calldata unit (wei) that poster gas is computed from.
    pub fn set_l1_price_per_unit(&mut self, wei: u128) {
        self.l1_price_per_unit = wei;
    }

    pub fn l1_price_per_unit(&self) -> u128 {
        self.l1_price_per_unit
    }

    /// The L1 poster gas of a signed transaction's bytes at the base fee.
    fn poster_gas_of(&self, raw: &[u8]) -> u64 {
        l1_pricing::poster_gas(
            l1_pricing::poster_units(raw),
            self.l1_price_per_unit,
            BASE_FEE,
        )
    }

    pub fn set_block_time(&mut self, seconds: Option<u64>) {
        self.block_time = seconds;
    }

    fn seal(&mut self, transactions: Vec<B256>, gas_used: u64, logs: Vec<Log>) -> u64 {
        // The recent-programs set lives for one block.
        self.recent_programs = Default::default();
        let env = self.next_block_env();
        let parent_hash = self.blocks.last().map_or(B256::ZERO, |b| b.hash);
        let mut bloom = Bloom::default();
        for log in &logs {
            bloom.accrue(alloy::primitives::BloomInput::Raw(log.address.as_slice()));
            for t in &log.topics {
                bloom.accrue(alloy::primitives::BloomInput::Raw(t.as_slice()));
            }
        }
        let (extra_data, mix_hash) = arbitrum_header_info(env.l1_block_number);
        let header = Header {
            parent_hash,
            ommers_hash: alloy::consensus::EMPTY_OMMER_ROOT_HASH,
            beneficiary: env.coinbase,
            // The devnet keeps no state trie; these roots are digests of the block's content.
            state_root: keccak256([parent_hash.as_slice(), &env.number.to_be_bytes()].concat()),
            transactions_root: keccak256(transactions.concat()),
            receipts_root: keccak256(transactions.concat()),
            logs_bloom: bloom,
            difficulty: U256::from(1),
            number: env.number,
            gas_limit: env.gas_limit,
            gas_used,
            timestamp: env.timestamp,
            extra_data,
            mix_hash,
            nonce: Default::default(),
            base_fee_per_gas: Some(BASE_FEE),
            ..Default::default()
        };
        let hash = header.hash_slow();
        self.block_by_hash.insert(hash, env.number);
        self.blocks.push(Block {
            header,
            hash,
            transactions,
        });
        env.number
    }

    fn exec(&mut self, env: BlockEnv, origin: Address, gas_price: U256) -> Rc<RefCell<Exec>> {
        Rc::new(RefCell::new(Exec {
            state: std::mem::take(&mut self.state),
            block: env,
            origin,
            gas_price,
            programs: self.programs.clone(),
            stack: Vec::new(),
            pages_open: 0,
            pages_ever: 0,
            poster_fee: U256::ZERO,
            recent_programs: self.recent_programs.clone(),
            tracer: None,
        }))
    }

    /// Takes the state back from a finished execution, and the block's recent programs when it
    /// was a transaction (`keep_recent`) rather than a call.
    fn finish(&mut self, exec: Rc<RefCell<Exec>>, keep_recent: bool) {
        let exec = Rc::try_unwrap(exec)
            .ok()
            .expect("no frame outlives its transaction")
            .into_inner();
        self.state = exec.state;
        if keep_recent {
            self.recent_programs = exec.recent_programs;
        }
    }

    /// Decodes and checks a signed transaction, then executes and mines it in its own block, or,
    /// in interval mode, keeps it for the next block; its hash.
    pub fn send_raw_transaction(&mut self, raw: &[u8]) -> Result<B256, TxError> {
        let envelope =
            TxEnvelope::decode_2718(&mut &raw[..]).map_err(|e| TxError::Decode(e.to_string()))?;
        if envelope.is_eip4844() || envelope.is_eip7702() {
            return Err(TxError::Unsupported(
                "blob and set-code transactions are not supported".into(),
            ));
        }
        // Nitro's sequencer refuses transactions over `max-tx-data-size` (95,000 bytes by
        // default, `execution/gethexec/sequencer.go`).
        if raw.len() > MAX_TX_SIZE {
            return Err(TxError::OversizedData {
                size: raw.len(),
                limit: MAX_TX_SIZE,
            });
        }
        let hash = *envelope.tx_hash();
        if self.txs.contains_key(&hash) || self.pending.iter().any(|p| p.hash == hash) {
            return Err(TxError::Known);
        }
        let from = envelope.recover_signer().map_err(|_| TxError::Signature)?;
        match envelope.chain_id() {
            Some(id) if id == self.chain_id => {}
            // Pre-EIP-155 legacy transactions carry no chain id; accepted like anvil does.
            None if envelope.is_legacy() => {}
            got => {
                return Err(TxError::ChainId {
                    expected: self.chain_id,
                    got,
                })
            }
        }
        let nonce = self.pending_nonce(&from);
        if envelope.nonce() < nonce {
            return Err(TxError::NonceTooLow {
                expected: nonce,
                got: envelope.nonce(),
            });
        }
        if envelope.nonce() > nonce {
            return Err(TxError::NonceTooHigh {
                expected: nonce,
                got: envelope.nonce(),
            });
        }
        // EIP-3607: only an account without code (or with an EIP-7702 delegation) sends
        // transactions (go-ethereum `core/state_transition.go`, preCheck, after the nonce).
        let code = self.state.code(&from);
        if !code.is_empty() && !is_delegation(&code) {
            return Err(TxError::SenderNoEoa {
                address: from,
                code_len: code.len(),
            });
        }
        if let Some(tip) = envelope.max_priority_fee_per_gas() {
            if tip > envelope.max_fee_per_gas() {
                return Err(TxError::TipAboveFeeCap {
                    tip,
                    cap: envelope.max_fee_per_gas(),
                });
            }
        }
        if envelope.max_fee_per_gas() < BASE_FEE as u128 {
            return Err(TxError::FeeTooLow {
                have: envelope.max_fee_per_gas(),
                base: BASE_FEE,
            });
        }
        // go-ethereum's pool holds a transaction to the header's limit; ArbOS then runs at most
        // `TX_GAS_LIMIT` of it and gives the rest back (see `execute`).
        let gas_limit = envelope.gas_limit();
        if gas_limit > GETH_BLOCK_GAS_LIMIT {
            return Err(TxError::GasLimit(gas_limit));
        }
        let create = envelope.kind().is_create();
        if create && envelope.input().len() > MAX_INIT_CODE_SIZE {
            return Err(TxError::InitCodeSize {
                size: envelope.input().len(),
                limit: MAX_INIT_CODE_SIZE,
            });
        }
        let intrinsic = gas::intrinsic_gas(envelope.input(), create)
            + envelope.access_list().map_or(0, gas::access_list_gas);
        // Nitro charges the L1 poster gas before execution; a limit that cannot cover it is
        // refused like one below the intrinsic gas (`GasChargingHook`: ErrIntrinsicGas).
        let intrinsic = intrinsic + self.poster_gas_of(raw);
        if gas_limit < intrinsic {
            return Err(TxError::IntrinsicGas {
                have: gas_limit,
                want: intrinsic,
            });
        }
        let max_cost =
            U256::from(gas_limit) * U256::from(envelope.max_fee_per_gas()) + envelope.value();
        let have = self.state.balance(&from);
        if have < max_cost {
            return Err(TxError::InsufficientFunds {
                have,
                want: max_cost,
            });
        }

        if self.block_time.is_some() {
            self.pending.push(PendingTx {
                envelope,
                hash,
                from,
            });
            return Ok(hash);
        }
        let env = self.next_block_env();
        let mined = self.execute(
            env,
            PendingTx {
                envelope,
                hash,
                from,
            },
            0,
            0,
            0,
        );
        let logs = mined.logs.clone();
        let gas_used = mined.gas_used;
        self.txs.insert(hash, mined);
        let number = self.seal(vec![hash], gas_used, logs);
        self.log_mined(number, &hash);
        Ok(hash)
    }

    /// The nonce the sender's next transaction must carry: after the state's and the pending ones.
    pub fn pending_nonce(&self, from: &Address) -> u64 {
        self.state.nonce(from) + self.pending.iter().filter(|p| p.from == *from).count() as u64
    }

    /// Transactions waiting for the next block (interval mode).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    fn log_mined(&self, number: u64, hash: &B256) {
        if let Some(t) = self.txs.get(hash) {
            tracing::info!(
                block = number,
                tx = %hash,
                from = %t.from,
                gas_used = t.gas_used,
                success = t.success,
                "mined"
            );
        }
    }

    /// Interval mode: executes the pending transactions in arrival order and seals them in one
    /// block (an empty block when none). A transaction that can no longer pay is dropped with a
    /// warning, as a node's pool would drop it.
    pub fn mine_pending(&mut self) -> u64 {
        let env = self.next_block_env();
        let number = env.number;
        let mut hashes = Vec::new();
        let mut block_logs = Vec::new();
        let mut cumulative = 0u64;
        // ArbOS 50 and later start a transaction while 21,000 of the block's compute gas is
        // left, and count the compute gas each one used, at least 21,000 (`arbos/
        // block_processor.go`, `ProduceBlockAdvanced`, `blockGasLeft`): a block may end up to one
        // transaction's limit over `BLOCK_GAS_LIMIT`, and what does not start waits, in order.
        let mut block_gas_left = BLOCK_GAS_LIMIT;
        for p in std::mem::take(&mut self.pending) {
            if block_gas_left < gas::TX_BASE {
                self.pending.push(p);
                continue;
            }
            let cost = U256::from(p.envelope.gas_limit())
                * U256::from(p.envelope.max_fee_per_gas())
                + p.envelope.value();
            if self.state.nonce(&p.from) != p.envelope.nonce() || self.state.balance(&p.from) < cost
            {
                tracing::warn!(tx = %p.hash, from = %p.from, "dropped: nonce or balance changed");
                continue;
            }
            let hash = p.hash;
            let mined = self.execute(
                env.clone(),
                p,
                hashes.len() as u64,
                cumulative,
                block_logs.len() as u64,
            );
            cumulative += mined.gas_used;
            let compute = (mined.gas_used - mined.gas_used_for_l1).max(gas::TX_BASE);
            block_gas_left = block_gas_left.saturating_sub(compute);
            block_logs.extend(mined.logs.iter().cloned());
            self.txs.insert(hash, mined);
            hashes.push(hash);
        }
        let mined = hashes.clone();
        let number_sealed = self.seal(hashes, cumulative, block_logs);
        debug_assert_eq!(number, number_sealed);
        for h in &mined {
            self.log_mined(number, h);
        }
        number
    }

    /// Executes one checked transaction in the block `env`; the mined transaction.
    fn execute(
        &mut self,
        env: BlockEnv,
        tx: PendingTx,
        index: u64,
        gas_before: u64,
        first_log_index: u64,
    ) -> MinedTx {
        let PendingTx {
            envelope,
            hash,
            from,
        } = tx;
        let number = env.number;
        let nonce = envelope.nonce();
        let gas_limit = envelope.gas_limit();
        let create = envelope.kind().is_create();
        let l1_gas = self.poster_gas_of(&envelope.encoded_2718());
        let geth_intrinsic = gas::intrinsic_gas(envelope.input(), create)
            + envelope.access_list().map_or(0, gas::access_list_gas);
        let intrinsic = geth_intrinsic + l1_gas;
        // ArbOS drops priority fees: a transaction pays the base fee whatever its tip
        // (`arbos/tx_processor.go`, `CollectTips`: off up to ArbOS 60, then a chain setting that
        // is off by default).
        let price = BASE_FEE as u128;
        self.state.begin_transaction();
        let exec = self.exec(env, from, U256::from(price));
        let poster_fee = U256::from(l1_gas) * U256::from(price);
        exec.borrow_mut().poster_fee = poster_fee;
        exec.borrow_mut().tracer = Some(HostioTracer::default());
        {
            let mut e = exec.borrow_mut();
            e.state.update(from, |a| {
                a.nonce += 1;
                a.balance -= U256::from(gas_limit) * U256::from(price);
            });
            e.state.touch_account(from);
            // EIP-2929/2930: the precompiles and the access list's entries start warm.
            for a in crate::precompiles::warm_at_start() {
                e.state.touch_account(a);
            }
            for item in envelope.access_list().iter().flat_map(|l| l.iter()) {
                e.state.touch_account(item.address);
                for key in &item.storage_keys {
                    e.state.touch_slot(item.address, *key);
                }
            }
        }
        // ArbOS 50's per-transaction limit: what the limit leaves beyond it is held back and
        // given back at the end (`arbos/tx_processor.go`, `GasChargingHook`, `computeHoldGas`).
        let after_intrinsic = gas_limit
            .saturating_sub(intrinsic)
            .min(TX_GAS_LIMIT.saturating_sub(geth_intrinsic));
        let (success, used, contract_address, output) = match envelope.kind() {
            TxKind::Create => {
                let address = from.create(nonce);
                let (result, used) = exec::create(
                    &exec,
                    from,
                    address,
                    envelope.input(),
                    envelope.value(),
                    after_intrinsic,
                );
                match result {
                    Ok(a) => (true, used, Some(a), Bytes::new()),
                    Err(data) => (false, used, None, Bytes::from(data)),
                }
            }
            TxKind::Call(to) => {
                exec.borrow_mut().state.touch_account(to);
                let r = exec::call(
                    &exec,
                    Message {
                        caller: from,
                        to,
                        code_address: to,
                        value: envelope.value(),
                        data: envelope.input().clone(),
                        gas: after_intrinsic,
                        is_static: false,
                        transfers_value: true,
                    },
                );
                (r.ok(), r.gas_used, None, Bytes::from(describe(&r)))
            }
        };
        let gas_used = intrinsic + used.min(after_intrinsic);
        // EIP-3529: the refund counter, capped at a fifth of the gas used less the poster gas,
        // comes back.
        let gas_used =
            gas_used - gas::capped_refund(gas_used, l1_gas, exec.borrow().state.refund());
        let logs = {
            let mut e = exec.borrow_mut();
            let refund = U256::from(gas_limit - gas_used) * U256::from(price);
            e.state.update(from, |a| a.balance += refund);
            // What the sender paid is not burnt: ArbOS mints the compute part to the network
            // fee account and the poster part to the L1 pricer's pool (`arbos/tx_processor.go`,
            // `EndTxHook`; no infrastructure fee account is set).
            let compute = U256::from(gas_used - l1_gas) * U256::from(price);
            e.state
                .update(NETWORK_FEE_ACCOUNT, |a| a.balance += compute);
            e.state.update(l1_pricing::L1_PRICER_FUNDS_POOL, |a| {
                a.balance += poster_fee
            });
            e.state.logs.clone()
        };
        let trace = exec.borrow_mut().tracer.take().map(HostioTracer::finish);
        if self.hostio_traces.len() == KEPT_TRACES {
            self.hostio_traces.pop_front();
        }
        self.hostio_traces
            .push_back((hash, trace.unwrap_or_default()));
        self.finish(exec, true);
        let logs = if success { logs } else { Vec::new() };
        MinedTx {
            envelope,
            hash,
            from,
            block_number: number,
            index,
            gas_used,
            gas_used_for_l1: l1_gas,
            cumulative_gas_used: gas_before + gas_used,
            first_log_index,
            success,
            logs,
            contract_address,
            effective_gas_price: price,
            output,
        }
    }

    /// eth_call against the latest state; nothing is kept.
    pub fn call(&mut self, req: &CallRequest) -> anyhow::Result<CallResult> {
        Ok(self.call_with_refund(req)?.0)
    }

    /// [`Chain::call`], with the gas the refund counter would give back to a transaction
    /// (EIP-3529, capped at a fifth of the gas used).
    fn call_with_refund(&mut self, req: &CallRequest) -> anyhow::Result<(CallResult, u64)> {
        let from = req.from.unwrap_or_default();
        let gas_limit = req.gas.unwrap_or(BLOCK_GAS_LIMIT).min(BLOCK_GAS_LIMIT);
        let env = self.next_block_env();
        self.state.begin_transaction();
        let checkpoint = self.state.checkpoint();
        if let Err(e) = apply_overrides(&mut self.state, &req.overrides) {
            self.state.revert_to(checkpoint);
            return Err(e);
        }
        let exec = self.exec(env, from, U256::ZERO);
        {
            // As a transaction would start: sender, callee and precompiles warm.
            let mut e = exec.borrow_mut();
            e.state.touch_account(from);
            if let Some(to) = req.to {
                e.state.touch_account(to);
            }
            for a in crate::precompiles::warm_at_start() {
                e.state.touch_account(a);
            }
        }
        let intrinsic = gas::intrinsic_gas(&req.data, req.to.is_none());
        let result = match req.to {
            Some(to) => {
                // Like geth's eth_call: the caller is credited the value it sends.
                exec.borrow_mut()
                    .state
                    .update(from, |a| a.balance = a.balance.saturating_add(req.value));
                exec::call(
                    &exec,
                    Message {
                        caller: from,
                        to,
                        code_address: to,
                        value: req.value,
                        data: req.data.clone(),
                        gas: gas_limit.saturating_sub(intrinsic),
                        is_static: false,
                        transfers_value: true,
                    },
                )
            }
            None => {
                let address = from.create(exec.borrow().state.nonce(&from));
                let (r, used) = exec::create(
                    &exec,
                    from,
                    address,
                    &req.data,
                    req.value,
                    gas_limit.saturating_sub(intrinsic),
                );
                match r {
                    Ok(a) => CallResult {
                        outcome: Outcome::Success,
                        output: exec.borrow().state.code(&a).to_vec(),
                        gas_used: used,
                    },
                    Err(data) => CallResult {
                        outcome: Outcome::Revert,
                        output: data,
                        gas_used: used,
                    },
                }
            }
        };
        let gas_used = result.gas_used + intrinsic;
        // No poster gas here: the estimate adds it apart.
        let refund = gas::capped_refund(gas_used, 0, exec.borrow().state.refund());
        exec.borrow_mut().state.revert_to(checkpoint);
        self.finish(exec, false);
        Ok((CallResult { gas_used, ..result }, refund))
    }

    /// eth_estimateGas: the lowest gas limit with which the call succeeds, found as go-ethereum
    /// finds it (`eth/gasestimator/gasestimator.go` in Nitro's go-ethereum: one run at the cap,
    /// an optimistic guess of (gas used before refunds + the call stipend) x 64/63, then a
    /// bisection skewed to the low side that stops within 1.5% of the lowest limit). The answer's
    /// `gas_used` is that limit; a call that fails at the cap is returned as it failed.
    /// The L1 poster gas an estimate adds for `req`: Nitro's stand-in for the transaction,
    /// padded as Nitro pads it (`l1_pricing::estimation_poster_gas`).
    pub fn estimation_l1_gas(&self, req: &CallRequest) -> u64 {
        l1_pricing::estimation_poster_gas(
            req.to,
            req.value,
            &req.data,
            None,
            self.l1_price_per_unit,
            BASE_FEE,
            BASE_FEE,
        )
    }

    pub fn estimate_gas(&mut self, req: &CallRequest) -> anyhow::Result<CallResult> {
        // `eth/gasestimator`: EstimateGasErrorRatio; `params.CallStipend`.
        const ERROR_RATIO: f64 = 0.015;
        const CALL_STIPEND: u64 = 2_300;
        let mut hi = match req.gas {
            Some(g) if g >= gas::TX_BASE => g.min(BLOCK_GAS_LIMIT),
            _ => BLOCK_GAS_LIMIT,
        };
        let run = |chain: &mut Chain, limit: u64| {
            chain.call_with_refund(&CallRequest {
                gas: Some(limit),
                ..req.clone()
            })
        };
        // The L1 poster gas of Nitro's stand-in for the transaction, padded as Nitro pads it; the
        // search below is over the rest (a limit succeeds when what is left after the poster gas
        // does).
        let l1_gas = self.estimation_l1_gas(req);
        hi = hi.saturating_sub(l1_gas);
        // A plain transfer to an account without code is tried at 21000 first.
        let plain = req.data.is_empty() && req.to.is_some_and(|to| self.state.code(&to).is_empty());
        if plain && run(self, gas::TX_BASE)?.0.ok() {
            return Ok(CallResult {
                outcome: Outcome::Success,
                output: Vec::new(),
                gas_used: gas::TX_BASE + l1_gas,
            });
        }
        let (first, refund) = run(self, hi)?;
        match first.outcome {
            Outcome::Success => {}
            Outcome::OutOfGas => {
                anyhow::bail!("gas required exceeds allowance ({})", hi + l1_gas)
            }
            _ => return Ok(first),
        }
        // The gas used after refunds bounds the limit from below (exclusive).
        let mut lo = (first.gas_used - refund).saturating_sub(1);
        let optimistic = (first.gas_used + CALL_STIPEND) * 64 / 63;
        if optimistic < hi {
            if run(self, optimistic)?.0.ok() {
                hi = optimistic;
            } else {
                lo = optimistic;
            }
        }
        while lo + 1 < hi {
            if (hi - lo) as f64 / (hi as f64) < ERROR_RATIO {
                break;
            }
            let mid = ((hi + lo) / 2).min(lo.saturating_mul(2).max(lo + 1));
            if run(self, mid)?.0.ok() {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(CallResult {
            gas_used: hi + l1_gas,
            ..first
        })
    }

    /// Logs of blocks `from..=to`, filtered by address and topics (each position: any of).
    pub fn logs(
        &self,
        from: u64,
        to: u64,
        addresses: &[Address],
        topics: &[Vec<B256>],
    ) -> Vec<(Log, &MinedTx, u64)> {
        let mut out = Vec::new();
        let to = to.min(self.block_number());
        for n in from..=to {
            let Some(block) = self.block(n) else { break };
            let mut log_index = 0u64;
            for h in &block.transactions {
                let Some(tx) = self.txs.get(h) else { continue };
                for log in &tx.logs {
                    let address_ok = addresses.is_empty() || addresses.contains(&log.address);
                    let topics_ok = topics.iter().enumerate().all(|(i, wanted)| {
                        wanted.is_empty() || log.topics.get(i).is_some_and(|t| wanted.contains(t))
                    });
                    if address_ok && topics_ok {
                        out.push((log.clone(), tx, log_index));
                    }
                    log_index += 1;
                }
            }
        }
        out
    }

    /// Raw bytes of a mined transaction (eth_getRawTransactionByHash).
    pub fn raw_transaction(&self, hash: &B256) -> Option<Vec<u8>> {
        self.txs.get(hash).map(|t| t.envelope.encoded_2718())
    }
}

/// An EIP-7702 delegation designator (`0xef0100 || address`), which leaves an account an EOA
/// (go-ethereum `core/types/tx_setcode.go`, ParseDelegation).
fn is_delegation(code: &[u8]) -> bool {
    code.len() == 23 && code.starts_with(&[0xef, 0x01, 0x00])
}

/// Revert data, or the reason a frame failed, as bytes.
fn describe(r: &CallResult) -> Vec<u8> {
    match &r.outcome {
        Outcome::Success | Outcome::Revert => r.output.clone(),
        Outcome::OutOfGas => b"out of gas".to_vec(),
        Outcome::Failure(why) => why.as_bytes().to_vec(),
    }
}
