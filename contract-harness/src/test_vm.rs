//! The task contract on stylus-sdk's test VM (`stylus_sdk::testing::TestVM`), as a
//! [`ProtocolChain`] so that every scenario test and the property test also run there.
//!
//! The VM holds the contract's storage, the balances, the message (sender, value), the block
//! (number, timestamp) and the logs, and answers the payments the contract pushes through its
//! mocked calls. It does not do what a chain does around a call (stylus-test 0.10.10): a method
//! returning an error keeps its writes, value moves nowhere, and a mocked call hands back the data
//! of the call mocked last rather than of the call made. So this host snapshots the VM before each
//! transaction and restores it when the call reverts, moves `msg.value` and payments in the VM's
//! balance table itself, and answers the precompiles and the VRF verifier directly: ArbSys from the
//! VM's block number, sha256 and ecrecover as Ethereum computes them, the verifier with the
//! protocol crate's ECVRF verifier.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolCall;
use protocol::bindings::IVrfVerifier;
use stylus_sdk::stylus_core::host::{
    AccountAccess, BlockAccess, MessageAccess, StorageAccess, UnsafeCallAccess,
};
use stylus_sdk::testing::TestVM;

use crate::chain::{state_digest, World};
use crate::{Log, ProtocolChain, Revert};

pub struct TestVmChain {
    pub vm: TestVM,
    contract: Address,
    verifier: Address,
    extension: Address,
    /// Accounts whose receive function reverts.
    rejecting: RefCell<HashSet<Address>>,
    /// Logs of the current (then last) transaction.
    logs: RefCell<Vec<Log>>,
    /// Whether the contract is running (views and transactions do not nest).
    busy: Cell<bool>,
}

impl Default for TestVmChain {
    fn default() -> Self {
        Self::new()
    }
}

impl TestVmChain {
    pub fn new() -> TestVmChain {
        let vm = TestVM::new();
        let contract = Address::repeat_byte(0xC0);
        vm.set_contract_address(contract);
        vm.set_block_number(1_000);
        vm.set_block_timestamp(1_700_000_000);
        TestVmChain {
            vm,
            contract,
            verifier: Address::repeat_byte(0xF1),
            extension: Address::repeat_byte(0xE1),
            rejecting: RefCell::default(),
            logs: RefCell::default(),
            busy: Cell::new(false),
        }
    }

    /// Moves `value` in the VM's balance table; whether `from` could pay and `to` accepted.
    fn transfer(&self, from: Address, to: Address, value: U256) -> bool {
        if self.rejecting.borrow().contains(&to) {
            return false;
        }
        if value.is_zero() {
            return true;
        }
        let (from_balance, to_balance) = (self.vm.balance(from), self.vm.balance(to));
        if from_balance < value {
            return false;
        }
        self.vm.set_balance(from, from_balance - value);
        self.vm.set_balance(to, to_balance + value);
        true
    }

    /// Runs the contract with the VM's message set to `from` and `value`; every change is undone
    /// when it reverts (and after a view).
    fn run(
        &self,
        from: Address,
        value: U256,
        calldata: &[u8],
        keep: bool,
    ) -> Result<Vec<u8>, Revert> {
        assert!(
            !self.busy.replace(true),
            "the contract does not call itself"
        );
        let before = self.vm.snapshot();
        self.logs.borrow_mut().clear();
        let result = if self.transfer(from, self.contract, value) {
            self.vm.set_sender(from);
            self.vm.set_value(value);
            task_contract::call(VmHost { chain: self }, calldata)
        } else {
            Err(Vec::new())
        };
        if result.is_err() || !keep {
            self.vm.clear_storage();
            for (slot, word) in &before.storage {
                self.vm.set_storage(*slot, *word);
            }
            for account in self.vm.snapshot().balances.keys() {
                let was = before.balances.get(account).copied().unwrap_or_default();
                self.vm.set_balance(*account, was);
            }
            self.logs.borrow_mut().clear();
        }
        self.busy.set(false);
        result.map_err(|data| Revert { data })
    }
}

/// The contract's host during one call.
struct VmHost<'a> {
    chain: &'a TestVmChain,
}

