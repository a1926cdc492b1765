//! The StylusDeployer at its canonical address (0xcEcba2F1DC234f70Dd89F2041029807F8D03A990), which
//! cargo-stylus 0.9+ uses to deploy a program with a constructor: deploy, activate and construct
//! in one transaction, so that nobody can call the new program before its constructor has run.
//!
//! On Arbitrum it is a Solidity contract (OffchainLabs/nitro-contracts,
//! `src/stylus/StylusDeployer.sol`). The devnet has no EVM interpreter for runtime code, so it
//! runs the same steps natively: CREATE (or CREATE2 with the salt hashed with the init data and
//! value), `ArbWasm.activateProgram` unless the code is already active, the constructor call with
//! `initValue`, the refund of the rest of `msg.value` to the caller, and `ContractDeployed`. The
//! errors are the contract's. Gas: what the nested creation and calls use, plus an estimate of
//! the deployer's own EVM work (README "Devnet").

use alloy::primitives::{address, keccak256, Address, Bytes, B256, U256};
use alloy::sol;
use alloy::sol_types::{SolCall, SolError, SolEvent};

use crate::evm::exec::{self, CallResult, ExecRef, Message, Outcome};
use crate::evm::state::Log;
use crate::gas;
use crate::precompiles::{ArbWasm, ARB_WASM};

pub const STYLUS_DEPLOYER: Address = address!("cEcba2F1DC234f70Dd89F2041029807F8D03A990");

sol! {
    interface StylusDeployer {
        event ContractDeployed(address deployedContract);
        error ContractDeploymentError(bytes bytecode);
        error ContractInitializationError(address newContract);
        error RefundExcessValueError(uint256 excessValue);
        error EmptyBytecode();
        error InitValueButNotInitData();
        function deploy(bytes bytecode, bytes initData, uint256 initValue, bytes32 salt) external payable returns (address);
        function initSalt(bytes32 salt, bytes initData, uint256 initValue) external pure returns (bytes32);
        function requiresActivation(address addr) external view returns (bool);
    }
}

/// Solidity's panic on arithmetic underflow (`Panic(0x11)`), what `msg.value - initValue` raises
/// when the caller sent less than `initValue`.
fn underflow_panic() -> Vec<u8> {
    let mut data = keccak256("Panic(uint256)")[..4].to_vec();
    data.extend(U256::from(0x11).to_be_bytes::<32>());
    data
}

/// Estimated gas of the deployer's own EVM code around the nested calls: dispatch and ABI
/// decoding, copying `bytecode` to memory (3 per word plus memory expansion), the CREATE opcode's
/// 32,000, hashing for CREATE2, the EXTCODEHASH and ArbWasm queries of `requiresActivation`, and
/// the event (375 + 375 per topic + 8 per byte).
fn own_gas(bytecode_len: usize, init_len: usize, salted: bool) -> u64 {
    let words = (bytecode_len + init_len).div_ceil(32) as u64;
    let memory = 3 * words + words * words / 512;
    let hashing = if salted {
        30 + 6 * (init_len.div_ceil(32) as u64 + 3) + 30 + 6 * bytecode_len.div_ceil(32) as u64
    } else {
        0
    };
    2_000 + memory + 3 * words + 32_000 + hashing + 2_600 + 2 * 100 + 375 * 2 + 8 * 32
}

/// Runs a call to the deployer.
pub fn run(exec: &ExecRef, msg: &Message) -> CallResult {
    let data = &msg.data[..];
    let selector = super::pricing::selector_of(data);
    let result = match selector {
        Some(StylusDeployer::deployCall::SELECTOR) => deploy(exec, msg),
        Some(StylusDeployer::initSaltCall::SELECTOR) => {
            match StylusDeployer::initSaltCall::abi_decode(data) {
                Ok(c) => Ok((
                    StylusDeployer::initSaltCall::abi_encode_returns(&init_salt(
                        c.salt,
                        &c.initData,
                        c.initValue,
                    )),
                    500,
                )),
                Err(_) => Err((Vec::new(), 200)),
            }
        }
        Some(StylusDeployer::requiresActivationCall::SELECTOR) => {
            match StylusDeployer::requiresActivationCall::abi_decode(data) {
                Ok(c) => {
                    let needs = requires_activation(exec, &c.addr);
                    Ok((
                        StylusDeployer::requiresActivationCall::abi_encode_returns(&needs),
                        3_000,
                    ))
                }
                Err(_) => Err((Vec::new(), 200)),
            }
        }
        _ => Err((Vec::new(), 100)),
    };
    match result {
        Ok((output, gas_used)) if gas_used <= msg.gas => CallResult {
            outcome: Outcome::Success,
            output,
            gas_used,
        },
        Ok(_) => CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        },
        Err((output, gas_used)) => CallResult {
            outcome: Outcome::Revert,
            output,
            gas_used: gas_used.min(msg.gas),
        },
    }
}

fn init_salt(salt: B256, init_data: &[u8], init_value: U256) -> B256 {
    keccak256(
        [
            salt.as_slice(),
            init_data,
            init_value.to_be_bytes::<32>().as_slice(),
        ]
        .concat(),
    )
}

