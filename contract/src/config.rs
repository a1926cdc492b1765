//! Owner-set parameters and the global counters, each packed into whole storage words.
//!
//! ```text
//! config[0]: owner (20) | queueSizeLimit u16 | maxGPUClasses u32 | initialized u8
//! config[1]: relay (20) | minStake u96
//! config[2]: treasury (20) | current terms id u24
//! verifier:  VRF verifier program (20)
//! pending:   pending owner (20)
//! stats:     taskCount u64 | nodeCount u32 | queuedCount u32 | QoS score sum u64 | QoS score count u64
//! lists:     active GPU classes u32 | non-empty queue partitions u32 | last class id u32 |
//!            last requirement id u32
//! ```
//!
//! The durations, the sampling rate and the distance threshold are "terms" (`terms.rs`): a task
//! keeps the terms it was created under, so that a config change never alters a running task.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, ConfigChanged, Result};
use crate::packing::Word;
use crate::store::global;
use crate::terms::Terms;
use crate::{Host, TaskContract};

/// Largest value a packed u96 field holds (stakes, fees, prices).
pub const U96_MAX: u128 = (1 << 96) - 1;

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Config {
    pub owner: Address,
    pub relay: Address,
    pub treasury: Address,
    pub min_stake: u128,
    pub queue_limit: u16,
    pub max_classes: u32,
    pub initialized: bool,
    pub terms_id: u32,
}

/// The part of the configuration that task transactions read (configuration word 0).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct TaskConfig {
    pub relay: Address,
    pub terms_id: u32,
    pub queue_limit: u16,
    pub max_classes: u32,
    pub initialized: bool,
}

impl TaskConfig {
    fn decode(w: Word) -> TaskConfig {
        TaskConfig {
            relay: w.address(0),
            terms_id: w.uint(20, 3) as u32,
            queue_limit: w.uint(23, 2) as u16,
            max_classes: w.uint(25, 4) as u32,
            initialized: w.u8(29) == 1,
        }
    }

    fn encode(&self) -> Word {
        let mut w = Word::default();
        w.set_address(0, self.relay);
        w.set_uint(20, 3, self.terms_id as u128);
        w.set_uint(23, 2, self.queue_limit as u128);
        w.set_uint(25, 4, self.max_classes as u128);
        w.set_u8(29, self.initialized as u8);
        w
    }
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Stats {
    pub task_count: u64,
    pub node_count: u32,
    pub queued: u32,
    pub qos_sum: u64,
    pub qos_count: u64,
}

impl Stats {
    /// The network's average task score, the starting score of a new node ("new nodes start at
    /// the average"); 10, the score of a success, before any task has been scored.
    pub fn average_task_score(&self) -> u64 {
        self.qos_sum.checked_div(self.qos_count).unwrap_or(10)
    }
}

/// Lengths of the dispatch lists and the id counters.
#[derive(Clone, Copy, Default, Debug)]
pub struct Lists {
    pub classes: u32,
    pub partitions: u32,
    pub last_class_id: u32,
    pub last_requirement_id: u32,
}

/// Converts a wei amount to the packed u96 representation, refusing larger values.
pub fn to_u96(value: U256) -> Result<u128> {
    // Limb arithmetic: ruint's checked conversion would link its panic formatting.
    let l = value.as_limbs();
    let wide = ((l[1] as u128) << 64) | l[0] as u128;
    if l[2] != 0 || l[3] != 0 || wide > U96_MAX {
        return fail!(ValueTooLarge);
    }
    Ok(wide)
}

/// Converts a duration in seconds to the packed u32 representation.
pub fn to_u32(value: u64) -> Result<u32> {
    u32::try_from(value).or(fail!(ValueTooLarge))
}

/// The owner-set parameters as the constructor and `setConfig` take them (after the owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub relay: Address,
    pub treasury: Address,
    pub verifier: Address,
    pub min_stake: U256,
    pub queue_timeout: u64,
    pub upload_timeout: u64,
    pub execution_timeout: u64,
    pub validation_timeout: u64,
    pub distance_threshold: u8,
    pub sampling_rate: u32,
    pub queue_limit: u16,
    pub max_classes: u32,
}

impl<H: Host> TaskContract<H> {
    /// The constructor (run in the deployment transaction through cargo-stylus's deployer, so
    /// that nobody can configure the contract before its deployer does).
    pub(crate) fn construct_impl(&mut self, owner: Address, s: &Settings) -> Result<()> {
        if self.config().initialized {
            return fail!(AlreadyInitialized);
        }
        if owner.is_zero() {
            return fail!(InvalidConfig);
        }
        self.apply_settings(owner, s)
    }

    /// `setConfig`: the owner replaces every parameter but the owner.
    pub(crate) fn set_config_impl(&mut self, s: &Settings) -> Result<()> {
        let owner = self.owner_config()?.owner;
        self.apply_settings(owner, s)
    }

