//! Every attack of the first version's security review (PROTOCOL.md "Weaknesses found in the
//! first version"), performed through the contract's ABI and shown refused or harmless, on the
//! native harness and on stylus-sdk's test VM. Each of these succeeded against the first version.

#[macro_use]
mod common;

use alloy_primitives::{keccak256, Address, B256, U256};
use common::*;
use contract_harness::ITaskContract::{self, DownloadModel, ITaskContractErrors as E};

const FEE: u128 = 3 * ETH;
/// Scores far apart (32 bits): they never agree.
const HONEST: [u8; 8] = [0; 8];
const OTHER: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

/// A first task sampled for group validation, on node `holder`, with its parameters uploaded.
/// Every other node is paused so that the first task goes to `holder`; they resume afterwards.
fn sampled_first_task<C: ProtocolChain>(net: &mut Net<C>, nodes: usize, holder: usize) -> Task {
    for i in 0..nodes {
        net.join(i);
    }
    loop {
        for i in (0..nodes).filter(|i| *i != holder) {
            net.call_as(net.nodes[i].address, ITaskContract::pauseCall {})
                .unwrap();
        }
        let guid = keccak256(net.status_count_seed());
        let t = net.new_task(guid);
        net.create_task(&t, FEE).unwrap();
        for i in (0..nodes).filter(|i| *i != holder) {
            net.call_as(net.nodes[i].address, ITaskContract::resumeCall {})
                .unwrap();
        }
        if net.sampled(t.commitment) {
            assert_eq!(net.selected(t.commitment), net.nodes[holder].address);
            net.upload_params(t.commitment).unwrap();
            return t;
        }
        net.chain.advance(UPLOAD_TIMEOUT + 1);
        net.abort(net.app.address, t.commitment, 1).unwrap();
    }
}

trait Seed {
    /// A value that differs at every call (for fresh GUIDs).
    fn status_count_seed(&self) -> [u8; 8];
}

impl<C: ProtocolChain> Seed for Net<C> {
    fn status_count_seed(&self) -> [u8; 8] {
        self.chain
            .view(ITaskContract::taskCountCall {})
            .unwrap()
            .to_be_bytes()
    }
}