/// Whether the code at `addr` still needs activation: not active at the current Stylus version.
fn requires_activation(exec: &ExecRef, addr: &Address) -> bool {
    let e = exec.borrow();
    let codehash = keccak256(e.state.code(addr));
    e.state.activated_program(&codehash).is_none()
}

type Outcome2 = Result<(Vec<u8>, u64), (Vec<u8>, u64)>;

fn deploy(exec: &ExecRef, msg: &Message) -> Outcome2 {
    let call = StylusDeployer::deployCall::abi_decode(&msg.data).map_err(|_| (Vec::new(), 200))?;
    let salted = !call.salt.is_zero();
    let mut used = own_gas(call.bytecode.len(), call.initData.len(), salted);
    let left = |used: u64| msg.gas.saturating_sub(used);
    // EIP-150: a nested call gets at most all but one 64th of what is left.
    let budget = |used: u64| left(used) - left(used) / 64;
    if used > msg.gas {
        return Err((Vec::new(), msg.gas));
    }
    if call.bytecode.is_empty() {
        return Err((StylusDeployer::EmptyBytecode {}.abi_encode(), used));
    }

    // CREATE / CREATE2 from the deployer, without value.
    let address = {
        let mut e = exec.borrow_mut();
        // A contract's nonce starts at 1 (EIP-161).
        let nonce = e.state.nonce(&STYLUS_DEPLOYER).max(1);
        e.state.update(STYLUS_DEPLOYER, |a| a.nonce = nonce + 1);
        if salted {
            let salt = init_salt(call.salt, &call.initData, call.initValue);
            STYLUS_DEPLOYER.create2(salt, keccak256(&call.bytecode))
        } else {
            STYLUS_DEPLOYER.create(nonce)
        }
    };
    let (created, create_gas) = exec::create(
        exec,
        STYLUS_DEPLOYER,
        address,
        &call.bytecode,
        U256::ZERO,
        budget(used),
    );
    used += create_gas;
    let address = match created {
        Ok(a) => a,
        // The contract bubbles the creation's revert data, else reports the bytecode.
        Err(data) if !data.is_empty() => return Err((data, used)),
        Err(_) => {
            let e = StylusDeployer::ContractDeploymentError {
                bytecode: call.bytecode.clone(),
            };
            return Err((e.abi_encode(), used));
        }
    };

    let activate = requires_activation(exec, &address);
    if activate {
        let Some(activation_value) = msg.value.checked_sub(call.initValue) else {
            return Err((underflow_panic(), used));
        };
        let r = exec::call(
            exec,
            Message {
                caller: STYLUS_DEPLOYER,
                to: ARB_WASM,
                code_address: ARB_WASM,
                value: activation_value,
                data: Bytes::from(ArbWasm::activateProgramCall { program: address }.abi_encode()),
                gas: budget(used),
                is_static: false,
                transfers_value: true,
            },
        );
        used += r.gas_used
            + gas::WARM
            + if activation_value.is_zero() {
                0
            } else {
                gas::CALL_VALUE
            };
        if !r.ok() {
            // A failed external call bubbles its revert data in Solidity.
            return Err((r.output, used));
        }
    }

    if !call.initData.is_empty() {
        let cold = exec.borrow_mut().state.touch_account(address);
        used += if cold { gas::COLD_ACCOUNT } else { gas::WARM };
        if !call.initValue.is_zero() {
            used += gas::CALL_VALUE;
        }
        let r = exec::call(
            exec,
            Message {
                caller: STYLUS_DEPLOYER,
                to: address,
                code_address: address,
                value: call.initValue,
                data: call.initData.clone(),
                gas: budget(used),
                is_static: false,
                transfers_value: true,
            },
        );
        used += r.gas_used;
        if !r.ok() {
            let e = StylusDeployer::ContractInitializationError {
                newContract: address,
            };
            return Err((e.abi_encode(), used));
        }
    } else if !call.initValue.is_zero() {
        return Err((
            StylusDeployer::InitValueButNotInitData {}.abi_encode(),
            used,
        ));
    }

    if activate || msg.value != call.initValue {
        let balance = exec.borrow().state.balance(&STYLUS_DEPLOYER);
        if !balance.is_zero() {
            used += gas::CALL_VALUE + gas::WARM;
            let r = exec::call(
                exec,
                Message {
                    caller: STYLUS_DEPLOYER,
                    to: msg.caller,
                    code_address: msg.caller,
                    value: balance,
                    data: Bytes::new(),
                    gas: budget(used),
                    is_static: false,
                    transfers_value: true,
                },
            );
            used += r.gas_used;
            if !r.ok() {
                let e = StylusDeployer::RefundExcessValueError {
                    excessValue: balance,
                };
                return Err((e.abi_encode(), used));
            }
        }
    }

    let event = StylusDeployer::ContractDeployed {
        deployedContract: address,
    };
    exec.borrow_mut().state.push_log(Log {
        address: STYLUS_DEPLOYER,
        topics: vec![StylusDeployer::ContractDeployed::SIGNATURE_HASH],
        data: Bytes::from(event.encode_data()),
    });
    if used > msg.gas {
        return Err((Vec::new(), msg.gas));
    }
    Ok((
        StylusDeployer::deployCall::abi_encode_returns(&address),
        used,
    ))
}
