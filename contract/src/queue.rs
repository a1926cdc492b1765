//! The bounded, price-ordered task queue.
//!
//! Queued tasks are partitioned by requirement record: all tasks of a partition fit exactly the
//! same nodes. Each partition is a doubly linked list in price order (highest first, FIFO among
//! equal prices) whose links live in the tasks' `run` words. A node that becomes free scans the
//! non-empty partitions (one word each, plus the GPU name hash when one is required), takes the
//! best head it fits, and unlinks it in O(1). When the queue is full, the cheapest tail is evicted
//! if the new task pays more. Prices are exact fractions (`price.rs`).

use core::cmp::Ordering;

use alloy_primitives::{Address, B256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, Result, TaskQueued};
use crate::packing::Word;
use crate::price::Price;
use crate::requirement::QueueState;
use crate::store::{ns, slot, Slot};
use crate::task_record::{QueueLinks, TaskHead};
use crate::{Host, TaskContract};

/// A queued task located by its sequence number.
struct Queued {
    commitment: B256,
    links: QueueLinks,
}

fn queued_slot(seq: u64) -> Slot {
    slot(ns::QUEUED, &seq.to_be_bytes())
}

fn partition_slot(index: u32) -> Slot {
    slot(ns::PARTITION, &index.to_be_bytes())
}

impl<H: Host> TaskContract<H> {
    fn queued_commitment(&self, seq: u64) -> B256 {
        B256::new(self.get(queued_slot(seq)).0)
    }

    fn queued_task(&self, seq: u64) -> Queued {
        let commitment = self.queued_commitment(seq);
        let links = self.queue_links(&commitment);
        Queued { commitment, links }
    }

    /// The requirement id of the `index`-th non-empty partition.
    fn partition(&self, index: u32) -> u32 {
        self.get(partition_slot(index)).uint(28, 4) as u32
    }

    fn set_partition(&mut self, index: u32, requirement: u32) {
        let mut w = Word::default();
        w.set_uint(28, 4, requirement as u128);
        self.put(partition_slot(index), w);
    }

    /// Queues a task that found no node, evicting the cheapest queued task when the queue is
    /// full and the new task pays more.
    pub(crate) fn enqueue(
        &mut self,
        commitment: &B256,
        seq: u64,
        price: Price,
        requirement: u32,
        limit: u16,
    ) -> Result<()> {
        if self.stats().queued >= limit as u32 {
            match self.cheapest_queued() {
                Some((victim_req, victim_seq, victim_price)) if price.above(&victim_price) => {
                    self.evict(victim_req, victim_seq);
                }
                _ => return fail!(QueueFull),
            }
        }
        let mut q = self.queue_state(requirement);
        // Walk up from the cheapest end to the last task paying at least as much.
        let mut prev = q.tail;
        let mut prev_task = None;
        while prev != 0 {
            let t = self.queued_task(prev);
            if !price.above(&t.links.price) {
                prev_task = Some(t);
                break;
            }
            prev = t.links.prev;
        }
        let next = match &prev_task {
            Some(t) => t.links.next,
            None => q.head,
        };
        match prev_task {
            Some(mut t) => {
                t.links.next = seq;
                self.set_queue_links(&t.commitment, &t.links);
            }
            None => {
                q.head = seq;
                q.head_price = price;
            }
        }
        if next == 0 {
            q.tail = seq;
        } else {
            let mut t = self.queued_task(next);
            t.links.prev = seq;
            self.set_queue_links(&t.commitment, &t.links);
        }
        self.set_queue_links(commitment, &QueueLinks { prev, next, price });
        self.put(queued_slot(seq), Word(commitment.0));
        q.count += 1;
        if q.list_pos == 0 {
            let mut lists = self.lists();
            self.set_partition(lists.partitions, requirement);
            lists.partitions += 1;
            q.list_pos = lists.partitions as u16;
            self.set_lists(&lists);
        }
        self.set_queue_state(requirement, &q);
        let mut stats = self.stats();
        stats.queued += 1;
        self.set_stats(&stats);
        self.emit_task(TaskQueued::SIGNATURE_HASH, commitment);
        Ok(())
    }

