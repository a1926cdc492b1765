//! The read-only views an application and a worker need, ABI-encoded as `getTask` and
//! `getNodeInfo` return them (the `TaskInfo` and `NodeInfo` structs of `abi.rs`).

use alloc::vec::Vec;

use alloy_primitives::{Address, B256};

use crate::abi::Result;
use crate::events::{address_word, uint_word};
use crate::gpu_class::{class_base, field as class_field};
use crate::node_record::{field as node_field, node_base, node_status};
use crate::qos;
use crate::returndata::{bytes_array, word_array, Tuple};
use crate::task_record::{field, status, Execution};
use crate::{Host, TaskContract};

/// Head words of `TaskInfo` (23 fields; `uint32[3]`, `TaskTimes` and `TaskTerms` inline).
const TASK_INFO_WORDS: usize = 33;
/// Head words of `ContractConfig` (14 static fields).
const CONFIG_WORDS: usize = 14;
/// Head words of `NodeInfo` (11 fields, `uint32[3]` inline).
const NODE_INFO_WORDS: usize = 13;

impl<H: Host> TaskContract<H> {
    /// `getTask`: every field of the task, ABI-encoded as `(TaskInfo)`.
    pub(crate) fn task_info(&self, commitment: B256) -> Result<Vec<u8>> {
        let c = &commitment;
        let head = self.existing_task(c)?;
        let money = self.task_money(c);
        let terms = self.terms(head.terms_id);
        let req = self.requirement(money.requirement);
        let exe = if head.status == status::QUEUED {
            // While queued, the run word holds queue links.
            Execution::default()
        } else {
            self.execution(c)
        };
        let mut payees = Vec::new();
        let mut payments = Vec::new();
        if head.status == status::GROUP_VALIDATED {
            for (to, amount) in self.group_payees(c).split(exe.node, money.fee) {
                if amount > 0 {
                    payees.push(address_word(&to));
                    payments.push(uint_word(amount));
                }
            }
        }
        let deadline = terms
            .duration(head.status)
            .map_or(0, |d| head.since + d as u64);
        // Once GroupValidated, the spent seed's word holds the group's payees: reported as 0.
        let seed = match head.status {
            status::GROUP_VALIDATED | status::END_GROUP_SUCCESS => B256::ZERO,
            _ => B256::new(self.task_word(c, field::SEED).0),
        };
        let nonce = B256::new(self.task_word(c, field::NONCE).0);
        let mut t = Tuple::new(TASK_INFO_WORDS);
        t.uint(head.task_type as u128)
            .address(&head.creator)
            .word(&commitment.0)
            .word(&seed.0)
            .word(&nonce.0)
            .word(&self.nonce_record(&head.creator, &nonce).0)
            .uint(money.sequence as u128)
            .uint(head.status as u128)
            .address(&exe.node)
            .bytes(&self.task_score(c, &exe))
            .uint(money.fee)
            .uint(money.size as u128)
            .dynamic(&bytes_array(&self.requirement_models(money.requirement)))
            .uint(req.min_vram as u128)
            .bytes(&self.requirement_gpu(money.requirement))
            .uint(req.gpu_vram as u128);
        for v in req.version {
            t.uint(v as u128);
        }
        t.uint(head.abort_reason as u128)
            .uint(head.error as u128)
            .uint(money.created as u128)
            .uint(exe.started as u128)
            .uint(head.since as u128)
            .uint(deadline as u128)
            .uint(exe.time as u128);
        for d in [terms.queue, terms.upload, terms.execution, terms.validation] {
            t.uint(d as u128);
        }
        t.uint(terms.sampling_rate as u128)
            .dynamic(&word_array(&payees))
            .dynamic(&word_array(&payments));
        Ok(wrap(t))
    }

    /// `getConfig`, ABI-encoded as `(ContractConfig)` (a static struct: inline).
    pub(crate) fn config_info(&self) -> Vec<u8> {
        let c = self.config();
        let terms = self.terms(c.terms_id);
        let mut t = Tuple::new(CONFIG_WORDS);
        t.address(&c.owner)
            .address(&self.pending_owner())
            .address(&c.relay)
            .address(&c.treasury)
            .address(&self.verifier())
            .uint(c.min_stake);
        for d in [terms.queue, terms.upload, terms.execution, terms.validation] {
            t.uint(d as u128);
        }
        t.uint(terms.threshold as u128)
            .uint(terms.sampling_rate as u128)
            .uint(c.queue_limit as u128)
            .uint(c.max_classes as u128);
        t.finish()
    }

    /// `getNodeInfo`, ABI-encoded as `(NodeInfo)`; a node that never joined or quit reads as
    /// all zeros with status QUIT.
    pub(crate) fn node_info(&self, node: Address) -> Vec<u8> {
        let core = self.node_core(&node);
        let mut t = Tuple::new(NODE_INFO_WORDS);
        if core.status == node_status::QUIT {
            t.uint(node_status::QUIT as u128).bytes(&[]);
            for _ in 0..4 {
                t.uint(0);
            }
            t.bytes(&[]).uint(0).uint(0);
            t.dynamic(&word_array(&[]))
                .dynamic(&word_array(&[]))
                .uint(0)
                .uint(0);
            return wrap(t);
        }
        let class = self.class_spec(core.class_id);
        let base = node_base(&node);
        let mut public_key = Vec::with_capacity(64);
        public_key.extend_from_slice(&self.get_at(base, node_field::PUBKEY_X).0);
        public_key.extend_from_slice(&self.get_at(base, node_field::PUBKEY_Y).0);
        let mut recent = Vec::new();
        for s in &core.recent[..core.recent_count as usize] {
            recent.push(uint_word(*s as u128));
        }
        let mut models = Vec::new();
        for i in 0..core.model_count {
            models.push(self.node_model(&node, i).0);
        }
        t.uint(core.status as u128)
            .bytes(&self.get_bytes(class_base(core.class_id) + class_field::NAME))
            .uint(class.vram as u128);
        for v in class.version {
            t.uint(v as u128);
        }
        t.bytes(&public_key)
            .uint(core.stake)
            .uint(qos::weight(&core, self.stats().average_task_score()) as u128)
            .dynamic(&word_array(&recent))
            .dynamic(&word_array(&models))
            .word(&self.node_task(&node).0)
            .uint(core.joined_at as u128);
        wrap(t)
    }
}

/// A struct returned by a view is a one-element tuple holding the (dynamic) struct.
fn wrap(inner: Tuple) -> Vec<u8> {
    let mut outer = Tuple::new(1);
    outer.dynamic(&inner.finish());
    outer.finish()
}
