//! How a task is stored: six packed words plus the score bytes.
//!
//! ```text
//! head:        creator (20) | status u8 | taskType u8 | abortReason u8 | taskError u8 | sequence u64
//! money:       fee u96 (12) | taskSize u64 | timeout u32 | createTimestamp u48
//! run:         while Queued:   prev sequence u48 | next sequence u48 | price u96   (queue links)
//!              once started:   selectedNode (20) | startTimestamp u48 | scoreReadyTimestamp u48
//! seed:        samplingSeed
//! nonce:       nonce
//! requirement: hash of the shared requirement record (models, GPU, VRAM, version)
//! group:       GroupValidated only: co-payee 1 (20) | reward parts u8 x3 (self, co-payee 1, co-payee 2)
//! group2:      GroupValidated only: co-payee 2 (20)
//! score:       bytes
//! ```

use alloy_primitives::{Address, B256};

use crate::packing::Word;
use crate::store::{ns, slot, Slot};
use crate::{Host, TaskContract};

pub mod task_type {
    pub const SD: u8 = 0;
    pub const LLM: u8 = 1;
    pub const SD_FT: u8 = 2;
}

pub mod status {
    pub const QUEUED: u8 = 0;
    pub const STARTED: u8 = 1;
    pub const PARAMETERS_UPLOADED: u8 = 2;
    pub const ERROR_REPORTED: u8 = 3;
    pub const SCORE_READY: u8 = 4;
    pub const VALIDATED: u8 = 5;
    pub const GROUP_VALIDATED: u8 = 6;
    pub const END_INVALIDATED: u8 = 7;
    pub const END_SUCCESS: u8 = 8;
    pub const END_ABORTED: u8 = 9;
    pub const END_GROUP_REFUND: u8 = 10;
    pub const END_GROUP_SUCCESS: u8 = 11;

    pub fn is_final(s: u8) -> bool {
        s >= END_INVALIDATED
    }
}

pub mod abort_reason {
    pub const NONE: u8 = 0;
    pub const TIMEOUT: u8 = 1;
    pub const MODEL_DOWNLOAD_FAILED: u8 = 2;
    pub const INCORRECT_RESULT: u8 = 3;
    pub const TASK_FEE_TOO_LOW: u8 = 4;
    pub const MAX: u8 = TASK_FEE_TOO_LOW;
}

pub mod task_error {
    pub const NONE: u8 = 0;
    pub const PARAMETERS_VALIDATION_FAILED: u8 = 1;
}

