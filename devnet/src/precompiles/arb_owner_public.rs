//! ArbOwnerPublic (0x6b): who owns the chain and where its fees go
//! (`precompiles/ArbOwnerPublic.go`), and ArbOS 60's fragment limit and tip setting, as the
//! devnet has them: development account 0 owns it, the fees go to [`NETWORK_FEE_ACCOUNT`], and
//! no infrastructure fee account is set.

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;

use super::arb_wasm_cache::CHAIN_OWNER;
use super::pricing::view_call_reading;
use crate::evm::exec::{CallResult, ExecRef, Message};

pub const ARB_OWNER_PUBLIC: Address = address!("000000000000000000000000000000000000006b");

/// Where the L2 gas fees and activation data fees go. Nitro starts a chain with its initial
/// owner there (`arbos/arbosState/arbosstate.go`, `networkFeeAccountOffset`) and the owner may
/// move it (`ArbOwner.setNetworkFeeAccount`); the devnet uses an account of its own, with no key,
/// so that the development accounts' balances move only by what they do.
pub const NETWORK_FEE_ACCOUNT: Address = address!("00000000000000000000000000000000000fee00");

sol! {
    interface ArbOwnerPublic {
        function getAllChainOwners() external view returns (address[] memory);
        function isChainOwner(address addr) external view returns (bool);
        function getNetworkFeeAccount() external view returns (address);
        function getInfraFeeAccount() external view returns (address);
        function getBrotliCompressionLevel() external view returns (uint64);
        function getScheduledUpgrade() external view returns (uint64 arbosVersion, uint64 scheduledForTimestamp);
        function getMaxStylusContractFragments() external view returns (uint8);
        function getCollectTips() external view returns (bool);
    }
}

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    use ArbOwnerPublic::*;
    view_call_reading(
        exec,
        msg,
        &[
            getAllChainOwnersCall::SELECTOR,
            isChainOwnerCall::SELECTOR,
            getNetworkFeeAccountCall::SELECTOR,
            getInfraFeeAccountCall::SELECTOR,
            getBrotliCompressionLevelCall::SELECTOR,
            getScheduledUpgradeCall::SELECTOR,
            getMaxStylusContractFragmentsCall::SELECTOR,
            getCollectTipsCall::SELECTOR,
        ],
        view,
        reads,
    )
}

/// ArbOS storage reads: an address set reads its size and then each member; the other views
/// one word each (the scheduled upgrade two).
fn reads(_: &ExecRef, selector: [u8; 4]) -> u64 {
    use ArbOwnerPublic::*;
    match selector {
        getAllChainOwnersCall::SELECTOR => 2,
        getScheduledUpgradeCall::SELECTOR => 2,
        _ => 1,
    }
}

fn view(_: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    use ArbOwnerPublic::*;
    Ok(match selector {
        getAllChainOwnersCall::SELECTOR => {
            getAllChainOwnersCall::abi_encode_returns(&vec![CHAIN_OWNER])
        }
        isChainOwnerCall::SELECTOR => {
            let call = isChainOwnerCall::abi_decode(data).map_err(|_| Vec::new())?;
            isChainOwnerCall::abi_encode_returns(&(call.addr == CHAIN_OWNER))
        }
        getNetworkFeeAccountCall::SELECTOR => {
            getNetworkFeeAccountCall::abi_encode_returns(&NETWORK_FEE_ACCOUNT)
        }
        // Nitro leaves it unset (zero) at the start; the network account then takes every fee.
        getInfraFeeAccountCall::SELECTOR => {
            getInfraFeeAccountCall::abi_encode_returns(&Address::ZERO)
        }
        getBrotliCompressionLevelCall::SELECTOR => {
            getBrotliCompressionLevelCall::abi_encode_returns(&u64::from(
                crate::node::l1_pricing::BROTLI_LEVEL,
            ))
        }
        // ArbOS 60: the fragments a program may have (the Stylus parameters' word).
        getMaxStylusContractFragmentsCall::SELECTOR => {
            getMaxStylusContractFragmentsCall::abi_encode_returns(
                &crate::stylus::program::MAX_FRAGMENTS,
            )
        }
        // Tips are dropped: the devnet keeps ArbOS 60's default.
        getCollectTipsCall::SELECTOR => getCollectTipsCall::abi_encode_returns(&false),
        getScheduledUpgradeCall::SELECTOR => [U256::ZERO, U256::ZERO]
            .iter()
            .flat_map(|w| w.to_be_bytes_vec())
            .collect(),
        _ => return Err(Vec::new()),
    })
}