/// Attack 1: the creator gives the sampled task other parameters, or other requirements, than
/// its two siblings; the siblings agree with each other, and a group validation would slash the
/// honest first node. Every variant is refused: the group must have run the very same work.
fn a_mismatched_group_cannot_slash_the_honest_node<C: ProtocolChain>(mut net: Net<C>) {
    let first = sampled_first_task(&mut net, 3, 0);
    net.submit(first.commitment, &HONEST).unwrap();
    let honest_node = net.nodes[0].address;

    // Siblings committed to other parameters: both report the same other score.
    let other_params = B256::repeat_byte(0x0F);
    let mut siblings = Vec::new();
    for _ in 0..2 {
        let t = net.new_task(first.guid);
        let mut call = net.create_call(&t, 0, "", 1);
        call.params_commitment = t.params_commitment(&other_params);
        net.chain.send(net.app.address, wei(FEE), call).unwrap();
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &OTHER).unwrap();
        siblings.push(t);
    }
    let group = [&first, &siblings[0], &siblings[1]];
    for claimed in [other_params, PARAMS_HASH] {
        let call = net.group_call_with(group, &first, claimed);
        let r = net.call_as(net.app.address, call);
        assert!(
            matches!(err(r), E::ParamsMismatch(_)),
            "paramsHash {claimed}"
        );
    }
    // Free their nodes for the next attempts.
    net.chain.advance(VALIDATION_TIMEOUT + 1);
    for t in &siblings {
        net.abort(net.app.address, t.commitment, 1).unwrap();
    }

    // Siblings with other requirements (each field) or another size or type, same parameters.
    let variants: [fn(&mut ITaskContract::createTaskCall); 6] = [
        |c| c.model_ids = vec!["other".into()],
        |c| c.minimum_vram = 16,
        |c| c.model_ids.push("lora".into()),
        |c| {
            c.required_gpu = "RTX 4090".into();
            c.required_gpu_vram = 24
        },
        |c| c.task_size = 2,
        |c| {
            c.task_type = 2;
            c.required_gpu = "RTX 4090".into();
            c.required_gpu_vram = 24
        },
    ];
    for change in variants {
        let mut members = vec![first];
        for k in 0..2 {
            let t = net.new_task(first.guid);
            let mut call = net.create_call(&t, 0, "", 1);
            if k == 1 {
                change(&mut call);
            }
            net.chain.send(net.app.address, wei(FEE), call).unwrap();
            net.upload_params(t.commitment).unwrap();
            net.submit(t.commitment, &OTHER).unwrap();
            members.push(t);
        }
        let r = net.validate_group([&members[0], &members[1], &members[2]]);
        assert!(matches!(err(r), E::TaskGroupMismatch(_)));
        // Free the nodes for the next variant.
        for t in &members[1..] {
            net.chain.advance(VALIDATION_TIMEOUT + 1);
            net.abort(net.app.address, t.commitment, 1).unwrap();
        }
    }

    // The honest node keeps its stake; once the validation deadline passes it walks away with
    // its QoS untouched and the creator gets the fee back.
    let n = net.node_info(honest_node);
    assert_eq!(n.stake, wei(MIN_STAKE));
    assert_eq!(net.status(first.commitment), status::SCORE_READY);
    net.chain.advance(VALIDATION_TIMEOUT + 1);
    net.abort(honest_node, first.commitment, 1).unwrap();
    let n = net.node_info(honest_node);
    assert_eq!(
        (n.status, n.stake),
        (node_status::AVAILABLE, wei(MIN_STAKE))
    );
    assert!(net.chain.events::<ITaskContract::NodeSlashed>().is_empty());
    assert_eq!(net.chain.balance(net.treasury), U256::ZERO);
}

/// Attack 2: the creator validates just before the deadline, waits for the node's upload, takes
/// the result from the relay and aborts before the relay's report lands. The Validated state has
/// its own deadline (the node's upload time, counted from validation), so the abort is refused;
/// the report lands and pays the node. (The relay serves results only once the task is
/// EndSuccess: relay tests.)
fn a_creator_cannot_take_the_result_without_paying<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    let t = net.create_sampled(false, FEE);
    let c = t.commitment;
    // Every step at the last second of its deadline.
    net.chain.advance(UPLOAD_TIMEOUT);
    net.upload_params(c).unwrap();
    net.chain.advance(EXECUTION_TIMEOUT);
    net.submit(c, &HONEST).unwrap();
    net.chain.advance(VALIDATION_TIMEOUT);
    net.validate_single(c).unwrap();
    // Far past any deadline counted from the start, not past the upload deadline.
    for wait in [0, UPLOAD_TIMEOUT] {
        net.chain.advance(wait);
        let r = net.abort(net.app.address, c, 1);
        assert!(matches!(err(r), E::DeadlineNotReached(_)));
    }
    let before = net.chain.balance(node);
    net.upload_result(c).unwrap();
    assert_eq!(net.status(c), status::END_SUCCESS);
    assert_eq!(net.chain.balance(node), before + wei(FEE));
    assert!(matches!(
        err(net.abort(net.app.address, c, 1)),
        E::IllegalTaskState(_)
    ));
}

