//! Task creation and the task state machine (PROTOCOL.md "Task creation" and "Task states and
//! transitions"), with settlement at every End state.

use alloc::vec::Vec;

use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::SolEvent;

use crate::abi::{
    fail, Result, TaskEndAborted, TaskEndGroupSuccess, TaskEndSuccess, TaskErrorReported,
    TaskParametersUploaded, TaskScoreReady, TaskStarted,
};
use crate::config::to_u96;
use crate::events::{address_word, event_data, uint_word};
use crate::node_record::node_status;
use crate::packing::Word;
use crate::qos;
use crate::requirement::Requirement;
use crate::score;
use crate::task_record::{
    abort_reason, elapsed, field, nonce_slot, status, task_base, task_error, task_type, Execution,
    TaskHead, TaskMoney,
};
use crate::{Host, TaskContract};

/// Most model IDs a task may name (each is hashed and looked up at dispatch).
pub const MAX_TASK_MODELS: usize = 8;

/// The arguments of `createTask`.
pub(crate) struct NewTask<'a> {
    pub task_type: u8,
    pub commitment: B256,
    pub nonce: B256,
    pub model_ids: Vec<&'a [u8]>,
    pub minimum_vram: u64,
    pub required_gpu: &'a [u8],
    pub required_gpu_vram: u64,
    pub version: [u32; 3],
    pub size: u64,
    pub params_commitment: B256,
}

/// What happens to the task's node when the task ends without a result.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeOutcome {
    /// The task never had a node (it was queued).
    NoNode,
    /// The node is released and its QoS is left as it was: the task's end was not its doing.
    Unchanged,
    /// The node is released with this task score.
    Score(u8),
}

/// Largest task size: sizes are kept in 48 bits (`task_record.rs`).
const MAX_TASK_SIZE: u64 = (1 << 48) - 1;

impl<H: Host> TaskContract<H> {
    /// An existing task.
    pub(crate) fn existing_task(&self, c: &B256) -> Result<TaskHead> {
        let head = self.task_head(c);
        if !head.exists() {
            return fail!(TaskNotFound {
                taskIDCommitment: *c
            });
        }
        Ok(head)
    }

    /// An existing task in the given state.
    fn task_in(&self, c: &B256, expected: u8) -> Result<TaskHead> {
        let head = self.existing_task(c)?;
        if head.status != expected {
            return fail!(IllegalTaskState {
                taskIDCommitment: *c,
                status: head.status
            });
        }
        Ok(head)
    }

    fn require_relay(&self) -> Result<()> {
        if self.host.sender() != self.task_config()?.relay {
            return fail!(NotRelay);
        }
        Ok(())
    }

