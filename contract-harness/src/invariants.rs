//! Random sequences of protocol calls on any [`ProtocolChain`], most of them refused as a careless
//! or hostile caller would send them: nodes of three GPU classes joining, pausing and quitting,
//! tasks of four requirement partitions, validation groups (agreeing, with a cheater, with error
//! reports, with aborted members), time jumps across every deadline, aborts by the creator, the
//! node and strangers in every state. The nodes are honest (they submit the true score of their
//! task's parameters, or report the parameters' error) except one cheater, whose wrong scores never
//! agree with anyone's.
//!
//! Checked after every call:
//! - ether is never stuck: the contract's balance is exactly the stakes, plus the fees of tasks
//!   not yet final, plus the credits of refused payments;
//! - a refused call changes neither the contract's storage nor its balance;
//! - only the cheater is ever slashed;
//! - a task aborted in a state that was not its node's to finish (Started, ScoreReady,
//!   ErrorReported) leaves the node's QoS as it was;
//! - a node's current task is a live task selected for that node, and a busy node has one.
//!
//! And at the end of every sequence, once every deadline has passed, every task can be brought to
//! a final state, after which the contract holds exactly the stakes and the credits.

use alloy_primitives::{keccak256, Address, B256, U256};
use proptest::prelude::*;

use crate::net::{
    node_status, status, wei, Net, Task, ETH, EXECUTION_TIMEOUT, PARAMS_HASH, PAST_EVERY_DEADLINE,
    UPLOAD_TIMEOUT, VALIDATION_TIMEOUT,
};
use crate::{ITaskContract, ProtocolChain, Revert};

/// The node that cheats (index into the net's nodes).
pub const CHEATER: usize = 5;
/// An honest node that is often offline: it works only when an op tells it to, never as the
/// next step of `Progress`, so its tasks time out now and then.
pub const SLOW: usize = 1;

/// GPU classes nodes join with: name, VRAM, version, local models.
const CLASSES: [(&str, u64, [u32; 3], &[&str]); 3] = [
    ("RTX 4090", 24, [1, 0, 0], &["sd15"]),
    ("A100", 80, [1, 0, 0], &["llama"]),
    ("RTX 4090", 24, [1, 1, 0], &["sd15", "sdxl"]),
];

/// A requirement partition: task type, model, minimum VRAM, required GPU and its VRAM, version.
type Partition = (u8, &'static str, u64, &'static str, u64, [u32; 3]);

/// Requirement partitions tasks are created with. Partition 0 fits every class, 1 and 3 only the
/// A100s, 2 only the newer RTX 4090s.
const REQUIREMENTS: [Partition; 4] = [
    (0, "sd15", 8, "", 0, [1, 0, 0]),
    (1, "llama", 0, "A100", 80, [1, 0, 0]),
    (0, "sd15", 24, "", 0, [1, 1, 0]),
    (0, "sdxl", 40, "", 0, [1, 0, 0]),
];

/// Patterns the cheater flips into its image scores: each differs from the true hash, and from
/// every other pattern, in 32 of 64 bits (threshold 24), so no two wrong scores ever agree.
const CHEAT_PATTERNS: [u64; 3] = [
    0xFFFF_FFFF_0000_0000,
    0x0000_0000_FFFF_FFFF,
    0xFFFF_0000_FFFF_0000,
];

/// Which task an op acts on: usually one of the tasks in a state where the op can succeed (so that
/// sequences reach deep into the lifecycle), sometimes any task (mostly refused).
#[derive(Clone, Copy, Debug)]
pub struct Pick {
    pub index: usize,
    pub any: bool,
}

fn pick() -> impl Strategy<Value = Pick> + Clone {
    (0..64usize, prop::bool::weighted(0.2)).prop_map(|(index, any)| Pick { index, any })
}

#[derive(Clone, Copy, Debug)]
pub enum Party {
    Creator,
    Node,
    Stranger,
}

