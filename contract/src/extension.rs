//! The extension program: the task contract's methods that tasks do not pay for on their way
//! (views, the owner's calls, the node registry), run by DELEGATECALL from the core program
//! (`router.rs`) on the core's storage. Called directly, it would only act on its own, empty
//! storage.

use alloc::vec::Vec;

use alloy_primitives::FixedBytes;

use crate::abi::{fail, Result};
use crate::calldata::Args;
use crate::events::uint_word;
use crate::returndata::single;
use crate::router::*;
use crate::{Host, TaskContract};

/// Runs one delegated call: `Ok` is the return data, `Err` the revert data.
pub fn call<H: Host>(host: H, calldata: &[u8]) -> core::result::Result<Vec<u8>, Vec<u8>> {
    dispatch(&mut TaskContract { host }, calldata).map_err(Vec::from)
}

fn dispatch<H: Host>(c: &mut TaskContract<H>, calldata: &[u8]) -> Result<Vec<u8>> {
    let Some((head, args)) = calldata.split_first_chunk::<4>() else {
        return fail!(UnknownSelector {
            selector: FixedBytes::<4>::ZERO
        });
    };
    let sel = u32::from_be_bytes(*head);
    let a = Args(args);
    if sel != JOIN && !c.host.value().is_zero() {
        return fail!(NotPayable);
    }
    let unit = |r: Result<()>| r.map(|()| Vec::new());
    let word = |w: [u8; 32]| Ok(single(w));
    let uint = |v: u128| Ok(single(uint_word(v)));
    match sel {
        // The core stored the extension's address (argument 0).
        STYLUS_CONSTRUCTOR => unit(c.construct_impl(a.address(1)?, &settings(a, 2)?)),
        SET_CONFIG => unit(c.set_config_impl(&settings(a, 0)?)),
        GET_CONFIG => Ok(c.config_info()),
        TRANSFER_OWNERSHIP => unit(c.transfer_ownership_impl(a.address(0)?)),
        ACCEPT_OWNERSHIP => unit(c.accept_ownership_impl()),

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

        GET_TASK => c.task_info(a.b256(0)?),
        TASK_COUNT => uint(c.stats().task_count as u128),
        QUEUE_SIZE => uint(c.stats().queued as u128),

        WITHDRAW => unit(c.withdraw_impl()),
        CREDIT_OF => word(c.credit(&a.address(0)?).to_be_bytes::<32>()),
        _ => fail!(UnknownSelector {
            selector: FixedBytes::<4>(*head)
        }),
    }
}
