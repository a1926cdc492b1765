//! ArbWasmCache (0x72): which activated programs are cached, so that a call pays only the
//! cached init price (`precompiles/ArbWasmCache.go`, `arbos/programs/programs.go`
//! `SetProgramCached`). On Arbitrum the CacheManager contract (cargo-stylus's `cache bid`) and
//! the chain owners may cache; the devnet has no CacheManager, and its chain owner is the first
//! development account.

use alloy::primitives::{address, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError, SolEvent};

use super::arb_wasm::ArbWasm;
use super::pricing::{
    burn_all, out_of_gas, selector_of, solidity_error, view_call, words, COPY_GAS, OPEN_STATE_GAS,
    STORAGE_READ,
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
        return view_call(
            exec,
            msg,
            &[
                ArbWasmCache::isCacheManagerCall::SELECTOR,
                ArbWasmCache::allCacheManagersCall::SELECTOR,
                ArbWasmCache::codehashIsCachedCall::SELECTOR,
            ],
            view,
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
    // Opening the state, the argument, then the membership reads: the cache managers (none
    // here), then the chain owners.
    let mut used = OPEN_STATE_GAS + COPY_GAS * words(msg.data.len() - 4) + STORAGE_READ;
    if msg.caller != CHAIN_OWNER {
        return burn_all(msg);
    }
    used += STORAGE_READ;
    let code_hash = match target {
        Target::CodeHash(h) => h,
        Target::Address(a) => {
            // `GetCodeHash` of an account: a cold or warm account access.
            let cold = exec.borrow_mut().state.touch_account(a);
            used += if cold { gas::COLD_ACCOUNT } else { gas::WARM };
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

fn view(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    if selector == ArbWasmCache::isCacheManagerCall::SELECTOR {
        ArbWasmCache::isCacheManagerCall::abi_decode(data).map_err(|_| Vec::new())?;
        // The devnet has no cache manager.
        Ok(ArbWasmCache::isCacheManagerCall::abi_encode_returns(&false))
    } else if selector == ArbWasmCache::allCacheManagersCall::SELECTOR {
        Ok(ArbWasmCache::allCacheManagersCall::abi_encode_returns(
            &Vec::new(),
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
