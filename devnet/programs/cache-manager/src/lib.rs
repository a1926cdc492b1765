//! The devnet's Stylus cache manager: anyone may bid ETH to keep a program in the chain's program
//! cache (`ArbWasmCache`), where its calls pay only the cached init price. The cache holds
//! `cacheSize` bytes of compiled programs; a bid that does not fit evicts the lowest bids until it
//! does, and must be at least the last bid it evicts. Old bids lose weight over time: a bid counts
//! `value + decay · timestamp`, so a newer bid of the same value outranks it.
//!
//! Its ABI is that of Arbitrum's CacheManager (nitro-contracts `src/chain/CacheManager.sol`),
//! which `cargo stylus cache bid|status|suggest-bid` call: the chain owner deploys it and adds it
//! with `ArbOwner.addWasmCacheManager` (`devnet cache-manager` does both). Written here in Rust;
//! where it differs from that contract is in the README (devnet section).

#![cfg_attr(not(any(test, feature = "export-abi")), no_main)]
#![cfg_attr(not(any(test, feature = "export-abi")), no_std)]

extern crate alloc;

pub mod bid_heap;

use bid_heap::to_u192;

use alloc::vec;
use alloc::vec::Vec;

use alloy_primitives::aliases::U192;
use alloy_primitives::{address, Address, B256, U256, U64};
use alloy_sol_types::{sol, SolCall, SolError};
use stylus_sdk::call::RawCall;
use stylus_sdk::prelude::*;
use stylus_sdk::storage::{StorageB256, StorageBool, StorageU256, StorageU64, StorageVec};

const ARB_OWNER_PUBLIC: Address = address!("000000000000000000000000000000000000006b");
const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");
const ARB_WASM_CACHE: Address = address!("0000000000000000000000000000000000000072");
/// The most `makeSpace` frees in one call.
pub const MAX_MAKE_SPACE: u64 = 5 * 1024 * 1024;
/// The least space a program is counted as taking.
pub const MIN_CODESIZE: u64 = 4096;

sol! {
    error NotChainOwner(address sender);
    error AsmTooLarge(uint256 asm, uint256 queueSize, uint256 cacheSize);
    error AlreadyCached(bytes32 codehash);
    error BidTooLarge(uint256 bid);
    error BidTooSmall(uint192 bid, uint192 min);
    error BidsArePaused();
    error MakeSpaceTooLarge(uint64 size, uint64 limit);
    /// Solidity's panic, here for an `entries` index past the end (code 0x32).
    error Panic(uint256 code);

    event InsertBid(bytes32 indexed codehash, address program, uint192 bid, uint64 size);
    event DeleteBid(bytes32 indexed codehash, uint192 bid, uint64 size);
    event SetCacheSize(uint64 size);
    event SetDecayRate(uint64 decay);
    event Pause();
    event Unpause();

    function isChainOwner(address addr) external view returns (bool);
    function getNetworkFeeAccount() external view returns (address);
    function codehashAsmSize(bytes32 codehash) external view returns (uint32 size);
    function codehashIsCached(bytes32 codehash) external view returns (bool);
    function cacheProgram(address addr) external;
    function evictCodehash(bytes32 codehash) external;
}

/// A cached program as `entries` and `getEntries` return it: its code hash, its size in the
/// cache, and its bid.
pub type EntryView = (B256, u64, U192);

#[storage]
#[entrypoint]
pub struct CacheManager {
    /// The min-heap of packed bids (`bid_heap`).
    bids: StorageVec<StorageU256>,
    /// Each entry's code hash; a deleted entry's slot holds zeros until reused.
    entry_codes: StorageVec<StorageB256>,
    /// Each entry's `bid << 64 | size`, one word beside its code hash.
    entry_terms: StorageVec<StorageU256>,
    cache_size: StorageU64,
    queue_size: StorageU64,
    decay: StorageU64,
    is_paused: StorageBool,
}

/// The heap's words in contract storage.
struct HeapSlots<'a>(&'a mut StorageVec<StorageU256>);

impl bid_heap::Slots for HeapSlots<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> U256 {
        self.0.get(i).unwrap_or_default()
    }
}

impl bid_heap::SlotsMut for HeapSlots<'_> {
    fn set(&mut self, i: usize, value: U256) {
        if let Some(mut slot) = self.0.setter(i) {
            slot.set(value);
        }
    }
    fn push(&mut self, value: U256) {
        self.0.push(value);
    }
    fn pop(&mut self) -> Option<U256> {
        self.0.pop()
    }
}

/// The same words read only (views).
struct HeapView<'a>(&'a StorageVec<StorageU256>);

impl bid_heap::Slots for HeapView<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> U256 {
        self.0.get(i).unwrap_or_default()
    }
}

