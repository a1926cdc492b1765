//! ArbWasmCache (0x72): which activated programs are cached, so that a call pays only the
//! cached init price (`precompiles/ArbWasmCache.go`, `arbos/programs/programs.go`
//! `SetProgramCached`). The cache managers (the CacheManager contract that cargo-stylus's
//! `cache bid` calls, added by the chain owner through ArbOwner) and the chain owner may cache;
//! the devnet's chain owner is the first development account.

use alloy::primitives::{address, keccak256, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError, SolEvent};

use super::arb_wasm::ArbWasm;
use super::pricing::{
    burn_all, out_of_gas, selector_of, solidity_error, view_call_reading, words, CODE_HASH_READ,
    COPY_GAS, OPEN_STATE_GAS, STORAGE_READ,
};
use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};
use crate::evm::state::{Log, State};
use crate::gas;

pub const ARB_WASM_CACHE: Address = address!("0000000000000000000000000000000000000072");

/// The devnet's chain owner (`ArbOwner`'s members on Arbitrum): development account 0.
pub const CHAIN_OWNER: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

sol! {
    interface ArbWasmCache {
        function isCacheManager(address manager) external view returns (bool);
        function allCacheManagers() external view returns (address[] memory managers);
        function cacheCodehash(bytes32 codehash) external;
        function cacheProgram(address addr) external;
        function evictCodehash(bytes32 codehash) external;
        function codehashIsCached(bytes32 codehash) external view returns (bool);
        event UpdateProgramCache(address indexed manager, bytes32 indexed codehash, bool cached);
    }
}

/// A write of a non-zero ArbOS storage word (`StorageWriteCost`, geth's SstoreSetGasEIP2200).
const STORAGE_WRITE: u64 = 20_000;

/// Whether code with this hash is cached: kept in this precompile's storage (slot = code hash,
/// value 1), so that it is journaled, reverted and saved with the rest of the state.
pub fn is_cached(state: &State, code_hash: &B256) -> bool {
    !state.storage(&ARB_WASM_CACHE, code_hash).is_zero()
}

/// The cache managers, an ArbOS address set (`arbos/addressSet`) kept in this precompile's
/// storage: the size at `base`, member `i` (from 1) at `base + i`, each member's index at
/// `keccak256(member ‖ base)`. Removal moves the last member into the gap, as Nitro's does, so
/// `allCacheManagers` lists them in the same order (cargo-stylus bids with the last).
fn managers_base() -> U256 {
    U256::from_be_bytes(keccak256(b"devnet.ArbWasmCache.cacheManagers").0)
}

fn read_word(state: &State, slot: U256) -> U256 {
    U256::from_be_bytes(state.storage(&ARB_WASM_CACHE, &B256::from(slot)).0)
}

fn write_word(state: &mut State, slot: U256, value: U256) {
    state.set_storage(ARB_WASM_CACHE, B256::from(slot), B256::from(value));
}

fn index_slot(manager: Address) -> U256 {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(manager.as_slice());
    key[20..].copy_from_slice(&managers_base().to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(key).0)
}

fn manager_count(state: &State) -> u64 {
    read_word(state, managers_base()).saturating_to::<u64>()
}

pub fn cache_managers(state: &State) -> Vec<Address> {
    let base = managers_base();
    (1..=manager_count(state))
        .map(|i| {
            Address::from_word(B256::from(read_word(
                state,
                base.wrapping_add(U256::from(i)),
            )))
        })
        .collect()
}

pub fn is_cache_manager(state: &State, manager: Address) -> bool {
    !read_word(state, index_slot(manager)).is_zero()
}

/// Adds a cache manager (nothing when it is one already).
pub(super) fn add_cache_manager(state: &mut State, manager: Address) {
    if is_cache_manager(state, manager) {
        return;
    }
    let base = managers_base();
    let size = read_word(state, base) + U256::from(1);
    write_word(state, base, size);
    write_word(
        state,
        base.wrapping_add(size),
        U256::from_be_bytes(manager.into_word().0),
    );
    write_word(state, index_slot(manager), size);
}

/// Removes a cache manager; false when it was none.
pub(super) fn remove_cache_manager(state: &mut State, manager: Address) -> bool {
    let index = read_word(state, index_slot(manager));
    if index.is_zero() {
        return false;
    }
    let base = managers_base();
    let size = read_word(state, base);
    if index != size {
        let last = read_word(state, base.wrapping_add(size));
        write_word(state, base.wrapping_add(index), last);
        write_word(
            state,
            index_slot(Address::from_word(B256::from(last))),
            index,
        );
    }
    write_word(state, base.wrapping_add(size), U256::ZERO);
    write_word(state, index_slot(manager), U256::ZERO);
    write_word(state, base, size - U256::from(1));
    true
}

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    let selector = selector_of(data).unwrap_or_default();
    let change = if selector == ArbWasmCache::cacheProgramCall::SELECTOR {
        ArbWasmCache::cacheProgramCall::abi_decode(data)
            .ok()
            .map(|c| (Target::Address(c.addr), true))
    } else if selector == ArbWasmCache::cacheCodehashCall::SELECTOR {
        ArbWasmCache::cacheCodehashCall::abi_decode(data)
            .ok()
            .map(|c| (Target::CodeHash(c.codehash), true))
    } else if selector == ArbWasmCache::evictCodehashCall::SELECTOR {
        ArbWasmCache::evictCodehashCall::abi_decode(data)
            .ok()
            .map(|c| (Target::CodeHash(c.codehash), false))
    } else {
        return view_call_reading(
            exec,
            msg,
            &[
                ArbWasmCache::isCacheManagerCall::SELECTOR,
                ArbWasmCache::allCacheManagersCall::SELECTOR,
                ArbWasmCache::codehashIsCachedCall::SELECTOR,
            ],
            view,
            reads,
        );
    };
    match change {
        Some((target, cache)) => set_cached(exec, msg, target, cache),
        None => burn_all(msg),
    }
}

