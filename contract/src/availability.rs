//! The available-node index and node selection.
//!
//! Every joined node has a fixed position in its GPU class's weighted tree and, for each local
//! model, in the (class, model) tree. An available node carries its QoS weight in all of them, a
//! busy or paused node weight 0. Selecting a node for a task reads the fitting classes (one word
//! each), the roots of the fitting (class, model) trees, and one word per tree level: the cost
//! grows with the number of GPU kinds and log8 of the number of nodes, never linearly.

use alloc::vec::Vec;

use alloy_primitives::{keccak256, Address, B256};
use alloy_sol_types::SolEvent;

use crate::abi::DownloadModel;
use crate::events::{address_word, event_data, uint_word};
use crate::gpu_class::{class_tree_id, model_tree_id};
use crate::node_record::NodeCore;
use crate::qos;
use crate::requirement::Requirement;
use crate::store::{ns, slot};
use crate::{Host, TaskContract};

/// A DownloadModel hint goes out for a model held by fewer available fitting nodes than this...
pub const MIN_MODEL_HOLDERS: u32 = 3;
/// ...to at most this many further fitting nodes.
pub const DOWNLOAD_HINTS: u8 = 10;

/// The outcome of a node search.
pub(crate) struct Selection {
    pub node: Option<Address>,
    /// Classes that fit the task.
    pub fitting: Vec<u32>,
    /// For each task model, the available fitting nodes holding it.
    pub holders: Vec<u32>,
}

/// A pseudo-random draw below `bound` (> 0) from the task's seed; draws are independent per `k`.
pub(crate) fn draw(seed: &B256, k: u8, bound: u64) -> u64 {
    let mut buf = [0u8; 33];
    buf[..32].copy_from_slice(seed.as_slice());
    buf[32] = k;
    let h = keccak256(buf);
    let mut low = [0u8; 8];
    low.copy_from_slice(&h[24..]);
    // Bounds are below 2^40: the modulo bias is under 2^-24.
    u64::from_be_bytes(low) % bound
}

impl<H: Host> TaskContract<H> {
    pub(crate) fn class_fits(&self, class_id: u32, req: &Requirement) -> bool {
        req.fits(&self.class_spec(class_id), || {
            self.class_name_hash(class_id)
        })
    }

    pub(crate) fn active_class(&self, index: u32) -> u32 {
        self.get(slot(ns::ACTIVE_CLASS, &index.to_be_bytes()))
            .uint(28, 4) as u32
    }

    fn fitting_classes(&self, req: &Requirement) -> Vec<u32> {
        let (count, _) = self.lists();
        let mut out = Vec::new();
        for i in 0..count {
            let id = self.active_class(i);
            if self.class_fits(id, req) {
                out.push(id);
            }
        }
        out
    }

    /// Puts the node's weight in all its trees: its QoS weight when available, else 0.
    pub(crate) fn set_node_weight(&mut self, node: &Address, core: &NodeCore, available: bool) {
        let weight = if available {
            qos::weight(core, self.stats().average_task_score())
        } else {
            0
        };
        self.tree_set_weight(&class_tree_id(core.class_id), core.class_pos, weight);
        for i in 0..core.model_count {
            let m = self.node_model(node, i);
            let pos = self.model_position(node, &m) - 1;
            self.tree_set_weight(&model_tree_id(core.class_id, &m), pos, weight);
        }
    }

    /// Weighted draw over several trees, each given with its total weight.
    fn sample_pools(&self, pools: &[(B256, u64)], mut target: u64) -> Address {
        for (id, total) in pools {
            if target < *total {
                return self.tree_sample(id, target);
            }
            target -= total;
        }
        Address::ZERO
    }

    /// The class trees of the fitting classes that have available nodes, and their total weight.
    fn class_pools(&self, fitting: &[u32]) -> (Vec<(B256, u64)>, u64) {
        let mut pools = Vec::new();
        let mut sum = 0u64;
        for class in fitting {
            let id = class_tree_id(*class);
            let total = self.tree_totals(&id).0;
            if total > 0 {
                pools.push((id, total));
                sum += total;
            }
        }
        (pools, sum)
    }

    /// Picks an available node that fits, at random with weight proportional to its QoS score,
    /// among the nodes holding the task's models when there are any (a node holding k of them
    /// counts k times), else among all fitting nodes.
    pub(crate) fn select_node(
        &self,
        req: &Requirement,
        model_hashes: &[B256],
        seed: &B256,
    ) -> Selection {
        let fitting = self.fitting_classes(req);
        let mut holders = alloc::vec![0u32; model_hashes.len()];
        let mut pools = Vec::new();
        let mut sum = 0u64;
        for class in &fitting {
            for (i, m) in model_hashes.iter().enumerate() {
                let id = model_tree_id(*class, m);
                let (total, count) = self.tree_totals(&id);
                holders[i] += count;
                if total > 0 {
                    pools.push((id, total));
                    sum += total;
                }
            }
        }
        if sum == 0 {
            (pools, sum) = self.class_pools(&fitting);
        }
        let node = (sum > 0).then(|| self.sample_pools(&pools, draw(seed, 0, sum)));
        Selection {
            node,
            fitting,
            holders,
        }
    }

    /// Model distribution: for each task model held by fewer than `MIN_MODEL_HOLDERS` available
    /// fitting nodes, up to `DOWNLOAD_HINTS` other available fitting nodes that lack it are told
    /// to download it (drawn by QoS weight; a node drawn twice is told once).
    pub(crate) fn hint_downloads(
        &mut self,
        selection: &Selection,
        selected: Address,
        model_ids: &[&[u8]],
        model_hashes: &[B256],
        task_type: u8,
        seed: &B256,
    ) {
        if selection.holders.iter().all(|h| *h >= MIN_MODEL_HOLDERS) {
            return;
        }
        let (pools, sum) = self.class_pools(&selection.fitting);
        if sum == 0 {
            return;
        }
        for (i, m) in model_hashes.iter().enumerate() {
            if selection.holders[i] >= MIN_MODEL_HOLDERS {
                continue;
            }
            let mut told: Vec<Address> = Vec::new();
            for k in 0..DOWNLOAD_HINTS {
                let node =
                    self.sample_pools(&pools, draw(seed, 1 + i as u8 * DOWNLOAD_HINTS + k, sum));
                if node == selected || told.contains(&node) || self.model_position(&node, m) != 0 {
                    continue;
                }
                told.push(node);
                self.emit(
                    &[DownloadModel::SIGNATURE_HASH.0, address_word(&node)],
                    &event_data(&[uint_word(task_type as u128)], Some(model_ids[i])),
                );
            }
        }
    }
}
