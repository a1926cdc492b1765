//! The precompiles a Stylus program and its deployer use: ecrecover, sha256, identity, ArbSys
//! (block number, block hash, chain id, ArbOS version) and ArbWasm (activation and versions).

use alloy::primitives::{address, Address, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError, SolEvent};
use sha2::Digest;

use crate::exec::{CallResult, ExecRef, Message, Outcome};
use crate::gas;
use crate::program::STYLUS_VERSION;

pub const ECRECOVER: Address = address!("0000000000000000000000000000000000000001");
pub const SHA256: Address = address!("0000000000000000000000000000000000000002");
pub const IDENTITY: Address = address!("0000000000000000000000000000000000000004");
pub const ARB_SYS: Address = address!("0000000000000000000000000000000000000064");
pub const ARB_WASM: Address = address!("0000000000000000000000000000000000000071");

/// The addresses every transaction starts with warm (EIP-2929: the active precompiles, which on
/// Arbitrum are Ethereum's, 0x01-0x11 and P256VERIFY at 0x100, and ArbOS's at 0x64-0x69 and
/// 0x6b-0x73; go-ethereum `core/vm/contracts.go` `ActivePrecompiles`, Nitro
/// `precompiles/precompile.go`), whether or not the devnet implements them.
pub fn warm_at_start() -> impl Iterator<Item = Address> {
    let low = |n: u16| {
        let mut a = [0u8; 20];
        a[18..].copy_from_slice(&n.to_be_bytes());
        Address::new(a)
    };
    (0x01..=0x11)
        .chain([0x100])
        .chain(0x64..=0x69)
        .chain(0x6b..=0x73)
        .map(low)
}

/// The ArbOS version whose rules the devnet follows, and reports through `ArbSys.arbOSVersion`:
/// Stylus version 2 init pricing (ArbOS 40 on), P256VERIFY and the Prague precompile set warm,
/// tips dropped, single-fragment programs and multi-value still accepted at activation (both
/// change in ArbOS 60). README "Devnet" lists what of it is not reproduced.
pub const ARBOS_VERSION: u64 = 50;

