//! Through the contract's ABI: an error report validated alone, the checks of validateTaskGroup,
//! QoS kick-out, and model locality with DownloadModel hints.

#[macro_use]
mod common;

use alloy_primitives::{keccak256, B256, U256};
use common::*;
use contract_harness::ITaskContract::{
    self, DownloadModel, ITaskContractErrors as E, NodeKickedOut, NodeModelAdded,
};

const FEE: u128 = 3 * ETH;

fn an_error_report_validated_alone_ends_aborted_with_the_fee_refunded<C: ProtocolChain>(
    mut net: Net<C>,
) {
    net.join(0);
    let t = net.create_sampled(false, FEE);
    let node = net.selected(t.commitment);
    net.upload_params(t.commitment).unwrap();
    net.report_error(t.commitment).unwrap();
    assert_eq!(net.status(t.commitment), status::ERROR_REPORTED);
    let app_before = net.chain.balance(net.app.address);
    let node_before = net.chain.balance(node);

    net.validate_single(t.commitment).unwrap();
    let info = net.task(t.commitment);
    assert_eq!(info.status, status::END_ABORTED);
    assert_eq!(info.abortReason, 3, "IncorrectResult");
    assert_eq!(
        net.chain.balance(net.app.address),
        app_before + wei(FEE),
        "the fee goes back to the creator"
    );
    assert_eq!(net.chain.balance(node), node_before, "the node is not paid");
    let n = net.node_info(node);
    assert_eq!(n.status, node_status::AVAILABLE, "the node is free again");
    assert_eq!(n.stake, wei(MIN_STAKE), "and not blamed");
    assert!(
        n.recentTaskScores.is_empty(),
        "nor scored: its QoS is unchanged"
    );
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
}

fn validate_task_group_checks_its_members<C: ProtocolChain>(mut net: Net<C>) {
    for i in 0..3 {
        net.join(i);
    }
    let [t1, t2, t3] = net.create_group(FEE);
    for t in [&t1, &t2, &t3] {
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &[0u8; 8]).unwrap();
    }
    // A sampled task cannot be validated alone.
    assert!(matches!(
        err(net.validate_single(t1.commitment)),
        E::TaskSelectedForValidation(_)
    ));
    // Repeated commitments.
    assert!(matches!(
        err(net.validate_group([&t1, &t1, &t3])),
        E::InvalidTaskGroup(_)
    ));
    // A GUID that is not the tasks' own.
    let wrong = Task {
        guid: B256::repeat_byte(0x77),
        ..t1
    };
    assert!(matches!(
        err(net.validate_group([&wrong, &t2, &t3])),
        E::InvalidTaskGUID(_)
    ));
    // Only the creator validates.
    let by_node = net.call_as(net.nodes[0].address, net.group_call([&t1, &t2, &t3], &t1));
    assert!(matches!(err(by_node), E::NotTaskCreator(_)));
    // Members in any order: the contract orders them by sequence (the proof is the first task's).
    net.call_as(net.app.address, net.group_call([&t3, &t1, &t2], &t1))
        .expect("a valid group in another order");
    assert_eq!(net.status(t1.commitment), status::GROUP_VALIDATED);
    assert_eq!(net.status(t2.commitment), status::END_GROUP_REFUND);
    assert_eq!(net.status(t3.commitment), status::END_GROUP_REFUND);
}

fn a_group_whose_first_task_was_not_sampled_is_refused<C: ProtocolChain>(mut net: Net<C>) {
    for i in 0..3 {
        net.join(i);
    }
    let first = net.create_sampled(false, FEE);
    let siblings = [net.new_task(first.guid), net.new_task(first.guid)];
    for t in &siblings {
        net.create_task(t, FEE).unwrap();
    }
    let ts = [first, siblings[0], siblings[1]];
    for t in &ts {
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &[0u8; 8]).unwrap();
    }
    assert!(matches!(
        err(net.validate_group([&ts[0], &ts[1], &ts[2]])),
        E::TaskNotSelectedForValidation(_)
    ));
    // Validated alone instead, it succeeds.
    net.validate_single(first.commitment).unwrap();
    assert_eq!(net.status(first.commitment), status::VALIDATED);
}

/// Runs one task on the only node and lets it time out after the parameters were uploaded.
fn time_out_once<C: ProtocolChain>(net: &mut Net<C>) {
    let t = net.create(FEE);
    net.upload_params(t.commitment).unwrap();
    net.chain.advance(EXECUTION_TIMEOUT + 1);
    net.abort(net.app.address, t.commitment, 1).unwrap();
}

fn a_node_that_keeps_timing_out_is_kicked_out_with_its_stake<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let before = net.chain.balance(node);

    time_out_once(&mut net);
    assert!(net.chain.events::<NodeKickedOut>().is_empty());
    let info = net.node_info(node);
    assert_eq!(info.status, node_status::AVAILABLE);
    assert_eq!(info.recentTaskScores, vec![0]);

    // A second timeout among its last three tasks: out, with the stake returned.
    time_out_once(&mut net);
    let kicked = net.chain.events::<NodeKickedOut>();
    assert_eq!(kicked.len(), 1);
    assert_eq!(kicked[0].nodeAddress, node);
    let info = net.node_info(node);
    assert_eq!(info.status, node_status::QUIT);
    assert_eq!(info.stake, U256::ZERO);
    assert_eq!(net.chain.balance(node), before + wei(MIN_STAKE));
    assert_eq!(net.chain.balance(net.chain.contract()), U256::ZERO);
    // With no node left, nobody could run the next task: it is refused.
    let t = net.new_task(B256::repeat_byte(0x42));
    assert!(matches!(
        err(net.create_task(&t, FEE)),
        E::NoNodeCanRunTask(_)
    ));
}

