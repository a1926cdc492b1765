//! Method dispatch: the 4-byte selector picks the method, `calldata.rs` decodes its arguments
//! and the result is ABI-encoded here. The signatures below are the contract's ABI; the tests
//! call every method through `abi/ITaskContract.sol` (exported from `interface.rs`), so a
//! signature that drifts from the interface fails them.

use alloc::vec::Vec;

use crate::abi::{fail, Result};
use crate::calldata::Args;
use crate::config::Params;
use crate::events::uint_word;
use crate::lifecycle::NewTask;
use crate::returndata::{single, Tuple};
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
        $(const $name: u32 = selector($sig);)*
    };
}

selectors! {
    INITIALIZE = "initialize(address,address,address,address,uint256,uint64,uint8,uint32)";
    SET_CONFIG = "setConfig(address,address,address,address,uint256,uint64,uint8,uint32)";
    GET_CONFIG = "getConfig()";
    JOIN = "join(string,uint64,uint32[3],bytes,string[])";
    PAUSE = "pause()";
    RESUME = "resume()";
    QUIT = "quit()";
    REPORT_MODEL_DOWNLOADED = "reportModelDownloaded(string)";
    GET_NODE_INFO = "getNodeInfo(address)";
    GET_NODE_TASK = "getNodeTask(address)";
    NODE_COUNT = "nodeCount()";
    CREATE_TASK = "createTask(uint8,bytes32,bytes32,string[],uint64,string,uint64,uint32[3],uint64)";
    REPORT_TASK_PARAMETERS_UPLOADED = "reportTaskParametersUploaded(bytes32)";
    SUBMIT_TASK_SCORE = "submitTaskScore(bytes32,bytes)";
    REPORT_TASK_ERROR = "reportTaskError(bytes32,uint8)";
    VALIDATE_SINGLE_TASK = "validateSingleTask(bytes32,bytes,bytes)";
    VALIDATE_TASK_GROUP = "validateTaskGroup(bytes32,bytes32,bytes32,bytes32,bytes,bytes)";
    REPORT_TASK_RESULT_UPLOADED = "reportTaskResultUploaded(bytes32)";
    ABORT_TASK = "abortTask(bytes32,uint8)";
    GET_TASK = "getTask(bytes32)";
    TASK_COUNT = "taskCount()";
    QUEUE_SIZE = "queueSize()";
    WITHDRAW = "withdraw()";
    CREDIT_OF = "creditOf(address)";
}

/// Methods that accept ether; every other method reverts with `NotPayable` when sent value.
const fn is_payable(selector: u32) -> bool {
    matches!(selector, JOIN | CREATE_TASK)
}

/// Runs one call: `Ok` is the return data, `Err` the revert data.
pub fn dispatch<H: Host>(
    c: &mut TaskContract<H>,
    calldata: &[u8],
) -> core::result::Result<Vec<u8>, Vec<u8>> {
    route(c, calldata).map_err(Vec::from)
}

fn route<H: Host>(c: &mut TaskContract<H>, calldata: &[u8]) -> Result<Vec<u8>> {
    let Some((head, args)) = calldata.split_first_chunk::<4>() else {
        return fail!(UnknownSelector {
            selector: alloy_primitives::FixedBytes::<4>::ZERO
        });
    };
    let sel = u32::from_be_bytes(*head);
    let a = Args(args);
    if !is_payable(sel) && !c.host.value().is_zero() {
        return fail!(NotPayable);
    }
    let unit = |r: Result<()>| r.map(|()| Vec::new());
    let word = |w: [u8; 32]| Ok(single(w));
    let uint = |v: u128| Ok(single(uint_word(v)));
    match sel {
        INITIALIZE => unit(c.initialize_impl(&params(a)?)),
        SET_CONFIG => unit(c.set_config_impl(&params(a)?)),
        GET_CONFIG => {
            let p = c.params();
            let mut t = Tuple::new(8);
            t.address(&p.owner)
                .address(&p.relay)
                .address(&p.treasury)
                .address(&p.verifier)
                .word(&p.min_stake.to_be_bytes())
                .uint(p.task_timeout as u128)
                .uint(p.distance_threshold as u128)
                .uint(p.queue_limit as u128);
            Ok(t.finish())
        }

        JOIN => unit(c.join_impl(
            a.bytes(0)?,
            a.u64(1)?,
            a.u32x3(2)?,
            a.bytes(5)?,
            &a.bytes_array(6)?,
        )),
        PAUSE => unit(c.pause_impl()),
        RESUME => unit(c.resume_impl()),
        QUIT => unit(c.quit_impl()),
        REPORT_MODEL_DOWNLOADED => unit(c.report_model_downloaded_impl(a.bytes(0)?)),
        GET_NODE_INFO => Ok(c.node_info(a.address(0)?)),
        GET_NODE_TASK => word(c.node_task(&a.address(0)?).0),
        NODE_COUNT => uint(c.stats().node_count as u128),

        CREATE_TASK => unit(c.create_task_impl(NewTask {
            task_type: a.u8(0)?,
            commitment: a.b256(1)?,
            nonce: a.b256(2)?,
            model_ids: a.bytes_array(3)?,
            minimum_vram: a.u64(4)?,
            required_gpu: a.bytes(5)?,
            required_gpu_vram: a.u64(6)?,
            version: a.u32x3(7)?,
            size: a.u64(10)?,
        })),
        REPORT_TASK_PARAMETERS_UPLOADED => unit(c.report_parameters_uploaded_impl(a.b256(0)?)),
        SUBMIT_TASK_SCORE => unit(c.submit_score_impl(a.b256(0)?, a.bytes(1)?)),
        REPORT_TASK_ERROR => unit(c.report_error_impl(a.b256(0)?, a.u8(1)?)),
        VALIDATE_SINGLE_TASK => unit(c.validate_single_impl(a.b256(0)?, a.bytes(1)?, a.bytes(2)?)),
        VALIDATE_TASK_GROUP => unit(c.validate_group_impl(
            [a.b256(0)?, a.b256(1)?, a.b256(2)?],
            a.b256(3)?,
            a.bytes(4)?,
            a.bytes(5)?,
        )),
        REPORT_TASK_RESULT_UPLOADED => unit(c.report_result_uploaded_impl(a.b256(0)?)),
        ABORT_TASK => unit(c.abort_task_impl(a.b256(0)?, a.u8(1)?)),
        GET_TASK => c.task_info(a.b256(0)?),
        TASK_COUNT => uint(c.stats().task_count as u128),
        QUEUE_SIZE => uint(c.stats().queued as u128),

        WITHDRAW => unit(c.withdraw_impl()),
        CREDIT_OF => word(c.credit(&a.address(0)?).to_be_bytes::<32>()),
        _ => fail!(UnknownSelector {
            selector: alloy_primitives::FixedBytes::<4>(*head)
        }),
    }
}

/// The arguments of `initialize` and `setConfig`.
fn params(a: Args<'_>) -> Result<Params> {
    Ok(Params {
        owner: a.address(0)?,
        relay: a.address(1)?,
        treasury: a.address(2)?,
        verifier: a.address(3)?,
        min_stake: a.u256(4)?,
        task_timeout: a.u64(5)?,
        distance_threshold: a.u8(6)?,
        queue_limit: a.u32(7)?,
    })
}