/// A result whose error is revert data.
type Reverts<T> = Result<T, Vec<u8>>;

/// The one word a view returned (zeros when it returned less). Read by hand: alloy's decoders
/// would pull string formatting into the program.
fn word(out: &[u8]) -> [u8; 32] {
    let mut w = [0u8; 32];
    if let Some(first) = out.get(..32) {
        w.copy_from_slice(first);
    }
    w
}

impl CacheManager {
    fn cache(&self) -> u64 {
        self.cache_size.get().to()
    }

    fn queue(&self) -> u64 {
        self.queue_size.get().to()
    }

    fn decay_rate(&self) -> u64 {
        self.decay.get().to()
    }

    fn set_queue(&mut self, bytes: u64) {
        self.queue_size.set(U64::from(bytes));
    }

    fn static_call(&self, to: Address, calldata: &[u8]) -> Reverts<Vec<u8>> {
        // SAFETY: a static call cannot re-enter and change this program's storage.
        unsafe { RawCall::new_static(self.vm()).call(to, calldata) }
    }

    /// A call to ArbWasmCache that changes the cache; its revert data is passed on.
    fn cache_call(&self, calldata: &[u8]) -> Reverts<()> {
        // SAFETY: ArbWasmCache does not call back into this program.
        unsafe { RawCall::new(self.vm()).call(ARB_WASM_CACHE, calldata) }.map(|_| ())
    }

    fn only_owner(&self) -> Reverts<()> {
        let sender = self.vm().msg_sender();
        let out = self.static_call(
            ARB_OWNER_PUBLIC,
            &isChainOwnerCall { addr: sender }.abi_encode(),
        )?;
        if word(&out)[31] == 1 {
            Ok(())
        } else {
            Err(NotChainOwner { sender }.abi_encode())
        }
    }

    fn not_paused(&self) -> Reverts<()> {
        if self.is_paused.get() {
            Err(BidsArePaused {}.abi_encode())
        } else {
            Ok(())
        }
    }

    fn entry(&self, index: u64) -> Option<EntryView> {
        let code = self.entry_codes.get(index)?;
        // The same layout as a heap word, with the size where the index goes.
        let (bid, size) = bid_heap::unpack(self.entry_terms.get(index)?);
        Some((code, size, bid))
    }

    /// The size a program takes in the cache: ArbWasm's asm size, at least [`MIN_CODESIZE`]
    /// (ArbWasm's revert, e.g. `ProgramNotActivated`, is passed on).
    fn asm_size(&self, codehash: B256) -> Reverts<u64> {
        let out = self.static_call(ARB_WASM, &codehashAsmSizeCall { codehash }.abi_encode())?;
        let w = word(&out);
        let size = u32::from_be_bytes([w[28], w[29], w[30], w[31]]);
        Ok(u64::from(size).max(MIN_CODESIZE))
    }

    fn is_cached(&self, codehash: B256) -> Reverts<bool> {
        let out = self.static_call(
            ARB_WASM_CACHE,
            &codehashIsCachedCall { codehash }.abi_encode(),
        )?;
        Ok(word(&out)[31] == 1)
    }

    /// What a bid of `value` counts now: the value plus the decay accrued since time 0.
    fn current_decay(&self) -> U256 {
        U256::from(self.vm().block_timestamp()) * U256::from(self.decay_rate())
    }

    fn to_bid(&self, value: U256) -> Reverts<U192> {
        let bid = value.saturating_add(self.current_decay());
        to_u192(bid).ok_or_else(|| BidTooLarge { bid }.abi_encode())
    }

    /// Evicts the lowest bids until `size` more bytes fit; the bid the value sent makes, and the
    /// entry index to insert at (the last evicted one's, or a new one). The bid must be at least
    /// the last bid evicted.
    fn evict_for(&mut self, size: u64) -> Reverts<(U192, u64)> {
        let bid = self.to_bid(self.vm().msg_value())?;
        let mut index = self.entry_codes.len() as u64;
        let mut min = U192::ZERO;
        while self.queue().saturating_add(size) > self.cache() {
            let Some(word) = bid_heap::pop(&mut HeapSlots(&mut self.bids)) else {
                break;
            };
            (min, index) = bid_heap::unpack(word);
            self.delete_entry(min, index)?;
        }
        if bid < min {
            return Err(BidTooSmall { bid, min }.abi_encode());
        }
        Ok((bid, index))
    }

