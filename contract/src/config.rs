//! Owner-set parameters and the global counters, each packed into whole storage words.
//!
//! ```text
//! config[0]: owner (20) | taskTimeout u32 (4) | queueSizeLimit u32 (4) | distanceThreshold u8 | initialized u8
//! config[1]: relay (20) | minStake u96 (12)
//! config[2]: treasury (20) | last GPU class id u32 (4)
//! verifier:  VRF verifier program (20)
//! stats:     taskCount u64 | nodeCount u32 | queuedCount u32 | QoS score sum u64 | QoS score count u64
//! lists:     active GPU classes u32 | non-empty queue partitions u32
//! ```

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, ConfigChanged, Result};
use crate::packing::Word;
use crate::store::global;
use crate::{Host, TaskContract};

/// Largest value a packed u96 field holds (stakes, fees, prices).
pub const U96_MAX: u128 = (1 << 96) - 1;

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Config {
    pub owner: Address,
    pub relay: Address,
    pub treasury: Address,
    pub min_stake: u128,
    pub task_timeout: u32,
    pub queue_limit: u32,
    pub distance_threshold: u8,
    pub initialized: bool,
    pub last_class_id: u32,
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

/// The owner-set parameters as `initialize` and `setConfig` take them and `getConfig` returns
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub owner: Address,
    pub relay: Address,
    pub treasury: Address,
    pub verifier: Address,
    pub min_stake: U256,
    pub task_timeout: u64,
    pub distance_threshold: u8,
    pub queue_limit: u32,
}

impl<H: Host> TaskContract<H> {
    /// One-time setup; afterwards only the owner changes parameters.
    pub(crate) fn initialize_impl(&mut self, p: &Params) -> Result<()> {
        if self.config().initialized {
            return fail!(AlreadyInitialized);
        }
        self.apply_params(p, 0)
    }

    /// `setConfig`: the owner replaces every parameter (the owner too: a transfer of ownership).
    pub(crate) fn set_config_impl(&mut self, p: &Params) -> Result<()> {
        let last_class_id = self.owner_config()?.last_class_id;
        self.apply_params(p, last_class_id)
    }

    fn apply_params(&mut self, p: &Params, last_class_id: u32) -> Result<()> {
        let c = Config {
            owner: p.owner,
            relay: p.relay,
            treasury: p.treasury,
            min_stake: to_u96(p.min_stake)?,
            task_timeout: to_u32(p.task_timeout)?,
            queue_limit: p.queue_limit,
            distance_threshold: p.distance_threshold,
            initialized: true,
            last_class_id,
        };
        if p.verifier.is_zero() {
            return fail!(InvalidConfig);
        }
        Self::check_params(&c)?;
        self.store_config(&c);
        let mut w = Word::default();
        w.set_address(0, p.verifier);
        self.put_global(global::VERIFIER, w);
        self.emit(&[ConfigChanged::SIGNATURE_HASH.0], &[]);
        Ok(())
    }

    pub(crate) fn params(&self) -> Params {
        let c = self.config();
        Params {
            owner: c.owner,
            relay: c.relay,
            treasury: c.treasury,
            verifier: self.verifier(),
            min_stake: U256::from(c.min_stake),
            task_timeout: c.task_timeout as u64,
            distance_threshold: c.distance_threshold,
            queue_limit: c.queue_limit,
        }
    }

    pub(crate) fn verifier(&self) -> Address {
        self.get_global(global::VERIFIER).address(0)
    }

    pub(crate) fn config(&self) -> Config {
        let w0 = self.get_global(global::CONFIG0);
        let w1 = self.get_global(global::CONFIG1);
        let w2 = self.get_global(global::CONFIG2);
        Config {
            owner: w0.address(0),
            task_timeout: w0.uint(20, 4) as u32,
            queue_limit: w0.uint(24, 4) as u32,
            distance_threshold: w0.u8(28),
            initialized: w0.u8(29) == 1,
            relay: w1.address(0),
            min_stake: w1.uint(20, 12),
            treasury: w2.address(0),
            last_class_id: w2.uint(20, 4) as u32,
        }
    }

    pub(crate) fn store_config(&mut self, c: &Config) {
        let mut w0 = Word::default();
        w0.set_address(0, c.owner);
        w0.set_uint(20, 4, c.task_timeout as u128);
        w0.set_uint(24, 4, c.queue_limit as u128);
        w0.set_u8(28, c.distance_threshold);
        w0.set_u8(29, c.initialized as u8);
        let mut w1 = Word::default();
        w1.set_address(0, c.relay);
        w1.set_uint(20, 12, c.min_stake);
        let mut w2 = Word::default();
        w2.set_address(0, c.treasury);
        w2.set_uint(20, 4, c.last_class_id as u128);
        // Unchanged words cost only a cache write: the flush skips clean slots.
        self.put_global(global::CONFIG0, w0);
        self.put_global(global::CONFIG1, w1);
        self.put_global(global::CONFIG2, w2);
    }

    /// The configuration, once `initialize` has run.
    pub(crate) fn live_config(&self) -> Result<Config> {
        let c = self.config();
        if !c.initialized {
            return fail!(NotInitialized);
        }
        Ok(c)
    }

    /// The configuration, when the caller is the owner.
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

    /// Lengths of the active-class and queue-partition lists.
    pub(crate) fn lists(&self) -> (u32, u32) {
        let w = self.get_global(global::LISTS);
        (w.uint(0, 4) as u32, w.uint(4, 4) as u32)
    }

    pub(crate) fn set_lists(&mut self, classes: u32, partitions: u32) {
        let mut w = Word::default();
        w.set_uint(0, 4, classes as u128);
        w.set_uint(4, 4, partitions as u128);
        self.put_global(global::LISTS, w);
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

    /// Validates owner-supplied parameters: a task needs time to run, and a pHash distance
    /// threshold outside 1..=64 would make every image score agree or none.
    pub(crate) fn check_params(c: &Config) -> Result<()> {
        if c.task_timeout == 0
            || c.distance_threshold == 0
            || c.distance_threshold > 64
            || c.relay.is_zero()
            || c.treasury.is_zero()
            || c.owner.is_zero()
        {
            return fail!(InvalidConfig);
        }
        Ok(())
    }
}