    /// The task's execution, when the caller is its selected node.
    fn execution_of_caller(&self, c: &B256) -> Result<Execution> {
        let exe = self.execution(c);
        if exe.node != self.host.sender() {
            return fail!(NotSelectedNode);
        }
        Ok(exe)
    }
    pub(crate) fn create_task_impl(&mut self, t: NewTask<'_>) -> Result<()> {
        let config = self.task_config()?;
        let fee = to_u96(self.host.value())?;
        if fee == 0 {
            return fail!(ZeroTaskFee);
        }
        if t.task_type > task_type::SD_FT {
            return fail!(InvalidTaskType {
                taskType: t.task_type
            });
        }
        if t.size == 0 {
            return fail!(ZeroTaskSize);
        }
        if t.size > MAX_TASK_SIZE {
            return fail!(ValueTooLarge);
        }
        if t.task_type != task_type::SD && t.required_gpu.is_empty() {
            return fail!(GPURequired);
        }
        if t.commitment.is_zero() {
            return fail!(InvalidTaskCommitment);
        }
        if t.params_commitment.is_zero() {
            return fail!(InvalidParamsCommitment);
        }
        if t.model_ids.len() > MAX_TASK_MODELS {
            return fail!(TooManyModels);
        }
        let creator = self.host.sender();
        if !self.nonce_record(&creator, &t.nonce).is_zero() {
            return fail!(NonceAlreadyUsed { nonce: t.nonce });
        }
        let c = &t.commitment;
        if self.task_head(c).exists() {
            return fail!(TaskAlreadyExists {
                taskIDCommitment: *c
            });
        }
        let mut seed_input = [0u8; 64];
        seed_input[..32].copy_from_slice(self.previous_block_hash()?.as_slice());
        seed_input[32..].copy_from_slice(t.commitment.as_slice());
        let seed = keccak256(seed_input);
        let req = Requirement {
            min_vram: t.minimum_vram,
            gpu_vram: t.required_gpu_vram,
            version: t.version,
            gpu_hash: if t.required_gpu.is_empty() {
                B256::ZERO
            } else {
                keccak256(t.required_gpu)
            },
        };
        let model_hashes: Vec<B256> = t.model_ids.iter().map(keccak256).collect();
        let selection = self.select_node(&req, &model_hashes, &seed);
        // A task that no joined node could ever run would only wait in the queue.
        if selection.fitting.is_empty() {
            return fail!(NoNodeCanRunTask);
        }

        // The nonce record keeps the (non-zero) paramsCommitment: the nonce is used from now on.
        self.put(nonce_slot(&creator, &t.nonce), Word(t.params_commitment.0));
        let mut stats = self.stats();
        stats.task_count += 1;
        self.set_stats(&stats);
        let seq = stats.task_count;
        let requirement = self.requirement_id(&req, t.required_gpu, &t.model_ids);
        let now = self.host.timestamp();
        let money = TaskMoney {
            fee,
            size: t.size,
            created: now,
            sequence: seq,
            requirement,
        };
        let base = task_base(c);
        self.put_at(base, field::MONEY, money.encode());
        self.put_at(base, field::SEED, Word(seed.0));
        self.put_at(base, field::NONCE, Word(t.nonce.0));
        let mut head = TaskHead {
            creator,
            status: status::QUEUED,
            task_type: t.task_type,
            since: now,
            terms_id: config.terms_id,
            ..Default::default()
        };

        match selection.node {
            Some(node) => {
                let mut core = self.node_core(&node);
                self.set_node_weight(&node, &core, false);
                core.status = node_status::BUSY;
                self.set_node_core(&node, &core);
                self.assign(c, &mut head, node, now);
                self.hint_downloads(
                    &selection,
                    node,
                    &t.model_ids,
                    &model_hashes,
                    t.task_type,
                    &seed,
                );
            }
            None => {
                self.set_task_head(c, &head);
                self.enqueue(c, seq, money.price(), requirement, config.queue_limit)?;
            }
        }
        Ok(())
    }

    /// Starts the task on the node (already marked busy).
    fn assign(&mut self, c: &B256, head: &mut TaskHead, node: Address, now: u64) {
        head.enter(status::STARTED, now);
        self.set_task_head(c, head);
        self.set_execution(
            c,
            &Execution {
                node,
                started: now,
                ..Default::default()
            },
        );
        self.set_node_task(&node, c);
        self.emit_task_node(TaskStarted::SIGNATURE_HASH, c, &node);
    }

    /// Starts a task just taken from the queue on a node that was just marked busy, and tells
    /// other fitting nodes to fetch its models when too few hold them.
    pub(crate) fn start_queued_task(&mut self, c: &B256, node: Address) {
        let mut head = self.task_head(c);
        let now = self.host.timestamp();
        self.assign(c, &mut head, node, now);
        let requirement = self.task_money(c).requirement;
        let seed = B256::new(self.task_word(c, field::SEED).0);
        self.hint_downloads_for(requirement, node, head.task_type, &seed);
    }
    pub(crate) fn report_parameters_uploaded_impl(&mut self, c: B256) -> Result<()> {
        self.require_relay()?;
        let c = &c;
        let mut head = self.task_in(c, status::STARTED)?;
        head.enter(status::PARAMETERS_UPLOADED, self.host.timestamp());
        self.set_task_head(c, &head);
        self.emit_task_node(
            TaskParametersUploaded::SIGNATURE_HASH,
            c,
            &self.execution(c).node,
        );
        Ok(())
    }
    pub(crate) fn submit_score_impl(&mut self, c: B256, task_score: &[u8]) -> Result<()> {
        let c = &c;
        let mut head = self.task_in(c, status::PARAMETERS_UPLOADED)?;
        let mut exe = self.execution_of_caller(c)?;
        if !score::is_well_formed(head.task_type, task_score) {
            return fail!(InvalidScore);
        }
        let now = self.host.timestamp();
        exe.time = elapsed(head.since, now);
        exe.score_len = task_score.len() as u16;
        self.set_execution(c, &exe);
        self.set_task_score(c, task_score);
        head.enter(status::SCORE_READY, now);
        self.set_task_head(c, &head);
        self.emit(
            &[
                TaskScoreReady::SIGNATURE_HASH.0,
                c.0,
                address_word(&exe.node),
            ],
            &event_data(&[], Some(task_score)),
        );
        Ok(())
    }
    pub(crate) fn report_error_impl(&mut self, c: B256, error: u8) -> Result<()> {
        let c = &c;
        let mut head = self.task_in(c, status::PARAMETERS_UPLOADED)?;
        let mut exe = self.execution_of_caller(c)?;
        if error != task_error::PARAMETERS_VALIDATION_FAILED {
            return fail!(InvalidTaskError { error });
        }
        let now = self.host.timestamp();
        exe.time = elapsed(head.since, now);
        self.set_execution(c, &exe);
        head.enter(status::ERROR_REPORTED, now);
        head.error = error;
        self.set_task_head(c, &head);
        self.emit(
            &[
                TaskErrorReported::SIGNATURE_HASH.0,
                c.0,
                address_word(&exe.node),
            ],
            &uint_word(error as u128),
        );
        Ok(())
    }
    pub(crate) fn report_result_uploaded_impl(&mut self, c: B256) -> Result<()> {
        self.require_relay()?;
        let c = &c;
        let mut head = self.existing_task(c)?;
        let node = self.execution(c).node;
        let fee = self.task_money(c).fee;
        let now = self.host.timestamp();
        let node_score = match head.status {
            status::VALIDATED => {
                head.enter(status::END_SUCCESS, now);
                self.set_task_head(c, &head);
                self.emit_task(TaskEndSuccess::SIGNATURE_HASH, c);
                self.pay(node, fee);
                qos::SUCCESS_SCORE
            }
            status::GROUP_VALIDATED => {
                head.enter(status::END_GROUP_SUCCESS, now);
                self.set_task_head(c, &head);
                self.emit_task(TaskEndGroupSuccess::SIGNATURE_HASH, c);
                let payees = self.group_payees(c);
                for (to, amount) in payees.split(node, fee) {
                    self.pay(to, amount);
                }
                payees.parts[0]
            }
            s => {
                return fail!(IllegalTaskState {
                    taskIDCommitment: *c,
                    status: s
                })
            }
        };
        self.release_node(node, Some(node_score));
        Ok(())
    }