enum Target {
    Address(Address),
    CodeHash(B256),
}

/// `setProgramCached`: only a cache manager or a chain owner (else all the gas is taken); the
/// program must be activated; a change emits `UpdateProgramCache` and pays the program's
/// `init_cost` (the price of compiling it into the cache).
fn set_cached(exec: &ExecRef, msg: &Message, target: Target, cache: bool) -> CallResult {
    if msg.is_static || !msg.value.is_zero() {
        return burn_all(msg);
    }
    // Opening the state, the argument, then the membership reads (`hasAccess`): the cache
    // managers, then (for others) the chain owners.
    let mut used = OPEN_STATE_GAS + COPY_GAS * words(msg.data.len() - 4) + STORAGE_READ;
    if !is_cache_manager(&exec.borrow().state, msg.caller) {
        if msg.caller != CHAIN_OWNER {
            return burn_all(msg);
        }
        used += STORAGE_READ;
    }
    let code_hash = match target {
        Target::CodeHash(h) => h,
        Target::Address(a) => {
            used += CODE_HASH_READ;
            alloy::primitives::keccak256(exec.borrow().state.code(&a))
        }
    };
    // The parameters and the program's record.
    used += 2 * STORAGE_READ;
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let Some(program) = exec.borrow().state.activated_program(&code_hash) else {
        return solidity_error(ArbWasm::ProgramNotActivated {}.abi_encode(), used);
    };
    if is_cached(&exec.borrow().state, &code_hash) == cache {
        return success(used, msg);
    }
    let event = ArbWasmCache::UpdateProgramCache {
        manager: msg.caller,
        codehash: code_hash,
        cached: cache,
    };
    let log_data = event.encode_data();
    used += gas::LOG_BASE + 3 * gas::LOG_TOPIC + gas::LOG_DATA * log_data.len() as u64;
    // The compilation into the cache, the module hash read, the record written back.
    used += u64::from(program.costs.init) + STORAGE_READ + STORAGE_WRITE;
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let mut e = exec.borrow_mut();
    let value = if cache {
        B256::from(U256::from(1))
    } else {
        B256::ZERO
    };
    e.state.set_storage(ARB_WASM_CACHE, code_hash, value);
    e.state.push_log(Log {
        address: ARB_WASM_CACHE,
        topics: vec![
            ArbWasmCache::UpdateProgramCache::SIGNATURE_HASH,
            msg.caller.into_word(),
            code_hash,
        ],
        data: log_data.into(),
    });
    success(used, msg)
}

fn success(used: u64, msg: &Message) -> CallResult {
    if used > msg.gas {
        return out_of_gas(msg);
    }
    CallResult {
        outcome: Outcome::Success,
        output: Vec::new(),
        gas_used: used,
    }
}

/// ArbOS storage reads: the membership word; the set's size and each member; the program's
/// record.
fn reads(exec: &ExecRef, selector: [u8; 4]) -> u64 {
    if selector == ArbWasmCache::allCacheManagersCall::SELECTOR {
        1 + manager_count(&exec.borrow().state)
    } else {
        1
    }
}

fn view(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    if selector == ArbWasmCache::isCacheManagerCall::SELECTOR {
        let call = ArbWasmCache::isCacheManagerCall::abi_decode(data).map_err(|_| Vec::new())?;
        Ok(ArbWasmCache::isCacheManagerCall::abi_encode_returns(
            &is_cache_manager(&exec.borrow().state, call.manager),
        ))
    } else if selector == ArbWasmCache::allCacheManagersCall::SELECTOR {
        Ok(ArbWasmCache::allCacheManagersCall::abi_encode_returns(
            &cache_managers(&exec.borrow().state),
        ))
    } else if selector == ArbWasmCache::codehashIsCachedCall::SELECTOR {
        let call = ArbWasmCache::codehashIsCachedCall::abi_decode(data).map_err(|_| Vec::new())?;
        Ok(ArbWasmCache::codehashIsCachedCall::abi_encode_returns(
            &is_cached(&exec.borrow().state, &call.codehash),
        ))
    } else {
        Err(Vec::new())
    }
}
