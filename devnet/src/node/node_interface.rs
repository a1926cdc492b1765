//! NodeInterface (0xc8): Nitro's virtual contract, answered only through `eth_call`
//! (`execution/nodeInterface/NodeInterface.go`, intercepted before the EVM runs). The devnet
//! answers `gasEstimateComponents`, what wallets read to split a fee into its L2 and L1 parts.

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;

use crate::evm::exec::{CallResult, Outcome};
use crate::node::chain::{CallRequest, Chain, BASE_FEE};

pub const NODE_INTERFACE: Address = address!("00000000000000000000000000000000000000c8");

sol! {
    interface NodeInterface {
        function gasEstimateComponents(address to, bool contractCreation, bytes calldata data)
            external
            payable
            returns (uint64 gasEstimate, uint64 gasEstimateForL1, uint256 baseFee, uint256 l1BaseFeeEstimate);
    }
}

/// Answers an `eth_call` to NodeInterface, or `None` when the call is addressed elsewhere.
pub fn intercept(chain: &mut Chain, req: &CallRequest) -> Option<anyhow::Result<CallResult>> {
    if req.to != Some(NODE_INTERFACE) {
        return None;
    }
    let Ok(call) = NodeInterface::gasEstimateComponentsCall::abi_decode(&req.data) else {
        return Some(Err(anyhow::anyhow!(
            "NodeInterface: the devnet answers only gasEstimateComponents"
        )));
    };
    Some((|| {
        if call.to == NODE_INTERFACE {
            anyhow::bail!("cannot estimate virtual contract");
        }
        // The estimate of the described transaction from the same sender and value, and the L1
        // part of it (Nitro's padded stand-in transaction, as eth_estimateGas adds it).
        let inner = CallRequest {
            from: req.from,
            to: (!call.contractCreation).then_some(call.to),
            data: call.data.clone(),
            value: req.value,
            gas: None,
            overrides: req.overrides.clone(),
        };
        let estimate = chain.estimate_gas(&inner)?;
        if !estimate.ok() {
            return Ok(estimate);
        }
        let for_l1 = chain.estimation_l1_gas(&inner);
        let output = NodeInterface::gasEstimateComponentsCall::abi_encode_returns(
            &NodeInterface::gasEstimateComponentsReturn {
                gasEstimate: estimate.gas_used,
                gasEstimateForL1: for_l1,
                baseFee: U256::from(BASE_FEE),
                l1BaseFeeEstimate: U256::from(chain.l1_price_per_unit()),
            },
        );
        Ok(CallResult {
            outcome: Outcome::Success,
            output,
            gas_used: 0,
        })
    })())
}
