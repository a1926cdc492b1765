//! ArbWasm (0x71): activation, with its gas and data fee, and the version views.

use alloy::primitives::{address, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError, SolEvent};

use super::pricing::{
    burn_all, out_of_gas, selector_of, solidity_error, view_call_priced, words, CODE_HASH_READ,
    COPY_GAS, OPEN_STATE_GAS, PARAMS_READ, STORAGE_READ,
};
use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};
use crate::gas;
use crate::stylus::program::{ActivationError, MAX_FRAGMENTS, STYLUS_VERSION};

pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");

sol! {
    interface ArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function stylusVersion() external view returns (uint16 version);
        function programVersion(address program) external view returns (uint16 version);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
        function codehashAsmSize(bytes32 codehash) external view returns (uint32 size);
        error ProgramNotActivated();
        error ProgramNotWasm();
        error ProgramNeedsUpgrade(uint16 version, uint16 stylusVersion);
        error ProgramUpToDate();
        error ProgramInsufficientValue(uint256 have, uint256 want);
        event ProgramActivated(bytes32 indexed codehash, bytes32 moduleHash, address program, uint256 dataFee, uint16 version);
    }
}

/// Revert data of a call to Stylus code that was never activated.
pub fn program_not_activated() -> Vec<u8> {
    ArbWasm::ProgramNotActivated {}.abi_encode()
}

pub(super) fn call(exec: &ExecRef, msg: &Message) -> CallResult {
    if selector_of(&msg.data) == Some(ArbWasm::activateProgramCall::SELECTOR) {
        return activate_program(exec, msg);
    }
    view_call_priced(
        exec,
        msg,
        &[
            ArbWasm::stylusVersionCall::SELECTOR,
            ArbWasm::codehashVersionCall::SELECTOR,
            ArbWasm::programVersionCall::SELECTOR,
            ArbWasm::codehashAsmSizeCall::SELECTOR,
        ],
        arb_wasm_view,
        &view_price,
    )
}

/// What each view burns besides the view price (`precompiles/ArbWasm.go`): the parameters
/// (100), the program's record (one ArbOS read), and for `programVersion` the code hash of the
/// address first (2,600).
fn view_price(_: &ExecRef, selector: [u8; 4]) -> u64 {
    match selector {
        ArbWasm::stylusVersionCall::SELECTOR => PARAMS_READ,
        ArbWasm::programVersionCall::SELECTOR => CODE_HASH_READ + PARAMS_READ + STORAGE_READ,
        _ => PARAMS_READ + STORAGE_READ,
    }
}

/// The data pricer's state, kept in ArbWasm's storage so that it is journaled, reverted and
/// saved with the rest of the state: slot 0 the demand, slot 1 the time of the last update.
fn data_pricer(exec: &ExecRef) -> (u32, u64) {
    let e = exec.borrow();
    let read =
        |slot: u8| U256::from_be_bytes(e.state.storage(&ARB_WASM, &B256::with_last_byte(slot)).0);
    let demand = read(0).saturating_to::<u32>();
    let last = match read(1) {
        last if last.is_zero() => gas::DATA_PRICER_START_TIME,
        last => last.saturating_to::<u64>(),
    };
    (demand, last)
}

