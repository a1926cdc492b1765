//! The task contract end to end through its ABI: configuration, the node registry, dispatch and
//! the queue, the task state machine with its callers and reverts, validation and settlement.

#[macro_use]
mod common;

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::SolCall;
use common::*;
use contract_harness::ITaskContract::{self, ITaskContractErrors as E};

fn the_constructor_runs_once_and_only_the_owner_reconfigures<C: ProtocolChain>(net: Net<C>) {
    // Nobody can run the constructor again, not even the owner.
    for from in [net.app.address, net.owner.address] {
        let again = net.constructor_calldata(&net.settings());
        let r = net.chain.send_raw(from, U256::ZERO, &again);
        assert!(matches!(
            r.unwrap_err().error(),
            Some(E::AlreadyInitialized(_))
        ));
    }
    let cfg = net.config();
    assert_eq!(
        (
            cfg.owner,
            cfg.pendingOwner,
            cfg.relay,
            cfg.treasury,
            cfg.vrfVerifier
        ),
        (
            net.owner.address,
            Address::ZERO,
            net.relay.address,
            net.treasury,
            net.chain.verifier()
        )
    );
    assert_eq!(
        (
            cfg.minStake,
            cfg.queueTimeout,
            cfg.uploadTimeout,
            cfg.executionTimeout,
            cfg.validationTimeout
        ),
        (
            wei(MIN_STAKE),
            QUEUE_TIMEOUT,
            UPLOAD_TIMEOUT,
            EXECUTION_TIMEOUT,
            VALIDATION_TIMEOUT
        )
    );
    assert_eq!(
        (
            cfg.distanceThreshold,
            cfg.samplingRate,
            cfg.queueSizeLimit,
            cfg.maxGPUClasses
        ),
        (24, SAMPLING_RATE, QUEUE_LIMIT, MAX_GPU_CLASSES)
    );

    let mut set = net.settings();
    set.min_stake = wei(2 * MIN_STAKE);
    set.sampling_rate = 100;
    set.queue_size_limit = 2;
    assert!(matches!(
        err(net.set_config(net.app.address, &set)),
        E::NotOwner(_)
    ));
    let invalid: [fn(&mut protocol::contract_settings::ContractSettings); 8] = [
        |s| s.distance_threshold = 65,
        |s| s.distance_threshold = 0,
        |s| s.sampling_rate = 0,
        |s| s.upload_timeout = 0,
        // Validation must leave time for a group's two further tasks.
        |s| s.validation_timeout = 2 * (s.execution_timeout + s.upload_timeout) - 1,
        |s| s.max_gpu_classes = 0,
        |s| s.relay = Address::ZERO,
        |s| s.vrf_verifier = Address::ZERO,
    ];
    for change in invalid {
        let mut bad = set.clone();
        change(&mut bad);
        assert!(
            matches!(
                err(net.set_config(net.owner.address, &bad)),
                E::InvalidConfig(_)
            ),
            "{bad:?}"
        );
    }
    let mut bad = set.clone();
    bad.min_stake = U256::MAX;
    assert!(matches!(
        err(net.set_config(net.owner.address, &bad)),
        E::ValueTooLarge(_)
    ));
    let mut bad = set.clone();
    bad.queue_timeout = u64::from(u32::MAX) + 1;
    assert!(matches!(
        err(net.set_config(net.owner.address, &bad)),
        E::ValueTooLarge(_)
    ));
    net.set_config(net.owner.address, &set).unwrap();
    let cfg = net.config();
    assert_eq!(
        (
            cfg.minStake,
            cfg.samplingRate,
            cfg.queueSizeLimit,
            cfg.owner
        ),
        (wei(2 * MIN_STAKE), 100, 2, net.owner.address)
    );
}