#[derive(Clone, Debug)]
pub enum Op {
    Join {
        node: usize,
        class: usize,
    },
    /// A task with new parameters (a new GUID) in requirement partition `req`; `bad_params`:
    /// parameters every honest node refuses with an error report.
    Create {
        fee: u8,
        size: u8,
        req: usize,
        bad_params: bool,
    },
    /// Another task of task k's group (same GUID, parameters and requirements).
    Sibling {
        task: Pick,
        fee: u8,
    },
    Params(Pick),
    /// The selected node works on task k: the true score, an error report for bad parameters,
    /// or (the cheater) a wrong score.
    Work(Pick),
    ValidateSingle(Pick),
    /// validateTaskGroup of the first three tasks of task k's group, in the argument order `order`
    /// picks.
    ValidateGroup {
        task: Pick,
        order: u8,
    },
    Abort {
        task: Pick,
        by: Party,
    },
    UploadResult(Pick),
    /// The next step of a live task's lifecycle, as the honest party whose turn it is takes it:
    /// parameters, work, validation (alone, or by completing and validating its group), the
    /// result.
    Progress(Pick),
    /// Moves the clock just past one of the deadlines (or by one second).
    Advance(u8),
    Pause(usize),
    Resume(usize),
    Quit(usize),
    Withdraw(Pick, bool),
    RejectPayments(usize, bool),
}

pub fn op() -> impl Strategy<Value = Op> {
    let node = 0..6usize;
    let task = pick();
    let party = prop_oneof![
        Just(Party::Creator),
        Just(Party::Node),
        Just(Party::Stranger)
    ];
    prop_oneof![
        3 => (node.clone(), 0..3usize).prop_map(|(node, class)| Op::Join { node, class }),
        4 => (1..5u8, 1..3u8, 0..4usize, prop::bool::weighted(0.15)).prop_map(
            |(fee, size, req, bad_params)| Op::Create { fee, size, req, bad_params }),
        6 => (task.clone(), 1..5u8).prop_map(|(task, fee)| Op::Sibling { task, fee }),
        12 => task.clone().prop_map(Op::Params),
        12 => task.clone().prop_map(Op::Work),
        5 => task.clone().prop_map(Op::ValidateSingle),
        6 => (task.clone(), 0..6u8).prop_map(|(task, order)| Op::ValidateGroup { task, order }),
        5 => (task.clone(), party).prop_map(|(task, by)| Op::Abort { task, by }),
        6 => task.clone().prop_map(Op::UploadResult),
        30 => task.clone().prop_map(Op::Progress),
        4 => (0..5u8).prop_map(Op::Advance),
        1 => node.clone().prop_map(Op::Pause),
        3 => node.clone().prop_map(Op::Resume),
        1 => node.clone().prop_map(Op::Quit),
        2 => (task, any::<bool>()).prop_map(|(p, fixed)| Op::Withdraw(p, fixed)),
        2 => (0..7usize, any::<bool>()).prop_map(|(a, r)| Op::RejectPayments(a, r)),
    ]
}

/// A task of the run and what the application knows about it.
#[derive(Clone, Copy, Debug)]
struct Created {
    task: Task,
    req: usize,
    size: u8,
    bad_params: bool,
    /// Whether the application's VRF samples the task for group validation.
    sampled: bool,
}

/// The state of one run.
#[derive(Default)]
pub struct Run {
    tasks: Vec<Created>,
    /// Wrong scores the cheater has submitted, per GUID (so that it never repeats one in a group).
    cheats: Vec<(B256, usize)>,
}

/// The accounts that may hold credits: the nodes and the application (index 6).
fn account<C: ProtocolChain>(net: &Net<C>, i: usize) -> Address {
    net.nodes.get(i).map_or(net.app.address, |k| k.address)
}

fn is_final(s: u8) -> bool {
    s >= status::END_INVALIDATED
}

/// States a task is validated from.
const SCORED: [u8; 2] = [status::SCORE_READY, status::ERROR_REPORTED];

/// A pick filter: the task is in one of `states`.
fn in_state<C: ProtocolChain>(states: &[u8]) -> impl Fn(&Run, &Net<C>, &Created) -> bool + '_ {
    move |_, net, t| states.contains(&net.status(t.task.commitment))
}