    fn delete_entry(&mut self, bid: U192, index: u64) -> Reverts<()> {
        let Some((code, size, _)) = self.entry(index) else {
            return Ok(());
        };
        self.cache_call(&evictCodehashCall { codehash: code }.abi_encode())?;
        self.set_queue(self.queue().saturating_sub(size));
        self.vm().log(DeleteBid {
            codehash: code,
            bid,
            size,
        });
        if let Some(mut slot) = self.entry_codes.setter(index) {
            slot.set(B256::ZERO);
        }
        if let Some(mut slot) = self.entry_terms.setter(index) {
            slot.set(U256::ZERO);
        }
        Ok(())
    }

    fn add_bid(
        &mut self,
        bid: U192,
        program: Address,
        code: B256,
        size: u64,
        index: u64,
    ) -> Reverts<()> {
        let (queue, cache) = (self.queue(), self.cache());
        if queue.saturating_add(size) > cache {
            return Err(AsmTooLarge {
                asm: U256::from(size),
                queueSize: U256::from(queue),
                cacheSize: U256::from(cache),
            }
            .abi_encode());
        }
        self.cache_call(&cacheProgramCall { addr: program }.abi_encode())?;
        bid_heap::push(&mut HeapSlots(&mut self.bids), bid_heap::pack(bid, index));
        self.set_queue(queue + size);
        if index == self.entry_codes.len() as u64 {
            self.entry_codes.push(code);
            self.entry_terms.push(bid_heap::pack(bid, size));
        } else {
            if let Some(mut slot) = self.entry_codes.setter(index) {
                slot.set(code);
            }
            if let Some(mut slot) = self.entry_terms.setter(index) {
                slot.set(bid_heap::pack(bid, size));
            }
        }
        self.vm().log(InsertBid {
            codehash: code,
            program,
            bid,
            size,
        });
        Ok(())
    }

    fn entries_of(&self, words: Vec<U256>) -> Vec<EntryView> {
        words
            .into_iter()
            .filter_map(|w| self.entry(bid_heap::unpack(w).1))
            .collect()
    }

    fn min_bid_for(&self, size: u64) -> Reverts<U192> {
        let cache = self.cache();
        if size > cache {
            return Err(AsmTooLarge {
                asm: U256::from(size),
                queueSize: U256::ZERO,
                cacheSize: U256::from(cache),
            }
            .abi_encode());
        }
        let size = size.max(MIN_CODESIZE);
        let total = self.queue().saturating_add(size);
        if total <= cache {
            return Ok(U192::ZERO);
        }
        // Walk the lowest bids as placeBid would evict them; the last one evicted is the bid to
        // beat. Every entry takes at least MIN_CODESIZE, so that many entries are enough.
        let mut need = total - cache;
        let mut min = U192::ZERO;
        let enough = usize::try_from(need.div_ceil(MIN_CODESIZE)).unwrap_or(usize::MAX);
        let lowest = bid_heap::smallest(&HeapView(&self.bids), enough);
        for (_, entry_size, bid) in self.entries_of(lowest) {
            if need <= entry_size {
                min = bid;
                break;
            }
            need -= entry_size;
        }
        // The value to send: the bid less the decay a new bid gets added.
        let decay = self.current_decay();
        Ok(to_u192(U256::from(min).saturating_sub(decay)).unwrap_or_default())
    }
}

#[public]
impl CacheManager {
    /// Sets the cache's size (bytes) and the decay rate (wei a second).
    #[constructor]
    pub fn constructor(&mut self, init_cache_size: u64, init_decay: u64) {
        self.cache_size.set(U64::from(init_cache_size));
        self.decay.set(U64::from(init_decay));
    }

    pub fn cache_size(&self) -> u64 {
        self.cache()
    }

    pub fn queue_size(&self) -> u64 {
        self.queue()
    }

    pub fn decay(&self) -> u64 {
        self.decay_rate()
    }

    pub fn is_paused(&self) -> bool {
        self.is_paused.get()
    }

    /// One entry; a deleted entry reads as zeros, an index past the end panics (0x32).
    pub fn entries(&self, index: U256) -> Reverts<EntryView> {
        u64::try_from(index)
            .ok()
            .and_then(|i| self.entry(i))
            .ok_or_else(|| {
                Panic {
                    code: U256::from(0x32),
                }
                .abi_encode()
            })
    }

    /// Sets the intended cache size; the queue may stay larger until bids evict.
    pub fn set_cache_size(&mut self, new_size: u64) -> Reverts<()> {
        self.only_owner()?;
        self.cache_size.set(U64::from(new_size));
        self.vm().log(SetCacheSize { size: new_size });
        Ok(())
    }

    /// Sets the decay rate for bids from now on; bids placed keep theirs.
    pub fn set_decay_rate(&mut self, new_decay: u64) -> Reverts<()> {
        self.only_owner()?;
        self.decay.set(U64::from(new_decay));
        self.vm().log(SetDecayRate { decay: new_decay });
        Ok(())
    }