/// The owner names a successor, who must accept; until then the old owner rules, and a mistyped
/// address can be replaced.
fn ownership_moves_in_two_steps<C: ProtocolChain>(net: Net<C>) {
    let new_owner = net.app.address;
    let transfer = |from: Address, to: Address| {
        net.call_as(from, ITaskContract::transferOwnershipCall { new_owner: to })
    };
    let accept = |from: Address| net.call_as(from, ITaskContract::acceptOwnershipCall {});
    assert!(matches!(
        err(transfer(new_owner, new_owner)),
        E::NotOwner(_)
    ));
    assert!(matches!(err(accept(new_owner)), E::NotPendingOwner(_)));
    // A typo first: the owner corrects it before anyone accepts.
    transfer(net.owner.address, net.nodes[0].address).unwrap();
    transfer(net.owner.address, new_owner).unwrap();
    let started = net
        .chain
        .events::<ITaskContract::OwnershipTransferStarted>();
    assert_eq!(
        (started[0].previousOwner, started[0].newOwner),
        (net.owner.address, new_owner)
    );
    assert_eq!(net.config().pendingOwner, new_owner);
    assert!(matches!(
        err(accept(net.nodes[0].address)),
        E::NotPendingOwner(_)
    ));
    // Still the old owner's contract.
    net.set_config(net.owner.address, &net.settings()).unwrap();
    assert!(matches!(
        err(net.set_config(new_owner, &net.settings())),
        E::NotOwner(_)
    ));
    accept(new_owner).unwrap();
    let done = net.chain.events::<ITaskContract::OwnershipTransferred>();
    assert_eq!(
        (done[0].previousOwner, done[0].newOwner),
        (net.owner.address, new_owner)
    );
    let cfg = net.config();
    assert_eq!((cfg.owner, cfg.pendingOwner), (new_owner, Address::ZERO));
    assert!(matches!(
        err(net.set_config(net.owner.address, &net.settings())),
        E::NotOwner(_)
    ));
    net.set_config(new_owner, &net.settings()).unwrap();
    assert!(matches!(err(accept(new_owner)), E::NotPendingOwner(_)));
}

#[test]
fn calls_before_construction_revert_on_both_hosts() {
    calls_before_construction_revert(contract_harness::Chain::new());
    calls_before_construction_revert(contract_harness::TestVmChain::new());
}

fn calls_before_construction_revert<C: ProtocolChain>(chain: C) {
    let app = contract_harness::Key::from_seed(9);
    chain.set_balance(app.address, wei(ETH));
    let r = chain.send(app.address, U256::ZERO, ITaskContract::pauseCall {});
    assert!(matches!(err(r), E::NotInitialized(_)));
    let r = chain.view(ITaskContract::getConfigCall {});
    assert!(matches!(err(r), E::NotInitialized(_)));
    let t = ITaskContract::createTaskCall {
        task_type: 0,
        task_id_commitment: B256::repeat_byte(1),
        nonce: B256::repeat_byte(2),
        model_ids: vec![],
        minimum_vram: 0,
        required_gpu: String::new(),
        required_gpu_vram: 0,
        task_version: [1, 0, 0],
        task_size: 1,
        params_commitment: B256::repeat_byte(3),
    };
    assert!(matches!(
        err(chain.send(app.address, wei(1), t)),
        E::NotInitialized(_)
    ));
}

fn malformed_unknown_and_unpaid_calls_have_clear_errors<C: ProtocolChain>(net: Net<C>) {
    let from = net.app.address;
    let r = net
        .chain
        .send_raw(from, U256::ZERO, &[0xde, 0xad, 0xbe, 0xef]);
    let revert = r.unwrap_err();
    assert!(matches!(revert.error(), Some(E::UnknownSelector(_))));
    assert_eq!(revert.data[4..8], [0xde, 0xad, 0xbe, 0xef]);
    let r = net
        .chain
        .send_raw(from, U256::ZERO, &ITaskContract::getTaskCall::SELECTOR);
    assert!(matches!(
        r.unwrap_err().error(),
        Some(E::MalformedCalldata(_))
    ));
    let r = net.chain.send(from, wei(5), ITaskContract::pauseCall {});
    assert!(matches!(err(r), E::NotPayable(_)));
    // A uint8 argument with high bits set is refused, not truncated.
    let mut data = ITaskContract::reportTaskErrorCall {
        task_id_commitment: B256::ZERO,
        error: 1,
    }
    .abi_encode();
    data[4 + 32 + 30] = 1;
    assert!(matches!(
        net.chain
            .send_raw(from, U256::ZERO, &data)
            .unwrap_err()
            .error(),
        Some(E::MalformedCalldata(_))
    ));
}

