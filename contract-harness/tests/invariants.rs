//! The contract's invariants (`contract_harness::invariants`) under random call sequences on the
//! harness chain and on stylus-sdk's test VM; `devnet/tests/invariants_on_devnet.rs` runs the
//! same on the real WASM. `INVARIANT_CASES` sets the number of cases (scripts/property-test.sh
//! runs 10,000).

use contract_harness::invariants::{op, run};
use contract_harness::net::Net;
use contract_harness::ProtocolChain;
use proptest::prelude::*;

/// The property test samples one task in two, so that groups are validated often.
fn net<C: ProtocolChain>(chain: C) -> Net<C> {
    Net::with_settings(chain, |s| s.sampling_rate = 2)
}

/// `INVARIANT_CASES`, or `default`.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("INVARIANT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn ether_is_never_stuck_and_nodes_hold_live_tasks(ops in proptest::collection::vec(op(), 1..100)) {
        run(net(contract_harness::Chain::new()), &ops)?;
    }
}

proptest! {
    // The test VM host snapshots the VM around every call, which makes each case slower.
    #![proptest_config(cases(24))]

    #[test]
    fn the_same_on_the_test_vm(ops in proptest::collection::vec(op(), 1..100)) {
        run(net(contract_harness::TestVmChain::new()), &ops)?;
    }
}