impl task_contract::Host for VmHost<'_> {
    fn sender(&self) -> Address {
        self.chain.vm.msg_sender()
    }
    fn value(&self) -> U256 {
        self.chain.vm.msg_value()
    }
    fn timestamp(&self) -> u64 {
        self.chain.vm.block_timestamp()
    }
    fn address(&self) -> Address {
        self.chain.vm.contract_address()
    }
    fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
        self.chain
            .vm
            .storage_load_bytes32(U256::from_be_bytes(*slot))
            .0
    }
    fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
        // SAFETY: the VM's storage is a map; nothing borrows into it.
        unsafe {
            self.chain
                .vm
                .storage_cache_bytes32(U256::from_be_bytes(*slot), B256::new(*word))
        }
    }
    fn emit_log(&self, topics_then_data: &[u8], topics: usize) {
        stylus_sdk::stylus_core::host::RawLogAccess::emit_log(
            &self.chain.vm,
            topics_then_data,
            topics,
        );
        let (topic_bytes, data) = topics_then_data.split_at(topics * 32);
        self.chain.logs.borrow_mut().push(Log {
            address: self.chain.contract,
            topics: topic_bytes.chunks(32).map(B256::from_slice).collect(),
            data: data.to_vec(),
        });
    }
    fn send_value(&self, to: &Address, value: &U256, gas: Option<u64>) -> bool {
        // The VM's mocked calls may refuse the payment too.
        let amount = value.to_be_bytes::<32>();
        let mut outs_len = 0;
        // SAFETY: the pointers are to live locals of the lengths the VM reads.
        let status = unsafe {
            self.chain.vm.call_contract(
                to.as_ptr(),
                [].as_ptr(),
                0,
                amount.as_ptr(),
                gas.unwrap_or(u64::MAX),
                &mut outs_len,
            )
        };
        status == 0 && self.chain.transfer(self.chain.contract, *to, *value)
    }
    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>> {
        if let Some(answer) = World::precompile(self.chain.vm.block_number(), *to, calldata) {
            return answer.ok();
        }
        if *to == self.chain.verifier {
            let call = IVrfVerifier::verifyCall::abi_decode(calldata).ok()?;
            let beta = protocol::vrf::verify(&call.publicKey, &call.alpha, &call.proof).ok()?;
            return Some(beta.to_vec());
        }
        None
    }
    fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        task_contract::host::native_mul_mod(a, b, m)
    }
    fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        task_contract::host::native_add_mod(a, b, m)
    }
    /// The extension program runs on the VM's storage, message and block, as a delegate call
    /// does.
    fn delegate_call(&self, to: &Address, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        if *to != self.chain.extension {
            return Err(Vec::new());
        }
        task_contract::extension::call(VmHost { chain: self.chain }, calldata)
    }
}

impl ProtocolChain for TestVmChain {
    fn contract(&self) -> Address {
        self.contract
    }

    fn verifier(&self) -> Address {
        self.verifier
    }

    fn extension(&self) -> Address {
        self.extension
    }

    fn set_balance(&self, account: Address, wei: U256) {
        self.vm.set_balance(account, wei);
    }

    fn balance(&self, account: Address) -> U256 {
        self.vm.balance(account)
    }

    fn reject_payments(&self, account: Address, reject: bool) {
        let mut rejecting = self.rejecting.borrow_mut();
        if reject {
            rejecting.insert(account);
        } else {
            rejecting.remove(&account);
        }
    }

    fn advance(&self, seconds: u64) {
        self.vm
            .set_block_timestamp(self.vm.block_timestamp() + seconds);
    }

    fn now(&self) -> u64 {
        self.vm.block_timestamp()
    }

    /// A transaction in a new block.
    fn send_raw(&self, from: Address, value: U256, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        self.vm.set_block_number(self.vm.block_number() + 1);
        self.run(from, value, calldata, true)
    }

    fn view_raw(&self, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        let logs = self.logs.borrow().clone();
        let result = self.run(Address::ZERO, U256::ZERO, calldata, false);
        *self.logs.borrow_mut() = logs;
        result
    }

    fn last_logs(&self) -> Vec<Log> {
        self.logs.borrow().clone()
    }

    fn contract_state(&self) -> B256 {
        let mut slots: Vec<(U256, B256)> = self
            .vm
            .snapshot()
            .storage
            .into_iter()
            .filter(|(_, word)| !word.is_zero())
            .collect();
        slots.sort();
        state_digest(&slots, self.vm.balance(self.contract))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn a_reverted_call_leaves_storage_and_balances_as_they_were() {
        let chain = TestVmChain::new();
        let sender = Address::repeat_byte(7);
        chain.set_balance(sender, U256::from(100));
        let before = chain.contract_state();
        // Not initialised: any call reverts, after msg.value moved in.
        let r = chain.send_raw(sender, U256::from(40), &keccak256("pause()")[..4]);
        assert!(r.is_err());
        assert_eq!(chain.contract_state(), before);
        assert_eq!(chain.balance(sender), U256::from(100));
        assert!(chain.last_logs().is_empty());
    }

    #[test]
    fn a_payment_the_vms_mock_refuses_becomes_a_credit() {
        use crate::net::{Net, ETH};
        use crate::ITaskContract;
        let mut net = Net::on(TestVmChain::new());
        let (t, node) = net.validated_single_task(2 * ETH);
        let fee = U256::from(2 * ETH);
        let before = net.chain.balance(node);
        net.chain
            .vm
            .mock_call(node, Vec::new(), fee, Err(Vec::new()));
        net.upload_result(t.commitment).unwrap();
        let credited = net.chain.events::<ITaskContract::PaymentCredited>();
        assert_eq!((credited[0].to, credited[0].amount), (node, fee));
        let credit = net
            .chain
            .view(ITaskContract::creditOfCall { account: node })
            .unwrap();
        assert_eq!(credit, fee);
        assert_eq!(net.chain.balance(node), before);
    }
}