fn join_checks_stake_key_and_gpu_and_reports_the_node<C: ProtocolChain>(net: Net<C>) {
    let n = &net.nodes[0];
    let call = |value: u128, key: &[u8; 64], gpu: &str, vram: u64| {
        net.chain.send(
            n.address,
            wei(value),
            ITaskContract::joinCall {
                gpu_name: gpu.into(),
                gpu_vram: vram,
                version: [1, 2, 3],
                public_key: alloy_primitives::Bytes::copy_from_slice(key),
                model_ids: vec!["sd15".into()],
            },
        )
    };
    assert!(matches!(
        err(call(MIN_STAKE - 1, &n.public_key, "A100", 80)),
        E::StakeTooLow(_)
    ));
    assert!(matches!(
        err(call(MIN_STAKE, &net.nodes[1].public_key, "A100", 80)),
        E::InvalidPublicKey(_)
    ));
    assert!(matches!(
        err(call(MIN_STAKE, &n.public_key, "", 80)),
        E::InvalidGPU(_)
    ));
    let before = net.chain.balance(n.address);
    call(MIN_STAKE, &n.public_key, "A100", 80).unwrap();
    assert_eq!(net.chain.balance(n.address), before - wei(MIN_STAKE));
    assert!(matches!(
        err(call(MIN_STAKE, &n.public_key, "A100", 80)),
        E::NodeAlreadyJoined(_)
    ));
    let info = net.node_info(n.address);
    assert_eq!(info.status, node_status::AVAILABLE);
    assert_eq!(
        (info.gpuName.as_str(), info.gpuVram, info.version),
        ("A100", 80, [1, 2, 3])
    );
    assert_eq!(info.publicKey.as_ref(), &n.public_key[..]);
    assert_eq!(info.stake, wei(MIN_STAKE));
    assert_eq!(
        info.localModelIDHashes,
        vec![alloy_primitives::keccak256("sd15")]
    );
    assert_eq!(net.chain.view(ITaskContract::nodeCountCall {}).unwrap(), 1);
}

fn single_task_runs_to_end_success_and_pays_the_node<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let t = net.create_sampled(false, 3 * ETH);
    let c = t.commitment;
    let info = net.task(c);
    assert_eq!(
        (info.status, info.selectedNode, info.creator),
        (status::STARTED, node, net.app.address)
    );
    assert_eq!(
        net.chain
            .view(ITaskContract::getNodeTaskCall { node })
            .unwrap(),
        c
    );
    assert_eq!(net.node_info(node).status, node_status::BUSY);

    // Callers are checked at every step.
    assert!(matches!(
        err(net.chain.send(
            node,
            U256::ZERO,
            ITaskContract::reportTaskParametersUploadedCall {
                task_id_commitment: c
            }
        )),
        E::NotRelay(_)
    ));
    assert!(matches!(
        err(net.submit(c, &[0u8; 8])),
        E::IllegalTaskState(_)
    ));
    net.upload_params(c).unwrap();
    assert_eq!(net.status(c), status::PARAMETERS_UPLOADED);
    let r = net.chain.send(
        net.app.address,
        U256::ZERO,
        ITaskContract::submitTaskScoreCall {
            task_id_commitment: c,
            task_score: vec![0u8; 8].into(),
        },
    );
    assert!(matches!(err(r), E::NotSelectedNode(_)));
    assert!(matches!(err(net.submit(c, &[0u8; 7])), E::InvalidScore(_)));
    net.submit(c, &[7u8; 8]).unwrap();
    assert_eq!(net.status(c), status::SCORE_READY);
    assert_eq!(net.task(c).score.as_ref(), &[7u8; 8]);
    assert!(matches!(err(net.upload_result(c)), E::IllegalTaskState(_)));

    net.validate_single(c).unwrap();
    assert_eq!(net.status(c), status::VALIDATED);
    let before = net.chain.balance(node);
    net.upload_result(c).unwrap();
    assert_eq!(net.status(c), status::END_SUCCESS);
    assert_eq!(net.chain.balance(node), before + wei(3 * ETH));
    assert_eq!(net.node_info(node).status, node_status::AVAILABLE);
    assert_eq!(
        net.chain
            .view(ITaskContract::getNodeTaskCall { node })
            .unwrap(),
        B256::ZERO
    );
    // Final: every later call reverts.
    assert!(matches!(err(net.upload_result(c)), E::IllegalTaskState(_)));
    // The contract holds exactly the stake.
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
}

