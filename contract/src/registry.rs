//! The node registry: join with a stake, pause, resume, quit (pending while busy), local models,
//! and what happens to a node when its task ends: QoS, kick-out, the next queued task, or the
//! pending pause or quit.

use alloy_primitives::{keccak256, Address};
use alloy_sol_types::SolEvent;

use crate::abi::{
    fail, NodeJoined, NodeKickedOut, NodeModelAdded, NodePaused, NodeQuit, NodeResumed,
    NodeSlashed, Result,
};
use crate::config::to_u96;
use crate::events::{address_word, event_data};
use crate::gpu_class::{
    class_base, class_key, class_tree_id, field as class_field, model_tree_id, ClassSpec,
};
use crate::node_record::{
    field, model_position_slot, node_base, node_status, NodeCore, MAX_NODE_MODELS,
};
use crate::packing::Word;
use crate::qos;
use crate::store::{ns, slot};
use crate::{Host, TaskContract};

impl<H: Host> TaskContract<H> {
    /// The caller's node record, which must be joined.
    fn joined_caller(&self) -> Result<(Address, NodeCore)> {
        let node = self.host.sender();
        let core = self.node_core(&node);
        if core.status == node_status::QUIT {
            return fail!(NodeNotJoined);
        }
        Ok((node, core))
    }
    pub(crate) fn join_impl(
        &mut self,
        gpu_name: &[u8],
        gpu_vram: u64,
        version: [u32; 3],
        public_key: &[u8],
        model_ids: &[&[u8]],
    ) -> Result<()> {
        let config = self.live_config()?;
        let node = self.host.sender();
        if self.node_core(&node).status != node_status::QUIT {
            return fail!(NodeAlreadyJoined);
        }
        let stake = to_u96(self.host.value())?;
        if stake < config.min_stake {
            return fail!(StakeTooLow {
                minimum: alloy_primitives::U256::from(config.min_stake)
            });
        }
        if public_key.len() != 64
            || Address::new(crate::packing::bytes_at(&keccak256(public_key)[12..])) != node
        {
            return fail!(InvalidPublicKey);
        }
        if gpu_name.is_empty() || gpu_vram == 0 {
            return fail!(InvalidGPU);
        }
        if model_ids.len() > MAX_NODE_MODELS as usize {
            return fail!(TooManyModels);
        }
        let class_id = self.enter_class(gpu_name, gpu_vram, version, config.max_classes)?;
        let class_pos = self.tree_insert(&class_tree_id(class_id), node);
        let mut core = NodeCore {
            status: node_status::AVAILABLE,
            class_id,
            class_pos,
            stake,
            joined_at: self.host.timestamp(),
            ..Default::default()
        };
        let base = node_base(&node);
        self.put_at(
            base,
            field::PUBKEY_X,
            Word(crate::packing::bytes_at(public_key)),
        );
        self.put_at(
            base,
            field::PUBKEY_Y,
            Word(crate::packing::bytes_at(&public_key[32..])),
        );
        for id in model_ids {
            self.add_model(node, &mut core, id)?;
        }
        self.prime_node_task(&node);
        let mut stats = self.stats();
        stats.node_count += 1;
        self.set_stats(&stats);
        self.emit_amount(
            NodeJoined::SIGNATURE_HASH,
            &node,
            alloy_primitives::U256::from(stake),
        );
        self.become_idle(node, core);
        Ok(())
    }