/// Attack 3: a node that submitted a wrong score aborts its own ScoreReady task before the
/// creator can compare it with the group. The validation deadline runs from ScoreReady and leaves
/// the group's two further tasks time to run, so the abort is refused and the node is slashed.
fn a_node_cannot_escape_a_pending_group_validation<C: ProtocolChain>(mut net: Net<C>) {
    let first = sampled_first_task(&mut net, 3, 0);
    let cheater = net.nodes[0].address;
    net.submit(first.commitment, &OTHER).unwrap();
    let escape = |net: &Net<C>| net.abort(cheater, first.commitment, 1);
    assert!(matches!(err(escape(&net)), E::DeadlineNotReached(_)));
    // The siblings take as long as the deadlines allow: the upload, then the execution.
    let siblings = [net.new_task(first.guid), net.new_task(first.guid)];
    for s in &siblings {
        net.create_task(s, FEE).unwrap();
    }
    net.chain.advance(UPLOAD_TIMEOUT);
    for s in &siblings {
        net.upload_params(s.commitment).unwrap();
    }
    assert!(matches!(err(escape(&net)), E::DeadlineNotReached(_)));
    net.chain.advance(EXECUTION_TIMEOUT);
    for s in &siblings {
        net.submit(s.commitment, &HONEST).unwrap();
    }
    assert!(matches!(err(escape(&net)), E::DeadlineNotReached(_)));
    let treasury_before = net.chain.balance(net.treasury);
    net.validate_group([&first, &siblings[0], &siblings[1]])
        .unwrap();
    assert_eq!(net.status(first.commitment), status::END_INVALIDATED);
    assert_eq!(
        net.chain.balance(net.treasury),
        treasury_before + wei(MIN_STAKE)
    );
    assert_eq!(net.node_info(cheater).status, node_status::QUIT);
}

/// Attack 4: the creator uploads the parameters late (or never) and aborts when the task times
/// out, scoring the node 0; twice, and the node is kicked out. The Started deadline is the
/// creator's: the node's QoS is unchanged, however often it happens.
fn a_creators_delay_is_not_the_nodes_fault<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let node = net.nodes[0].address;
    for i in 0..4 {
        let t = net.create(FEE);
        assert_eq!(net.selected(t.commitment), node);
        net.chain.advance(UPLOAD_TIMEOUT + 1);
        // Either party may end it; neither blames the node.
        let by = if i % 2 == 0 { net.app.address } else { node };
        net.abort(by, t.commitment, 1).unwrap();
        let n = net.node_info(node);
        assert_eq!(n.status, node_status::AVAILABLE);
        assert!(n.recentTaskScores.is_empty(), "{:?}", n.recentTaskScores);
    }
    assert!(net
        .chain
        .events::<ITaskContract::NodeKickedOut>()
        .is_empty());
    // Parameters uploaded late but within the deadline: the execution deadline runs from the
    // upload, not from the start.
    let t = net.create(FEE);
    net.chain.advance(UPLOAD_TIMEOUT);
    net.upload_params(t.commitment).unwrap();
    net.chain.advance(EXECUTION_TIMEOUT);
    assert!(matches!(
        err(net.abort(net.app.address, t.commitment, 1)),
        E::DeadlineNotReached(_)
    ));
    net.submit(t.commitment, &HONEST).unwrap();
}

/// Attack 5: nodes join with many distinct GPU names (then pause), so that every createTask reads
/// every class. Classes are bounded by an owner-set maximum, and a class without members
/// disappears from the list dispatch reads.
fn many_gpu_names_cannot_make_create_task_expensive<C: ProtocolChain>(net: Net<C>) {
    let mut s = net.settings();
    s.max_gpu_classes = 3;
    net.set_config(net.owner.address, &s).unwrap();
    let join = |i: usize, gpu: &str| net.join_with(&net.nodes[i], gpu, 24, [1, 0, 0], &[]);
    for (i, gpu) in ["GPU 0", "GPU 1", "GPU 2"].iter().enumerate() {
        join(i, gpu).unwrap();
        net.call_as(net.nodes[i].address, ITaskContract::pauseCall {})
            .unwrap();
    }
    // A fourth name is refused; a known class still takes members.
    assert!(matches!(err(join(3, "GPU 3")), E::TooManyGPUClasses(_)));
    join(3, "GPU 0").unwrap();
    // The last member of a class leaves: the class is gone and its place is free.
    net.call_as(net.nodes[1].address, ITaskContract::quitCall {})
        .unwrap();
    join(4, "GPU 3").unwrap();
    assert!(matches!(err(join(5, "GPU 4")), E::TooManyGPUClasses(_)));
    // Lowering the maximum stops new classes until enough have emptied.
    s.max_gpu_classes = 1;
    net.set_config(net.owner.address, &s).unwrap();
    assert!(matches!(err(join(5, "GPU 5")), E::TooManyGPUClasses(_)));
}

