//! The 14 rows of the group-validation table (reference/task-state-transitions.txt), each run
//! through the contract's ABI with three nodes: the end states, the payouts of the validated task,
//! the refunds, and the slashing of invalidated nodes.

mod common;

use alloy_primitives::{Address, B256, U256};
use common::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum M {
    /// Score ready with one of three pHashes far apart.
    S(u8),
    Err,
    Abt,
}

const GV: u8 = status::GROUP_VALIDATED;
const EGR: u8 = status::END_GROUP_REFUND;
const EI: u8 = status::END_INVALIDATED;
const EA: u8 = status::END_ABORTED;
const FEE: u128 = 5 * ETH;

fn score(which: u8) -> Vec<u8> {
    match which {
        0 => vec![0u8; 8],
        1 => vec![0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0],
        _ => vec![0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF],
    }
}

fn run_row<C: ProtocolChain>(mut net: Net<C>, members: [M; 3], expected: [u8; 3]) {
    for i in 0..3 {
        net.join(i);
    }
    let ts = net.create_group(FEE);
    let nodes: Vec<Address> = ts.iter().map(|t| net.selected(t.commitment)).collect();
    for n in &nodes {
        assert_ne!(*n, Address::ZERO);
    }
    for (t, m) in ts.iter().zip(members) {
        net.upload_params(t.commitment).unwrap();
        match m {
            M::S(w) => net.submit(t.commitment, &score(w)).unwrap(),
            M::Err => net.report_error(t.commitment).unwrap(),
            M::Abt => {}
        }
        net.chain.advance(5);
    }
    if members.contains(&M::Abt) {
        // Past their execution deadline, before the scored members' validation deadline.
        net.chain.advance(EXECUTION_TIMEOUT + 1);
        for (t, m) in ts.iter().zip(members) {
            if m == M::Abt {
                net.abort(net.app.address, t.commitment, 1).unwrap();
            }
        }
    }
    let app_before = net.chain.balance(net.app.address);
    let treasury_before = net.chain.balance(net.treasury);

    net.validate_group([&ts[0], &ts[1], &ts[2]]).unwrap();
    let got: [u8; 3] = std::array::from_fn(|i| net.status(ts[i].commitment));
    assert_eq!(got, expected, "members {members:?}");

    // Refunds: every member ending now other than the validated one gives its fee back.
    let refunded = expected
        .iter()
        .zip(members)
        .filter(|(s, m)| **s != GV && *m != M::Abt)
        .count() as u128;
    assert_eq!(
        net.chain.balance(net.app.address),
        app_before + wei(refunded * FEE)
    );
    // Slashing: the stake of every invalidated node goes to the treasury, the node is removed.
    let slashed = expected.iter().filter(|s| **s == EI).count() as u128;
    assert_eq!(
        net.chain.balance(net.treasury),
        treasury_before + wei(slashed * MIN_STAKE)
    );
    for (i, s) in expected.iter().enumerate() {
        let info = net.node_info(nodes[i]);
        if *s == EI {
            assert_eq!(
                info.status,
                node_status::QUIT,
                "slashed node {i} is removed"
            );
        }
    }

    if let Some(v) = expected.iter().position(|s| *s == GV) {
        let gv = ts[v].commitment;
        let info = net.task(gv);
        // The validated task's fee is split among the agreeing nodes (10/9/6 by speed).
        let agreeing: Vec<usize> = (0..3)
            .filter(|i| expected[*i] == GV || expected[*i] == EGR)
            .collect();
        assert_eq!(info.paymentAddresses.len(), agreeing.len());
        assert_eq!(info.payments.iter().copied().sum::<U256>(), wei(FEE));
        // The spent seed's word holds the payees (README "Storage layout"): reported as zero,
        // while the nonce and the parameters' commitment stay readable.
        assert_eq!(info.samplingSeed, B256::ZERO);
        assert_eq!(info.nonce, ts[v].nonce);
        assert_eq!(info.paramsCommitment, ts[v].params_commitment(&PARAMS_HASH));
        for i in (0..3).filter(|i| *i != v) {
            assert_ne!(net.task(ts[i].commitment).samplingSeed, B256::ZERO);
        }
        let before: Vec<U256> = nodes.iter().map(|n| net.chain.balance(*n)).collect();
        net.upload_result(gv).unwrap();
        assert_eq!(net.status(gv), status::END_GROUP_SUCCESS);
        let mut paid = U256::ZERO;
        for i in &agreeing {
            let gain = net.chain.balance(nodes[*i]) - before[*i];
            assert!(gain > U256::ZERO, "agreeing node {i} is paid");
            paid += gain;
        }
        assert_eq!(paid, wei(FEE));
        // Fastest first: the earliest score gets the largest part.
        assert_eq!(
            info.payments[0],
            wei(FEE) * U256::from(10)
                / U256::from(10 + 9 + if agreeing.len() == 3 { 6 } else { 0 })
        );
    }
    // Nothing is left in escrow: the contract holds exactly the remaining stakes.
    assert_eq!(net.chain.balance(net.chain.contract()), net.stakes());
    for t in &ts {
        assert!(
            net.status(t.commitment) >= status::END_INVALIDATED || net.status(t.commitment) == GV
        );
    }
}

/// Each row as two tests, `row::harness` on the native chain and `row::test_vm` on stylus-sdk's
/// test VM.
macro_rules! rows {
    ($($name:ident: [$($m:expr),*] => [$($s:expr),*];)*) => {$(
        mod $name {
            use super::M::*;
            use super::*;

            #[test]
            fn harness() {
                run_row(Net::new(), [$($m),*], [$($s),*]);
            }

            #[test]
            fn test_vm() {
                run_row(Net::on(contract_harness::TestVmChain::new()), [$($m),*], [$($s),*]);
            }
        }
    )*};
}

rows! {
    row01_three_agreeing_scores: [S(0), S(0), S(0)] => [GV, EGR, EGR];
    row02_two_agree_one_differs: [S(0), S(0), S(1)] => [GV, EGR, EI];
    row03_three_different_scores: [S(0), S(1), S(2)] => [EA, EA, EA];
    row04_two_agree_one_error: [S(0), S(0), Err] => [GV, EGR, EI];
    row05_two_differ_one_error: [S(0), S(1), Err] => [EA, EA, EA];
    row06_two_agree_one_aborted: [S(0), S(0), Abt] => [GV, EGR, EA];
    row07_two_differ_one_aborted: [S(0), S(1), Abt] => [EA, EA, EA];
    row08_one_score_two_errors: [S(0), Err, Err] => [EI, EA, EA];
    row09_score_error_aborted: [S(0), Err, Abt] => [EA, EA, EA];
    row10_score_two_aborted: [S(0), Abt, Abt] => [EA, EA, EA];
    row11_three_errors: [Err, Err, Err] => [EA, EA, EA];
    row12_two_errors_one_aborted: [Err, Err, Abt] => [EA, EA, EA];
    row13_error_two_aborted: [Err, Abt, Abt] => [EA, EA, EA];
    row14_three_aborted: [Abt, Abt, Abt] => [EA, EA, EA];
}
