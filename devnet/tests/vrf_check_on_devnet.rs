//! The contract's cheap ECVRF check on the devnet's real WASM (`contract_harness::vrf_check`):
//! every shared vector verifies from its witnesses with the full verification switched off, and
//! random changes to proofs, keys, inputs and witnesses are never accepted unless draft-04's full
//! verification accepts them with the same beta. The ecrecover and sha256 precompiles are the
//! devnet's.

mod common;

use common::{programs, Devnet};
use contract_harness::net::Net;
use contract_harness::vrf_check::{
    change, check_change, vectors, verify_on_chain, witness_path_only,
};
use proptest::prelude::*;
use protocol::vrf_witness::proof_with_hints;

#[test]
fn every_shared_vector_verifies_on_the_real_wasm() {
    let net = Net::on(Devnet::new(programs()));
    for v in &vectors() {
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &v.proof),
            Some(v.beta),
            "the bare proof, verified in full by the verifier program"
        );
    }
    witness_path_only(&net);
    for v in &vectors() {
        let data = proof_with_hints(&v.public_key, &v.alpha, &v.proof).unwrap();
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &data),
            Some(v.beta)
        );
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &v.proof),
            None
        );
    }
}

thread_local! {
    /// One deployment for every case: verifyVRF reads nothing a case changes.
    static NET: Net<Devnet> = {
        let net = Net::on(Devnet::new(programs()));
        witness_path_only(&net);
        net
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn changed_proofs_never_pass_the_witness_path_on_the_real_wasm(
        secret in proptest::array::uniform32(any::<u8>()),
        alpha in proptest::array::uniform32(any::<u8>()),
        change in change(),
    ) {
        NET.with(|net| check_change(net, secret, alpha, &change, false))?;
    }
}