/// Attack 6: the queue is filled for free with tasks no node can run, crowding out paying
/// tasks. Such tasks are refused outright; a task that could run but waits past the queue
/// timeout may be aborted by anyone, its fee refunded to its creator.
fn the_queue_cannot_be_filled_for_free<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    net.call_as(net.nodes[0].address, ITaskContract::pauseCall {})
        .unwrap();
    for i in 0..64u64 {
        let t = net.new_task(keccak256(i.to_be_bytes()));
        let mut call = net.create_call(&t, 0, "", 1);
        call.minimum_vram = 1_000;
        let r = net.chain.send(net.app.address, wei(1), call);
        assert!(matches!(err(r), E::NoNodeCanRunTask(_)));
    }
    assert_eq!(net.chain.view(ITaskContract::queueSizeCall {}).unwrap(), 0);
    let waiting = net.create(FEE);
    assert_eq!(net.status(waiting.commitment), status::QUEUED);
    let stranger = net.nodes[3].address;
    assert!(matches!(
        err(net.abort(stranger, waiting.commitment, 1)),
        E::DeadlineNotReached(_)
    ));
    net.chain.advance(QUEUE_TIMEOUT + 1);
    let app_before = net.chain.balance(net.app.address);
    net.abort(stranger, waiting.commitment, 1).unwrap();
    assert_eq!(net.status(waiting.commitment), status::END_ABORTED);
    assert_eq!(net.chain.balance(net.app.address), app_before + wei(FEE));
    assert_eq!(net.chain.view(ITaskContract::queueSizeCall {}).unwrap(), 0);
}

/// Attack 7: front-running. Nonces were global: whoever saw an application's createTask in the
/// mempool could use its nonce first and make it revert. Nonces are per creator now. (The
/// constructor runs in the deployment transaction, and ownership moves in two steps: task_flow
/// tests.)
fn a_nonce_cannot_be_taken_by_someone_else<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    let t = net.new_task(B256::repeat_byte(0x44));
    // The front-runner copies the nonce (with a commitment of its own).
    let front_runner = net.nodes[4].address;
    let mut stolen = t;
    stolen.commitment = keccak256(b"front-runner's commitment");
    net.chain
        .send(front_runner, wei(FEE), net.create_call(&stolen, 0, "", 1))
        .unwrap();
    net.create_task(&t, FEE).unwrap();
    assert_eq!(net.task(t.commitment).creator, net.app.address);
    // Its own nonce still cannot be reused by the same creator.
    let mut again = net.new_task(B256::repeat_byte(0x45));
    again.nonce = t.nonce;
    assert!(matches!(
        err(net.create_task(&again, FEE)),
        E::NonceAlreadyUsed(_)
    ));
}

