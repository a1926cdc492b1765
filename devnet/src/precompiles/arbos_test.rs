//! ArbosTest (0x69): `burnArbGas(amount)` burns that much gas (`precompiles/ArbosTest.go`). A
//! pure method: no ArbOS state is opened, so it costs 3 gas a word of its argument plus the
//! amount; more than the gas left takes it all and still succeeds, as there.

use alloy::primitives::{address, Address};
use alloy::sol;
use alloy::sol_types::SolCall;

use super::pricing::{burn_all, selector_of, words, COPY_GAS};
use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};

pub const ARBOS_TEST: Address = address!("0000000000000000000000000000000000000069");

sol! {
    interface ArbosTest {
        function burnArbGas(uint256 gasAmount) external pure;
    }
}

pub(super) fn call(_: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    if selector_of(data) != Some(ArbosTest::burnArbGasCall::SELECTOR) || !msg.value.is_zero() {
        return burn_all(msg);
    }
    let args = COPY_GAS * words(data.len() - 4);
    if args > msg.gas {
        return burn_all(msg);
    }
    let Ok(call) = ArbosTest::burnArbGasCall::abi_decode(data) else {
        return burn_all(msg);
    };
    // "not a uint64": a revert that keeps what is left.
    let Ok(amount) = u64::try_from(call.gasAmount) else {
        return CallResult {
            outcome: Outcome::Revert,
            output: Vec::new(),
            gas_used: args,
        };
    };
    CallResult {
        outcome: Outcome::Success,
        output: Vec::new(),
        gas_used: args.saturating_add(amount).min(msg.gas),
    }
}