    /// Takes a queued task out of its partition (it starts, or it is aborted).
    pub(crate) fn unlink(&mut self, commitment: &B256, seq: u64, requirement: u32) {
        let links = self.queue_links(commitment);
        let mut q = self.queue_state(requirement);
        if links.prev == 0 {
            q.head = links.next;
            q.head_price = Price::default();
        } else {
            let mut p = self.queued_task(links.prev);
            p.links.next = links.next;
            self.set_queue_links(&p.commitment, &p.links);
        }
        if links.next == 0 {
            q.tail = links.prev;
        } else {
            let mut n = self.queued_task(links.next);
            n.links.prev = links.prev;
            if links.prev == 0 {
                q.head_price = n.links.price;
            }
            self.set_queue_links(&n.commitment, &n.links);
        }
        q.count -= 1;
        if q.count == 0 {
            self.unlist_partition(q.list_pos);
            q.list_pos = 0;
        }
        self.set_queue_state(requirement, &q);
        self.put(queued_slot(seq), Word::default());
        self.set_queue_links(commitment, &QueueLinks::default());
        let mut stats = self.stats();
        stats.queued -= 1;
        self.set_stats(&stats);
    }

    fn unlist_partition(&mut self, list_pos: u16) {
        let mut lists = self.lists();
        let last = lists.partitions;
        if list_pos as u32 != last {
            let moved = self.partition(last - 1);
            self.set_partition(list_pos as u32 - 1, moved);
            let mut mq = self.queue_state(moved);
            mq.list_pos = list_pos;
            self.set_queue_state(moved, &mq);
        }
        self.put(partition_slot(last - 1), Word::default());
        lists.partitions = last - 1;
        self.set_lists(&lists);
    }

    /// The best-paying queued task that a node of this class fits (ties: the oldest), unlinked.
    pub(crate) fn take_queued_task(&mut self, class_id: u32) -> Option<B256> {
        // The statistics word is usually warm already; the partition list is not.
        if self.stats().queued == 0 {
            return None;
        }
        let mut best: Option<(u32, QueueState)> = None;
        for i in 0..self.lists().partitions {
            let requirement = self.partition(i);
            let q = self.queue_state(requirement);
            let better = match &best {
                None => true,
                Some((_, b)) => match q.head_price.compare(&b.head_price) {
                    Ordering::Greater => true,
                    Ordering::Equal => q.head < b.head,
                    Ordering::Less => false,
                },
            };
            if better && self.class_fits(class_id, &self.requirement(requirement)) {
                best = Some((requirement, q));
            }
        }
        let (requirement, q) = best?;
        let commitment = self.queued_commitment(q.head);
        self.unlink(&commitment, q.head, requirement);
        Some(commitment)
    }

    /// The cheapest queued task (ties: the newest): its partition, sequence and price.
    fn cheapest_queued(&self) -> Option<(u32, u64, Price)> {
        let mut best: Option<(u32, u64, Price)> = None;
        for i in 0..self.lists().partitions {
            let requirement = self.partition(i);
            let q = self.queue_state(requirement);
            let price = self.queued_task(q.tail).links.price;
            let cheaper = match best {
                None => true,
                Some((_, seq, p)) => match price.compare(&p) {
                    Ordering::Less => true,
                    Ordering::Equal => q.tail > seq,
                    Ordering::Greater => false,
                },
            };
            if cheaper {
                best = Some((requirement, q.tail, price));
            }
        }
        best
    }

    /// Aborts the cheapest queued task to make room (reason TaskFeeTooLow, fee refunded).
    fn evict(&mut self, requirement: u32, seq: u64) {
        let commitment = self.queued_commitment(seq);
        let mut head: TaskHead = self.task_head(&commitment);
        self.unlink(&commitment, seq, requirement);
        let issuer: Address = self.host.address();
        self.end_aborted(
            &commitment,
            &mut head,
            crate::task_record::abort_reason::TASK_FEE_TOO_LOW,
            issuer,
            crate::lifecycle::NodeOutcome::NoNode,
        );
    }
}
