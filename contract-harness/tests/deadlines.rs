//! PROTOCOL.md "Deadlines" through the ABI: each state's deadline counts from the moment the
//! task entered it; who may abort after it; what the node's QoS records; aborts in every state,
//! including of Validated and GroupValidated tasks and of a group's first member.

#[macro_use]
mod common;

use alloy_primitives::{Address, B256, U256};
use common::*;
use contract_harness::ITaskContract::{self, ITaskContractErrors as E};

const FEE: u128 = 2 * ETH;
const SCORE: [u8; 8] = [3; 8];

/// The deadline `getTask` reports, and the abort refused until just after it (by a stranger
/// always), then allowed for `by`.
fn abort_right_after_the_deadline<C: ProtocolChain>(
    net: &Net<C>,
    c: B256,
    by: Address,
    expected_deadline: u64,
) {
    let info = net.task(c);
    assert_eq!(
        info.times.deadline, expected_deadline,
        "status {}",
        info.status
    );
    let stranger = net.nodes[4].address;
    net.chain.advance(expected_deadline - net.chain.now());
    assert!(matches!(err(net.abort(by, c, 1)), E::DeadlineNotReached(_)));
    net.chain.advance(1);
    assert!(matches!(
        err(net.abort(stranger, c, 1)),
        E::NotTaskParticipant(_)
    ));
    let app_before = net.chain.balance(net.app.address);
    net.abort(by, c, 1).unwrap();
    let info = net.task(c);
    assert_eq!(info.status, status::END_ABORTED);
    assert_eq!(info.times.deadline, 0, "a final state has no deadline");
    assert_eq!(
        net.chain.balance(net.app.address),
        app_before + wei(FEE),
        "the fee goes back to the creator"
    );
}

/// Each state's deadline runs from when the task entered it, whatever time earlier states took.
fn every_deadline_counts_from_entering_its_state<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let t = net.create_sampled(false, FEE);
    let c = t.commitment;
    let started = net.task(c).times.stateTimestamp;
    assert_eq!(net.task(c).times.deadline, started + UPLOAD_TIMEOUT);
    net.chain.advance(UPLOAD_TIMEOUT - 1);
    net.upload_params(c).unwrap();
    let uploaded = net.chain.now();
    assert_eq!(net.task(c).times.stateTimestamp, uploaded);
    assert_eq!(net.task(c).times.deadline, uploaded + EXECUTION_TIMEOUT);
    net.chain.advance(EXECUTION_TIMEOUT - 7);
    net.submit(c, &SCORE).unwrap();
    let scored = net.chain.now();
    let info = net.task(c);
    assert_eq!(info.times.executionTime, EXECUTION_TIMEOUT - 7);
    assert_eq!(info.times.deadline, scored + VALIDATION_TIMEOUT);
    net.chain.advance(VALIDATION_TIMEOUT);
    net.validate_single(c).unwrap();
    let validated = net.chain.now();
    assert_eq!(net.task(c).times.deadline, validated + UPLOAD_TIMEOUT);
    net.upload_result(c).unwrap();
    let info = net.task(c);
    assert_eq!((info.status, info.times.deadline), (status::END_SUCCESS, 0));
    assert_eq!(
        (info.times.createTimestamp, info.times.startTimestamp),
        (started, started)
    );
    assert_eq!(net.node_info(node).recentTaskScores, vec![10]);
}

/// Started: the creator has not uploaded the parameters; either party may end the task, the
/// node is not blamed.
fn aborts_from_started<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    for by in [net.app.address, node] {
        let t = net.create(FEE);
        let deadline = net.task(t.commitment).times.stateTimestamp + UPLOAD_TIMEOUT;
        abort_right_after_the_deadline(&net, t.commitment, by, deadline);
        assert!(net.node_info(node).recentTaskScores.is_empty());
    }
}

/// ParametersUploaded: the node did not score in time; either party may end it and the node's
/// QoS records a timeout.
fn aborts_from_parameters_uploaded<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let t = net.create(FEE);
    net.upload_params(t.commitment).unwrap();
    let deadline = net.task(t.commitment).times.stateTimestamp + EXECUTION_TIMEOUT;
    abort_right_after_the_deadline(&net, t.commitment, node, deadline);
    assert_eq!(net.node_info(node).recentTaskScores, vec![0]);
}

