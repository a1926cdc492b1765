//! The precompiles a Stylus program and its deployer use: ecrecover, sha256, identity, ArbSys
//! (block number, block hash, chain id, ArbOS version) and ArbWasm (activation and versions).

use alloy::primitives::{address, Address, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError};
use sha2::Digest;

use crate::exec::{CallResult, ExecRef, Message, Outcome};
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
        ARB_WASM => arb_wasm(exec, msg).map(|out| (out, 100)),
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

/// A call to ArbSys priced as Nitro prices it. A call without a known selector, or with value,
/// reverts and burns all the gas it was given, as Nitro's precompile dispatch does.
fn arb_sys_call(exec: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    let burn_all = || CallResult {
        outcome: Outcome::Revert,
        output: Vec::new(),
        gas_used: msg.gas,
    };
    let known = data.get(..4).is_some_and(|s| {
        [
            ArbSys::arbBlockNumberCall::SELECTOR,
            ArbSys::arbChainIDCall::SELECTOR,
            ArbSys::arbOSVersionCall::SELECTOR,
            ArbSys::arbBlockHashCall::SELECTOR,
        ]
        .iter()
        .any(|known| known == s)
    });
    if !known || !msg.value.is_zero() {
        return burn_all();
    }
    let before = OPEN_STATE_GAS + COPY_GAS * words(data.len() - 4);
    if before > msg.gas {
        return CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        };
    }
    let (outcome, output) = match arb_sys(exec, data) {
        Ok(out) => (Outcome::Success, out),
        Err(out) => (Outcome::Revert, out),
    };
    let gas = before + COPY_GAS * words(output.len());
    if gas > msg.gas {
        // The caller cannot pay for the result: a revert with all the gas.
        return burn_all();
    }
    CallResult {
        outcome,
        output,
        gas_used: gas,
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

fn arb_wasm(exec: &ExecRef, msg: &Message) -> Result<Vec<u8>, Vec<u8>> {
    let data = &msg.data[..];
    let selector: [u8; 4] = data
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(Vec::new)?;
    match selector {
        ArbWasm::activateProgramCall::SELECTOR => {
            if msg.is_static {
                return Err(Vec::new());
            }
            let call = ArbWasm::activateProgramCall::abi_decode(data).map_err(|_| Vec::new())?;
            let (code, programs, active) = {
                let e = exec.borrow();
                (
                    e.state.code(&call.program),
                    e.programs.clone(),
                    e.state.program(&call.program).is_some(),
                )
            };
            if active {
                return Err(ArbWasm::ProgramUpToDate {}.abi_encode());
            }
            let program = programs.activate(&code).map_err(|err| {
                tracing::warn!(program = %call.program, %err, "activation refused");
                match err {
                    crate::program::ActivationError::NotStylus => {
                        ArbWasm::ProgramNotWasm {}.abi_encode()
                    }
                    other => alloy::sol_types::Revert::from(other.to_string()).abi_encode(),
                }
            })?;
            let mut e = exec.borrow_mut();
            e.state
                .update(call.program, |a| a.program = Some(program.clone()));
            // The devnet charges no data fee: any value sent is returned.
            if !msg.value.is_zero() {
                e.state.transfer(ARB_WASM, msg.caller, msg.value);
            }
            Ok(ArbWasm::activateProgramCall::abi_encode_returns(
                &ArbWasm::activateProgramReturn {
                    version: STYLUS_VERSION,
                    dataFee: U256::ZERO,
                },
            ))
        }
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