/// Field offsets of a task record (namespace `TASK`).
pub mod field {
    pub const HEAD: u64 = 0;
    pub const MONEY: u64 = 1;
    pub const RUN: u64 = 2;
    pub const SEED: u64 = 3;
    pub const NONCE: u64 = 4;
    pub const REQUIREMENT: u64 = 5;
    pub const GROUP: u64 = 6;
    pub const GROUP2: u64 = 7;
    /// Byte string: length here, data in the following words.
    pub const SCORE: u64 = 8;
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskHead {
    pub creator: Address,
    pub status: u8,
    pub task_type: u8,
    pub abort_reason: u8,
    pub error: u8,
    pub sequence: u64,
}

impl TaskHead {
    pub fn decode(w: Word) -> TaskHead {
        TaskHead {
            creator: w.address(0),
            status: w.u8(20),
            task_type: w.u8(21),
            abort_reason: w.u8(22),
            error: w.u8(23),
            sequence: w.u64(24, 8),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_address(0, self.creator);
        w.set_u8(20, self.status);
        w.set_u8(21, self.task_type);
        w.set_u8(22, self.abort_reason);
        w.set_u8(23, self.error);
        w.set_uint(24, 8, self.sequence as u128);
        w
    }

    /// A task exists once created: its creator is never the zero address.
    pub fn exists(&self) -> bool {
        !self.creator.is_zero()
    }
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskMoney {
    pub fee: u128,
    pub size: u64,
    pub timeout: u32,
    pub created: u64,
}

impl TaskMoney {
    pub fn decode(w: Word) -> TaskMoney {
        TaskMoney {
            fee: w.uint(0, 12),
            size: w.u64(12, 8),
            timeout: w.uint(20, 4) as u32,
            created: w.u64(24, 6),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 12, self.fee);
        w.set_uint(12, 8, self.size as u128);
        w.set_uint(20, 4, self.timeout as u128);
        w.set_uint(24, 6, self.created as u128);
        w
    }

    /// Queue price: fee per unit of task size.
    pub fn price(&self) -> u128 {
        crate::math::div_u128(self.fee, self.size as u128)
    }
}

/// The `run` word of a started task.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Execution {
    pub node: Address,
    pub started: u64,
    pub score_ready: u64,
}

impl Execution {
    pub fn decode(w: Word) -> Execution {
        Execution {
            node: w.address(0),
            started: w.u64(20, 6),
            score_ready: w.u64(26, 6),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_address(0, self.node);
        w.set_uint(20, 6, self.started as u128);
        w.set_uint(26, 6, self.score_ready as u128);
        w
    }
}

/// The `run` word of a queued task: its neighbours in its requirement's price-ordered list.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct QueueLinks {
    pub prev: u64,
    pub next: u64,
    pub price: u128,
}

impl QueueLinks {
    pub fn decode(w: Word) -> QueueLinks {
        QueueLinks {
            prev: w.u64(0, 6),
            next: w.u64(6, 6),
            price: w.uint(12, 12),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 6, self.prev as u128);
        w.set_uint(6, 6, self.next as u128);
        w.set_uint(12, 12, self.price);
        w
    }
}

/// Who shares a GroupValidated task's fee, and in which parts (their QoS rewards by speed).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct GroupPayees {
    pub co_payees: [Address; 2],
    /// Reward parts of the task's own node and of the two co-payees (0 = no co-payee).
    pub parts: [u8; 3],
}

impl GroupPayees {
    pub fn decode(w: Word, w2: Word) -> GroupPayees {
        GroupPayees {
            co_payees: [w.address(0), w2.address(0)],
            parts: [w.u8(20), w.u8(21), w.u8(22)],
        }
    }

    pub fn encode(&self) -> (Word, Word) {
        let mut w = Word::default();
        w.set_address(0, self.co_payees[0]);
        w.set_u8(20, self.parts[0]);
        w.set_u8(21, self.parts[1]);
        w.set_u8(22, self.parts[2]);
        let mut w2 = Word::default();
        w2.set_address(0, self.co_payees[1]);
        (w, w2)
    }

    /// Splits `fee` in proportion to the parts; the slowest payee (the smallest part: parts are
    /// distinct speed-rank rewards) takes the rounding dust.
    pub fn split(&self, node: Address, fee: u128) -> [(Address, u128); 3] {
        let payees = [node, self.co_payees[0], self.co_payees[1]];
        let total = self.parts[0] as u128 + self.parts[1] as u128 + self.parts[2] as u128;
        let mut last = 0;
        for i in 1..3 {
            if self.parts[i] > 0 && self.parts[i] < self.parts[last] {
                last = i;
            }
        }
        let mut out = [(Address::ZERO, 0u128); 3];
        let mut left = fee;
        for i in 0..3 {
            if self.parts[i] > 0 && i != last {
                let amount = crate::math::div_u128(fee * self.parts[i] as u128, total);
                left -= amount;
                out[i] = (payees[i], amount);
            }
        }
        out[last] = (payees[last], left);
        out
    }
}

pub(crate) fn task_base(c: &B256) -> Slot {
    slot(ns::TASK, c.as_slice())
}

impl<H: Host> TaskContract<H> {
    pub(crate) fn task_word(&self, c: &B256, f: u64) -> Word {
        self.get_at(task_base(c), f)
    }

    pub(crate) fn set_task_word(&mut self, c: &B256, f: u64, w: Word) {
        self.put_at(task_base(c), f, w)
    }