/// ScoreReady and ErrorReported: the creator did not validate in time; the node may walk away
/// (as may the creator), its QoS unchanged.
fn node_aborts_from_score_ready_and_error_reported<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    for error in [false, true] {
        let t = net.create(FEE);
        net.upload_params(t.commitment).unwrap();
        if error {
            net.report_error(t.commitment).unwrap();
        } else {
            net.submit(t.commitment, &SCORE).unwrap();
        }
        let deadline = net.task(t.commitment).times.stateTimestamp + VALIDATION_TIMEOUT;
        abort_right_after_the_deadline(&net, t.commitment, node, deadline);
        let n = net.node_info(node);
        assert_eq!(n.status, node_status::AVAILABLE);
        assert!(n.recentTaskScores.is_empty(), "error report: {error}");
    }
}

/// Validated: the node's result never reached the relay; the creator gets the fee back, the node
/// a timeout.
fn creator_aborts_a_validated_task<C: ProtocolChain>(mut net: Net<C>) {
    let (t, node) = net.validated_single_task(FEE);
    let deadline = net.task(t.commitment).times.stateTimestamp + UPLOAD_TIMEOUT;
    abort_right_after_the_deadline(&net, t.commitment, net.app.address, deadline);
    assert_eq!(net.node_info(node).recentTaskScores, vec![0]);
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
}

/// GroupValidated: same, after the agreeing siblings were refunded and ranked.
fn creator_aborts_a_group_validated_task<C: ProtocolChain>(mut net: Net<C>) {
    for i in 0..3 {
        net.join(i);
    }
    let ts = net.create_group(FEE);
    for t in &ts {
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &SCORE).unwrap();
    }
    net.validate_group([&ts[0], &ts[1], &ts[2]]).unwrap();
    let gv = ts[0].commitment;
    assert_eq!(net.status(gv), status::GROUP_VALIDATED);
    let node = net.selected(gv);
    let deadline = net.task(gv).times.stateTimestamp + UPLOAD_TIMEOUT;
    abort_right_after_the_deadline(&net, gv, net.app.address, deadline);
    assert_eq!(net.node_info(node).recentTaskScores, vec![0]);
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
}

/// A group whose first (sampled) member was aborted is still validated: the two others agree
/// and are paid; the aborted member stays aborted and is neither paid nor blamed.
fn a_group_with_its_first_member_aborted<C: ProtocolChain>(mut net: Net<C>) {
    for i in 0..3 {
        net.join(i);
    }
    let ts = net.create_group(FEE);
    let first_node = net.selected(ts[0].commitment);
    net.upload_params(ts[0].commitment).unwrap();
    net.chain.advance(EXECUTION_TIMEOUT + 1);
    net.abort(net.app.address, ts[0].commitment, 1).unwrap();
    for t in &ts[1..] {
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &SCORE).unwrap();
    }
    net.validate_group([&ts[0], &ts[1], &ts[2]]).unwrap();
    assert_eq!(net.status(ts[0].commitment), status::END_ABORTED);
    assert_eq!(net.status(ts[1].commitment), status::GROUP_VALIDATED);
    assert_eq!(net.status(ts[2].commitment), status::END_GROUP_REFUND);
    assert_eq!(net.node_info(first_node).stake, wei(MIN_STAKE));
    let info = net.task(ts[1].commitment);
    assert!(!info.paymentAddresses.contains(&first_node));
    net.upload_result(ts[1].commitment).unwrap();
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
    let credit = net
        .chain
        .view(ITaskContract::creditOfCall {
            account: first_node,
        })
        .unwrap();
    assert_eq!(credit, U256::ZERO);
}

on_both_hosts!(
    every_deadline_counts_from_entering_its_state,
    aborts_from_started,
    aborts_from_parameters_uploaded,
    node_aborts_from_score_ready_and_error_reported,
    creator_aborts_a_validated_task,
    creator_aborts_a_group_validated_task,
    a_group_with_its_first_member_aborted,
);
