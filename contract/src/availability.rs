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

    /// The classes with joined nodes (in any status) that can run tasks of `req`.
    fn fitting_classes(&self, req: &Requirement) -> Vec<u32> {
        let count = self.lists().classes;
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

    /// For each model, the available nodes of the fitting classes that hold it, and the model
    /// trees among them with a weight (each with its total weight) and the sum of those weights.
    fn model_pools(
        &self,
        fitting: &[u32],
        model_hashes: &[B256],
    ) -> (Vec<u32>, Vec<(B256, u64)>, u64) {
        let mut holders = alloc::vec![0u32; model_hashes.len()];
        let mut pools = Vec::new();
        let mut sum = 0u64;
        for class in fitting {
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
        (holders, pools, sum)
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
        let (holders, mut pools, mut sum) = self.model_pools(&fitting, model_hashes);
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

    /// Model distribution for a task taken from the queue by `selected`: the same hints as a
    /// task dispatched at creation gets.
    pub(crate) fn hint_downloads_for(
        &mut self,
        requirement: u32,
        selected: Address,
        task_type: u8,
        seed: &B256,
    ) {
        let models = self.requirement_models(requirement);
        if models.is_empty() {
            return;
        }
        let model_ids: Vec<&[u8]> = models.iter().map(|m| m.as_slice()).collect();
        let model_hashes: Vec<B256> = model_ids.iter().map(keccak256).collect();
        let fitting = self.fitting_classes(&self.requirement(requirement));
        let (holders, _, _) = self.model_pools(&fitting, &model_hashes);
        let selection = Selection {
            node: Some(selected),
            fitting,
            holders,
        };
        self.hint_downloads(
            &selection,
            selected,
            &model_ids,
            &model_hashes,
            task_type,
            seed,
        );
    }

    /// Model distribution: for each task model held by fewer than `MIN_MODEL_HOLDERS` available
    /// fitting nodes, up to `DOWNLOAD_HINTS` other fitting nodes that lack it are told to
    /// download it: joined nodes in any status (a busy node downloads in the background), drawn
    /// uniformly; a node drawn twice is told once.
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
        // Every position of the fitting classes' trees (a freed position reads as no node).
        let mut positions = Vec::new();
        let mut sum = 0u64;
        for class in &selection.fitting {
            let id = class_tree_id(*class);
            let len = self.tree_len(&id) as u64;
            positions.push((id, len));
            sum += len;
        }
        if sum == 0 {
            return;
        }
        for (i, m) in model_hashes.iter().enumerate() {
            if selection.holders[i] >= MIN_MODEL_HOLDERS {
                continue;
            }
            let mut told: Vec<Address> = Vec::new();
            for k in 0..DOWNLOAD_HINTS {
                let mut target = draw(seed, 1 + i as u8 * DOWNLOAD_HINTS + k, sum);
                let mut node = Address::ZERO;
                for (id, len) in &positions {
                    if target < *len {
                        node = self.tree_member(id, target as u32);
                        break;
                    }
                    target -= len;
                }
                if node.is_zero()
                    || node == selected
                    || told.contains(&node)
                    || self.model_position(&node, m) != 0
                {
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
