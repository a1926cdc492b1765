//! How a task is stored: six packed words plus the score, and the creator's nonce record.
//!
//! ```text
//! head:        creator (20) | status u8 | taskType u8 | abortReason u8 | taskError u8 |
//!              state entered at u40 | terms id u24
//! money:       fee u96 | taskSize u48 | createTimestamp u40 | sequence u40 | requirement id u32
//! run:         while Queued:   prev sequence u40 | next sequence u40 | fee u96 | size u48
//!              (queue links, with the price as an exact fraction)
//!              once started:   selectedNode (20) | startTimestamp u40 | executionTime u32 |
//!              score length u16
//! seed:        samplingSeed; once GroupValidated (the seed is spent): co-payee 1 (20) |
//!              reward parts u8 x3 (self, co-payee 1, co-payee 2)
//! nonce:       nonce
//! group:       GroupValidated with two co-payees only: co-payee 2 (20)
//! score:       the score's bytes, in as many words as it takes (its length is in `run`)
//!
//! nonce record (creator || nonce): paramsCommitment (never zero, so a non-zero record also
//!              marks the nonce used)
//! ```
//!
//! Every word above is written once per task at most where it can be: a new storage word costs
//! 22,100 gas, rewriting one 2,900 to 5,000. So the parameters' commitment shares the nonce
//! record, and a group's payees reuse the spent seed word.
//!
//! Timestamps are u40 (good until the year 36812), sequences u40 (10^12 tasks: at the gas of a
//! task, more than any chain will ever process), task sizes u48 (`createTask` refuses larger).

use alloy_primitives::{Address, B256};

use crate::packing::Word;
use crate::price::Price;
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
    /// The sampling seed, and a GroupValidated task's first co-payee and reward parts.
    pub const SEED: u64 = 3;
    pub const NONCE: u64 = 4;
    /// A GroupValidated task's second co-payee.
    pub const GROUP: u64 = 5;
    /// The score's words (its length is in the `run` word).
    pub const SCORE: u64 = 6;
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskHead {
    pub creator: Address,
    pub status: u8,
    pub task_type: u8,
    pub abort_reason: u8,
    pub error: u8,
    /// When the task entered its current status: its deadline runs from here.
    pub since: u64,
    pub terms_id: u32,
}

impl TaskHead {
    pub fn decode(w: Word) -> TaskHead {
        TaskHead {
            creator: w.address(0),
            status: w.u8(20),
            task_type: w.u8(21),
            abort_reason: w.u8(22),
            error: w.u8(23),
            since: w.u64(24, 5),
            terms_id: w.uint(29, 3) as u32,
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_address(0, self.creator);
        w.set_u8(20, self.status);
        w.set_u8(21, self.task_type);
        w.set_u8(22, self.abort_reason);
        w.set_u8(23, self.error);
        w.set_uint(24, 5, self.since as u128);
        w.set_uint(29, 3, self.terms_id as u128);
        w
    }

    /// A task exists once created: its creator is never the zero address.
    pub fn exists(&self) -> bool {
        !self.creator.is_zero()
    }

    /// Moves the task to `state` at `now`.
    pub fn enter(&mut self, state: u8, now: u64) {
        self.status = state;
        self.since = now;
    }
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskMoney {
    pub fee: u128,
    pub size: u64,
    pub created: u64,
    pub sequence: u64,
    pub requirement: u32,
}

impl TaskMoney {
    pub fn decode(w: Word) -> TaskMoney {
        TaskMoney {
            fee: w.uint(0, 12),
            size: w.u64(12, 6),
            created: w.u64(18, 5),
            sequence: w.u64(23, 5),
            requirement: w.uint(28, 4) as u32,
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 12, self.fee);
        w.set_uint(12, 6, self.size as u128);
        w.set_uint(18, 5, self.created as u128);
        w.set_uint(23, 5, self.sequence as u128);
        w.set_uint(28, 4, self.requirement as u128);
        w
    }

    pub fn price(&self) -> Price {
        Price {
            fee: self.fee,
            size: self.size,
        }
    }
}

/// The `run` word of a started task.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Execution {
    pub node: Address,
    pub started: u64,
    /// Seconds from the parameters' upload to the score or error report: the node's speed.
    pub time: u32,
    pub score_len: u16,
}

impl Execution {
    pub fn decode(w: Word) -> Execution {
        Execution {
            node: w.address(0),
            started: w.u64(20, 5),
            time: w.uint(25, 4) as u32,
            score_len: w.uint(29, 2) as u16,
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_address(0, self.node);
        w.set_uint(20, 5, self.started as u128);
        w.set_uint(25, 4, self.time as u128);
        w.set_uint(29, 2, self.score_len as u128);
        w
    }
}

/// The `run` word of a queued task: its neighbours in its requirement's price-ordered list, and
/// its price.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct QueueLinks {
    pub prev: u64,
    pub next: u64,
    pub price: Price,
}

impl QueueLinks {
    pub fn decode(w: Word) -> QueueLinks {
        QueueLinks {
            prev: w.u64(0, 5),
            next: w.u64(5, 5),
            price: Price::decode(w, 10),
        }
    }

