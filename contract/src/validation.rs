//! Verifiable secret sampling on chain: the creator proves with its VRF whether a task was
//! sampled for group validation, and a sampled task is validated together with two more tasks
//! whose commitments open to the same secret task GUID.

use alloc::vec::Vec;

use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, Result, TaskEndGroupRefund, TaskEndInvalidated, TaskValidated};
use crate::group::{self, Member};
use crate::lifecycle::NodeOutcome;
use crate::qos::GROUP_RANK_SCORES;
use crate::task_record::{
    abort_reason, field, status, Execution, GroupPayees, TaskHead, TaskMoney,
};
use crate::{Host, TaskContract};

/// Verifiable secret sampling: a task is selected for group validation iff
/// uint256(beta) % rate == 0.
pub fn is_selected(beta: &[u8; 32], rate: u32) -> bool {
    let rate = rate.max(1) as u64;
    beta.iter()
        .fold(0u64, |rem, byte| (rem * 256 + *byte as u64) % rate)
        == 0
}

/// `paramsCommitment` of a task: keccak256(paramsHash || paramsSalt) with paramsSalt =
/// keccak256("params" || taskGUID || nonce), so that equal parameters commit differently in every
/// task and only the creator (who knows the GUID) can link the tasks of a group.
pub fn params_commitment(params_hash: &B256, guid: &B256, nonce: &B256) -> B256 {
    let mut salt_input = [0u8; 70];
    salt_input[..6].copy_from_slice(b"params");
    salt_input[6..38].copy_from_slice(guid.as_slice());
    salt_input[38..].copy_from_slice(nonce.as_slice());
    let mut input = [0u8; 64];
    input[..32].copy_from_slice(params_hash.as_slice());
    input[32..].copy_from_slice(keccak256(salt_input).as_slice());
    keccak256(input)
}

impl<H: Host> TaskContract<H> {
    /// Verifies the creator's VRF proof over the task's sampling seed and tells whether the task
    /// is selected for group validation at `rate`.
    fn sampled(
        &self,
        creator: Address,
        c: &B256,
        rate: u32,
        proof: &[u8],
        public_key: &[u8],
    ) -> Result<bool> {
        let Ok(key) = <[u8; 64]>::try_from(public_key) else {
            return fail!(InvalidPublicKey);
        };
        if Address::new(crate::packing::bytes_at(&keccak256(key)[12..])) != creator {
            return fail!(InvalidPublicKey);
        }
        let seed = self.task_word(c, field::SEED);
        match self.vrf_beta(&key, &seed.0, proof) {
            Some(beta) => Ok(is_selected(&beta.0, rate)),
            None => fail!(InvalidVRFProof),
        }
    }
    pub(crate) fn validate_single_impl(
        &mut self,
        c: B256,
        proof: &[u8],
        public_key: &[u8],
    ) -> Result<()> {
        let c = &c;
        let mut head = self.existing_task(c)?;
        if self.host.sender() != head.creator {
            return fail!(NotTaskCreator);
        }
        if head.status != status::SCORE_READY && head.status != status::ERROR_REPORTED {
            return fail!(IllegalTaskState {
                taskIDCommitment: *c,
                status: head.status
            });
        }
        let rate = self.terms(head.terms_id).sampling_rate;
        if self.sampled(head.creator, c, rate, proof, public_key)? {
            return fail!(TaskSelectedForValidation);
        }
        if head.status == status::SCORE_READY {
            head.enter(status::VALIDATED, self.host.timestamp());
            self.set_task_head(c, &head);
            self.emit_task(TaskValidated::SIGNATURE_HASH, c);
        } else {
            // An error report cannot be checked without a group: the fee goes back, and the node
            // is not blamed.
            let issuer = head.creator;
            self.end_aborted(
                c,
                &mut head,
                abort_reason::INCORRECT_RESULT,
                issuer,
                NodeOutcome::Unchanged,
            );
        }
        Ok(())
    }

