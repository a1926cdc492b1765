//! The contract's invariants (`contract_harness::invariants`) under random call sequences on the
//! harness chain and on stylus-sdk's test VM; `devnet/tests/invariants_on_devnet.rs` runs the
//! same on the real WASM.

use contract_harness::invariants::{op, run};
use contract_harness::net::Net;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ether_is_never_stuck_and_nodes_hold_live_tasks(ops in proptest::collection::vec(op(), 1..60)) {
        run(Net::new(), &ops)?;
    }
}

proptest! {
    // The test VM host snapshots the VM around every call, which makes each case slower.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_same_on_the_test_vm(ops in proptest::collection::vec(op(), 1..60)) {
        run(Net::on(contract_harness::TestVmChain::new()), &ops)?;
    }
}
