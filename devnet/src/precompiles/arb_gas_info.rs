//! ArbGasInfo (0x6c): the prices a wallet or a tool reads to estimate fees
//! (`precompiles/ArbGasInfo.go`), from the devnet's fixed base fee and L1 price.

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::SolCall;

use super::pricing::view_call_reading;
use crate::evm::exec::{CallResult, ExecRef, Message};
use crate::node::chain::{BASE_FEE, BLOCK_GAS_LIMIT, TX_GAS_LIMIT};

pub const ARB_GAS_INFO: Address = address!("000000000000000000000000000000000000006c");

sol! {
    interface ArbGasInfo {
        function getPricesInWei() external view returns (uint256, uint256, uint256, uint256, uint256, uint256);
        function getPricesInWeiWithAggregator(address aggregator) external view returns (uint256, uint256, uint256, uint256, uint256, uint256);
        function getGasAccountingParams() external view returns (uint256, uint256, uint256);
        function getMaxTxGasLimit() external view returns (uint256);
        function getMinimumGasPrice() external view returns (uint256);
        function getL1BaseFeeEstimate() external view returns (uint256);
        function getL1GasPriceEstimate() external view returns (uint256);
        function getCurrentTxL1GasFees() external view returns (uint256);
    }
}

/// `AssumedSimpleTxSize`: the bytes `getPricesInWei` prices a transaction without calldata at.
const ASSUMED_SIMPLE_TX_SIZE: u64 = 140;
/// geth's `TxDataNonZeroGasEIP2028`, the calldata units of one byte.
const UNITS_PER_BYTE: u64 = 16;
/// `storage.StorageWriteCost`: the gas of one storage allocation.
const STORAGE_WRITE: u64 = 20_000;
/// The L2 pricer's speed limit (`InitialSpeedLimitPerSecondV6`).
const SPEED_LIMIT: u64 = 7_000_000;

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    use ArbGasInfo::*;
    view_call_reading(
        exec,
        msg,
        &[
            getPricesInWeiCall::SELECTOR,
            getPricesInWeiWithAggregatorCall::SELECTOR,
            getGasAccountingParamsCall::SELECTOR,
            getMaxTxGasLimitCall::SELECTOR,
            getMinimumGasPriceCall::SELECTOR,
            getL1BaseFeeEstimateCall::SELECTOR,
            getL1GasPriceEstimateCall::SELECTOR,
            getCurrentTxL1GasFeesCall::SELECTOR,
        ],
        view,
        reads,
    )
}

/// The ArbOS storage each view reads (the L1 price per unit, the minimum base fee, the speed
/// limit, the gas limits).
fn reads(_: &ExecRef, selector: [u8; 4]) -> u64 {
    use ArbGasInfo::*;
    match selector {
        getPricesInWeiCall::SELECTOR | getPricesInWeiWithAggregatorCall::SELECTOR => 2,
        getGasAccountingParamsCall::SELECTOR => 2,
        getCurrentTxL1GasFeesCall::SELECTOR => 0,
        _ => 1,
    }
}

fn view(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    use ArbGasInfo::*;
    let e = exec.borrow();
    let base_fee = e.block.basefee;
    let l1_price = e.block.l1_price_per_unit;
    let word = |v: U256| v.to_be_bytes_vec();
    Ok(match selector {
        getPricesInWeiCall::SELECTOR | getPricesInWeiWithAggregatorCall::SELECTOR => {
            if selector == getPricesInWeiWithAggregatorCall::SELECTOR {
                getPricesInWeiWithAggregatorCall::abi_decode(data).map_err(|_| Vec::new())?;
            }
            // Per simple transaction, per calldata byte, per storage allocation, then the gas
            // price split into its floor (the minimum base fee) and the congestion above it.
            let per_byte = l1_price * U256::from(UNITS_PER_BYTE);
            let floor = U256::from(BASE_FEE).min(base_fee);
            [
                per_byte * U256::from(ASSUMED_SIMPLE_TX_SIZE),
                per_byte,
                base_fee * U256::from(STORAGE_WRITE),
                floor,
                base_fee - floor,
                base_fee,
            ]
            .into_iter()
            .flat_map(word)
            .collect()
        }
        getGasAccountingParamsCall::SELECTOR => [SPEED_LIMIT, BLOCK_GAS_LIMIT, BLOCK_GAS_LIMIT]
            .into_iter()
            .flat_map(|v| word(U256::from(v)))
            .collect(),
        getMaxTxGasLimitCall::SELECTOR => word(U256::from(TX_GAS_LIMIT)),
        getMinimumGasPriceCall::SELECTOR => word(U256::from(BASE_FEE)),
        getL1BaseFeeEstimateCall::SELECTOR | getL1GasPriceEstimateCall::SELECTOR => word(l1_price),
        getCurrentTxL1GasFeesCall::SELECTOR => word(e.poster_fee),
        _ => return Err(Vec::new()),
    })
}