/// `ArbWasm.activateProgram` as Nitro runs it (`precompiles/ArbWasm.go`,
/// `arbos/programs/programs.go` `ActivateProgram`): the fixed 1,659,168 gas, the module's
/// compilation gas, the data fee from the data pricer (`ProgramInsufficientValue` when the value
/// sent is short; the fee goes to the network fee account, the rest back to the caller), and
/// `ProgramActivated`. A module the parser refuses takes all the gas, as there; code that is not
/// a Stylus program does not.
fn activate_program(exec: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    let mut used = OPEN_STATE_GAS + COPY_GAS * words(data.len() - 4) + gas::ACTIVATION_FIXED_GAS;
    if msg.is_static {
        return burn_all(msg);
    }
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let Ok(call) = ArbWasm::activateProgramCall::abi_decode(data) else {
        return burn_all(msg);
    };
    let (code, programs, active) = {
        let e = exec.borrow();
        (
            e.state.code(&call.program),
            e.programs.clone(),
            e.state.program(&call.program).is_some(),
        )
    };
    if active {
        return solidity_error(ArbWasm::ProgramUpToDate {}.abi_encode(), used);
    }
    // A root program's fragments are read first, each a cold or warm account access plus 3 gas
    // a word of its code (`fragmentReadGasCost`).
    if let Some(Ok(root)) = crate::stylus::program::root_of(&code) {
        for fragment in root.fragments.iter().take(usize::from(MAX_FRAGMENTS)) {
            let mut e = exec.borrow_mut();
            let cold = e.state.touch_account(*fragment);
            let size = e.state.code(fragment).len();
            used += if cold { gas::COLD_ACCOUNT } else { gas::WARM } + COPY_GAS * words(size);
            if used > msg.gas {
                return out_of_gas(msg);
            }
        }
    }
    let program = {
        let fragment_code = |a: &Address| exec.borrow().state.code(a);
        programs.activate(&code, fragment_code)
    };
    let program = match program {
        Ok(p) => p,
        Err(err) => {
            tracing::warn!(program = %call.program, %err, "activation refused");
            return match err {
                ActivationError::NotStylus => {
                    solidity_error(ArbWasm::ProgramNotWasm {}.abi_encode(), used)
                }
                // The activation itself failed (`ErrProgramActivation`): all the gas is taken,
                // and the reason is the call's error.
                err if err.takes_all_gas() => CallResult::failure(err.to_string(), msg.gas),
                // The code could not be read (not a solidity error): a revert without data that
                // keeps the gas left (`precompiles/precompile.go`, `Call`).
                _ => CallResult {
                    outcome: Outcome::Revert,
                    output: Vec::new(),
                    gas_used: used,
                },
            };
        }
    };
    used = used.saturating_add(program.activation_gas);
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let (demand, last) = data_pricer(exec);
    let now = exec.borrow().block.timestamp;
    let (demand, fee) = gas::data_fee(demand, last, program.asm_estimate, now);
    let fee = U256::from(fee);
    if msg.value < fee {
        let short = ArbWasm::ProgramInsufficientValue {
            have: msg.value,
            want: fee,
        };
        return solidity_error(short.abi_encode(), used);
    }
    let event = ArbWasm::ProgramActivated {
        codehash: program.code_hash,
        moduleHash: program.module_hash,
        program: call.program,
        dataFee: fee,
        version: STYLUS_VERSION,
    };
    let log_data = event.encode_data();
    used += gas::LOG_BASE + 2 * gas::LOG_TOPIC + gas::LOG_DATA * log_data.len() as u64;
    let output =
        ArbWasm::activateProgramCall::abi_encode_returns(&ArbWasm::activateProgramReturn {
            version: STYLUS_VERSION,
            dataFee: fee,
        });
    used += COPY_GAS * words(output.len());
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let mut e = exec.borrow_mut();
    let slot = |n: u8| B256::with_last_byte(n);
    e.state
        .set_storage(ARB_WASM, slot(0), B256::from(U256::from(demand)));
    e.state
        .set_storage(ARB_WASM, slot(1), B256::from(U256::from(now)));
    e.state
        .update(call.program, |a| a.program = Some(program.clone()));
    e.state
        .transfer(ARB_WASM, super::arb_owner_public::NETWORK_FEE_ACCOUNT, fee);
    e.state.transfer(ARB_WASM, msg.caller, msg.value - fee);
    e.state.push_log(crate::evm::state::Log {
        address: ARB_WASM,
        topics: vec![ArbWasm::ProgramActivated::SIGNATURE_HASH, program.code_hash],
        data: log_data.into(),
    });
    CallResult {
        outcome: Outcome::Success,
        output,
        gas_used: used,
    }
}

fn arb_wasm_view(exec: &ExecRef, selector: [u8; 4], data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    match selector {
        ArbWasm::stylusVersionCall::SELECTOR => Ok(ArbWasm::stylusVersionCall::abi_encode_returns(
            &STYLUS_VERSION,
        )),
        ArbWasm::codehashVersionCall::SELECTOR => {
            let call = ArbWasm::codehashVersionCall::abi_decode(data).map_err(|_| Vec::new())?;
            if exec
                .borrow()
                .state
                .activated_program(&call.codehash)
                .is_some()
            {
                Ok(ArbWasm::codehashVersionCall::abi_encode_returns(
                    &STYLUS_VERSION,
                ))
            } else {
                Err(ArbWasm::ProgramNotActivated {}.abi_encode())
            }
        }
        // What the program takes in the cache (`programs.go`, `asmSize`): its asm estimate
        // rounded up to kilobytes as the program's record keeps it (a 24-bit count).
        ArbWasm::codehashAsmSizeCall::SELECTOR => {
            let call = ArbWasm::codehashAsmSizeCall::abi_decode(data).map_err(|_| Vec::new())?;
            let e = exec.borrow();
            let program = e
                .state
                .activated_program(&call.codehash)
                .ok_or_else(program_not_activated)?;
            let kb = program.asm_estimate.div_ceil(1024).min((1 << 24) - 1);
            Ok(ArbWasm::codehashAsmSizeCall::abi_encode_returns(
                &kb.saturating_mul(1024),
            ))
        }
        ArbWasm::programVersionCall::SELECTOR => {
            let call = ArbWasm::programVersionCall::abi_decode(data).map_err(|_| Vec::new())?;
            if exec.borrow().state.program(&call.program).is_some() {
                Ok(ArbWasm::programVersionCall::abi_encode_returns(
                    &STYLUS_VERSION,
                ))
            } else {
                Err(ArbWasm::ProgramNotActivated {}.abi_encode())
            }
        }
        _ => Err(Vec::new()),
    }
}