    /// Validates a group of three tasks of one creator that open to the same secret GUID and ran
    /// the very same work: same task type, size, requirements and parameters (each task's
    /// paramsCommitment opens to `params_hash` with its own salt). Only then may a member be
    /// slashed for disagreeing with the others.
    pub(crate) fn validate_group_impl(
        &mut self,
        commitments: [B256; 3],
        guid: B256,
        params_hash: B256,
        proof: &[u8],
        public_key: &[u8],
    ) -> Result<()> {
        let [c1, c2, c3] = commitments;
        if c1 == c2 || c1 == c3 || c2 == c3 {
            return fail!(InvalidTaskGroup);
        }
        let caller = self.host.sender();
        let mut heads = [TaskHead::default(); 3];
        let mut moneys = [TaskMoney::default(); 3];
        for i in 0..3 {
            let c = &commitments[i];
            let head = self.existing_task(c)?;
            if head.creator != caller {
                return fail!(NotTaskCreator);
            }
            if !matches!(
                head.status,
                status::SCORE_READY | status::ERROR_REPORTED | status::END_ABORTED
            ) {
                return fail!(IllegalTaskState {
                    taskIDCommitment: *c,
                    status: head.status
                });
            }
            let nonce = B256::new(self.task_word(c, field::NONCE).0);
            let mut preimage = [0u8; 64];
            preimage[..32].copy_from_slice(guid.as_slice());
            preimage[32..].copy_from_slice(nonce.as_slice());
            if keccak256(preimage) != *c {
                return fail!(InvalidTaskGUID {
                    taskIDCommitment: *c
                });
            }
            let money = self.task_money(c);
            if i > 0
                && (head.task_type != heads[0].task_type
                    || money.size != moneys[0].size
                    || money.requirement != moneys[0].requirement)
            {
                return fail!(TaskGroupMismatch {
                    taskIDCommitment: *c
                });
            }
            if params_commitment(&params_hash, &guid, &nonce) != self.nonce_record(&caller, &nonce)
            {
                return fail!(ParamsMismatch {
                    taskIDCommitment: *c
                });
            }
            heads[i] = head;
            moneys[i] = money;
        }
        // Sequence order decides which task carries the sampling proof and how ties break.
        let order = sort3(|i| moneys[i].sequence);
        // Plain array literals: `[T; N]::map` instantiates a bulky generic per use.
        let [a, b, c] = order;
        let cs = [commitments[a], commitments[b], commitments[c]];
        let mut heads = [heads[a], heads[b], heads[c]];
        let fees = [moneys[a].fee, moneys[b].fee, moneys[c].fee];
        // The first task's terms decide: it is the one whose sampling is proved.
        let terms = self.terms(heads[0].terms_id);
        if !self.sampled(caller, &cs[0], terms.sampling_rate, proof, public_key)? {
            return fail!(TaskNotSelectedForValidation);
        }

        let executions = [
            self.execution(&cs[0]),
            self.execution(&cs[1]),
            self.execution(&cs[2]),
        ];
        let score = |i: usize| {
            if heads[i].status == status::SCORE_READY {
                self.task_score(&cs[i], &executions[i])
            } else {
                Vec::new()
            }
        };
        let scores = [score(0), score(1), score(2)];
        let member = |i: usize| Member {
            status: heads[i].status,
            score: &scores[i],
        };
        let members = [member(0), member(1), member(2)];
        let outcome = group::outcome(&members, heads[0].task_type, terms.threshold);
        let rewards = speed_rewards(&outcome, &executions);

        // The GroupValidated task remembers who shares its fee (the agreeing nodes).
        if let Some(v) = outcome.iter().position(|s| *s == status::GROUP_VALIDATED) {
            let mut payees = GroupPayees::default();
            payees.parts[0] = rewards[v];
            let mut n = 0;
            for i in 0..3 {
                if outcome[i] == status::END_GROUP_REFUND {
                    payees.co_payees[n] = executions[i].node;
                    payees.parts[n + 1] = rewards[i];
                    n += 1;
                }
            }
            self.set_group_payees(&cs[v], &payees);
        }

        let now = self.host.timestamp();
        for i in 0..3 {
            let c = &cs[i];
            let head = &mut heads[i];
            if head.status == status::END_ABORTED {
                continue;
            }
            let node = executions[i].node;
            match outcome[i] {
                status::GROUP_VALIDATED => {
                    head.enter(status::GROUP_VALIDATED, now);
                    self.set_task_head(c, head);
                    self.emit_task(TaskValidated::SIGNATURE_HASH, c);
                }
                status::END_GROUP_REFUND => {
                    head.enter(status::END_GROUP_REFUND, now);
                    self.set_task_head(c, head);
                    self.emit_task(TaskEndGroupRefund::SIGNATURE_HASH, c);
                    self.pay(head.creator, fees[i]);
                    self.release_node(node, Some(rewards[i]));
                }
                status::END_INVALIDATED => {
                    head.enter(status::END_INVALIDATED, now);
                    self.set_task_head(c, head);
                    self.emit_task(TaskEndInvalidated::SIGNATURE_HASH, c);
                    self.pay(head.creator, fees[i]);
                    self.slash_node(node);
                }
                // No agreement to judge by: nobody is blamed or rewarded.
                _ => self.end_aborted(
                    c,
                    head,
                    abort_reason::INCORRECT_RESULT,
                    caller,
                    NodeOutcome::Unchanged,
                ),
            }
        }
        Ok(())
    }
}

