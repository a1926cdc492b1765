//! Random sequences of protocol calls (most of them refused, as a careless or hostile caller
//! would send them), with invariants checked after every call, on any [`ProtocolChain`]:
//! - ether is never stuck: the contract's balance is exactly the stakes, plus the fees of tasks
//!   not yet final, plus the credits of refused payments;
//! - a node's current task is a task selected for that node and not final, and a busy node has
//!   one; an available or paused node has none;
//! - a refused call changes neither the contract's storage nor its balance.

use alloy_primitives::{Address, B256, U256};
use proptest::prelude::*;

use crate::net::{node_status, status, wei, Net, Task, ETH, TIMEOUT};
use crate::{ITaskContract, ProtocolChain};

#[derive(Clone, Debug)]
pub enum Op {
    Join(usize),
    Create { fee: u8, size: u64 },
    Params(usize),
    Score(usize, u8),
    Error(usize),
    ValidateSingle(usize),
    Abort(usize, bool),
    UploadResult(usize),
    Advance,
    Pause(usize),
    Resume(usize),
    Quit(usize),
    Withdraw(usize),
    RejectPayments(usize, bool),
}

pub fn op() -> impl Strategy<Value = Op> {
    let node = 0..6usize;
    let task = 0..8usize;
    prop_oneof![
        3 => node.clone().prop_map(Op::Join),
        3 => (1..5u8, 1..3u64).prop_map(|(fee, size)| Op::Create { fee, size }),
        3 => task.clone().prop_map(Op::Params),
        3 => (task.clone(), 0..3u8).prop_map(|(t, s)| Op::Score(t, s)),
        1 => task.clone().prop_map(Op::Error),
        3 => task.clone().prop_map(Op::ValidateSingle),
        1 => (task.clone(), any::<bool>()).prop_map(|(t, by_node)| Op::Abort(t, by_node)),
        2 => task.prop_map(Op::UploadResult),
        1 => Just(Op::Advance),
        1 => node.clone().prop_map(Op::Pause),
        1 => node.clone().prop_map(Op::Resume),
        1 => node.clone().prop_map(Op::Quit),
        1 => (0..7usize).prop_map(Op::Withdraw),
        1 => (0..7usize, any::<bool>()).prop_map(|(a, r)| Op::RejectPayments(a, r)),
    ]
}

/// The accounts that may hold credits: the nodes and the application (index 6).
fn account<C: ProtocolChain>(net: &Net<C>, i: usize) -> Address {
    net.nodes.get(i).map_or(net.app.address, |k| k.address)
}

/// The task's node, or for a queued task (no node yet) its creator: senders must be accounts
/// with keys on chains that check signatures.
fn node_or_creator<C: ProtocolChain>(net: &Net<C>, task: B256) -> Address {
    match net.selected(task) {
        Address::ZERO => net.app.address,
        node => node,
    }
}

fn is_final(s: u8) -> bool {
    s >= status::END_INVALIDATED
}

/// The invariants, after every call.
pub fn check<C: ProtocolChain>(net: &Net<C>, tasks: &[Task]) -> Result<(), TestCaseError> {
    let stakes = net.stakes();
    let escrow: U256 = tasks
        .iter()
        .map(|t| net.task(t.commitment))
        .filter(|i| !is_final(i.status))
        .map(|i| i.taskFee)
        .sum();
    let mut credits = U256::ZERO;
    for a in net
        .nodes
        .iter()
        .map(|k| k.address)
        .chain([net.app.address, net.treasury])
    {
        credits += net
            .chain
            .view(ITaskContract::creditOfCall { account: a })
            .expect("creditOf");
    }
    prop_assert_eq!(
        net.chain.balance(net.chain.contract()),
        stakes + escrow + credits,
        "contract balance != stakes {} + escrow {} + credits {}",
        stakes,
        escrow,
        credits
    );
    for k in &net.nodes {
        let n = net.node_info(k.address);
        if n.currentTask != B256::ZERO {
            let t = net.task(n.currentTask);
            prop_assert_eq!(t.selectedNode, k.address);
            prop_assert!(!is_final(t.status), "a node's current task is final");
        }
        if n.status == node_status::BUSY {
            prop_assert!(n.currentTask != B256::ZERO, "a busy node without a task");
        }
        if matches!(
            n.status,
            node_status::AVAILABLE | node_status::PAUSED | node_status::QUIT
        ) {
            prop_assert_eq!(n.currentTask, B256::ZERO);
        }
    }
    Ok(())
}