/// The score an honest node computes for parameters of `guid`: the image hash of type SD, the
/// result hash of type LLM.
fn true_score(task_type: u8, guid: &B256) -> Vec<u8> {
    let h = keccak256([b"result of ".as_slice(), guid.as_slice()].concat());
    if task_type == 1 {
        h.to_vec()
    } else {
        h[..8].to_vec()
    }
}

impl Run {
    /// The task `p` picks: among the tasks for which `fits` holds, unless `p.any` or there are
    /// none; then among all.
    fn pick<C: ProtocolChain>(
        &self,
        net: &Net<C>,
        p: Pick,
        fits: impl Fn(&Run, &Net<C>, &Created) -> bool,
    ) -> Option<Created> {
        let fitting: Vec<Created> = if p.any {
            Vec::new()
        } else {
            self.tasks
                .iter()
                .copied()
                .filter(|t| fits(self, net, t))
                .collect()
        };
        let from = if fitting.is_empty() {
            &self.tasks
        } else {
            &fitting
        };
        (!from.is_empty()).then(|| from[p.index % from.len()])
    }

    /// The most members any group of a sampled first task has, below three.
    fn fullest_open_group(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| self.first_of(t).sampled)
            .map(|t| self.members(t))
            .filter(|n| *n < 3)
            .max()
            .unwrap_or(0)
    }

    /// The first task of `t`'s group.
    fn first_of(&self, t: &Created) -> Created {
        self.tasks
            .iter()
            .find(|m| m.task.guid == t.task.guid)
            .copied()
            .unwrap_or(*t)
    }

    /// The tasks of `t`'s group created so far.
    fn members(&self, t: &Created) -> usize {
        self.tasks
            .iter()
            .filter(|m| m.task.guid == t.task.guid)
            .count()
    }

    /// The cheater's score for a task: never equal to, or within the threshold of, the true
    /// score or another wrong score of the same group.
    fn wrong_score(&mut self, t: &Created) -> Vec<u8> {
        let task_type = REQUIREMENTS[t.req].0;
        let honest = true_score(task_type, &t.task.guid);
        if task_type == 1 {
            return keccak256(t.task.commitment).to_vec();
        }
        let used = match self.cheats.iter_mut().find(|(g, _)| *g == t.task.guid) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.cheats.push((t.task.guid, 1));
                0
            }
        };
        let pattern = CHEAT_PATTERNS[used % CHEAT_PATTERNS.len()];
        let wrong = u64::from_be_bytes(honest[..8].try_into().unwrap_or_default()) ^ pattern;
        wrong.to_be_bytes().to_vec()
    }

    /// The first three tasks of `t`'s group, in creation (= sequence) order.
    fn group_of(&self, t: &Created) -> Option<[Task; 3]> {
        let guid = t.task.guid;
        let members: Vec<Task> = self
            .tasks
            .iter()
            .filter(|t| t.task.guid == guid)
            .map(|t| t.task)
            .take(3)
            .collect();
        members.try_into().ok()
    }
}

fn create<C: ProtocolChain>(
    net: &mut Net<C>,
    run: &mut Run,
    guid: B256,
    fee: u8,
    size: u8,
    req: usize,
    bad_params: bool,
) -> Result<(), Revert> {
    let task = net.new_task(guid);
    let (task_type, model, min_vram, gpu, gpu_vram, version) = REQUIREMENTS[req];
    let call = ITaskContract::createTaskCall {
        task_type,
        task_id_commitment: task.commitment,
        nonce: task.nonce,
        model_ids: vec![model.into()],
        minimum_vram: min_vram,
        required_gpu: gpu.into(),
        required_gpu_vram: gpu_vram,
        task_version: version,
        task_size: size as u64,
        params_commitment: task.params_commitment(&PARAMS_HASH),
    };
    net.chain
        .send(net.app.address, wei(fee as u128 * ETH), call)
        .map(|_| {
            run.tasks.push(Created {
                task,
                req,
                size,
                bad_params,
                sampled: net.sampled(task.commitment),
            })
        })
}

