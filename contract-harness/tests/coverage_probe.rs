//! The property test's generator reaches what it claims to test: over a fixed set of random
//! sequences, every kind of outcome occurs (a generator that only produced refusals would pass
//! the invariants vacuously). Prints the counts.

use std::collections::BTreeMap;

use alloy_sol_types::SolEvent;
use contract_harness::invariants::{apply, check, drain, op, setup, Run};
use contract_harness::net::{status, Net};
use contract_harness::{ITaskContract, ProtocolChain};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

#[test]
fn random_sequences_reach_every_outcome() {
    let mut runner = TestRunner::deterministic();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = |name: String, n: usize| *seen.entry(name).or_default() += n;
    for _ in 0..50 {
        let ops = proptest::collection::vec(op(), 20..120)
            .new_tree(&mut runner)
            .expect("a sequence")
            .current();
        let mut net = Net::with_settings(contract_harness::Chain::new(), |s| s.sampling_rate = 2);
        let mut state = Run::default();
        setup(&mut net, &mut state).unwrap();
        for o in &ops {
            apply(&mut net, &mut state, o).unwrap();
            check(&net, &state).unwrap();
            let logs = net.chain.last_logs();
            for (name, signature) in [
                ("EndSuccess", ITaskContract::TaskEndSuccess::SIGNATURE_HASH),
                (
                    "EndGroupSuccess",
                    ITaskContract::TaskEndGroupSuccess::SIGNATURE_HASH,
                ),
                (
                    "EndGroupRefund",
                    ITaskContract::TaskEndGroupRefund::SIGNATURE_HASH,
                ),
                (
                    "EndInvalidated",
                    ITaskContract::TaskEndInvalidated::SIGNATURE_HASH,
                ),
                ("NodeSlashed", ITaskContract::NodeSlashed::SIGNATURE_HASH),
                ("TaskQueued", ITaskContract::TaskQueued::SIGNATURE_HASH),
                (
                    "DownloadModel",
                    ITaskContract::DownloadModel::SIGNATURE_HASH,
                ),
                (
                    "PaymentCredited",
                    ITaskContract::PaymentCredited::SIGNATURE_HASH,
                ),
                (
                    "CreditWithdrawn",
                    ITaskContract::CreditWithdrawn::SIGNATURE_HASH,
                ),
                (
                    "TaskErrorReported",
                    ITaskContract::TaskErrorReported::SIGNATURE_HASH,
                ),
            ] {
                count(
                    name.to_string(),
                    logs.iter().filter(|l| l.topics[0] == signature).count(),
                );
            }
            for a in net.chain.events::<ITaskContract::TaskEndAborted>() {
                count(format!("EndAborted from {}", a.lastStatus), 1);
            }
        }
        drain(&mut net, &state).unwrap();
    }
    println!("{seen:#?}");
    let expected = [
        "EndSuccess",
        "EndGroupSuccess",
        "EndGroupRefund",
        "EndInvalidated",
        "NodeSlashed",
        "TaskQueued",
        "DownloadModel",
        "PaymentCredited",
        "CreditWithdrawn",
        "TaskErrorReported",
    ]
    .map(String::from)
    .into_iter()
    .chain(
        [
            status::QUEUED,
            status::STARTED,
            status::PARAMETERS_UPLOADED,
            status::SCORE_READY,
            status::ERROR_REPORTED,
            status::VALIDATED,
        ]
        .map(|s| format!("EndAborted from {s}")),
    );
    for name in expected {
        assert!(
            seen.get(&name).copied().unwrap_or(0) > 0,
            "the random sequences never reached {name}: {seen:#?}"
        );
    }
}
