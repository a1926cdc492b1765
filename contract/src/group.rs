//! The outcome rule of a validation group (PROTOCOL.md "Group validation outcome"), as a pure
//! function of the three members' states and scores in sequence order.

use crate::score;
use crate::task_record::status::{
    END_ABORTED, END_GROUP_REFUND, END_INVALIDATED, ERROR_REPORTED, GROUP_VALIDATED, SCORE_READY,
};

/// One member as validation finds it: ScoreReady, ErrorReported or EndAborted.
#[derive(Clone, Copy)]
pub struct Member<'a> {
    pub status: u8,
    pub score: &'a [u8],
}

/// New states of the three members (in sequence order).
///
/// The first agreeing pair of scores, tested (1,2), (1,3), (2,3), decides: its earlier member is
/// GroupValidated, its other member EndGroupRefund, and the third EndGroupRefund if it agrees with
/// the GroupValidated one, else EndInvalidated (an already aborted third stays EndAborted).
/// Without an agreeing pair, two agreeing error reports among three live members invalidate a
/// score-reporting third; everyone else ends EndAborted.
pub fn outcome(members: &[Member; 3], task_type: u8, threshold: u8) -> [u8; 3] {
    let live = |i: usize| members[i].status != END_ABORTED;
    let scored = |i: usize| members[i].status == SCORE_READY;
    let agree =
        |i: usize, j: usize| score::agree(task_type, members[i].score, members[j].score, threshold);
    let mut out = [END_ABORTED; 3];
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        if scored(a) && scored(b) && agree(a, b) {
            out[a] = GROUP_VALIDATED;
            out[b] = END_GROUP_REFUND;
            let third = 3 - a - b;
            if live(third) {
                out[third] = if scored(third) && agree(a, third) {
                    END_GROUP_REFUND
                } else {
                    END_INVALIDATED
                };
            }
            return out;
        }
    }
    let errors = members
        .iter()
        .filter(|m| m.status == ERROR_REPORTED)
        .count();
    if errors >= 2 && (0..3).all(live) {
        for (i, o) in out.iter_mut().enumerate() {
            if scored(i) {
                *o = END_INVALIDATED;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task_record::task_type::SD;

    const A: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 0];
    const B: &[u8] = &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
    const C: &[u8] = &[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

    fn s(score: &'static [u8]) -> Member<'static> {
        Member {
            status: SCORE_READY,
            score,
        }
    }
    const ERR: Member<'static> = Member {
        status: ERROR_REPORTED,
        score: &[],
    };
    const ABT: Member<'static> = Member {
        status: END_ABORTED,
        score: &[],
    };

    fn run(m: [Member<'static>; 3]) -> [u8; 3] {
        outcome(&m, SD, 24)
    }

    #[test]
    fn every_row_of_the_reference_table() {
        use crate::task_record::status::END_ABORTED as EA;
        use crate::task_record::status::END_GROUP_REFUND as EGR;
        use crate::task_record::status::END_INVALIDATED as EI;
        use crate::task_record::status::GROUP_VALIDATED as GV;
        assert_eq!(run([s(A), s(A), s(A)]), [GV, EGR, EGR]);
        assert_eq!(run([s(A), s(A), s(B)]), [GV, EGR, EI]);
        assert_eq!(run([s(A), s(B), s(C)]), [EA, EA, EA]);
        assert_eq!(run([s(A), s(A), ERR]), [GV, EGR, EI]);
        assert_eq!(run([s(A), s(B), ERR]), [EA, EA, EA]);
        assert_eq!(run([s(A), s(A), ABT]), [GV, EGR, EA]);
        assert_eq!(run([s(A), s(B), ABT]), [EA, EA, EA]);
        assert_eq!(run([s(A), ERR, ERR]), [EI, EA, EA]);
        assert_eq!(run([s(A), ERR, ABT]), [EA, EA, EA]);
        assert_eq!(run([s(A), ABT, ABT]), [EA, EA, EA]);
        assert_eq!(run([ERR, ERR, ERR]), [EA, EA, EA]);
        assert_eq!(run([ERR, ERR, ABT]), [EA, EA, EA]);
        assert_eq!(run([ERR, ABT, ABT]), [EA, EA, EA]);
        assert_eq!(run([ABT, ABT, ABT]), [EA, EA, EA]);
    }

    #[test]
    fn pairs_are_tested_in_sequence_order() {
        use crate::task_record::status::END_GROUP_REFUND as EGR;
        use crate::task_record::status::END_INVALIDATED as EI;
        use crate::task_record::status::GROUP_VALIDATED as GV;
        assert_eq!(run([s(A), s(B), s(A)]), [GV, EI, EGR]);
        assert_eq!(run([s(B), s(A), s(A)]), [EI, GV, EGR]);
        assert_eq!(run([ERR, s(A), s(A)]), [EI, GV, EGR]);
    }

    #[test]
    fn non_transitive_agreement_is_judged_against_the_validated_member() {
        use crate::task_record::status::END_GROUP_REFUND as EGR;
        use crate::task_record::status::END_INVALIDATED as EI;
        use crate::task_record::status::GROUP_VALIDATED as GV;
        // 1 and 2 differ by 16 bits, 2 and 3 by 16, but 1 and 3 by 32.
        const X: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 0];
        const Y: &[u8] = &[0xFF, 0xFF, 0, 0, 0, 0, 0, 0];
        const Z: &[u8] = &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];
        assert_eq!(run([s(X), s(Y), s(Z)]), [GV, EGR, EI]);
    }
}
