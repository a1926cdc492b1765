//! The world of the harness and transactions against it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::SolInterface as _;

use crate::host::Frame;
use crate::ITaskContract::ITaskContractErrors;
use crate::ProtocolChain;
use task_contract::chain::{ARB_BLOCK_HASH, ARB_BLOCK_NUMBER, ARB_SYS};

/// An emitted log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Vec<u8>,
}

/// Revert data of a failed call, decoded as one of the contract's errors when it is one.
#[derive(Clone, Debug)]
pub struct Revert {
    pub data: Vec<u8>,
}

impl Revert {
    pub fn error(&self) -> Option<ITaskContractErrors> {
        ITaskContractErrors::abi_decode(&self.data).ok()
    }
}

#[derive(Clone, Default)]
pub struct World {
    pub storage: HashMap<(Address, U256), B256>,
    pub balances: HashMap<Address, U256>,
    /// Accounts whose receive function reverts (a push payment to them fails).
    pub rejecting: HashSet<Address>,
    pub logs: Vec<Log>,
    pub timestamp: u64,
    pub block_number: u64,
    pub verifier: Address,
    /// The task contract's extension program, which runs on the contract's storage when the
    /// contract delegates to it.
    pub extension: Address,
    /// Slots whose value changed during the current transaction.
    pub slots_written: HashSet<(Address, U256)>,
}

impl World {
    pub fn balance(&self, a: Address) -> U256 {
        self.balances.get(&a).copied().unwrap_or_default()
    }

    pub fn transfer(&mut self, from: Address, to: Address, value: U256) -> Result<(), Vec<u8>> {
        if value.is_zero() {
            return if self.rejecting.contains(&to) {
                Err(Vec::new())
            } else {
                Ok(())
            };
        }
        if self.rejecting.contains(&to) || self.balance(from) < value {
            return Err(Vec::new());
        }
        *self.balances.entry(from).or_default() -= value;
        *self.balances.entry(to).or_default() += value;
        Ok(())
    }

    /// What ArbSys answers in block `block_number`: `arbBlockNumber()`, or `arbBlockHash(n)` for
    /// the 256 blocks before it; `None` (a revert) otherwise.
    pub fn arb_sys(block_number: u64, data: &[u8]) -> Option<Vec<u8>> {
        let current = U256::from(block_number);
        if data == ARB_BLOCK_NUMBER {
            return Some(current.to_be_bytes_vec());
        }
        let n = data
            .strip_prefix(&ARB_BLOCK_HASH)
            .filter(|n| n.len() == 32)
            .map(U256::from_be_slice)?;
        (n < current && current - n <= U256::from(256))
            .then(|| World::block_hash(n.to::<u64>()).to_vec())
    }

    /// The precompiles the contract calls, as static calls in block `block_number`: ArbSys, sha256
    /// and ecrecover (geth's rules, `protocol::ecrecover`). `None` when `to` is none of them; the
    /// answer's `Err` is a revert.
    pub fn precompile(
        block_number: u64,
        to: Address,
        data: &[u8],
    ) -> Option<Result<Vec<u8>, Vec<u8>>> {
        use sha2::Digest;
        if to == ARB_SYS {
            return Some(World::arb_sys(block_number, data).ok_or_else(Vec::new));
        }
        if to == alloy_primitives::address!("0000000000000000000000000000000000000002") {
            return Some(Ok(sha2::Sha256::digest(data).to_vec()));
        }
        if to == alloy_primitives::address!("0000000000000000000000000000000000000001") {
            return Some(Ok(protocol::ecrecover::ecrecover(data)));
        }
        None
    }

    /// The hash of block `n`, a fixed function of the number.
    pub fn block_hash(n: u64) -> B256 {
        keccak256([b"harness block ".as_slice(), &n.to_be_bytes()].concat())
    }
}

/// A chain with the task contract (core and extension programs) and the VRF verifier deployed.
pub struct Chain {
    world: Rc<RefCell<World>>,
    pub contract: Address,
    pub verifier: Address,
    pub extension: Address,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    pub fn new() -> Chain {
        let contract = Address::repeat_byte(0xC0);
        let verifier = Address::repeat_byte(0xF1);
        let extension = Address::repeat_byte(0xE1);
        let world = World {
            timestamp: 1_700_000_000,
            block_number: 1_000,
            verifier,
            extension,
            ..Default::default()
        };
        Chain {
            world: Rc::new(RefCell::new(world)),
            contract,
            verifier,
            extension,
        }
    }

    /// Slots whose value the last successful transaction changed.
    pub fn last_slots_written(&self) -> usize {
        self.world.borrow().slots_written.len()
    }
}

impl ProtocolChain for Chain {
    fn contract(&self) -> Address {
        self.contract
    }

    fn verifier(&self) -> Address {
        self.verifier
    }

    fn extension(&self) -> Address {
        self.extension
    }

    fn set_balance(&self, a: Address, v: U256) {
        self.world.borrow_mut().balances.insert(a, v);
    }

    fn balance(&self, a: Address) -> U256 {
        self.world.borrow().balance(a)
    }

    /// Makes push payments to `a` fail (a contract whose receive function reverts).
    fn reject_payments(&self, a: Address, reject: bool) {
        let mut w = self.world.borrow_mut();
        if reject {
            w.rejecting.insert(a);
        } else {
            w.rejecting.remove(&a);
        }
    }

    fn advance(&self, seconds: u64) {
        self.world.borrow_mut().timestamp += seconds;
    }

    fn now(&self) -> u64 {
        self.world.borrow().timestamp
    }

    /// Mines a block, moves `value` from `from` to the contract, runs the call, and undoes
    /// everything but the block if the call reverts.
    fn send_raw(&self, from: Address, value: U256, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        let snapshot = {
            let mut w = self.world.borrow_mut();
            w.block_number += 1;
            w.logs.clear();
            w.slots_written.clear();
            w.clone()
        };
        let funded = self.world.borrow_mut().transfer(from, self.contract, value);
        let result = funded.and_then(|()| {
            let frame = Frame::new(self.world.clone(), self.contract, from, value);
            task_contract::call(frame, calldata)
        });
        result.map_err(|data| {
            *self.world.borrow_mut() = snapshot;
            Revert { data }
        })
    }

    fn view_raw(&self, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        let snapshot = self.world.borrow().clone();
        let frame = Frame::new(self.world.clone(), self.contract, Address::ZERO, U256::ZERO);
        let out = task_contract::call(frame, calldata);
        *self.world.borrow_mut() = snapshot;
        out.map_err(|data| Revert { data })
    }

    fn last_logs(&self) -> Vec<Log> {
        self.world.borrow().logs.clone()
    }

    fn contract_state(&self) -> B256 {
        let w = self.world.borrow();
        let mut slots: Vec<(U256, B256)> = w
            .storage
            .iter()
            .filter(|((a, _), v)| *a == self.contract && !v.is_zero())
            .map(|((_, k), v)| (*k, *v))
            .collect();
        slots.sort();
        state_digest(&slots, w.balance(self.contract))
    }
}

/// keccak of a contract's non-zero storage, sorted by slot, and its balance.
pub fn state_digest(slots: &[(U256, B256)], balance: U256) -> B256 {
    let mut bytes = Vec::with_capacity(slots.len() * 64 + 32);
    for (slot, value) in slots {
        bytes.extend_from_slice(&slot.to_be_bytes::<32>());
        bytes.extend_from_slice(value.as_slice());
    }
    bytes.extend_from_slice(&balance.to_be_bytes::<32>());
    keccak256(bytes)
}
