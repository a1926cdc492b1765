//! Keeping the chain: in memory for `evm_snapshot` / `evm_revert`, and in a file for `--state`
//! (saved on shutdown, loaded at start, so a restart loses nothing).
//!
//! The file is JSON: accounts (balance, nonce, code, whether the code was activated), storage,
//! blocks, and every transaction (its signed bytes) with its receipt. Activated programs
//! are compiled again at load, through the same checks as activation.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, Bytes, B256, U256};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::evm::state::{Account, State};
use crate::node::chain::{Block, Chain, MinedTx};
use crate::stylus::program::ProgramCache;

/// A copy of everything that changes (evm_snapshot).
#[derive(Clone)]
pub struct Snapshot {
    state: State,
    blocks: Vec<Block>,
    block_by_hash: HashMap<B256, u64>,
    txs: HashMap<B256, MinedTx>,
    time_offset: u64,
    pending: Vec<crate::node::chain::PendingTx>,
}

#[derive(Serialize, Deserialize)]
struct SavedAccount {
    address: Address,
    balance: U256,
    nonce: u64,
    code: Bytes,
    activated: bool,
}

#[derive(Serialize, Deserialize)]
struct SavedChain {
    /// Format version of this file.
    version: u32,
    chain_id: u64,
    time_offset: u64,
    accounts: Vec<SavedAccount>,
    storage: Vec<(Address, B256, B256)>,
    blocks: Vec<Block>,
    /// In block order.
    transactions: Vec<MinedTx>,
}

/// A transaction envelope as its signed EIP-2718 bytes.
pub(crate) mod raw_envelope {
    use alloy::consensus::TxEnvelope;
    use alloy::eips::eip2718::{Decodable2718, Encodable2718};
    use alloy::primitives::Bytes;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(tx: &TxEnvelope, s: S) -> Result<S::Ok, S::Error> {
        Bytes::from(tx.encoded_2718()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TxEnvelope, D::Error> {
        let raw = Bytes::deserialize(d)?;
        TxEnvelope::decode_2718(&mut raw.as_ref()).map_err(serde::de::Error::custom)
    }
}

const FORMAT_VERSION: u32 = 1;

impl Chain {
    /// evm_snapshot: saves the chain; the id to revert to.
    pub fn snapshot(&mut self) -> u64 {
        self.snapshots.push(Snapshot {
            state: self.state.clone(),
            blocks: self.blocks.clone(),
            block_by_hash: self.block_by_hash.clone(),
            txs: self.txs.clone(),
            time_offset: self.time_offset,
            pending: self.pending.clone(),
        });
        self.snapshots.len() as u64
    }

    /// evm_revert: back to snapshot `id`, which is used up with every later one (as in anvil);
    /// false for an unknown id.
    pub fn revert_to_snapshot(&mut self, id: u64) -> bool {
        if id == 0 || id > self.snapshots.len() as u64 {
            return false;
        }
        self.snapshots.truncate(id as usize);
        let s = self.snapshots.pop().expect("the snapshot exists");
        self.state = s.state;
        self.blocks = s.blocks;
        self.block_by_hash = s.block_by_hash;
        self.txs = s.txs;
        self.time_offset = s.time_offset;
        self.pending = s.pending;
        true
    }

    /// anvil_setBalance.
    pub fn set_balance(&mut self, address: Address, balance: U256) {
        self.state.begin_transaction();
        self.state.update(address, |a| a.balance = balance);
        self.state.begin_transaction();
    }

    /// anvil_setCode: code an activated program already has runs at once; other Stylus code
    /// needs activation.
    pub fn set_code(&mut self, address: Address, code: Bytes) {
        self.state.begin_transaction();
        self.state.set_code(address, code);
        self.state.begin_transaction();
    }

    /// Writes the chain to `path` (through a temporary file and a rename, so a crash while saving
    /// leaves the previous file whole).
    pub fn save(&self, path: &Path) -> Result<()> {
        let saved = SavedChain {
            version: FORMAT_VERSION,
            chain_id: self.chain_id,
            time_offset: self.time_offset,
            accounts: self
                .state
                .accounts()
                .map(|(address, a)| SavedAccount {
                    address: *address,
                    balance: a.balance,
                    nonce: a.nonce,
                    code: a.code.clone(),
                    activated: a.program.is_some(),
                })
                .collect(),
            storage: self
                .state
                .storage_entries()
                .map(|(a, slot, v)| (*a, *slot, *v))
                .collect(),
            blocks: self.blocks.clone(),
            transactions: self
                .blocks
                .iter()
                .flat_map(|b| b.transactions.iter())
                .filter_map(|h| self.txs.get(h).cloned())
                .collect(),
        };
        let tmp = path.with_extension("tmp");
        let file =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut writer, &saved)
            .with_context(|| format!("writing {}", tmp.display()))?;
        let file = writer
            .into_inner()
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("syncing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(())
    }

    /// Reads a chain saved by [`Chain::save`]; activated programs are compiled again.
    pub fn load(path: &Path) -> Result<Chain> {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let saved: SavedChain = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a devnet state file", path.display()))?;
        if saved.version != FORMAT_VERSION {
            bail!(
                "{} has format version {}, this devnet reads {FORMAT_VERSION}",
                path.display(),
                saved.version
            );
        }
        let programs = Arc::new(ProgramCache::new()?);
        // Codes first: a root program's fragments live in other accounts.
        let codes: HashMap<Address, Bytes> = saved
            .accounts
            .iter()
            .map(|a| (a.address, a.code.clone()))
            .collect();
        let mut accounts = HashMap::new();
        for a in saved.accounts {
            let program =
                if a.activated {
                    let fragment = |f: &Address| codes.get(f).cloned().unwrap_or_default();
                    Some(programs.activate(&a.code, fragment).with_context(|| {
                        format!("activating the saved program at {}", a.address)
                    })?)
                } else {
                    None
                };
            accounts.insert(
                a.address,
                Account {
                    balance: a.balance,
                    nonce: a.nonce,
                    code: a.code,
                    program,
                },
            );
        }
        let storage = saved
            .storage
            .into_iter()
            .map(|(a, slot, v)| ((a, slot), v))
            .collect();
        let mut block_by_hash = HashMap::new();
        for (i, b) in saved.blocks.iter().enumerate() {
            if b.header.number != i as u64 || b.hash != b.header.hash_slow() {
                bail!("{}: block {i} does not match its header", path.display());
            }
            block_by_hash.insert(b.hash, i as u64);
        }
        if saved.blocks.is_empty() {
            bail!("{} holds no blocks", path.display());
        }
        let mut txs = HashMap::new();
        for t in saved.transactions {
            if t.hash != *t.envelope.tx_hash() {
                bail!(
                    "{}: transaction {} does not match its bytes",
                    path.display(),
                    t.hash
                );
            }
            txs.insert(t.hash, t);
        }
        Ok(Chain {
            chain_id: saved.chain_id,
            state: State::from_parts(accounts, storage),
            blocks: saved.blocks,
            block_by_hash,
            txs,
            programs,
            time_offset: saved.time_offset,
            block_time: None,
            pending: Vec::new(),
            snapshots: Vec::new(),
            // A setting of the running devnet, not part of the saved chain.
            l1_price_per_unit: crate::node::l1_pricing::DEFAULT_PRICE_PER_UNIT,
            // A saved chain resumes at a fresh block.
            recent_programs: Default::default(),
            hostio_traces: Default::default(),
        })
    }
}
