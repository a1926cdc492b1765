//! World state (accounts, storage, logs) with a journal: every change records how to undo it, so a
//! reverted call frame or transaction is rolled back to its checkpoint exactly.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};

use crate::stylus::program::Program;

#[derive(Clone, Default, Debug)]
pub struct Account {
    pub balance: U256,
    pub nonce: u64,
    /// Deployed code (for a Stylus program: the `EFF000` prefix and the compressed WASM).
    pub code: Bytes,
    /// The activated program, once `ArbWasm.activateProgram` accepted the code.
    pub program: Option<Arc<Program>>,
}

/// A log emitted by a call frame.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
}

#[derive(Clone)]
enum Change {
    Account(Address, Option<Account>),
    Storage(Address, B256, Option<B256>),
    Log,
    WarmAccount(Address),
    WarmSlot(Address, B256),
    Refund(u64),
}

/// A position in the journal to revert to.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint(usize);

#[derive(Clone, Default)]
pub struct State {
    accounts: HashMap<Address, Account>,
    storage: HashMap<(Address, B256), B256>,
    journal: Vec<Change>,
    /// Logs of the current transaction.
    pub logs: Vec<Log>,
    /// EIP-2929 access sets and the storage values at the start of the transaction (EIP-2200).
    warm_accounts: HashSet<Address>,
    warm_slots: HashSet<(Address, B256)>,
    original: HashMap<(Address, B256), B256>,
    /// The transaction's gas refund counter (EIP-2200 / EIP-3529), journaled like geth's.
    refund: u64,
}

impl State {
    pub fn account(&self, a: &Address) -> Option<&Account> {
        self.accounts.get(a)
    }

    pub fn balance(&self, a: &Address) -> U256 {
        self.accounts.get(a).map(|x| x.balance).unwrap_or_default()
    }

    pub fn nonce(&self, a: &Address) -> u64 {
        self.accounts.get(a).map(|x| x.nonce).unwrap_or_default()
    }

    pub fn code(&self, a: &Address) -> Bytes {
        self.accounts
            .get(a)
            .map(|x| x.code.clone())
            .unwrap_or_default()
    }

    pub fn program(&self, a: &Address) -> Option<Arc<Program>> {
        self.accounts.get(a).and_then(|x| x.program.clone())
    }

    /// The activated program of some account whose code hashes to `code_hash`: like Nitro, the
    /// devnet activates code, not addresses, so every copy of activated code runs.
    pub fn activated_program(&self, code_hash: &B256) -> Option<Arc<Program>> {
        self.accounts
            .values()
            .filter_map(|a| a.program.as_ref())
            .find(|p| p.code_hash == *code_hash)
            .cloned()
    }

    /// Sets an account's code; it runs at once when the same code is already activated.
    pub fn set_code(&mut self, a: Address, code: Bytes) {
        let program = if code.is_empty() {
            None
        } else {
            self.activated_program(&keccak256(&code))
        };
        self.update(a, |acc| {
            acc.code = code;
            acc.program = program;
        });
    }

    /// Every account, for saving the chain.
    pub fn accounts(&self) -> impl Iterator<Item = (&Address, &Account)> {
        self.accounts.iter()
    }

    /// Every non-zero storage slot of every account, for saving the chain.
    pub fn storage_entries(&self) -> impl Iterator<Item = (&Address, &B256, &B256)> {
        self.storage.iter().map(|((a, slot), v)| (a, slot, v))
    }

    /// A state holding exactly these accounts and slots (a loaded chain).
    pub fn from_parts(
        accounts: HashMap<Address, Account>,
        storage: HashMap<(Address, B256), B256>,
    ) -> State {
        State {
            accounts,
            storage,
            ..State::default()
        }
    }

    /// Every non-zero storage slot of an account.
    pub fn storage_slots(&self, a: &Address) -> Vec<B256> {
        self.storage
            .keys()
            .filter(|(owner, _)| owner == a)
            .map(|(_, slot)| *slot)
            .collect()
    }