fn create_task_reverts_on_bad_input<C: ProtocolChain>(mut net: Net<C>) {
    let t = net.new_task(B256::repeat_byte(7));
    // No node has joined: nobody could ever run the task.
    assert!(matches!(
        err(net.create_task(&t, ETH)),
        E::NoNodeCanRunTask(_)
    ));
    net.join(0);
    assert!(matches!(err(net.create_task(&t, 0)), E::ZeroTaskFee(_)));
    let send = |call: ITaskContract::createTaskCall| net.chain.send(net.app.address, wei(1), call);
    assert!(matches!(
        err(send(net.create_call(&t, 3, "", 1))),
        E::InvalidTaskType(_)
    ));
    assert!(matches!(
        err(send(net.create_call(&t, 0, "", 0))),
        E::ZeroTaskSize(_)
    ));
    assert!(matches!(
        err(send(net.create_call(&t, 0, "", 1 << 48))),
        E::ValueTooLarge(_)
    ));
    assert!(matches!(
        err(send(net.create_call(&t, 1, "", 1))),
        E::GPURequired(_)
    ));
    let mut call = net.create_call(&t, 0, "", 1);
    call.params_commitment = B256::ZERO;
    assert!(matches!(err(send(call)), E::InvalidParamsCommitment(_)));
    let mut call = net.create_call(&t, 0, "", 1);
    call.task_id_commitment = B256::ZERO;
    assert!(matches!(err(send(call)), E::InvalidTaskCommitment(_)));
    let mut call = net.create_call(&t, 0, "", 1);
    call.model_ids = vec!["m".into(); 9];
    assert!(matches!(err(send(call)), E::TooManyModels(_)));
    // Requirements no joined node meets: a GPU nobody has, more VRAM, another major version.
    let mut call = net.create_call(&t, 1, "H100", 1);
    call.required_gpu_vram = 80;
    assert!(matches!(err(send(call)), E::NoNodeCanRunTask(_)));
    let mut call = net.create_call(&t, 0, "", 1);
    call.minimum_vram = 25;
    assert!(matches!(err(send(call)), E::NoNodeCanRunTask(_)));
    let mut call = net.create_call(&t, 0, "", 1);
    call.task_version = [2, 0, 0];
    assert!(matches!(err(send(call)), E::NoNodeCanRunTask(_)));

    net.create_task(&t, ETH).unwrap();
    assert!(matches!(
        err(net.create_task(&t, ETH)),
        E::NonceAlreadyUsed(_)
    ));
    let mut again = net.new_task(B256::repeat_byte(8));
    again.commitment = t.commitment;
    assert!(matches!(
        err(net.create_task(&again, ETH)),
        E::TaskAlreadyExists(_)
    ));
    // A revert keeps nothing: the fee of a failed call is not taken.
    assert_eq!(
        net.chain.balance(net.chain.contract()),
        wei(ETH) + net.stakes()
    );
}

/// A node that could run the tasks is joined but paused: every task queues.
fn queue_behind_a_paused_node<C: ProtocolChain>(net: &Net<C>) {
    net.join(5);
    net.call_as(net.nodes[5].address, ITaskContract::pauseCall {})
        .unwrap();
}