    /// Stops new bids.
    pub fn paused(&mut self) -> Reverts<()> {
        self.only_owner()?;
        self.is_paused.set(true);
        self.vm().log(Pause {});
        Ok(())
    }

    pub fn unpause(&mut self) -> Reverts<()> {
        self.only_owner()?;
        self.is_paused.set(false);
        self.vm().log(Unpause {});
        Ok(())
    }

    /// Evicts every program and forgets every entry.
    pub fn evict_all(&mut self) -> Reverts<()> {
        self.evict_programs(U256::MAX)?;
        while self.entry_codes.pop().is_some() {}
        while self.entry_terms.pop().is_some() {}
        Ok(())
    }

    /// Evicts up to `count` programs, lowest bids first.
    pub fn evict_programs(&mut self, count: U256) -> Reverts<()> {
        self.only_owner()?;
        let mut count = count;
        while !count.is_zero() {
            let Some(word) = bid_heap::pop(&mut HeapSlots(&mut self.bids)) else {
                break;
            };
            let (bid, index) = bid_heap::unpack(word);
            self.delete_entry(bid, index)?;
            count -= U256::from(1);
        }
        Ok(())
    }

    /// Every entry, deleted ones as zeros.
    pub fn get_entries(&self) -> Vec<EntryView> {
        (0..self.entry_codes.len() as u64)
            .filter_map(|i| self.entry(i))
            .collect()
    }

    /// The `k` lowest-bid entries, ascending (all when there are fewer).
    pub fn get_smallest_entries(&self, k: U256) -> Vec<EntryView> {
        let k = usize::try_from(k).unwrap_or(usize::MAX);
        self.entries_of(bid_heap::smallest(&HeapView(&self.bids), k))
    }

    /// The least value to send with `placeBid` for a program of `size` bytes (0 while it fits).
    #[selector(name = "getMinBid")]
    pub fn get_min_bid_for_size(&self, size: u64) -> Reverts<U192> {
        self.min_bid_for(size)
    }

    /// The least value to send with `placeBid` for the program with this code hash.
    #[selector(name = "getMinBid")]
    pub fn get_min_bid_for_codehash(&self, codehash: B256) -> Reverts<U192> {
        self.min_bid_for(self.asm_size(codehash)?)
    }

    /// The least value to send with `placeBid` for the program at `program`.
    #[selector(name = "getMinBid")]
    pub fn get_min_bid_for_program(&self, program: Address) -> Reverts<U192> {
        let codehash = self.vm().code_hash(program);
        self.min_bid_for(self.asm_size(codehash)?)
    }

    /// Sends everything bid to the network fee account.
    pub fn sweep_funds(&mut self) -> Reverts<()> {
        let out = self.static_call(ARB_OWNER_PUBLIC, &getNetworkFeeAccountCall {}.abi_encode())?;
        let to = Address::from_word(B256::new(word(&out)));
        let balance = self.vm().balance(self.vm().contract_address());
        stylus_sdk::call::transfer::transfer_eth(self.vm(), to, balance)
    }

    /// Caches the program at `program`, evicting lower bids as needed; the value sent is the bid.
    #[payable]
    pub fn place_bid(&mut self, program: Address) -> Reverts<()> {
        self.not_paused()?;
        let codehash = self.vm().code_hash(program);
        if self.is_cached(codehash)? {
            return Err(AlreadyCached { codehash }.abi_encode());
        }
        let asm = self.asm_size(codehash)?;
        // One that cannot fit even in an empty cache is refused before anything is evicted.
        let cache = self.cache();
        if asm > cache {
            return Err(AsmTooLarge {
                asm: U256::from(asm),
                queueSize: U256::from(self.queue()),
                cacheSize: U256::from(cache),
            }
            .abi_encode());
        }
        let (bid, index) = self.evict_for(asm)?;
        self.add_bid(bid, program, codehash, asm, index)
    }

    /// Evicts bids until `size` bytes are free, the value sent having to beat the last evicted;
    /// the space free afterwards.
    #[payable]
    pub fn make_space(&mut self, size: u64) -> Reverts<u64> {
        self.not_paused()?;
        if size > MAX_MAKE_SPACE {
            return Err(MakeSpaceTooLarge {
                size,
                limit: MAX_MAKE_SPACE,
            }
            .abi_encode());
        }
        // More than the whole cache can never be freed: refused before anything is evicted.
        if size > self.cache() {
            return Err(AsmTooLarge {
                asm: U256::from(size),
                queueSize: U256::from(self.queue()),
                cacheSize: U256::from(self.cache()),
            }
            .abi_encode());
        }
        self.evict_for(size)?;
        Ok(self.cache().saturating_sub(self.queue()))
    }
}
