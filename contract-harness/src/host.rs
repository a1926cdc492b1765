//! The `stylus_core::Host` of one call frame: storage of the running contract, its caller and
//! value, and the world it may touch (balances, logs, other programs).

use std::cell::RefCell;
use std::rc::Rc;

use alloy_primitives::{keccak256, Address, B256, U256};
use stylus_sdk::host::VM;
use stylus_sdk::stylus_core::host::*;

use crate::chain::World;

#[derive(Clone)]
pub struct Frame {
    pub world: Rc<RefCell<World>>,
    pub this: Address,
    pub sender: Address,
    pub value: U256,
    pub return_data: Rc<RefCell<Vec<u8>>>,
}

impl Frame {
    pub fn new(world: Rc<RefCell<World>>, this: Address, sender: Address, value: U256) -> Frame {
        Frame {
            world,
            this,
            sender,
            value,
            return_data: Rc::default(),
        }
    }

    pub fn vm(&self) -> VM {
        VM {
            host: Box::new(self.clone()),
        }
    }

    fn finish(&self, result: Result<Vec<u8>, Vec<u8>>, outs_len: &mut usize) -> u8 {
        let (data, status) = match result {
            Ok(d) => (d, 0),
            Err(d) => (d, 1),
        };
        *outs_len = data.len();
        *self.return_data.borrow_mut() = data;
        status
    }

    /// A static call: ArbSys, the sha256 and ecrecover precompiles, or the VRF verifier program.
    fn static_call(&self, to: Address, data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        let block = self.world.borrow().block_number;
        if let Some(answer) = World::precompile(block, to, data) {
            return answer;
        }
        let verifier = self.world.borrow().verifier;
        if to == verifier {
            let frame = Frame::new(self.world.clone(), verifier, self.this, U256::ZERO);
            return stylus_sdk::abi::router_entrypoint::<
                vrf_verifier::VrfVerifier,
                vrf_verifier::VrfVerifier,
            >(data.to_vec(), frame.vm());
        }
        Err(Vec::new())
    }
}

impl Host for Frame {}

impl CryptographyAccess for Frame {
    fn native_keccak256(&self, input: &[u8]) -> B256 {
        keccak256(input)
    }
}

impl CalldataAccess for Frame {
    fn read_args(&self, _len: usize) -> Vec<u8> {
        Vec::new() // calldata is passed to the router directly
    }
    fn read_return_data(&self, offset: usize, size: Option<usize>) -> Vec<u8> {
        let data = self.return_data.borrow();
        let start = offset.min(data.len());
        let end = size.map_or(data.len(), |s| (start + s).min(data.len()));
        data[start..end].to_vec()
    }
    fn return_data_size(&self) -> usize {
        self.return_data.borrow().len()
    }
    fn write_result(&self, _data: &[u8]) {}
}

unsafe impl UnsafeDeploymentAccess for Frame {
    unsafe fn create1(
        &self,
        _: *const u8,
        _: usize,
        _: *const u8,
        contract: *mut u8,
        revert_len: *mut usize,
    ) {
        std::ptr::write_bytes(contract, 0, 20);
        *revert_len = 0;
    }
    unsafe fn create2(
        &self,
        _: *const u8,
        _: usize,
        _: *const u8,
        _: *const u8,
        contract: *mut u8,
        revert_len: *mut usize,
    ) {
        std::ptr::write_bytes(contract, 0, 20);
        *revert_len = 0;
    }
}

impl StorageAccess for Frame {
    fn storage_load_bytes32(&self, key: U256) -> B256 {
        let world = self.world.borrow();
        world
            .storage
            .get(&(self.this, key))
            .copied()
            .unwrap_or_default()
    }
    unsafe fn storage_cache_bytes32(&self, key: U256, value: B256) {
        let mut world = self.world.borrow_mut();
        if world
            .storage
            .get(&(self.this, key))
            .copied()
            .unwrap_or_default()
            != value
        {
            world.slots_written.insert((self.this, key));
        }
        world.storage.insert((self.this, key), value);
    }
    fn flush_cache(&self, _clear: bool) {}
}