/// The invariants that hold after every call.
pub fn check<C: ProtocolChain>(net: &Net<C>, run: &Run) -> Result<(), TestCaseError> {
    let stakes = net.stakes();
    let escrow: U256 = run
        .tasks
        .iter()
        .map(|t| net.task(t.task.commitment))
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

/// Whether a group member is in a state group validation takes.
fn validatable<C: ProtocolChain>(net: &Net<C>, t: &Task) -> bool {
    let s = net.status(t.commitment);
    SCORED.contains(&s) || s == status::END_ABORTED
}

/// Another task of `t`'s group: same GUID, parameters and requirements.
fn sibling<C: ProtocolChain>(
    net: &mut Net<C>,
    run: &mut Run,
    t: &Created,
    fee: u8,
) -> Result<(), Revert> {
    create(net, run, t.task.guid, fee, t.size, t.req, t.bad_params)
}

/// The selected node works on `t`: the true score, an error report for bad parameters, or (the
/// cheater) a wrong score. Before the task has a node, the application tries to score it.
fn work<C: ProtocolChain>(net: &Net<C>, run: &mut Run, t: &Created) -> Result<(), Revert> {
    let c = t.task.commitment;
    let node = net.selected(c);
    let task_type = REQUIREMENTS[t.req].0;
    if node.is_zero() {
        let call = ITaskContract::submitTaskScoreCall {
            task_id_commitment: c,
            task_score: true_score(task_type, &t.task.guid).into(),
        };
        net.call_as(net.app.address, call)
    } else if node == net.nodes[CHEATER].address {
        let call = ITaskContract::submitTaskScoreCall {
            task_id_commitment: c,
            task_score: run.wrong_score(t).into(),
        };
        net.call_as(node, call)
    } else if t.bad_params {
        net.report_error(c)
    } else {
        net.submit(c, &true_score(task_type, &t.task.guid))
    }
}

/// validateTaskGroup of the first three tasks of `t`'s group, in the argument order `order`
/// picks (the contract orders them by sequence).
fn validate_group<C: ProtocolChain>(
    net: &Net<C>,
    run: &Run,
    t: &Created,
    order: u8,
) -> Result<(), Revert> {
    let Some(g) = run.group_of(t) else {
        return Ok(());
    };
    let perms = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let p = perms[order as usize % 6];
    let call = net.group_call([&g[p[0]], &g[p[1]], &g[p[2]]], &g[0]);
    net.call_as(net.app.address, call)
}

/// The next step of `t`'s lifecycle by whoever's turn it is.
fn progress<C: ProtocolChain>(net: &mut Net<C>, run: &mut Run, t: &Created) -> Result<(), Revert> {
    let c = t.task.commitment;
    match net.status(c) {
        status::STARTED => net.upload_params(c),
        status::PARAMETERS_UPLOADED if net.selected(c) == net.nodes[SLOW].address => Ok(()),
        status::PARAMETERS_UPLOADED => work(net, run, t),
        status::VALIDATED | status::GROUP_VALIDATED => net.upload_result(c),
        _ if !run.first_of(t).sampled => net.validate_single(c),
        _ if run.members(t) < 3 => sibling(net, run, &run.first_of(t), 1),
        _ => match run.group_of(t) {
            Some(g) if g.iter().all(|m| validatable(net, m)) => validate_group(net, run, t, 0),
            // A member still on its way: work on it instead.
            Some(g) => match g.iter().find(|m| !validatable(net, m)) {
                Some(m) => {
                    let m = run
                        .tasks
                        .iter()
                        .find(|x| x.task.commitment == m.commitment)
                        .copied()
                        .unwrap_or(*t);
                    match net.status(m.task.commitment) {
                        status::STARTED => net.upload_params(m.task.commitment),
                        status::PARAMETERS_UPLOADED => work(net, run, &m),
                        _ => Ok(()),
                    }
                }
                None => Ok(()),
            },
            None => Ok(()),
        },
    }
}

/// Applies `op`; a refused call must leave the contract's storage and balance as they were.
pub fn apply<C: ProtocolChain>(
    net: &mut Net<C>,
    run: &mut Run,
    op: &Op,
) -> Result<(), TestCaseError> {
    let before = net.chain.contract_state();
    // For aborts: the node and its recent task scores before the call.
    let mut watched: Option<(Address, Vec<u8>)> = None;
    // Refusals are part of the test: what matters is that they change nothing.
    let result = match op {
        Op::Join { node, class } => {
            let (gpu, vram, version, models) = CLASSES[*class];
            let key = net.nodes[*node].clone();
            net.join_with(&key, gpu, vram, version, models)
        }
        Op::Create {
            fee,
            size,
            req,
            bad_params,
        } => {
            let guid =
                keccak256([b"guid".as_slice(), &(run.tasks.len() as u64).to_be_bytes()].concat());
            create(net, run, guid, *fee, *size, *req, *bad_params)
        }
        // The application adds siblings to sampled tasks, completing one group before the next.
        Op::Sibling { task, fee } => match run.pick(net, *task, |r, _, t| {
            r.first_of(t).sampled && r.members(t) == r.fullest_open_group()
        }) {
            Some(t) => sibling(net, run, &t, *fee),
            None => Ok(()),
        },
        Op::Params(k) => match run.pick(net, *k, in_state(&[status::STARTED])) {
            Some(t) => net.upload_params(t.task.commitment),
            None => Ok(()),
        },
        Op::Work(k) => match run.pick(net, *k, in_state(&[status::PARAMETERS_UPLOADED])) {
            Some(t) => work(net, run, &t),
            None => Ok(()),
        },
        Op::ValidateSingle(k) => match run.pick(net, *k, in_state(&SCORED)) {
            Some(t) => net.validate_single(t.task.commitment),
            None => Ok(()),
        },
        Op::ValidateGroup { task, order } => match run.pick(net, *task, |r, net, t| {
            r.group_of(t)
                .is_some_and(|g| g.iter().all(|m| validatable(net, m)))
        }) {
            Some(t) => validate_group(net, run, &t, *order),
            None => Ok(()),
        },
        // Mostly tasks past their deadline (or queued), which some party may abort.
        Op::Abort { task, by } => match run.pick(net, *task, |_, net, t| {
            let info = net.task(t.task.commitment);
            !is_final(info.status)
                && (info.status == status::QUEUED || info.times.deadline < net.chain.now())
        }) {
            Some(t) => {
                let c = t.task.commitment;
                let node = net.selected(c);
                let from = match by {
                    Party::Creator => net.app.address,
                    Party::Node if !node.is_zero() => node,
                    _ => net.owner.address,
                };
                if !node.is_zero() {
                    watched = Some((node, net.node_info(node).recentTaskScores));
                }
                net.abort(from, c, 1)
            }
            None => Ok(()),
        },
        Op::UploadResult(k) => match run.pick(
            net,
            *k,
            in_state(&[status::VALIDATED, status::GROUP_VALIDATED]),
        ) {
            Some(t) => net.upload_result(t.task.commitment),
            None => Ok(()),
        },
        Op::Progress(k) => match run.pick(net, *k, |_, net, t| {
            let s = net.status(t.task.commitment);
            !is_final(s) && s != status::QUEUED
        }) {
            Some(t) => progress(net, run, &t),
            None => Ok(()),
        },
        Op::Advance(which) => {
            let jumps = [
                1,
                UPLOAD_TIMEOUT + 1,
                EXECUTION_TIMEOUT + 1,
                VALIDATION_TIMEOUT + 1,
                PAST_EVERY_DEADLINE,
            ];
            net.chain.advance(jumps[*which as usize % jumps.len()]);
            Ok(())
        }
        Op::Pause(i) => net.call_as(net.nodes[*i].address, ITaskContract::pauseCall {}),
        Op::Resume(i) => net.call_as(net.nodes[*i].address, ITaskContract::resumeCall {}),
        Op::Quit(i) => net.call_as(net.nodes[*i].address, ITaskContract::quitCall {}),
        // Mostly an account with a credit; half the time it first accepts payments again (a
        // wallet fixed), else it withdraws as it is.
        Op::Withdraw(p, fixed) => {
            let with_credit: Vec<Address> = (0..7)
                .map(|i| account(net, i))
                .filter(|a| {
                    !net.chain
                        .view(ITaskContract::creditOfCall { account: *a })
                        .unwrap_or_default()
                        .is_zero()
                })
                .collect();
            let from = if p.any || with_credit.is_empty() {
                account(net, p.index % 7)
            } else {
                with_credit[p.index % with_credit.len()]
            };
            if *fixed {
                net.chain.reject_payments(from, false);
            }
            net.call_as(from, ITaskContract::withdrawCall {})
        }
        Op::RejectPayments(a, reject) => {
            net.chain.reject_payments(account(net, *a), *reject);
            Ok(())
        }
    };
    match result {
        Err(revert) => prop_assert_eq!(
            net.chain.contract_state(),
            before,
            "{:?} was refused ({}) but changed the contract",
            op,
            revert
                .error()
                .map_or_else(|| format!("{:x?}", revert.data), |e| format!("{e:?}"))
        ),
        Ok(()) => {
            for slashed in net.chain.events::<ITaskContract::NodeSlashed>() {
                prop_assert_eq!(
                    slashed.nodeAddress,
                    net.nodes[CHEATER].address,
                    "an honest node was slashed by {:?}",
                    op
                );
            }
            for aborted in net.chain.events::<ITaskContract::TaskEndAborted>() {
                let not_the_nodes_delay = matches!(
                    aborted.lastStatus,
                    status::STARTED | status::SCORE_READY | status::ERROR_REPORTED
                );
                if let (true, Some((node, scores))) = (not_the_nodes_delay, &watched) {
                    let now = net.node_info(*node);
                    if now.status != node_status::QUIT {
                        prop_assert_eq!(
                            &now.recentTaskScores,
                            scores,
                            "{:?}: the node's QoS changed for an abort from status {}",
                            op,
                            aborted.lastStatus
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// Once every deadline has passed, the creator can end every task that is not final (a task
/// that a freed node takes from the queue meanwhile starts a new deadline: one more round); then
/// the contract holds exactly the stakes and the credits.
pub fn drain<C: ProtocolChain>(net: &mut Net<C>, run: &Run) -> Result<(), TestCaseError> {
    for _round in 0..=run.tasks.len() {
        net.chain.advance(PAST_EVERY_DEADLINE);
        // When each task entered its state: past its deadline now.
        let entered: Vec<u64> = run
            .tasks
            .iter()
            .map(|t| net.task(t.task.commitment).times.stateTimestamp)
            .collect();
        let mut live = 0;
        for (t, entered) in run.tasks.iter().zip(entered) {
            let c = t.task.commitment;
            if is_final(net.status(c)) {
                continue;
            }
            live += 1;
            match net.abort(net.app.address, c, 1) {
                Ok(()) => check(net, run)?,
                // Taken from the queue in this round by a node another abort freed.
                Err(_) if net.task(c).times.stateTimestamp != entered => {}
                Err(e) => prop_assert!(
                    false,
                    "task {} in status {} could not be ended: {:?}",
                    c,
                    net.status(c),
                    e.error()
                ),
            }
        }
        if live == 0 {
            return check(net, run);
        }
    }
    prop_assert!(false, "tasks were still live after every round");
    Ok(())
}

/// The nodes of every class join first (node 2, the A100, alone in its class; the cheater among
/// the RTX 4090s of the first class), so that most tasks find a node.
pub fn setup<C: ProtocolChain>(net: &mut Net<C>, run: &mut Run) -> Result<(), TestCaseError> {
    for (node, class) in [(0, 0), (1, 0), (CHEATER, 0), (2, 1), (3, 2), (4, 2)] {
        apply(net, run, &Op::Join { node, class })?;
        check(net, run)?;
    }
    Ok(())
}

/// Runs `ops` on `net` after the setup, checking the invariants after each, then drains it.
pub fn run<C: ProtocolChain>(mut net: Net<C>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut state = Run::default();
    setup(&mut net, &mut state)?;
    for op in ops {
        apply(&mut net, &mut state, op)?;
        check(&net, &state)?;
    }
    drain(&mut net, &state)
}