/// Applies `op`; a refused call must leave the contract's storage and balance as they were.
pub fn apply<C: ProtocolChain>(
    net: &mut Net<C>,
    tasks: &mut Vec<Task>,
    op: &Op,
) -> Result<(), TestCaseError> {
    let task = |k: usize| tasks.get(k).copied();
    let before = net.chain.contract_state();
    // Refusals are part of the test: what matters is that they change nothing.
    let result = match op {
        Op::Join(i) => {
            let node = &net.nodes[*i];
            net.join_with(node, "RTX 4090", 24, [1, 0, 0], &["sd15"])
        }
        Op::Create { fee, size } => {
            let guid = B256::repeat_byte(tasks.len() as u8 + 1);
            let t = net.new_task(guid);
            let r = net.chain.send(
                net.app.address,
                wei(*fee as u128 * ETH),
                net.create_call(&t, 0, "", *size),
            );
            if r.is_ok() {
                tasks.push(t);
            }
            r.map(|_| ())
        }
        Op::Params(k) => match task(*k) {
            Some(t) => net.upload_params(t.commitment),
            None => Ok(()),
        },
        Op::Score(k, which) => match task(*k) {
            Some(t) => {
                let call = ITaskContract::submitTaskScoreCall {
                    task_id_commitment: t.commitment,
                    task_score: vec![*which; 8].into(),
                };
                net.call_as(node_or_creator(net, t.commitment), call)
            }
            None => Ok(()),
        },
        Op::Error(k) => match task(*k) {
            Some(t) => {
                let call = ITaskContract::reportTaskErrorCall {
                    task_id_commitment: t.commitment,
                    error: 1,
                };
                net.call_as(node_or_creator(net, t.commitment), call)
            }
            None => Ok(()),
        },
        Op::ValidateSingle(k) => match task(*k) {
            Some(t) => net.validate_single(t.commitment),
            None => Ok(()),
        },
        Op::Abort(k, by_node) => match task(*k) {
            Some(t) => {
                let from = if *by_node {
                    node_or_creator(net, t.commitment)
                } else {
                    net.app.address
                };
                net.abort(from, t.commitment, 1)
            }
            None => Ok(()),
        },
        Op::UploadResult(k) => match task(*k) {
            Some(t) => net.upload_result(t.commitment),
            None => Ok(()),
        },
        Op::Advance => {
            net.chain.advance(TIMEOUT + 1);
            Ok(())
        }
        Op::Pause(i) => net.call_as(net.nodes[*i].address, ITaskContract::pauseCall {}),
        Op::Resume(i) => net.call_as(net.nodes[*i].address, ITaskContract::resumeCall {}),
        Op::Quit(i) => net.call_as(net.nodes[*i].address, ITaskContract::quitCall {}),
        Op::Withdraw(a) => net.call_as(account(net, *a), ITaskContract::withdrawCall {}),
        Op::RejectPayments(a, reject) => {
            net.chain.reject_payments(account(net, *a), *reject);
            Ok(())
        }
    };
    if let Err(revert) = result {
        prop_assert_eq!(
            net.chain.contract_state(),
            before,
            "{:?} was refused ({}) but changed the contract",
            op,
            revert
                .error()
                .map_or_else(|| format!("{:x?}", revert.data), |e| format!("{e:?}"))
        );
    }
    Ok(())
}

/// Runs `ops` on `net`, checking the invariants after each.
pub fn run<C: ProtocolChain>(mut net: Net<C>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut tasks = Vec::new();
    for op in ops {
        apply(&mut net, &mut tasks, op)?;
        check(&net, &tasks)?;
    }
    Ok(())
}
