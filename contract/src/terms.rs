//! The terms a task runs under: the state deadlines (PROTOCOL.md "Deadlines"), the sampling rate
//! and the pHash distance threshold. Each distinct set of owner-set terms is stored once, under a
//! sequential id; a task records the id current at its creation. That is the same as copying the
//! terms into the task (the stored terms never change), at one storage word per configuration
//! instead of one per task.
//!
//! ```text
//! terms: queueTimeout u32 | uploadTimeout u32 | executionTimeout u32 | validationTimeout u32 |
//!        samplingRate u32 | distanceThreshold u8
//! ```

use crate::packing::Word;
use crate::store::{ns, slot};
use crate::task_record::status;
use crate::{Host, TaskContract};

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Terms {
    /// Seconds a task may wait in the queue before anyone may abort it.
    pub queue: u32,
    /// Seconds the creator has to upload the parameters (from Started), and the node to upload
    /// its result (from Validated / GroupValidated).
    pub upload: u32,
    /// Seconds the node has to score its task once the parameters are uploaded.
    pub execution: u32,
    /// Seconds the creator has to validate a scored task: long enough for the two further tasks
    /// of a validation group to be uploaded and run.
    pub validation: u32,
    /// A task is sampled for group validation iff uint256(beta) % samplingRate == 0.
    pub sampling_rate: u32,
    /// Two image hashes agree iff they differ in fewer bits than this.
    pub threshold: u8,
}

impl Terms {
    pub fn decode(w: Word) -> Terms {
        Terms {
            queue: w.uint(0, 4) as u32,
            upload: w.uint(4, 4) as u32,
            execution: w.uint(8, 4) as u32,
            validation: w.uint(12, 4) as u32,
            sampling_rate: w.uint(16, 4) as u32,
            threshold: w.u8(20),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 4, self.queue as u128);
        w.set_uint(4, 4, self.upload as u128);
        w.set_uint(8, 4, self.execution as u128);
        w.set_uint(12, 4, self.validation as u128);
        w.set_uint(16, 4, self.sampling_rate as u128);
        w.set_u8(20, self.threshold);
        w
    }

    /// Every duration positive; validation long enough for a group's two further tasks (two
    /// parameter uploads and two executions); a sampling rate; a pHash threshold that neither
    /// accepts every pair of 64-bit hashes nor none.
    pub fn is_valid(&self) -> bool {
        let group_time = 2 * (self.execution as u64 + self.upload as u64);
        self.queue > 0
            && self.upload > 0
            && self.execution > 0
            && self.validation as u64 >= group_time
            && self.sampling_rate > 0
            && self.threshold > 0
            && self.threshold <= 64
    }

    /// How long a task may stay in `state` before its deadline passes; `None` for final states.
    pub fn duration(&self, state: u8) -> Option<u32> {
        match state {
            status::QUEUED => Some(self.queue),
            status::STARTED | status::VALIDATED | status::GROUP_VALIDATED => Some(self.upload),
            status::PARAMETERS_UPLOADED => Some(self.execution),
            status::ERROR_REPORTED | status::SCORE_READY => Some(self.validation),
            _ => None,
        }
    }
}

impl<H: Host> TaskContract<H> {
    pub(crate) fn terms(&self, id: u32) -> Terms {
        Terms::decode(self.get(slot(ns::TERMS, &id.to_be_bytes())))
    }

    pub(crate) fn set_terms(&mut self, id: u32, terms: &Terms) {
        self.put(slot(ns::TERMS, &id.to_be_bytes()), terms.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> Terms {
        Terms {
            queue: 3600,
            upload: 300,
            execution: 600,
            validation: 1800,
            sampling_rate: 10,
            threshold: 24,
        }
    }

    #[test]
    fn round_trip_and_durations_per_state() {
        let t = terms();
        assert_eq!(Terms::decode(t.encode()), t);
        assert_eq!(t.duration(status::QUEUED), Some(3600));
        assert_eq!(t.duration(status::STARTED), Some(300));
        assert_eq!(t.duration(status::PARAMETERS_UPLOADED), Some(600));
        assert_eq!(t.duration(status::SCORE_READY), Some(1800));
        assert_eq!(t.duration(status::ERROR_REPORTED), Some(1800));
        assert_eq!(t.duration(status::VALIDATED), Some(300));
        assert_eq!(t.duration(status::GROUP_VALIDATED), Some(300));
        for s in status::END_INVALIDATED..=status::END_GROUP_SUCCESS {
            assert_eq!(t.duration(s), None);
        }
    }

    #[test]
    fn validation_must_leave_room_for_a_group() {
        assert!(terms().is_valid());
        let short = Terms {
            validation: 1799,
            ..terms()
        };
        assert!(!short.is_valid());
        for bad in [
            Terms {
                queue: 0,
                ..terms()
            },
            Terms {
                upload: 0,
                ..terms()
            },
            Terms {
                execution: 0,
                ..terms()
            },
            Terms {
                sampling_rate: 0,
                ..terms()
            },
            Terms {
                threshold: 0,
                ..terms()
            },
            Terms {
                threshold: 65,
                ..terms()
            },
        ] {
            assert!(!bad.is_valid(), "{bad:?}");
        }
    }
}