    pub fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_uint(0, 5, self.prev as u128);
        w.set_uint(5, 5, self.next as u128);
        self.price.encode(&mut w, 10);
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

pub(crate) fn nonce_slot(creator: &Address, nonce: &B256) -> Slot {
    crate::store::slot2(ns::NONCE, creator.as_slice(), nonce.as_slice())
}

pub(crate) fn task_base(c: &B256) -> Slot {
    slot(ns::TASK, c.as_slice())
}

/// Saturating seconds between two timestamps, as a u32 field holds them.
pub fn elapsed(from: u64, to: u64) -> u32 {
    let d = to.saturating_sub(from);
    if d > u32::MAX as u64 {
        u32::MAX
    } else {
        d as u32
    }
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

    /// A GroupValidated task's payees (its seed word, and its group word when a second
    /// co-payee shares the fee).
    pub(crate) fn group_payees(&self, c: &B256) -> GroupPayees {
        let w = self.task_word(c, field::SEED);
        let w2 = if w.u8(22) != 0 {
            self.task_word(c, field::GROUP)
        } else {
            Word::default()
        };
        GroupPayees::decode(w, w2)
    }

    pub(crate) fn set_group_payees(&mut self, c: &B256, payees: &GroupPayees) {
        let (w1, w2) = payees.encode();
        self.set_task_word(c, field::SEED, w1);
        if payees.parts[2] != 0 {
            self.set_task_word(c, field::GROUP, w2);
        }
    }

    /// The creator's record of `nonce`: the paramsCommitment of the task that used it, zero
    /// while unused.
    pub(crate) fn nonce_record(&self, creator: &Address, nonce: &B256) -> B256 {
        B256::new(self.get(nonce_slot(creator, nonce)).0)
    }

    /// The score of a task whose execution is `exe`.
    pub(crate) fn task_score(&self, c: &B256, exe: &Execution) -> alloc::vec::Vec<u8> {
        self.get_data(task_base(c) + field::SCORE, exe.score_len as usize)
    }

    pub(crate) fn set_task_score(&mut self, c: &B256, score: &[u8]) {
        self.put_data(task_base(c) + field::SCORE, score)
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
            since: (1 << 40) - 1,
            terms_id: (1 << 24) - 1,
        };
        assert_eq!(TaskHead::decode(head.encode()), head);
        let money = TaskMoney {
            fee: (1 << 96) - 1,
            size: (1 << 48) - 1,
            created: 1_700_000_000,
            sequence: (1 << 40) - 1,
            requirement: u32::MAX,
        };
        assert_eq!(TaskMoney::decode(money.encode()), money);
        let exe = Execution {
            node: Address::repeat_byte(9),
            started: 5,
            time: u32::MAX,
            score_len: 512,
        };
        assert_eq!(Execution::decode(exe.encode()), exe);
        let links = QueueLinks {
            prev: 3,
            next: (1 << 40) - 1,
            price: Price {
                fee: (1 << 96) - 1,
                size: (1 << 48) - 1,
            },
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
    fn elapsed_saturates() {
        assert_eq!(elapsed(10, 5), 0);
        assert_eq!(elapsed(5, 10), 5);
        assert_eq!(elapsed(0, u64::MAX), u32::MAX);
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