    fn apply_settings(&mut self, owner: Address, s: &Settings) -> Result<()> {
        let terms = Terms {
            queue: to_u32(s.queue_timeout)?,
            upload: to_u32(s.upload_timeout)?,
            execution: to_u32(s.execution_timeout)?,
            validation: to_u32(s.validation_timeout)?,
            sampling_rate: s.sampling_rate,
            threshold: s.distance_threshold,
        };
        if !terms.is_valid()
            || s.relay.is_zero()
            || s.treasury.is_zero()
            || s.verifier.is_zero()
            || s.max_classes == 0
        {
            return fail!(InvalidConfig);
        }
        let old = self.config();
        let mut terms_id = old.terms_id;
        if terms_id == 0 || self.terms(terms_id) != terms {
            terms_id += 1;
            self.set_terms(terms_id, &terms);
        }
        self.store_config(&Config {
            owner,
            relay: s.relay,
            treasury: s.treasury,
            min_stake: to_u96(s.min_stake)?,
            queue_limit: s.queue_limit,
            max_classes: s.max_classes,
            initialized: true,
            terms_id,
        });
        let mut w = Word::default();
        w.set_address(0, s.verifier);
        self.put_global(global::VERIFIER, w);
        self.emit(&[ConfigChanged::SIGNATURE_HASH.0], &[]);
        Ok(())
    }

    pub(crate) fn verifier(&self) -> Address {
        self.get_global(global::VERIFIER).address(0)
    }

    // Word 0 holds what task transactions need (one cold read for them): relay | terms id u24 |
    // queue limit u16 | max classes u32 | initialized u8. Word 1: owner | min stake u96.
    // Word 2: treasury.
    pub(crate) fn config(&self) -> Config {
        let t = TaskConfig::decode(self.get_global(global::CONFIG0));
        let w1 = self.get_global(global::CONFIG1);
        let w2 = self.get_global(global::CONFIG2);
        Config {
            owner: w1.address(0),
            min_stake: w1.uint(20, 12),
            treasury: w2.address(0),
            relay: t.relay,
            terms_id: t.terms_id,
            queue_limit: t.queue_limit,
            max_classes: t.max_classes,
            initialized: t.initialized,
        }
    }

    pub(crate) fn store_config(&mut self, c: &Config) {
        let w0 = TaskConfig {
            relay: c.relay,
            terms_id: c.terms_id,
            queue_limit: c.queue_limit,
            max_classes: c.max_classes,
            initialized: c.initialized,
        }
        .encode();
        let mut w1 = Word::default();
        w1.set_address(0, c.owner);
        w1.set_uint(20, 12, c.min_stake);
        let mut w2 = Word::default();
        w2.set_address(0, c.treasury);
        self.put_global(global::CONFIG0, w0);
        self.put_global(global::CONFIG1, w1);
        self.put_global(global::CONFIG2, w2);
    }

    pub(crate) fn live_config(&self) -> Result<Config> {
        let c = self.config();
        if !c.initialized {
            return fail!(NotInitialized);
        }
        Ok(c)
    }

    /// The configuration task transactions read, from one word.
    pub(crate) fn task_config(&self) -> Result<TaskConfig> {
        let t = TaskConfig::decode(self.get_global(global::CONFIG0));
        if !t.initialized {
            return fail!(NotInitialized);
        }
        Ok(t)
    }

    pub(crate) fn owner_config(&self) -> Result<Config> {
        let c = self.live_config()?;
        if self.host.sender() != c.owner {
            return fail!(NotOwner);
        }
        Ok(c)
    }

    pub(crate) fn stats(&self) -> Stats {
        let w = self.get_global(global::STATS);
        Stats {
            task_count: w.u64(0, 8),
            node_count: w.uint(8, 4) as u32,
            queued: w.uint(12, 4) as u32,
            qos_sum: w.u64(16, 8),
            qos_count: w.u64(24, 8),
        }
    }

    pub(crate) fn set_stats(&mut self, s: &Stats) {
        let mut w = Word::default();
        w.set_uint(0, 8, s.task_count as u128);
        w.set_uint(8, 4, s.node_count as u128);
        w.set_uint(12, 4, s.queued as u128);
        w.set_uint(16, 8, s.qos_sum as u128);
        w.set_uint(24, 8, s.qos_count as u128);
        self.put_global(global::STATS, w);
    }

    pub(crate) fn lists(&self) -> Lists {
        let w = self.get_global(global::LISTS);
        Lists {
            classes: w.uint(0, 4) as u32,
            partitions: w.uint(4, 4) as u32,
            last_class_id: w.uint(8, 4) as u32,
            last_requirement_id: w.uint(12, 4) as u32,
        }
    }

    pub(crate) fn set_lists(&mut self, l: &Lists) {
        let mut w = Word::default();
        w.set_uint(0, 4, l.classes as u128);
        w.set_uint(4, 4, l.partitions as u128);
        w.set_uint(8, 4, l.last_class_id as u128);
        w.set_uint(12, 4, l.last_requirement_id as u128);
        self.put_global(global::LISTS, w);
    }
}