fn queued_tasks_go_to_the_next_node_by_price_and_the_cheapest_is_evicted<C: ProtocolChain>(
    mut net: Net<C>,
) {
    queue_behind_a_paused_node(&net);
    // Prices 1, 3, 2, 4 ETH (size 1).
    let fees = [1, 3, 2, 4];
    let tasks: Vec<Task> = fees.iter().map(|f| net.create(f * ETH)).collect();
    for t in &tasks {
        assert_eq!(net.status(t.commitment), status::QUEUED);
    }
    assert_eq!(net.chain.view(ITaskContract::queueSizeCall {}).unwrap(), 4);
    // Full: a cheaper task is refused, a dearer one evicts the cheapest (refunded).
    let cheap = net.new_task(B256::repeat_byte(0x33));
    assert!(matches!(
        err(net.create_task(&cheap, ETH / 2)),
        E::QueueFull(_)
    ));
    let app_before = net.chain.balance(net.app.address);
    let dear = net.create(5 * ETH);
    let evicted = net.task(tasks[0].commitment);
    assert_eq!(
        (evicted.status, evicted.abortReason),
        (status::END_ABORTED, 4)
    );
    assert_eq!(
        net.chain.balance(net.app.address),
        app_before - wei(5 * ETH) + wei(ETH)
    );
    // Nodes take the highest price first.
    net.join(0);
    assert_eq!(net.status(dear.commitment), status::STARTED);
    net.join(1);
    assert_eq!(net.status(tasks[3].commitment), status::STARTED);
    assert_eq!(net.status(tasks[1].commitment), status::QUEUED);
    assert_eq!(net.chain.view(ITaskContract::queueSizeCall {}).unwrap(), 2);
    // Before the queue timeout, a queued task may be aborted by its creator only.
    let c = tasks[2].commitment;
    assert!(matches!(
        err(net.abort(net.nodes[0].address, c, 1)),
        E::DeadlineNotReached(_)
    ));
    net.abort(net.app.address, c, 1).unwrap();
    assert_eq!(net.status(c), status::END_ABORTED);
}

/// Prices are compared exactly: 10 wei for 3 units pays more than 13 for 4, although both floor
/// to 3 per unit; 4 for 2 and 6 for 3 pay the same (the newer is evicted first).
fn queue_prices_are_compared_exactly<C: ProtocolChain>(mut net: Net<C>) {
    queue_behind_a_paused_node(&net);
    let mut create = |fee: u128, size: u64| {
        let t = net.new_task(keccak256(fee.to_be_bytes()));
        net.chain
            .send(net.app.address, wei(fee), net.create_call(&t, 0, "", size))
            .unwrap();
        t
    };
    let a = create(13, 4);
    let b = create(10, 3);
    let c = create(4, 2);
    let d = create(6, 3);
    // The queue is full (4): 9 for 4 units (2.25) evicts the cheapest, c or d (2 per unit), the
    // newer of the two.
    let e = create(9, 4);
    assert_eq!(net.status(d.commitment), status::END_ABORTED);
    assert_eq!(net.status(c.commitment), status::QUEUED);
    assert_eq!(net.status(e.commitment), status::QUEUED);
    let order = [b, a, e, c];
    for (i, t) in order.iter().enumerate() {
        net.join(i);
        assert_eq!(net.status(t.commitment), status::STARTED, "task {i}");
    }
}