sol! {
    interface ArbSys {
        function arbBlockNumber() external view returns (uint256);
        function arbBlockHash(uint256 arbBlockNum) external view returns (bytes32);
        function arbChainID() external view returns (uint256);
        function arbOSVersion() external view returns (uint256);
        error InvalidBlockNumber(uint256 requested, uint256 current);
    }

    interface ArbWasm {
        function activateProgram(address program) external payable returns (uint16 version, uint256 dataFee);
        function stylusVersion() external view returns (uint16 version);
        function programVersion(address program) external view returns (uint16 version);
        function codehashVersion(bytes32 codehash) external view returns (uint16 version);
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

fn gas_of(words: usize, base: u64, per_word: u64) -> u64 {
    base + per_word * words as u64
}

/// Runs a precompile if `msg` addresses one.
pub fn run(exec: &ExecRef, msg: &Message) -> Option<CallResult> {
    let data = &msg.data[..];
    let result = match msg.code_address {
        // geth's rules, high s included (protocol::ecrecover).
        ECRECOVER => Ok((protocol::ecrecover::ecrecover(data), 3_000)),
        SHA256 => Ok((
            sha2::Sha256::digest(data).to_vec(),
            gas_of(data.len().div_ceil(32), 60, 12),
        )),
        IDENTITY => Ok((data.to_vec(), gas_of(data.len().div_ceil(32), 15, 3))),
        ARB_SYS => return Some(arb_sys_call(exec, msg)),
        ARB_WASM => return Some(arb_wasm_call(exec, msg)),
        crate::stylus_deployer::STYLUS_DEPLOYER => {
            return Some(crate::stylus_deployer::run(exec, msg))
        }
        // A precompile Nitro has and the devnet lacks fails loudly rather than answering like an
        // empty account.
        other if warm_at_start().any(|a| a == other) => {
            return Some(CallResult::failure(
                format!("precompile {other} is not implemented by the devnet"),
                msg.gas,
            ))
        }
        _ => return None,
    };
    Some(match result {
        Ok((output, gas)) if gas <= msg.gas => CallResult {
            outcome: Outcome::Success,
            output,
            gas_used: gas,
        },
        Ok(_) => CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        },
        Err(output) => CallResult {
            outcome: Outcome::Revert,
            output,
            gas_used: 100.min(msg.gas),
        },
    })
}

/// Gas of an ArbOS precompile's view, as Nitro charges it (`precompiles/precompile.go`, `Call`;
/// `precompiles/context.go`, `makeContext`): opening the ArbOS state reads its version (one
/// storage read, `arbos/storage` StorageReadCost = 800), then 3 gas a word of arguments and of
/// the result (`params.CopyGas`).
const OPEN_STATE_GAS: u64 = 800;
const COPY_GAS: u64 = 3;

fn words(bytes: usize) -> u64 {
    bytes.div_ceil(32) as u64
}

/// A precompile view: its output, or its revert data.
type View = fn(&ExecRef, &[u8]) -> Result<Vec<u8>, Vec<u8>>;

/// A call to one of an ArbOS precompile's views priced as Nitro prices it. A call without a
/// known selector, or with value, reverts and burns all the gas it was given, as Nitro's
/// precompile dispatch does.
fn view_call(exec: &ExecRef, msg: &Message, selectors: &[[u8; 4]], view: View) -> CallResult {
    let data = &msg.data[..];
    let known = data
        .get(..4)
        .is_some_and(|s| selectors.iter().any(|known| known == s));
    if !known || !msg.value.is_zero() {
        return burn_all(msg);
    }
    let before = OPEN_STATE_GAS + COPY_GAS * words(data.len() - 4);
    if before > msg.gas {
        return out_of_gas(msg);
    }
    let (outcome, output) = match view(exec, data) {
        Ok(out) => (Outcome::Success, out),
        Err(out) => (Outcome::Revert, out),
    };
    let gas = before + COPY_GAS * words(output.len());
    if gas > msg.gas {
        // The caller cannot pay for the result: a revert with all the gas.
        return burn_all(msg);
    }
    CallResult {
        outcome,
        output,
        gas_used: gas,
    }
}

fn burn_all(msg: &Message) -> CallResult {
    CallResult {
        outcome: Outcome::Revert,
        output: Vec::new(),
        gas_used: msg.gas,
    }
}

fn out_of_gas(msg: &Message) -> CallResult {
    CallResult {
        outcome: Outcome::OutOfGas,
        output: Vec::new(),
        gas_used: msg.gas,
    }
}

fn arb_sys_call(exec: &ExecRef, msg: &Message) -> CallResult {
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

fn arb_wasm_call(exec: &ExecRef, msg: &Message) -> CallResult {
    if msg.data.get(..4) == Some(&ArbWasm::activateProgramCall::SELECTOR[..]) {
        return activate_program(exec, msg);
    }
    view_call(
        exec,
        msg,
        &[
            ArbWasm::stylusVersionCall::SELECTOR,
            ArbWasm::codehashVersionCall::SELECTOR,
            ArbWasm::programVersionCall::SELECTOR,
        ],
        arb_wasm_view,
    )
}

/// The data pricer's state, kept in ArbWasm's storage so that it is journaled, reverted and
/// saved with the rest of the state: slot 0 the demand, slot 1 the time of the last update.
fn data_pricer(exec: &ExecRef) -> (u32, u64) {
    let e = exec.borrow();
    let read =
        |slot: u8| U256::from_be_bytes(e.state.storage(&ARB_WASM, &B256::with_last_byte(slot)).0);
    let demand = read(0).saturating_to::<u32>();
    let last = match read(1) {
        last if last.is_zero() => crate::gas::DATA_PRICER_START_TIME,
        last => last.saturating_to::<u64>(),
    };
    (demand, last)
}

/// `ArbWasm.activateProgram` as Nitro runs it (`precompiles/ArbWasm.go`,
/// `arbos/programs/programs.go` `ActivateProgram`): the fixed 1,659,168 gas, the module's
/// compilation gas, the data fee from the data pricer (`ProgramInsufficientValue` when the value
/// sent is short; the fee goes to the block's coinbase, standing for the network fee account,
/// the rest back to the caller), and `ProgramActivated`. A module the parser refuses takes all
/// the gas, as there; code that is not a Stylus program does not.
fn activate_program(exec: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    let mut used = OPEN_STATE_GAS + COPY_GAS * words(data.len() - 4) + gas::ACTIVATION_FIXED_GAS;
    if msg.is_static {
        return burn_all(msg);
    }
    if used > msg.gas {
        return out_of_gas(msg);
    }
    let revert = |output: Vec<u8>, gas_used: u64| CallResult {
        outcome: Outcome::Revert,
        output,
        gas_used,
    };
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
        return revert(ArbWasm::ProgramUpToDate {}.abi_encode(), used);
    }
    let program = match programs.activate(&code) {
        Ok(p) => p,
        Err(err) => {
            tracing::warn!(program = %call.program, %err, "activation refused");
            use crate::program::ActivationError::*;
            return match err {
                NotStylus => revert(ArbWasm::ProgramNotWasm {}.abi_encode(), used),
                UnknownDictionary(_) | CodeTooLarge(_) | Decompress(_) | WasmTooLarge(_) => revert(
                    alloy::sol_types::Revert::from(err.to_string()).abi_encode(),
                    used,
                ),
                // Nitro's `activateProgram` failing: all the gas is taken.
                other => revert(
                    alloy::sol_types::Revert::from(other.to_string()).abi_encode(),
                    msg.gas,
                ),
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
        let e = ArbWasm::ProgramInsufficientValue {
            have: msg.value,
            want: fee,
        };
        return revert(e.abi_encode(), used);
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
    let coinbase = e.block.coinbase;
    e.state.transfer(ARB_WASM, coinbase, fee);
    e.state.transfer(ARB_WASM, msg.caller, msg.value - fee);
    e.state.push_log(crate::state::Log {
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

fn arb_sys(exec: &ExecRef, data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let e = exec.borrow();
    let selector: [u8; 4] = data
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(Vec::new)?;
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

fn arb_wasm_view(exec: &ExecRef, data: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let selector: [u8; 4] = data
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(Vec::new)?;
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