/// Runs a group of three on nodes 0..3 with the first sampled, the nodes scoring after the given
/// execution times (seconds after their parameters), the parameters uploaded at the given delays
/// after creation, and the scores given; validates with the members in `order`.
fn timed_group<C: ProtocolChain>(
    net: &mut Net<C>,
    upload_delays: [u64; 3],
    execution_times: [u64; 3],
    scores: [[u8; 8]; 3],
    order: [usize; 3],
) -> ([Task; 3], [Address; 3]) {
    let first = sampled_first_task(net, 3, 0);
    let siblings = [net.new_task(first.guid), net.new_task(first.guid)];
    for s in &siblings {
        net.create_task(s, FEE).unwrap();
    }
    let ts = [first, siblings[0], siblings[1]];
    let nodes = ts.map(|t| net.selected(t.commitment));
    // Replay the schedule: (time, member, action) in time order. The first task's parameters are
    // already uploaded at time 0.
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for i in 0..3 {
        let uploaded = if i == 0 { 0 } else { upload_delays[i] };
        if i > 0 {
            events.push((uploaded, i, false));
        }
        events.push((uploaded + execution_times[i], i, true));
    }
    events.sort();
    let mut now = 0;
    for (at, i, score) in events {
        net.chain.advance(at - now);
        now = at;
        if score {
            net.submit(ts[i].commitment, &scores[i]).unwrap();
        } else {
            net.upload_params(ts[i].commitment).unwrap();
        }
    }
    // The proof is the first task's, wherever it stands among the arguments.
    let call = net.group_call([&ts[order[0]], &ts[order[1]], &ts[order[2]]], &ts[0]);
    net.call_as(net.app.address, call).unwrap();
    (ts, nodes)
}

/// Speed ranks the agreeing members only, by their own execution time (from their parameters to
/// their score): not by sequence, not by argument order, not counting the creator's upload delay.
fn group_rewards_rank_the_agreeing_nodes_by_their_own_speed<C: ProtocolChain>(mut net: Net<C>) {
    // Member 2 is the fastest although its parameters came last; member 0 the slowest.
    let (ts, nodes) = timed_group(
        &mut net,
        [0, 50, 200],
        [300, 100, 20],
        [HONEST; 3],
        [1, 2, 0],
    );
    let gv = ts[0].commitment;
    assert_eq!(net.status(gv), status::GROUP_VALIDATED);
    let info = net.task(gv);
    let parts = [6u128, 9, 10];
    let total = wei(FEE);
    let expected: Vec<(Address, U256)> = (0..3)
        .map(|i| (nodes[i], total * U256::from(parts[i]) / U256::from(25)))
        .collect();
    for (node, amount) in &expected {
        let k = info
            .paymentAddresses
            .iter()
            .position(|a| a == node)
            .expect("every agreeing node is a payee");
        // The slowest (6 parts) takes the rounding dust.
        if *node != nodes[0] {
            assert_eq!(info.payments[k], *amount, "node {node}");
        }
    }
    let before: Vec<U256> = nodes.iter().map(|n| net.chain.balance(*n)).collect();
    net.upload_result(gv).unwrap();
    let gains: Vec<U256> = (0..3)
        .map(|i| net.chain.balance(nodes[i]) - before[i])
        .collect();
    assert_eq!(gains[2], expected[2].1);
    assert_eq!(gains[1], expected[1].1);
    assert_eq!(gains.iter().copied().sum::<U256>(), total);
    for (i, score) in [6u8, 9, 10].iter().enumerate() {
        assert_eq!(
            net.node_info(nodes[i]).recentTaskScores.first(),
            Some(score),
            "member {i}"
        );
    }
}

/// With one member disagreeing, it is not ranked: the two agreeing nodes get 10 and 9 even if the
/// disagreeing one was the fastest.
fn a_disagreeing_member_takes_no_rank<C: ProtocolChain>(mut net: Net<C>) {
    let (ts, nodes) = timed_group(
        &mut net,
        [0, 0, 0],
        [300, 200, 10],
        [HONEST, HONEST, OTHER],
        [0, 1, 2],
    );
    assert_eq!(net.status(ts[2].commitment), status::END_INVALIDATED);
    let info = net.task(ts[0].commitment);
    assert_eq!(info.paymentAddresses.len(), 2);
    // Member 1 (200 s) is the fastest agreeing node: 10 parts of 19.
    let k = info
        .paymentAddresses
        .iter()
        .position(|a| *a == nodes[1])
        .unwrap();
    assert_eq!(info.payments[k], wei(FEE) * U256::from(10) / U256::from(19));
    assert_eq!(net.node_info(nodes[1]).recentTaskScores.first(), Some(&10));
    net.upload_result(ts[0].commitment).unwrap();
    assert_eq!(net.node_info(nodes[0]).recentTaskScores.first(), Some(&9));
}

