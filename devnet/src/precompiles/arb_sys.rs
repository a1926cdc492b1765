//! ArbSys (0x64): the block number and hash, the chain id and the ArbOS version, priced as
//! Nitro prices a precompile view.

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError};

use super::pricing::view_call;
use crate::evm::exec::{CallResult, ExecRef, Message};

/// The ArbOS version whose rules the devnet follows, and reports through `ArbSys.arbOSVersion`:
/// ArbOS 60 ("StylusContractLimit"): Stylus version 2 init pricing, fragmented programs (two
/// fragments at most), the recent-programs discount, multi-value refused at activation, the
/// Osaka precompile set with P256VERIFY, tips dropped (`CollectTips` off). README "Devnet" lists
/// what of it is not reproduced.
pub const ARBOS_VERSION: u64 = 60;

pub const ARB_SYS: Address = address!("0000000000000000000000000000000000000064");

sol! {
    interface ArbSys {
        function arbBlockNumber() external view returns (uint256);
        function arbBlockHash(uint256 arbBlockNum) external view returns (bytes32);
        function arbChainID() external view returns (uint256);
        function arbOSVersion() external view returns (uint256);
        error InvalidBlockNumber(uint256 requested, uint256 current);
    }

}

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    view_call(
        exec,
        msg,
        &[
            ArbSys::arbBlockNumberCall::SELECTOR,
            ArbSys::arbChainIDCall::SELECTOR,
            ArbSys::arbOSVersionCall::SELECTOR,
            ArbSys::arbBlockHashCall::SELECTOR,
        ],
        arb_sys,
    )
}

fn arb_sys(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let e = exec.borrow();
    match selector {
        ArbSys::arbBlockNumberCall::SELECTOR => Ok(U256::from(e.block.number).to_be_bytes_vec()),
        ArbSys::arbChainIDCall::SELECTOR => Ok(U256::from(e.block.chain_id).to_be_bytes_vec()),
        ArbSys::arbOSVersionCall::SELECTOR => Ok(U256::from(55 + ARBOS_VERSION).to_be_bytes_vec()),
        ArbSys::arbBlockHashCall::SELECTOR => {
            let call = ArbSys::arbBlockHashCall::abi_decode(data).map_err(|_| Vec::new())?;
            let n = call.arbBlockNum;
            // Like ArbSys: only the 256 blocks before the current one, else (ArbOS 11 on)
            // InvalidBlockNumber(requested, current).
            let current = U256::from(e.block.number);
            if n >= current || current - n > U256::from(256) || n < U256::from(e.block.first_recent)
            {
                return Err(ArbSys::InvalidBlockNumber {
                    requested: n,
                    current,
                }
                .abi_encode());
            }
            let i = (n.to::<u64>() - e.block.first_recent) as usize;
            e.block
                .recent_hashes
                .get(i)
                .map(|h| h.to_vec())
                .ok_or_else(Vec::new)
        }
        _ => Err(Vec::new()),
    }
}