    /// Adds one to the joined count of the node's GPU class, creating or re-listing the class.
    /// At most `max_classes` classes have members: dispatch reads every one of them, so their
    /// number must not be up to joining nodes.
    fn enter_class(
        &mut self,
        gpu_name: &[u8],
        vram: u64,
        version: [u32; 3],
        max_classes: u32,
    ) -> Result<u32> {
        let id_slot = slot(ns::CLASS_ID, class_key(gpu_name, vram, &version).as_slice());
        let mut id = self.get(id_slot).uint(28, 4) as u32;
        let mut lists = self.lists();
        let mut spec = if id == 0 {
            ClassSpec {
                vram,
                version,
                ..Default::default()
            }
        } else {
            self.class_spec(id)
        };
        if spec.list_pos == 0 && lists.classes >= max_classes {
            return fail!(TooManyGPUClasses {
                maximum: max_classes
            });
        }
        if id == 0 {
            lists.last_class_id += 1;
            id = lists.last_class_id;
            let mut w = Word::default();
            w.set_uint(28, 4, id as u128);
            self.put(id_slot, w);
            let base = class_base(id);
            self.put_at(base, class_field::NAME_HASH, Word(keccak256(gpu_name).0));
            self.put_bytes(base + class_field::NAME, gpu_name);
        }
        if spec.list_pos == 0 {
            self.set_active_class(lists.classes, id);
            lists.classes += 1;
            spec.list_pos = lists.classes;
        }
        self.set_lists(&lists);
        spec.joined += 1;
        self.set_class_spec(id, &spec);
        Ok(id)
    }

    fn set_active_class(&mut self, index: u32, class_id: u32) {
        let mut w = Word::default();
        w.set_uint(28, 4, class_id as u128);
        self.put(slot(ns::ACTIVE_CLASS, &index.to_be_bytes()), w);
    }

    /// Removes one from the class's joined count; an empty class leaves the dispatch list.
    fn leave_class(&mut self, class_id: u32) {
        let mut spec = self.class_spec(class_id);
        spec.joined -= 1;
        if spec.joined == 0 {
            let mut lists = self.lists();
            let classes = lists.classes;
            if spec.list_pos != classes {
                let moved = self.active_class(classes - 1);
                self.set_active_class(spec.list_pos - 1, moved);
                let mut moved_spec = self.class_spec(moved);
                moved_spec.list_pos = spec.list_pos;
                self.set_class_spec(moved, &moved_spec);
            }
            self.set_active_class(classes - 1, 0);
            lists.classes = classes - 1;
            self.set_lists(&lists);
            spec.list_pos = 0;
        }
        self.set_class_spec(class_id, &spec);
    }

    /// Lists a model as local to the node (weight 0 until the caller makes the node available).
    fn add_model(&mut self, node: Address, core: &mut NodeCore, model_id: &[u8]) -> Result<bool> {
        let m = keccak256(model_id);
        if self.model_position(&node, &m) != 0 {
            return Ok(false);
        }
        if core.model_count >= MAX_NODE_MODELS {
            return fail!(TooManyModels);
        }
        let pos = self.tree_insert(&model_tree_id(core.class_id, &m), node);
        self.set_model_position(&node, &m, pos + 1);
        self.set_node_model(&node, core.model_count, &m);
        core.model_count += 1;
        self.emit(
            &[NodeModelAdded::SIGNATURE_HASH.0, address_word(&node)],
            &event_data(&[], Some(model_id)),
        );
        Ok(true)
    }
    pub(crate) fn report_model_downloaded_impl(&mut self, model_id: &[u8]) -> Result<()> {
        let (node, mut core) = self.joined_caller()?;
        if self.add_model(node, &mut core, model_id)? {
            self.set_node_core(&node, &core);
            if core.status == node_status::AVAILABLE {
                let m = keccak256(model_id);
                let pos = self.model_position(&node, &m) - 1;
                let weight = qos::weight(&core, self.stats().average_task_score());
                self.tree_set_weight(&model_tree_id(core.class_id, &m), pos, weight);
            }
        }
        Ok(())
    }

