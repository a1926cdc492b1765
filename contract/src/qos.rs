//! Quality of service: each finished task gives its node a task score; a node keeps its last
//! three. The sum of the three is the node's selection weight (missing entries count as the
//! network's average task score, so a new node starts at the average); a node whose recent
//! scores sum to at most `KICKOUT_MAX_RECENT` (missing entries counted as a success) is kicked
//! out with its stake returned.

use crate::node_record::NodeCore;

/// Task score of a success, and of the fastest, second and third member of a validation group.
pub const GROUP_RANK_SCORES: [u8; 3] = [10, 9, 6];
pub const SUCCESS_SCORE: u8 = 10;
/// A task that timed out while the node held it (parameters uploaded, or validated but no
/// result uploaded) scores nothing.
pub const TIMEOUT_SCORE: u8 = 0;
/// Recent sum at or below which a node is kicked out: two timeouts among the last three tasks.
pub const KICKOUT_MAX_RECENT: u32 = 10;

const WINDOW: usize = 3;

/// Records a finished task's score as the node's most recent.
pub fn record(core: &mut NodeCore, score: u8) {
    core.recent = [score, core.recent[0], core.recent[1]];
    if (core.recent_count as usize) < WINDOW {
        core.recent_count += 1;
    }
}

fn recent_sum(core: &NodeCore) -> u32 {
    let mut sum = 0;
    for s in &core.recent[..core.recent_count as usize] {
        sum += *s as u32;
    }
    sum
}

/// Selection weight: recent scores plus the network average for each missing one; at least 1.
pub fn weight(core: &NodeCore, average: u64) -> u64 {
    let missing = (WINDOW - core.recent_count as usize) as u64;
    (recent_sum(core) as u64 + missing * average).max(1)
}

pub fn should_kick_out(core: &NodeCore) -> bool {
    let missing = (WINDOW - core.recent_count as usize) as u32;
    recent_sum(core) + missing * SUCCESS_SCORE as u32 <= KICKOUT_MAX_RECENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_node_starts_at_the_average() {
        let core = NodeCore::default();
        assert_eq!(weight(&core, 8), 24);
        assert!(!should_kick_out(&core));
    }

    #[test]
    fn window_keeps_three_most_recent() {
        let mut core = NodeCore::default();
        for s in [10, 9, 6, 10] {
            record(&mut core, s);
        }
        assert_eq!(core.recent, [10, 6, 9]);
        assert_eq!(core.recent_count, 3);
        assert_eq!(weight(&core, 0), 25);
    }

    #[test]
    fn two_timeouts_kick_out() {
        let mut core = NodeCore::default();
        record(&mut core, TIMEOUT_SCORE);
        assert!(!should_kick_out(&core));
        record(&mut core, TIMEOUT_SCORE);
        assert!(should_kick_out(&core));
        let mut good = NodeCore::default();
        for s in [10, 0, 6] {
            record(&mut good, s);
        }
        assert!(!should_kick_out(&good));
        record(&mut good, 0);
        assert!(should_kick_out(&good));
    }

    #[test]
    fn weight_is_never_zero() {
        let mut core = NodeCore::default();
        for _ in 0..3 {
            record(&mut core, 0);
        }
        assert_eq!(weight(&core, 10), 1);
    }
}