    /// Aborts a task whose current state's deadline has passed (PROTOCOL.md "Deadlines"): a
    /// queued task by anyone (by its creator at any time), a started one by its creator or its
    /// node. The node's QoS records a timeout only when the delay was its own (the parameters
    /// were there but no score came, or the task was validated but no result was uploaded).
    pub(crate) fn abort_task_impl(&mut self, c: B256, reason: u8) -> Result<()> {
        let c = &c;
        let mut head = self.existing_task(c)?;
        if reason == abort_reason::NONE || reason > abort_reason::MAX {
            return fail!(InvalidAbortReason { reason });
        }
        let Some(duration) = self.terms(head.terms_id).duration(head.status) else {
            return fail!(IllegalTaskState {
                taskIDCommitment: *c,
                status: head.status
            });
        };
        let caller = self.host.sender();
        let deadline = head.since + duration as u64;
        let passed = self.host.timestamp() > deadline;
        if head.status == status::QUEUED {
            if caller != head.creator && !passed {
                return fail!(DeadlineNotReached { deadline });
            }
            let money = self.task_money(c);
            self.unlink(c, money.sequence, money.requirement);
            self.end_aborted(c, &mut head, reason, caller, NodeOutcome::NoNode);
            return Ok(());
        }
        if caller != head.creator && caller != self.execution(c).node {
            return fail!(NotTaskParticipant);
        }
        if !passed {
            return fail!(DeadlineNotReached { deadline });
        }
        let outcome = match head.status {
            status::PARAMETERS_UPLOADED | status::VALIDATED | status::GROUP_VALIDATED => {
                NodeOutcome::Score(qos::TIMEOUT_SCORE)
            }
            _ => NodeOutcome::Unchanged,
        };
        self.end_aborted(c, &mut head, reason, caller, outcome);
        Ok(())
    }

    /// EndAborted: the fee goes back to the creator; the node (if any) is released.
    pub(crate) fn end_aborted(
        &mut self,
        c: &B256,
        head: &mut TaskHead,
        reason: u8,
        issuer: Address,
        node: NodeOutcome,
    ) {
        let last = head.status;
        head.enter(status::END_ABORTED, self.host.timestamp());
        head.abort_reason = reason;
        self.set_task_head(c, head);
        self.emit(
            &[TaskEndAborted::SIGNATURE_HASH.0, c.0, address_word(&issuer)],
            &event_data(&[uint_word(last as u128), uint_word(reason as u128)], None),
        );
        let fee = self.task_money(c).fee;
        self.pay(head.creator, fee);
        let score = match node {
            NodeOutcome::NoNode => return,
            NodeOutcome::Unchanged => None,
            NodeOutcome::Score(s) => Some(s),
        };
        let node = self.execution(c).node;
        self.release_node(node, score);
    }
}