/// The owner sets the sampling rate (and the deadlines); each task keeps those it was created
/// under.
fn tasks_keep_the_terms_they_were_created_under<C: ProtocolChain>(mut net: Net<C>) {
    net.join(0);
    net.join(1);
    let before = net.create_sampled(false, FEE);
    let mut s = net.settings();
    s.sampling_rate = 1;
    s.upload_timeout = 10 * UPLOAD_TIMEOUT;
    s.validation_timeout = 2 * (s.execution_timeout + s.upload_timeout);
    net.set_config(net.owner.address, &s).unwrap();
    let after = net.create(FEE);
    let (old, new) = (net.task(before.commitment), net.task(after.commitment));
    assert_eq!(
        (old.terms.samplingRate, old.terms.uploadTimeout),
        (SAMPLING_RATE, UPLOAD_TIMEOUT)
    );
    assert_eq!(
        (new.terms.samplingRate, new.terms.uploadTimeout),
        (1, 10 * UPLOAD_TIMEOUT)
    );
    assert_eq!(
        old.times.deadline,
        old.times.stateTimestamp + UPLOAD_TIMEOUT
    );
    // Every task is sampled at rate 1: validating the new one alone is refused; the old one
    // still follows rate 10.
    for t in [&before, &after] {
        net.upload_params(t.commitment).unwrap();
        net.submit(t.commitment, &HONEST).unwrap();
    }
    assert!(matches!(
        err(net.validate_single(after.commitment)),
        E::TaskSelectedForValidation(_)
    ));
    net.validate_single(before.commitment).unwrap();
}

/// A task taken from the queue when its models are scarce sends DownloadModel hints to fitting
/// nodes that lack them, as one dispatched at creation does (busy nodes included: they download in
/// the background).
fn a_queued_task_that_starts_hints_model_downloads<C: ProtocolChain>(mut net: Net<C>) {
    for i in 0..5 {
        net.join_with(&net.nodes[i], "RTX 4090", 24, [1, 0, 0], &["other"])
            .unwrap();
    }
    let running: Vec<Task> = (0..5).map(|_| net.create_sampled(false, FEE)).collect();
    let queued = net.create(FEE);
    assert_eq!(net.status(queued.commitment), status::QUEUED);
    // A node finishes: it takes the queued sd15 task, which nobody holds.
    let t = running[0];
    net.upload_params(t.commitment).unwrap();
    net.submit(t.commitment, &HONEST).unwrap();
    net.validate_single(t.commitment).unwrap();
    net.upload_result(t.commitment).unwrap();
    assert_eq!(net.status(queued.commitment), status::STARTED);
    let hints = net.chain.events::<DownloadModel>();
    assert!(!hints.is_empty());
    let taker = net.selected(queued.commitment);
    let mut told: Vec<Address> = hints.iter().map(|h| h.nodeAddress).collect();
    told.sort();
    told.dedup();
    assert_eq!(told.len(), hints.len(), "a node is told once");
    for h in &hints {
        assert_ne!(h.nodeAddress, taker);
        assert!(net.nodes[..5].iter().any(|k| k.address == h.nodeAddress));
        assert_eq!(h.modelID, "sd15");
    }
}

on_both_hosts!(
    a_mismatched_group_cannot_slash_the_honest_node,
    a_creator_cannot_take_the_result_without_paying,
    a_node_cannot_escape_a_pending_group_validation,
    a_creators_delay_is_not_the_nodes_fault,
    many_gpu_names_cannot_make_create_task_expensive,
    the_queue_cannot_be_filled_for_free,
    a_nonce_cannot_be_taken_by_someone_else,
    group_rewards_rank_the_agreeing_nodes_by_their_own_speed,
    a_disagreeing_member_takes_no_rank,
    tasks_keep_the_terms_they_were_created_under,
    a_queued_task_that_starts_hints_model_downloads,
);