    pub(crate) fn task_head(&self, c: &B256) -> TaskHead {
        TaskHead::decode(self.task_word(c, field::HEAD))
    }

    pub(crate) fn set_task_head(&mut self, c: &B256, head: &TaskHead) {
        self.set_task_word(c, field::HEAD, head.encode())
    }

    pub(crate) fn task_money(&self, c: &B256) -> TaskMoney {
        TaskMoney::decode(self.task_word(c, field::MONEY))
    }

    pub(crate) fn execution(&self, c: &B256) -> Execution {
        Execution::decode(self.task_word(c, field::RUN))
    }

    pub(crate) fn set_execution(&mut self, c: &B256, exe: &Execution) {
        self.set_task_word(c, field::RUN, exe.encode())
    }

    pub(crate) fn queue_links(&self, c: &B256) -> QueueLinks {
        QueueLinks::decode(self.task_word(c, field::RUN))
    }

    pub(crate) fn set_queue_links(&mut self, c: &B256, links: &QueueLinks) {
        self.set_task_word(c, field::RUN, links.encode())
    }

    pub(crate) fn group_payees(&self, c: &B256) -> GroupPayees {
        GroupPayees::decode(
            self.task_word(c, field::GROUP),
            self.task_word(c, field::GROUP2),
        )
    }

    pub(crate) fn set_group_payees(&mut self, c: &B256, payees: &GroupPayees) {
        let (w1, w2) = payees.encode();
        self.set_task_word(c, field::GROUP, w1);
        self.set_task_word(c, field::GROUP2, w2);
    }

    pub(crate) fn task_score(&self, c: &B256) -> alloc::vec::Vec<u8> {
        self.get_bytes(task_base(c) + field::SCORE)
    }

    pub(crate) fn set_task_score(&mut self, c: &B256, score: &[u8]) {
        self.put_bytes(task_base(c) + field::SCORE, score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let head = TaskHead {
            creator: Address::repeat_byte(7),
            status: status::SCORE_READY,
            task_type: task_type::LLM,
            abort_reason: abort_reason::TIMEOUT,
            error: task_error::PARAMETERS_VALIDATION_FAILED,
            sequence: u64::MAX,
        };
        assert_eq!(TaskHead::decode(head.encode()), head);
        let money = TaskMoney {
            fee: (1 << 96) - 1,
            size: 77,
            timeout: 180,
            created: 1_700_000_000,
        };
        assert_eq!(TaskMoney::decode(money.encode()), money);
        let exe = Execution {
            node: Address::repeat_byte(9),
            started: 5,
            score_ready: 6,
        };
        assert_eq!(Execution::decode(exe.encode()), exe);
        let links = QueueLinks {
            prev: 3,
            next: 4,
            price: 99,
        };
        assert_eq!(QueueLinks::decode(links.encode()), links);
        let g = GroupPayees {
            co_payees: [Address::repeat_byte(1), Address::repeat_byte(2)],
            parts: [10, 9, 6],
        };
        let (a, b) = g.encode();
        assert_eq!(GroupPayees::decode(a, b), g);
    }

    #[test]
    fn group_split_gives_dust_to_the_last_payee() {
        let node = Address::repeat_byte(3);
        let g = GroupPayees {
            co_payees: [Address::repeat_byte(1), Address::repeat_byte(2)],
            parts: [10, 9, 6],
        };
        let split = g.split(node, 100);
        assert_eq!(split[0], (node, 40));
        assert_eq!(split[1], (Address::repeat_byte(1), 36));
        assert_eq!(split[2], (Address::repeat_byte(2), 24));
        // The GroupValidated node was the slower of two: it takes the dust.
        let two = GroupPayees {
            co_payees: [Address::repeat_byte(1), Address::ZERO],
            parts: [9, 10, 0],
        };
        let split = two.split(node, 101);
        assert_eq!(split[1], (Address::repeat_byte(1), 53));
        assert_eq!(split[0], (node, 48));
        assert_eq!(split[2].1, 0);
    }
}
