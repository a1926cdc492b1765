//! Method dispatch of the task contract (the core program): the 4-byte selector picks the
//! method, `calldata.rs` decodes its arguments and the result is ABI-encoded here.
//!
//! The contract is one address but two programs: this one runs the task lifecycle, the calls
//! every task pays for (`createTask`, the reports, the score, validation, the result, aborts);
//! every other method (views, owner and node-registry calls) is delegated to the extension program
//! (`extension.rs`), which runs on the same storage. The hot paths thus pay the init gas of a
//! smaller program and never a second program call (README "Contract size").
//!
//! The signatures below are the contract's ABI; the tests call every method through
//! `abi/ITaskContract.sol` (exported from `interface.rs`), so a signature that drifts from the
//! interface fails them.

use alloc::vec::Vec;

use alloy_primitives::Address;

use crate::abi::{fail, Result};
use crate::calldata::Args;
use crate::config::Settings;
use crate::lifecycle::NewTask;
use crate::packing::Word;
use crate::store::global;
use crate::{Host, TaskContract};

/// The first four bytes of keccak256 of a method signature, as a number to match on.
const fn selector(signature: &str) -> u32 {
    let h = keccak_const::Keccak256::new()
        .update(signature.as_bytes())
        .finalize();
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

macro_rules! selectors {
    ($($name:ident = $sig:literal;)*) => {
        $(pub(crate) const $name: u32 = selector($sig);)*
    };
}

selectors! {
    // stylus-sdk's constructor selector: the name alone, whatever the arguments
    // (cargo-stylus's deployer calls it with this selector and the ABI-encoded arguments).
    STYLUS_CONSTRUCTOR = "stylus_constructor()";
    SET_CONFIG = "setConfig(address,address,address,uint256,uint64,uint64,uint64,uint64,uint8,uint32,uint16,uint32)";
    GET_CONFIG = "getConfig()";
    TRANSFER_OWNERSHIP = "transferOwnership(address)";
    ACCEPT_OWNERSHIP = "acceptOwnership()";
    JOIN = "join(string,uint64,uint32[3],bytes,string[])";
    PAUSE = "pause()";
    RESUME = "resume()";
    QUIT = "quit()";
    REPORT_MODEL_DOWNLOADED = "reportModelDownloaded(string)";
    GET_NODE_INFO = "getNodeInfo(address)";
    GET_NODE_TASK = "getNodeTask(address)";
    NODE_COUNT = "nodeCount()";
    CREATE_TASK = "createTask(uint8,bytes32,bytes32,string[],uint64,string,uint64,uint32[3],uint64,bytes32)";
    REPORT_TASK_PARAMETERS_UPLOADED = "reportTaskParametersUploaded(bytes32)";
    SUBMIT_TASK_SCORE = "submitTaskScore(bytes32,bytes)";
    REPORT_TASK_ERROR = "reportTaskError(bytes32,uint8)";
    VALIDATE_SINGLE_TASK = "validateSingleTask(bytes32,bytes,bytes)";
    VALIDATE_TASK_GROUP = "validateTaskGroup(bytes32,bytes32,bytes32,bytes32,bytes32,bytes,bytes)";
    REPORT_TASK_RESULT_UPLOADED = "reportTaskResultUploaded(bytes32)";
    ABORT_TASK = "abortTask(bytes32,uint8)";
    GET_TASK = "getTask(bytes32)";
    TASK_COUNT = "taskCount()";
    QUEUE_SIZE = "queueSize()";
    WITHDRAW = "withdraw()";
    CREDIT_OF = "creditOf(address)";
    VERIFY_VRF = "verifyVRF(bytes,bytes,bytes)";
}

/// Runs one call: `Ok` is the return data, `Err` the revert data.
pub fn dispatch<H: Host>(
    c: &mut TaskContract<H>,
    calldata: &[u8],
) -> core::result::Result<Vec<u8>, Vec<u8>> {
    let Some((head, args)) = calldata.split_first_chunk::<4>() else {
        return Err(unknown_selector([0; 4]));
    };
    let a = Args(args);
    let unit = |r: Result<()>| r.map(|()| Vec::new()).map_err(Vec::from);
    let sel = u32::from_be_bytes(*head);
    if sel != CREATE_TASK && is_core(sel) && !c.host.value().is_zero() {
        return unit(fail!(NotPayable));
    }
    match sel {
        CREATE_TASK => unit(create_task(c, a)),
        REPORT_TASK_PARAMETERS_UPLOADED => {
            unit(a.b256(0).and_then(|t| c.report_parameters_uploaded_impl(t)))
        }
        SUBMIT_TASK_SCORE => unit(a.b256(0).and_then(|t| c.submit_score_impl(t, a.bytes(1)?))),
        REPORT_TASK_ERROR => unit(a.b256(0).and_then(|t| c.report_error_impl(t, a.u8(1)?))),
        VALIDATE_SINGLE_TASK => unit(
            a.b256(0)
                .and_then(|t| c.validate_single_impl(t, a.bytes(1)?, a.bytes(2)?)),
        ),
        VALIDATE_TASK_GROUP => unit(validate_group(c, a)),
        REPORT_TASK_RESULT_UPLOADED => {
            unit(a.b256(0).and_then(|t| c.report_result_uploaded_impl(t)))
        }
        ABORT_TASK => unit(a.b256(0).and_then(|t| c.abort_task_impl(t, a.u8(1)?))),
        VERIFY_VRF => verify_vrf(c, a).map_err(Vec::from),
        STYLUS_CONSTRUCTOR => {
            // The extension's address is the first argument; the extension checks and stores
            // the rest.
            let extension = a
                .address(0)
                .and_then(|e| c.set_extension_impl(e))
                .map_err(Vec::from)?;
            c.host.delegate_call(&extension, calldata)
        }
        _ => {
            let extension = c.extension();
            if extension.is_zero() {
                return unit(fail!(NotInitialized));
            }
            c.host.delegate_call(&extension, calldata)
        }
    }
}

/// Whether the core program runs the method itself (the rest is delegated).
const fn is_core(sel: u32) -> bool {
    matches!(
        sel,
        CREATE_TASK
            | REPORT_TASK_PARAMETERS_UPLOADED
            | SUBMIT_TASK_SCORE
            | REPORT_TASK_ERROR
            | VALIDATE_SINGLE_TASK
            | VALIDATE_TASK_GROUP
            | REPORT_TASK_RESULT_UPLOADED
            | ABORT_TASK
            | VERIFY_VRF
            | STYLUS_CONSTRUCTOR
    )
}

/// `verifyVRF`: the contract's own check of a proof (with or without hints), for applications
/// and tools: beta, or `InvalidVRFProof`.
fn verify_vrf<H: Host>(c: &TaskContract<H>, a: Args<'_>) -> Result<Vec<u8>> {
    let Ok(key) = <[u8; 64]>::try_from(a.bytes(0)?) else {
        return fail!(InvalidPublicKey);
    };
    match c.vrf_beta(&key, a.bytes(1)?, a.bytes(2)?) {
        Some(beta) => Ok(crate::returndata::single(beta.0)),
        None => fail!(InvalidVRFProof),
    }
}

fn create_task<H: Host>(c: &mut TaskContract<H>, a: Args<'_>) -> Result<()> {
    c.create_task_impl(NewTask {
        task_type: a.u8(0)?,
        commitment: a.b256(1)?,
        nonce: a.b256(2)?,
        model_ids: a.bytes_array(3)?,
        minimum_vram: a.u64(4)?,
        required_gpu: a.bytes(5)?,
        required_gpu_vram: a.u64(6)?,
        version: a.u32x3(7)?,
        size: a.u64(10)?,
        params_commitment: a.b256(11)?,
    })
}

fn validate_group<H: Host>(c: &mut TaskContract<H>, a: Args<'_>) -> Result<()> {
    c.validate_group_impl(
        [a.b256(0)?, a.b256(1)?, a.b256(2)?],
        a.b256(3)?,
        a.b256(4)?,
        a.bytes(5)?,
        a.bytes(6)?,
    )
}

/// Revert data of `UnknownSelector(selector)`.
pub(crate) fn unknown_selector(selector: [u8; 4]) -> Vec<u8> {
    let e: Result<()> = fail!(UnknownSelector {
        selector: alloy_primitives::FixedBytes::<4>(selector)
    });
    e.err().map(Vec::from).unwrap_or_default()
}

/// The settings of the constructor and `setConfig`, from head position `at` on.
pub(crate) fn settings(a: Args<'_>, at: usize) -> Result<Settings> {
    Ok(Settings {
        relay: a.address(at)?,
        treasury: a.address(at + 1)?,
        verifier: a.address(at + 2)?,
        min_stake: a.u256(at + 3)?,
        queue_timeout: a.u64(at + 4)?,
        upload_timeout: a.u64(at + 5)?,
        execution_timeout: a.u64(at + 6)?,
        validation_timeout: a.u64(at + 7)?,
        distance_threshold: a.u8(at + 8)?,
        sampling_rate: a.u32(at + 9)?,
        queue_limit: a.uint(at + 10, 2)? as u16,
        max_classes: a.u32(at + 11)?,
    })
}

impl<H: Host> TaskContract<H> {
    /// The extension program the other methods are delegated to (zero before construction).
    pub(crate) fn extension(&self) -> Address {
        self.get_global(global::EXTENSION).address(0)
    }

    /// The constructor's first step: records the extension program, once.
    pub(crate) fn set_extension_impl(&mut self, extension: Address) -> Result<Address> {
        if !self.extension().is_zero() {
            return fail!(AlreadyInitialized);
        }
        if extension.is_zero() {
            return fail!(InvalidConfig);
        }
        let mut w = Word::default();
        w.set_address(0, extension);
        self.put_global(global::EXTENSION, w);
        Ok(extension)
    }
}
