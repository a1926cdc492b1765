//! Verifiable secret sampling on chain: the creator proves with its VRF whether a task was
//! sampled for group validation, and a sampled task is validated together with two more tasks
//! whose commitments open to the same secret task GUID.

use alloc::vec::Vec;

use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, Result, TaskEndGroupRefund, TaskEndInvalidated, TaskValidated};
use crate::group::{self, Member};
use crate::qos::{self, GROUP_RANK_SCORES};
use crate::task_record::{abort_reason, field, status, Execution, GroupPayees, TaskHead};
use crate::{Host, TaskContract};

/// Verifiable secret sampling: a task is selected for group validation iff
/// uint256(beta) % 10 == 0.
pub fn is_selected(beta: &[u8; 32]) -> bool {
    beta.iter()
        .fold(0u32, |rem, byte| (rem * 256 + *byte as u32) % 10)
        == 0
}

impl<H: Host> TaskContract<H> {
    /// Verifies the creator's VRF proof over the task's sampling seed and tells whether the task
    /// is selected for group validation.
    fn sampled(&self, creator: Address, c: &B256, proof: &[u8], public_key: &[u8]) -> Result<bool> {
        let Ok(key) = <[u8; 64]>::try_from(public_key) else {
            return fail!(InvalidPublicKey);
        };
        if Address::new(crate::packing::bytes_at(&keccak256(key)[12..])) != creator {
            return fail!(InvalidPublicKey);
        }
        let seed = self.task_word(c, field::SEED);
        match self.vrf_beta(&key, &seed.0, proof) {
            Some(beta) => Ok(is_selected(&beta.0)),
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
        if self.sampled(head.creator, c, proof, public_key)? {
            return fail!(TaskSelectedForValidation);
        }
        if head.status == status::SCORE_READY {
            head.status = status::VALIDATED;
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
                Some(qos::SUCCESS_SCORE),
            );
        }
        Ok(())
    }
    pub(crate) fn validate_group_impl(
        &mut self,
        commitments: [B256; 3],
        guid: B256,
        proof: &[u8],
        public_key: &[u8],
    ) -> Result<()> {
        let [c1, c2, c3] = commitments;
        if c1 == c2 || c1 == c3 || c2 == c3 {
            return fail!(InvalidTaskGroup);
        }
        let caller = self.host.sender();
        let mut heads = [TaskHead::default(); 3];
        for i in 0..3 {
            let head = self.existing_task(&commitments[i])?;
            if head.creator != caller {
                return fail!(NotTaskCreator);
            }
            if i > 0 && head.task_type != heads[0].task_type {
                return fail!(InvalidTaskGroup);
            }
            if !matches!(
                head.status,
                status::SCORE_READY | status::ERROR_REPORTED | status::END_ABORTED
            ) {
                return fail!(IllegalTaskState {
                    taskIDCommitment: commitments[i],
                    status: head.status
                });
            }
            let mut preimage = [0u8; 64];
            preimage[..32].copy_from_slice(guid.as_slice());
            preimage[32..].copy_from_slice(&self.task_word(&commitments[i], field::NONCE).0);
            if keccak256(preimage) != commitments[i] {
                return fail!(InvalidTaskGUID {
                    taskIDCommitment: commitments[i]
                });
            }
            heads[i] = head;
        }
        // Sequence order decides which task carries the sampling proof and how ties break.
        let order = sort3(|i| heads[i].sequence);
        // Plain array literals: `[T; N]::map` instantiates a bulky generic per use.
        let [a, b, c] = order;
        let cs = [commitments[a], commitments[b], commitments[c]];
        let mut heads = [heads[a], heads[b], heads[c]];
        if !self.sampled(caller, &cs[0], proof, public_key)? {
            return fail!(TaskNotSelectedForValidation);
        }

        let score = |i: usize| {
            if heads[i].status == status::SCORE_READY {
                self.task_score(&cs[i])
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
        let threshold = self.config().distance_threshold;
        let outcome = group::outcome(&members, heads[0].task_type, threshold);
        let executions = [
            self.execution(&cs[0]),
            self.execution(&cs[1]),
            self.execution(&cs[2]),
        ];
        let rewards = self.speed_rewards(&heads, &executions);

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

        for i in 0..3 {
            let c = &cs[i];
            let head = &mut heads[i];
            if head.status == status::END_ABORTED {
                continue;
            }
            let node = executions[i].node;
            match outcome[i] {
                status::GROUP_VALIDATED => {
                    head.status = status::GROUP_VALIDATED;
                    self.set_task_head(c, head);
                    self.emit_task(TaskValidated::SIGNATURE_HASH, c);
                }
                status::END_GROUP_REFUND => {
                    head.status = status::END_GROUP_REFUND;
                    self.set_task_head(c, head);
                    self.emit_task(TaskEndGroupRefund::SIGNATURE_HASH, c);
                    self.pay(head.creator, self.task_money(c).fee);
                    self.release_node(node, rewards[i]);
                }
                status::END_INVALIDATED => {
                    head.status = status::END_INVALIDATED;
                    self.set_task_head(c, head);
                    self.emit_task(TaskEndInvalidated::SIGNATURE_HASH, c);
                    self.pay(head.creator, self.task_money(c).fee);
                    self.slash_node(node);
                }
                _ => self.end_aborted(
                    c,
                    head,
                    abort_reason::INCORRECT_RESULT,
                    caller,
                    Some(rewards[i]),
                ),
            }
        }
        Ok(())
    }

    /// QoS rewards by speed among the members that finished (score or error): the fastest
    /// (time from start to report; ties by sequence) gets 10, then 9, then 6.
    fn speed_rewards(&self, heads: &[TaskHead; 3], executions: &[Execution; 3]) -> [u8; 3] {
        // `heads` is in sequence order and the sort is stable: equal times keep that order.
        // An aborted member never reported (its times may be unset): it sorts last.
        let by_time = sort3(|i| {
            if heads[i].status == status::END_ABORTED {
                u64::MAX
            } else {
                executions[i]
                    .score_ready
                    .saturating_sub(executions[i].started)
            }
        });
        let mut rewards = [0u8; 3];
        let mut rank = 0;
        for i in by_time {
            if heads[i].status != status::END_ABORTED {
                rewards[i] = GROUP_RANK_SCORES[rank];
                rank += 1;
            }
        }
        rewards
    }
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
    use super::{is_selected, sort3};

    #[test]
    fn sampling_is_beta_mod_10() {
        let mut beta = [0u8; 32];
        assert!(is_selected(&beta));
        beta[31] = 10;
        assert!(is_selected(&beta));
        beta[31] = 11;
        assert!(!is_selected(&beta));
        // 2^8 = 256 = 6 mod 10: 0x0104 = 260 is selected, 0x0105 is not.
        beta[30] = 1;
        beta[31] = 4;
        assert!(is_selected(&beta));
        beta[31] = 5;
        assert!(!is_selected(&beta));
        // A full-width value against U256 arithmetic.
        let big = [0xAB; 32];
        let expected =
            alloy_primitives::U256::from_be_bytes(big) % alloy_primitives::U256::from(10);
        assert_eq!(is_selected(&big), expected.is_zero());
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