fn dispatch_prefers_model_holders_and_hints_downloads<C: ProtocolChain>(mut net: Net<C>) {
    // Node 0 holds "sd15", nodes 1 to 4 hold another model.
    net.join(0);
    for i in 1..5 {
        net.join_with(&net.nodes[i], "RTX 4090", 24, [1, 0, 0], &["other"])
            .unwrap();
    }
    let t = net.create(FEE);
    assert_eq!(
        net.selected(t.commitment),
        net.nodes[0].address,
        "the only holder gets the task"
    );
    // One holder is fewer than three: nodes lacking the model are told to download it, each once,
    // never the node that got the task.
    let hints = net.chain.events::<DownloadModel>();
    assert!(!hints.is_empty());
    let mut told: Vec<_> = hints.iter().map(|h| h.nodeAddress).collect();
    told.sort();
    told.dedup();
    assert_eq!(told.len(), hints.len(), "a node is told once");
    for h in &hints {
        assert_ne!(h.nodeAddress, net.nodes[0].address);
        assert!(net.nodes[1..5].iter().any(|k| k.address == h.nodeAddress));
        assert_eq!(h.modelID, "sd15");
        assert_eq!(h.taskType, 0);
    }

    // Node 2 reports the download; with node 0 busy, the next sd15 task goes to node 2, the one
    // holder left, whatever the draw.
    net.call_as(
        net.nodes[2].address,
        ITaskContract::reportModelDownloadedCall {
            model_id: "sd15".into(),
        },
    )
    .unwrap();
    let added = net.chain.events::<NodeModelAdded>();
    assert_eq!(added.len(), 1);
    assert_eq!(
        net.node_info(net.nodes[2].address).localModelIDHashes,
        vec![keccak256("other"), keccak256("sd15")]
    );
    let t = net.create(FEE);
    assert_eq!(net.selected(t.commitment), net.nodes[2].address);
}

fn the_remaining_reverts_name_their_errors<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;

    // Unknown task.
    assert!(matches!(
        err(net.upload_params(B256::repeat_byte(9))),
        E::TaskNotFound(_)
    ));
    // A zero commitment.
    let zero = Task {
        commitment: B256::ZERO,
        ..net.new_task(B256::repeat_byte(1))
    };
    assert!(matches!(
        err(net.create_task(&zero, FEE)),
        E::InvalidTaskCommitment(_)
    ));
    // More models than a task may name (8).
    let t = net.new_task(B256::repeat_byte(2));
    let mut call = net.create_call(&t, 0, "", 1);
    call.model_ids = (0..9).map(|i| format!("m{i}")).collect();
    assert!(matches!(
        err(net.chain.send(net.app.address, wei(FEE), call)),
        E::TooManyModels(_)
    ));
    // More models than a node may hold (8), at join and by reports.
    let nine: Vec<String> = (0..9).map(|i| format!("m{i}")).collect();
    let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
    assert!(matches!(
        err(net.join_with(&net.nodes[1], "RTX 4090", 24, [1, 0, 0], &nine)),
        E::TooManyModels(_)
    ));
    net.join_with(&net.nodes[1], "RTX 4090", 24, [1, 0, 0], &nine[..8])
        .unwrap();
    let report = |m: &str| {
        net.call_as(
            net.nodes[1].address,
            ITaskContract::reportModelDownloadedCall { model_id: m.into() },
        )
    };
    report("m0").expect("a model already held is accepted and changes nothing");
    assert!(matches!(err(report("m8")), E::TooManyModels(_)));

    // Node status: resuming an available node, pausing a paused one.
    assert!(matches!(
        err(net.call_as(node, ITaskContract::resumeCall {})),
        E::IllegalNodeStatus(_)
    ));
    net.call_as(node, ITaskContract::pauseCall {}).unwrap();
    assert!(matches!(
        err(net.call_as(node, ITaskContract::pauseCall {})),
        E::IllegalNodeStatus(_)
    ));
    net.call_as(node, ITaskContract::resumeCall {}).unwrap();
    net.call_as(net.nodes[1].address, ITaskContract::pauseCall {})
        .unwrap();

    // An error code other than "parameters validation failed", an unknown abort reason.
    let t = net.create_sampled(false, FEE);
    assert_eq!(net.selected(t.commitment), node);
    net.upload_params(t.commitment).unwrap();
    let bad_error = net.call_as(
        node,
        ITaskContract::reportTaskErrorCall {
            task_id_commitment: t.commitment,
            error: 2,
        },
    );
    assert!(matches!(err(bad_error), E::InvalidTaskError(_)));
    for reason in [0, 5, 9] {
        assert!(matches!(
            err(net.abort(net.app.address, t.commitment, reason)),
            E::InvalidAbortReason(_)
        ));
    }

    // A tampered VRF proof.
    net.submit(t.commitment, &[0u8; 8]).unwrap();
    let (mut proof, _) = net
        .app
        .prove(net.task(t.commitment).samplingSeed.as_slice());
    proof[40] ^= 1;
    let tampered = net.call_as(
        net.app.address,
        ITaskContract::validateSingleTaskCall {
            task_id_commitment: t.commitment,
            vrf_proof: proof.into(),
            public_key: net.app.public_key.to_vec().into(),
        },
    );
    assert!(matches!(err(tampered), E::InvalidVRFProof(_)));
    net.validate_single(t.commitment).unwrap();
}

on_both_hosts!(
    an_error_report_validated_alone_ends_aborted_with_the_fee_refunded,
    validate_task_group_checks_its_members,
    a_group_whose_first_task_was_not_sampled_is_refused,
    a_node_that_keeps_timing_out_is_kicked_out_with_its_stake,
    dispatch_prefers_model_holders_and_hints_downloads,
    the_remaining_reverts_name_their_errors,
);
