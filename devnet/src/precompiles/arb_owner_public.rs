//! ArbOwnerPublic (0x6b): who owns the chain and where its fees go
//! (`precompiles/ArbOwnerPublic.go`), and ArbOS 60's fragment limit and tip setting, as the
//! devnet has them: development account 0 owns it, and
//! the block's coinbase stands for the network and infrastructure fee accounts.

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;

use super::arb_wasm_cache::CHAIN_OWNER;
use super::pricing::view_call_reading;
use crate::evm::exec::{CallResult, ExecRef, Message};

pub const ARB_OWNER_PUBLIC: Address = address!("000000000000000000000000000000000000006b");

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

fn view(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    use ArbOwnerPublic::*;
    let coinbase = exec.borrow().block.coinbase;
    Ok(match selector {
        getAllChainOwnersCall::SELECTOR => {
            getAllChainOwnersCall::abi_encode_returns(&vec![CHAIN_OWNER])
        }
        isChainOwnerCall::SELECTOR => {
            let call = isChainOwnerCall::abi_decode(data).map_err(|_| Vec::new())?;
            isChainOwnerCall::abi_encode_returns(&(call.addr == CHAIN_OWNER))
        }
        getNetworkFeeAccountCall::SELECTOR => {
            getNetworkFeeAccountCall::abi_encode_returns(&coinbase)
        }
        getInfraFeeAccountCall::SELECTOR => getInfraFeeAccountCall::abi_encode_returns(&coinbase),
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
