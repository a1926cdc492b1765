//! ArbOwner (0x70): the chain owner's methods. The devnet has the two a Stylus chain needs to
//! enable its program cache, `addWasmCacheManager` and `removeWasmCacheManager`
//! (`precompiles/ArbOwner.go`), behind Nitro's owner-only wrapper (`precompiles/wrapper.go`,
//! `OwnerPrecompile`): anyone but a chain owner loses all the gas; an owner pays nothing, and
//! each success is logged as `OwnerActs`. Other ArbOwner methods revert as unknown methods do.

use alloy::primitives::{address, Address, B256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolEvent};

use super::arb_wasm_cache::{add_cache_manager, remove_cache_manager, CHAIN_OWNER};
use super::pricing::{burn_all, selector_of};
use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};
use crate::evm::state::Log;

pub const ARB_OWNER: Address = address!("0000000000000000000000000000000000000070");

sol! {
    interface ArbOwner {
        function addWasmCacheManager(address manager) external;
        function removeWasmCacheManager(address manager) external;
        event OwnerActs(bytes4 indexed method, address indexed owner, bytes data);
    }
}

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    // The wrapper's membership check comes first: a stranger's call is an error that is not a
    // revert, so geth takes all its gas.
    if msg.caller != CHAIN_OWNER {
        return burn_all(msg);
    }
    let data = &msg.data[..];
    let selector = selector_of(data).unwrap_or_default();
    // From here the owner is charged nothing, whatever happens (the wrapper returns all the gas
    // supplied); failures are reverts: a write in a static call, a delegate call (acting as
    // another address), value (neither method is payable).
    let refused = msg.is_static || msg.to != msg.code_address || !msg.value.is_zero();
    let done = if refused {
        false
    } else if selector == ArbOwner::addWasmCacheManagerCall::SELECTOR {
        match ArbOwner::addWasmCacheManagerCall::abi_decode(data) {
            Ok(call) => {
                add_cache_manager(&mut exec.borrow_mut().state, call.manager);
                true
            }
            Err(_) => false,
        }
    } else if selector == ArbOwner::removeWasmCacheManagerCall::SELECTOR {
        // "tried to remove non-manager" when it is none.
        ArbOwner::removeWasmCacheManagerCall::abi_decode(data)
            .is_ok_and(|call| remove_cache_manager(&mut exec.borrow_mut().state, call.manager))
    } else {
        tracing::warn!(
            selector = %alloy::primitives::hex::encode(selector),
            "ArbOwner method not implemented by the devnet"
        );
        false
    };
    if !done {
        return CallResult {
            outcome: Outcome::Revert,
            output: Vec::new(),
            gas_used: 0,
        };
    }
    let event = ArbOwner::OwnerActs {
        method: selector.into(),
        owner: msg.caller,
        data: msg.data.clone(),
    };
    exec.borrow_mut().state.push_log(Log {
        address: ARB_OWNER,
        topics: vec![
            ArbOwner::OwnerActs::SIGNATURE_HASH,
            B256::right_padding_from(&selector),
            msg.caller.into_word(),
        ],
        data: event.encode_data().into(),
    });
    CallResult {
        outcome: Outcome::Success,
        output: Vec::new(),
        gas_used: 0,
    }
}