    pub fn storage(&self, a: &Address, slot: &B256) -> B256 {
        self.storage.get(&(*a, *slot)).copied().unwrap_or_default()
    }

    /// Changes an account through `f`, journaling its previous state.
    pub fn update(&mut self, a: Address, f: impl FnOnce(&mut Account)) {
        let previous = self.accounts.get(&a).cloned();
        self.journal.push(Change::Account(a, previous));
        f(self.accounts.entry(a).or_default());
    }

    pub fn set_storage(&mut self, a: Address, slot: B256, value: B256) {
        let key = (a, slot);
        let previous = self.storage.get(&key).copied();
        self.original
            .entry(key)
            .or_insert(previous.unwrap_or_default());
        self.journal.push(Change::Storage(a, slot, previous));
        if value.is_zero() {
            self.storage.remove(&key);
        } else {
            self.storage.insert(key, value);
        }
    }

    /// The slot's value when the transaction started (for SSTORE pricing).
    pub fn original_storage(&self, a: &Address, slot: &B256) -> B256 {
        self.original
            .get(&(*a, *slot))
            .copied()
            .unwrap_or_else(|| self.storage(a, slot))
    }

    /// Moves `value`; false (and nothing changes) when `from` cannot afford it.
    pub fn transfer(&mut self, from: Address, to: Address, value: U256) -> bool {
        if value.is_zero() {
            return true;
        }
        if self.balance(&from) < value {
            return false;
        }
        self.update(from, |a| a.balance -= value);
        self.update(to, |a| a.balance += value);
        true
    }

    pub fn push_log(&mut self, log: Log) {
        self.logs.push(log);
        self.journal.push(Change::Log);
    }

    /// Marks an account accessed; whether it was cold.
    pub fn touch_account(&mut self, a: Address) -> bool {
        let cold = self.warm_accounts.insert(a);
        if cold {
            self.journal.push(Change::WarmAccount(a));
        }
        cold
    }

    /// Marks a slot accessed; whether it was cold.
    pub fn touch_slot(&mut self, a: Address, slot: B256) -> bool {
        let cold = self.warm_slots.insert((a, slot));
        if cold {
            self.journal.push(Change::WarmSlot(a, slot));
        }
        cold
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.journal.len())
    }

    /// Undoes every change made since `cp`.
    pub fn revert_to(&mut self, cp: Checkpoint) {
        while self.journal.len() > cp.0 {
            match self
                .journal
                .pop()
                .expect("journal is longer than the checkpoint")
            {
                Change::Account(a, Some(previous)) => {
                    self.accounts.insert(a, previous);
                }
                Change::Account(a, None) => {
                    self.accounts.remove(&a);
                }
                Change::Storage(a, slot, Some(previous)) => {
                    self.storage.insert((a, slot), previous);
                }
                Change::Storage(a, slot, None) => {
                    self.storage.remove(&(a, slot));
                }
                Change::Log => {
                    self.logs.pop();
                }
                Change::WarmAccount(a) => {
                    self.warm_accounts.remove(&a);
                }
                Change::WarmSlot(a, slot) => {
                    self.warm_slots.remove(&(a, slot));
                }
                Change::Refund(previous) => self.refund = previous,
            }
        }
    }

    /// Starts a transaction: empty journal, logs and access sets.
    pub fn begin_transaction(&mut self) {
        self.journal.clear();
        self.logs.clear();
        self.warm_accounts.clear();
        self.warm_slots.clear();
        self.original.clear();
        self.refund = 0;
    }

    /// The refund counter.
    pub fn refund(&self) -> u64 {
        self.refund
    }

    /// Changes the refund counter by `delta` (geth's AddRefund / SubRefund; the counter never
    /// goes below zero on a valid sequence of stores).
    pub fn adjust_refund(&mut self, delta: i64) {
        if delta == 0 {
            return;
        }
        self.journal.push(Change::Refund(self.refund));
        self.refund = self.refund.saturating_add_signed(delta);
    }
}