/// QoS rewards by speed among the agreeing members (GroupValidated and EndGroupRefund): the
/// fastest (execution time; ties by sequence) gets 10, then 9, then 6; everyone else 0.
fn speed_rewards(outcome: &[u8; 3], executions: &[Execution; 3]) -> [u8; 3] {
    let agreeing = |i: usize| {
        matches!(
            outcome[i],
            status::GROUP_VALIDATED | status::END_GROUP_REFUND
        )
    };
    // The members are in sequence order and the sort is stable: equal times keep that order.
    let by_time = sort3(|i| {
        if agreeing(i) {
            executions[i].time as u64
        } else {
            u64::MAX
        }
    });
    let mut rewards = [0u8; 3];
    let mut rank = 0;
    for i in by_time {
        if agreeing(i) {
            rewards[i] = GROUP_RANK_SCORES[rank];
            rank += 1;
        }
    }
    rewards
}

/// Indices 0..3 ordered by `key`, stable (a tiny insertion sort: the library sort costs kilobytes
/// of program).
fn sort3(key: impl Fn(usize) -> u64) -> [usize; 3] {
    let mut order = [0usize, 1, 2];
    for i in 1..3 {
        let mut j = i;
        while j > 0 && key(order[j - 1]) > key(order[j]) {
            order.swap(j - 1, j);
            j -= 1;
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::{is_selected, params_commitment, sort3};
    use alloy_primitives::{keccak256, B256};

    #[test]
    fn sampling_is_beta_mod_rate() {
        let mut beta = [0u8; 32];
        assert!(is_selected(&beta, 10));
        beta[31] = 10;
        assert!(is_selected(&beta, 10));
        beta[31] = 11;
        assert!(!is_selected(&beta, 10));
        assert!(is_selected(&beta, 11));
        assert!(is_selected(&beta, 1));
        // 2^8 = 256 = 6 mod 10: 0x0104 = 260 is selected, 0x0105 is not.
        beta[30] = 1;
        beta[31] = 4;
        assert!(is_selected(&beta, 10));
        beta[31] = 5;
        assert!(!is_selected(&beta, 10));
        // Full-width values against U256 arithmetic, for several rates.
        for rate in [2u32, 3, 10, 100, 7919, u32::MAX] {
            for fill in [0xABu8, 0xFF, 0x01] {
                let big = [fill; 32];
                let expected =
                    alloy_primitives::U256::from_be_bytes(big) % alloy_primitives::U256::from(rate);
                assert_eq!(is_selected(&big, rate), expected.is_zero(), "{rate} {fill}");
            }
        }
    }

    #[test]
    fn params_commitments_are_salted_per_task() {
        let h = B256::repeat_byte(1);
        let guid = B256::repeat_byte(2);
        let a = params_commitment(&h, &guid, &B256::repeat_byte(3));
        let b = params_commitment(&h, &guid, &B256::repeat_byte(4));
        assert_ne!(a, b);
        let salt = keccak256([b"params".as_slice(), &[2u8; 32], &[3u8; 32]].concat());
        assert_eq!(a, keccak256([h.as_slice(), salt.as_slice()].concat()));
    }

    #[test]
    fn sort3_is_stable() {
        let keys = [5u64, 3, 5];
        assert_eq!(sort3(|i| keys[i]), [1, 0, 2]);
        let keys = [2u64, 2, 1];
        assert_eq!(sort3(|i| keys[i]), [2, 0, 1]);
        let keys = [1u64, 2, 3];
        assert_eq!(sort3(|i| keys[i]), [0, 1, 2]);
    }
}
