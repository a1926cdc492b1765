//! The contract's property test (`contract_harness::invariants`) on the devnet: the release WASM
//! of the programs run in wasmtime (the verifier and the extension deployed by CREATE +
//! activation, the task contract through the StylusDeployer with its constructor), every call a
//! signed transaction with real balances. After every step the contract's real balance must equal the
//! stakes plus the fees of live tasks plus the credits, and a reverted transaction must leave the
//! contract's storage and balance as they were. Accounts that refuse payments get code that always
//! reverts.

mod common;

use alloy::primitives::U256;
use common::{programs, Devnet};
use contract_harness::invariants::{op, run};
use contract_harness::net::Net;
use contract_harness::ProtocolChain;
use proptest::prelude::*;

#[test]
fn a_refusing_account_gets_a_credit_on_the_devnet() {
    // The mechanism the property test relies on, checked once directly.
    let mut net = Net::on(Devnet::new(programs()));
    let (t, node) = net.validated_single_task(2 * contract_harness::net::ETH);
    net.chain.reject_payments(node, true);
    let before = net.chain.balance(node);
    net.upload_result(t.commitment).unwrap();
    let fee = U256::from(2 * contract_harness::net::ETH);
    let credit = net
        .chain
        .view(contract_harness::ITaskContract::creditOfCall { account: node })
        .unwrap();
    assert_eq!(credit, fee);
    assert_eq!(net.chain.balance(node), before);
    net.chain.reject_payments(node, false);
    net.call_as(node, contract_harness::ITaskContract::withdrawCall {})
        .unwrap();
    let gas = net.chain.last_fee.get();
    assert!(gas > U256::ZERO);
    assert_eq!(net.chain.balance(node), before + fee - gas);
}

/// `DEVNET_INVARIANT_CASES` (scripts/property-test.sh sets it), or 12.
fn cases() -> ProptestConfig {
    let cases = std::env::var("DEVNET_INVARIANT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    ProptestConfig::with_cases(cases)
}

proptest! {
    // Each case deploys afresh and sends up to 60 transactions with ~30 views after each.
    #![proptest_config(cases())]

    #[test]
    fn ether_is_never_stuck_on_the_real_wasm(ops in proptest::collection::vec(op(), 1..60)) {
        run(
            Net::with_settings(Devnet::new(programs()), |s| s.sampling_rate = 2),
            &ops,
        )?;
    }
}