unsafe impl UnsafeCallAccess for Frame {
    unsafe fn call_contract(
        &self,
        to: *const u8,
        data: *const u8,
        data_len: usize,
        value: *const u8,
        _gas: u64,
        outs_len: &mut usize,
    ) -> u8 {
        let to = Address::from_slice(std::slice::from_raw_parts(to, 20));
        let _data = std::slice::from_raw_parts(data, data_len);
        let value = U256::from_be_slice(std::slice::from_raw_parts(value, 32));
        let result = self.world.borrow_mut().transfer(self.this, to, value);
        self.finish(result.map(|()| Vec::new()), outs_len)
    }
    unsafe fn static_call_contract(
        &self,
        to: *const u8,
        data: *const u8,
        data_len: usize,
        _gas: u64,
        outs_len: &mut usize,
    ) -> u8 {
        let to = Address::from_slice(std::slice::from_raw_parts(to, 20));
        let data = std::slice::from_raw_parts(data, data_len);
        let result = self.static_call(to, data);
        self.finish(result, outs_len)
    }
    unsafe fn delegate_call_contract(
        &self,
        _: *const u8,
        _: *const u8,
        _: usize,
        _: u64,
        outs_len: &mut usize,
    ) -> u8 {
        self.finish(Err(Vec::new()), outs_len)
    }
}

impl BlockAccess for Frame {
    fn block_basefee(&self) -> U256 {
        U256::ZERO
    }
    fn block_coinbase(&self) -> Address {
        Address::ZERO
    }
    fn block_number(&self) -> u64 {
        self.world.borrow().block_number
    }
    fn block_timestamp(&self) -> u64 {
        self.world.borrow().timestamp
    }
    fn block_gas_limit(&self) -> u64 {
        32_000_000
    }
}

impl ChainAccess for Frame {
    fn chain_id(&self) -> u64 {
        412_346
    }
}

impl AccountAccess for Frame {
    fn balance(&self, account: Address) -> U256 {
        self.world.borrow().balance(account)
    }
    fn contract_address(&self) -> Address {
        self.this
    }
    fn code(&self, _account: Address) -> Vec<u8> {
        Vec::new()
    }
    fn code_size(&self, _account: Address) -> usize {
        0
    }
    fn code_hash(&self, _account: Address) -> B256 {
        B256::ZERO
    }
}

impl MemoryAccess for Frame {
    fn pay_for_memory_grow(&self, _pages: u16) {}
}

impl MessageAccess for Frame {
    fn msg_sender(&self) -> Address {
        self.sender
    }
    fn msg_reentrant(&self) -> bool {
        false
    }
    fn msg_value(&self) -> U256 {
        self.value
    }
    fn tx_origin(&self) -> Address {
        self.sender
    }
}

impl MeteringAccess for Frame {
    fn evm_gas_left(&self) -> u64 {
        30_000_000
    }
    fn evm_ink_left(&self) -> u64 {
        30_000_000 * 10_000
    }
    fn tx_gas_price(&self) -> U256 {
        U256::ZERO
    }
    fn tx_ink_price(&self) -> u32 {
        10_000
    }
}

impl RawLogAccess for Frame {
    fn emit_log(&self, input: &[u8], num_topics: usize) {
        let (topics, data) = input.split_at(num_topics * 32);
        let topics = topics.chunks(32).map(B256::from_slice).collect();
        self.world.borrow_mut().logs.push(crate::Log {
            address: self.this,
            topics,
            data: data.to_vec(),
        });
    }
    fn raw_log(&self, topics: &[B256], data: &[u8]) -> Result<(), &'static str> {
        let mut input: Vec<u8> = topics.iter().flat_map(|t| t.0).collect();
        input.extend_from_slice(data);
        self.emit_log(&input, topics.len());
        Ok(())
    }
}

/// The task contract's view of the same frame.
impl task_contract::Host for Frame {
    fn sender(&self) -> Address {
        self.sender
    }
    fn value(&self) -> U256 {
        self.value
    }
    fn timestamp(&self) -> u64 {
        self.world.borrow().timestamp
    }
    fn address(&self) -> Address {
        self.this
    }
    fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
        self.storage_load_bytes32(U256::from_be_bytes(*slot)).0
    }
    fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
        // SAFETY: the harness's storage is a map; no references into it are held.
        unsafe { self.storage_cache_bytes32(U256::from_be_bytes(*slot), B256::new(*word)) }
    }
    fn emit_log(&self, topics_then_data: &[u8], topics: usize) {
        RawLogAccess::emit_log(self, topics_then_data, topics)
    }
    fn send_value(&self, to: &Address, value: &U256, _gas: Option<u64>) -> bool {
        self.world
            .borrow_mut()
            .transfer(self.this, *to, *value)
            .is_ok()
    }
    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>> {
        Frame::static_call(self, *to, calldata).ok()
    }
    fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        task_contract::host::native_mul_mod(a, b, m)
    }
    fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        task_contract::host::native_add_mod(a, b, m)
    }
    /// The extension program runs in this frame (same storage, sender and value).
    fn delegate_call(&self, to: &Address, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        if *to != self.world.borrow().extension {
            return Err(Vec::new());
        }
        task_contract::extension::call(self.clone(), calldata)
    }
}