    /// A node with nothing to do: it takes the best-paying queued task it fits, or becomes
    /// available for dispatch.
    pub(crate) fn become_idle(&mut self, node: Address, mut core: NodeCore) {
        if let Some(commitment) = self.take_queued_task(core.class_id) {
            core.status = node_status::BUSY;
            self.set_node_core(&node, &core);
            self.start_queued_task(&commitment, node);
        } else {
            core.status = node_status::AVAILABLE;
            self.set_node_core(&node, &core);
            self.set_node_weight(&node, &core, true);
        }
    }
    pub(crate) fn pause_impl(&mut self) -> Result<()> {
        let (node, mut core) = self.joined_caller()?;
        match core.status {
            node_status::AVAILABLE => {
                self.set_node_weight(&node, &core, false);
                core.status = node_status::PAUSED;
                self.emit_node(NodePaused::SIGNATURE_HASH, &node);
            }
            node_status::BUSY => core.status = node_status::PENDING_PAUSE,
            s => return fail!(IllegalNodeStatus { status: s }),
        }
        self.set_node_core(&node, &core);
        Ok(())
    }
    pub(crate) fn resume_impl(&mut self) -> Result<()> {
        let (node, mut core) = self.joined_caller()?;
        match core.status {
            node_status::PAUSED => {
                self.emit_node(NodeResumed::SIGNATURE_HASH, &node);
                self.become_idle(node, core);
            }
            node_status::PENDING_PAUSE => {
                core.status = node_status::BUSY;
                self.set_node_core(&node, &core);
                self.emit_node(NodeResumed::SIGNATURE_HASH, &node);
            }
            s => return fail!(IllegalNodeStatus { status: s }),
        }
        Ok(())
    }
    pub(crate) fn quit_impl(&mut self) -> Result<()> {
        let (node, mut core) = self.joined_caller()?;
        match core.status {
            node_status::AVAILABLE | node_status::PAUSED => {
                self.remove_node(node, &core);
                self.pay(node, core.stake);
                self.emit_node(NodeQuit::SIGNATURE_HASH, &node);
            }
            node_status::BUSY | node_status::PENDING_PAUSE => {
                core.status = node_status::PENDING_QUIT;
                self.set_node_core(&node, &core);
            }
            s => return fail!(IllegalNodeStatus { status: s }),
        }
        Ok(())
    }

    /// Takes the node out of the registry: tree positions released, class left, record cleared.
    /// The caller settles the stake.
    fn remove_node(&mut self, node: Address, core: &NodeCore) {
        if core.status == node_status::AVAILABLE {
            self.set_node_weight(&node, core, false);
        }
        self.tree_remove(&class_tree_id(core.class_id), core.class_pos);
        for i in 0..core.model_count {
            let m = self.node_model(&node, i);
            let pos = self.model_position(&node, &m) - 1;
            self.tree_remove(&model_tree_id(core.class_id, &m), pos);
            self.put(model_position_slot(&node, &m), Word::default());
        }
        self.leave_class(core.class_id);
        self.set_node_core(&node, &NodeCore::default());
        let mut stats = self.stats();
        stats.node_count -= 1;
        self.set_stats(&stats);
    }

    /// The node's task ended (not by slashing): record its task score (`None`: the end was not
    /// the node's doing, its QoS stays as it was), then kick it out, start its next task, or
    /// carry out its pending pause or quit.
    pub(crate) fn release_node(&mut self, node: Address, task_score: Option<u8>) {
        let mut core = self.node_core(&node);
        if let Some(score) = task_score {
            qos::record(&mut core, score);
            let mut stats = self.stats();
            stats.qos_sum += score as u64;
            stats.qos_count += 1;
            self.set_stats(&stats);
        }
        if qos::should_kick_out(&core) {
            self.remove_node(node, &core);
            self.pay(node, core.stake);
            self.emit_node(NodeKickedOut::SIGNATURE_HASH, &node);
            return;
        }
        match core.status {
            node_status::PENDING_PAUSE => {
                core.status = node_status::PAUSED;
                self.set_node_core(&node, &core);
                self.emit_node(NodePaused::SIGNATURE_HASH, &node);
            }
            node_status::PENDING_QUIT => {
                self.remove_node(node, &core);
                self.pay(node, core.stake);
                self.emit_node(NodeQuit::SIGNATURE_HASH, &node);
            }
            _ => self.become_idle(node, core),
        }
    }

    /// A node caught submitting a wrong result loses its whole stake to the treasury and leaves.
    pub(crate) fn slash_node(&mut self, node: Address) {
        let core = self.node_core(&node);
        self.remove_node(node, &core);
        let treasury = self.config().treasury;
        self.pay(treasury, core.stake);
        self.emit_node(NodeSlashed::SIGNATURE_HASH, &node);
    }
}