fn dispatch_respects_gpu_vram_and_version<C: ProtocolChain>(mut net: Net<C>) {
    net.join_with(&net.nodes[0], "A100", 80, [1, 0, 0], &[])
        .unwrap();
    net.join_with(&net.nodes[1], "RTX 4090", 24, [2, 0, 0], &[])
        .unwrap();
    net.join_with(&net.nodes[2], "RTX 4090", 24, [1, 1, 0], &[])
        .unwrap();
    // Requires the exact GPU and a 1.x version at least 1.0.0: only node 2 fits.
    let t = net.new_task(B256::repeat_byte(1));
    net.chain
        .send(
            net.app.address,
            wei(ETH),
            net.create_call(&t, 1, "RTX 4090", 1),
        )
        .unwrap();
    assert_eq!(net.selected(t.commitment), net.nodes[2].address);
    // An SD task needing 8 GB fits nodes 0 (version 1.0.0) and 2 (busy): node 0.
    let t2 = net.create(ETH);
    assert_eq!(net.selected(t2.commitment), net.nodes[0].address);
    // Nothing that fits version 1.x is free now: queued.
    let t3 = net.create(ETH);
    assert_eq!(net.status(t3.commitment), status::QUEUED);
}

fn pause_and_quit_while_busy_wait_for_the_task<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let t = net.create_sampled(false, ETH);
    net.chain
        .send(node, U256::ZERO, ITaskContract::quitCall {})
        .unwrap();
    assert_eq!(net.node_info(node).status, node_status::PENDING_QUIT);
    net.upload_params(t.commitment).unwrap();
    net.submit(t.commitment, &[1u8; 8]).unwrap();
    net.validate_single(t.commitment).unwrap();
    let before = net.chain.balance(node);
    net.upload_result(t.commitment).unwrap();
    // Fee and stake both returned; the node is gone.
    assert_eq!(net.chain.balance(node), before + wei(ETH) + wei(MIN_STAKE));
    assert_eq!(net.node_info(node).status, node_status::QUIT);
    assert_eq!(net.chain.balance(net.chain.contract()), U256::ZERO);

    net.join(1);
    let n1 = net.nodes[1].address;
    net.chain
        .send(n1, U256::ZERO, ITaskContract::pauseCall {})
        .unwrap();
    assert_eq!(net.node_info(n1).status, node_status::PAUSED);
    let queued = net.create(ETH);
    assert_eq!(net.status(queued.commitment), status::QUEUED);
    net.chain
        .send(n1, U256::ZERO, ITaskContract::resumeCall {})
        .unwrap();
    assert_eq!(net.status(queued.commitment), status::STARTED);
}

fn a_refused_payment_is_credited_and_withdrawn<C: ProtocolChain>(mut net: Net<C>) {
    let (t, node) = net.validated_single_task(2 * ETH);
    net.chain.reject_payments(node, true);
    net.upload_result(t.commitment).unwrap();
    assert_eq!(
        net.chain
            .view(ITaskContract::creditOfCall { account: node })
            .unwrap(),
        wei(2 * ETH)
    );
    assert_eq!(
        net.chain.balance(net.chain.contract()),
        net.stakes() + wei(2 * ETH)
    );
    // Still refusing: withdraw reverts and keeps the credit.
    assert!(matches!(
        err(net
            .chain
            .send(node, U256::ZERO, ITaskContract::withdrawCall {})),
        E::TransferFailed(_)
    ));
    net.chain.reject_payments(node, false);
    let before = net.chain.balance(node);
    net.chain
        .send(node, U256::ZERO, ITaskContract::withdrawCall {})
        .unwrap();
    assert_eq!(net.chain.balance(node), before + wei(2 * ETH));
    assert!(matches!(
        err(net
            .chain
            .send(node, U256::ZERO, ITaskContract::withdrawCall {})),
        E::NothingToWithdraw(_)
    ));
}

on_both_hosts!(
    the_constructor_runs_once_and_only_the_owner_reconfigures,
    ownership_moves_in_two_steps,
    queue_prices_are_compared_exactly,
    malformed_unknown_and_unpaid_calls_have_clear_errors,
    join_checks_stake_key_and_gpu_and_reports_the_node,
    single_task_runs_to_end_success_and_pays_the_node,
    create_task_reverts_on_bad_input,
    queued_tasks_go_to_the_next_node_by_price_and_the_cheapest_is_evicted,
    dispatch_respects_gpu_vram_and_version,
    pause_and_quit_while_busy_wait_for_the_task,
    a_refused_payment_is_credited_and_withdrawn,
);
