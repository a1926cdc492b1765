//! The contract's cheap ECVRF check (`verifyVRF`, the check validation runs) on the native harness
//! and stylus-sdk's test VM: every shared independent vector verifies from its witnesses alone,
//! and nothing is accepted that draft-04's full verification rejects, whatever the proof, key,
//! input and witnesses (random changes, and the corner cases one by one). The same runs on the
//! devnet's real WASM in `devnet/tests/vrf_check_on_devnet.rs`.

#[macro_use]
mod common;

use alloy_primitives::{keccak256, B256, U256};
use common::*;
use contract_harness::vrf_check::{
    change, check_change, reference, vectors, verify_on_chain, witness_path_only,
};
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, ProjectivePoint, Scalar};
use proptest::prelude::*;
use protocol::vrf::VrfSecretKey;
use protocol::vrf_witness::{proof_with_hints, FIELD_PRIME, GROUP_ORDER};
use sha2::{Digest, Sha256};

/// Every shared vector: its beta through the witness path (the full verification off), and with
/// the full verification on; the bare 81-byte proof only through the full verification.
fn every_shared_vector_verifies_from_its_witnesses<C: ProtocolChain>(net: Net<C>) {
    let vs = vectors();
    assert!(vs.len() >= 5);
    for v in &vs {
        let data = proof_with_hints(&v.public_key, &v.alpha, &v.proof).unwrap();
        assert!(data.len() > 81, "every vector has hints");
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &data),
            Some(v.beta)
        );
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &v.proof),
            Some(v.beta),
            "a bare proof is verified in full"
        );
    }
    witness_path_only(&net);
    for v in &vs {
        let data = proof_with_hints(&v.public_key, &v.alpha, &v.proof).unwrap();
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &data),
            Some(v.beta)
        );
        assert_eq!(
            verify_on_chain(&net, &v.public_key, &v.alpha, &v.proof),
            None,
            "without hints only the full verification could accept"
        );
    }
}

/// A fresh proof for a seed, its data with hints, and the key.
fn fresh(seed: u8) -> (VrfSecretKey, [u8; 32], [u8; 81], Vec<u8>) {
    let key = VrfSecretKey::from_bytes(&keccak256([seed]).0).unwrap();
    let alpha = keccak256([seed, 1]).0;
    let (proof, _) = key.prove(&alpha);
    let data = proof_with_hints(&key.public_key(), &alpha, &proof).unwrap();
    (key, alpha, proof, data)
}

/// Each corner case of the check, on the witness path alone: refused (as the draft refuses it),
/// or accepted with the draft's beta.
fn corner_cases_are_refused_or_agree_with_the_draft<C: ProtocolChain>(net: Net<C>) {
    witness_path_only(&net);
    let (key, alpha, proof, data) = fresh(1);
    let pk = key.public_key();
    let agree = |pk: &[u8], alpha: &[u8], data: &[u8], what: &str| {
        let got = verify_on_chain(&net, pk, alpha, data);
        assert_eq!(got, reference(pk, alpha, data), "{what}");
        got
    };
    assert!(agree(&pk, &alpha, &data, "the honest proof").is_some());
    let with_proof = |proof: &[u8]| [proof, &data[81..]].concat();
    let mut p = proof;

    // s >= n, s = 0, c = 0.
    p[49..].copy_from_slice(&GROUP_ORDER);
    assert!(agree(&pk, &alpha, &with_proof(&p), "s = n").is_none());
    p[49..].copy_from_slice(&[0xFF; 32]);
    assert!(agree(&pk, &alpha, &with_proof(&p), "s = 2^256 - 1").is_none());
    p[49..].copy_from_slice(&[0; 32]);
    assert!(agree(&pk, &alpha, &with_proof(&p), "s = 0").is_none());
    p = proof;
    p[33..49].copy_from_slice(&[0; 16]);
    assert!(agree(&pk, &alpha, &with_proof(&p), "c = 0").is_none());

    // Non-canonical or impossible encodings of Gamma and of the key.
    for prefix in [0u8, 1, 4, 5, 0xFF] {
        let mut p = proof;
        p[0] = prefix;
        assert!(agree(&pk, &alpha, &with_proof(&p), "gamma prefix").is_none());
    }
    let mut p = proof;
    p[1..33].copy_from_slice(&FIELD_PRIME);
    assert!(agree(&pk, &alpha, &with_proof(&p), "gamma x = p").is_none());
    let mut p = proof;
    p[0] ^= 1; // the other y: -Gamma
    assert!(agree(&pk, &alpha, &with_proof(&p), "gamma of the other parity").is_none());
    let mut off_curve = pk;
    off_curve[63] ^= 1;
    assert!(agree(&off_curve, &alpha, &data, "key off the curve").is_none());
    let mut too_big = pk;
    too_big[..32].copy_from_slice(&FIELD_PRIME);
    assert!(agree(&too_big, &alpha, &data, "key x = p").is_none());
    // A wrong witness of a valid proof: refused by the witness path (the full verification
    // would accept the proof). The witnessed y of Gamma as p - y (right square, wrong parity)
    // or as y + p (not reduced).
    let refused = |d: &[u8], what: &str| {
        assert_eq!(verify_on_chain(&net, &pk, &alpha, d), None, "{what}");
    };
    let p_int = U256::from_be_bytes(FIELD_PRIME);
    let gamma_y = U256::from_be_slice(&data[81..113]);
    for y in [p_int - gamma_y, gamma_y.wrapping_add(p_int)] {
        let mut d = data.clone();
        d[81..113].copy_from_slice(&y.to_be_bytes::<32>());
        refused(&d, "gamma y");
    }

    // U and V at infinity: with the secret, s = c*x makes both the identity.
    let secret = Option::<Scalar>::from(Scalar::from_repr(keccak256([1u8]).0.into())).unwrap();
    let c = challenge_scalar(&proof);
    let mut p = proof;
    p[49..].copy_from_slice(&(c * secret).to_repr());
    assert!(agree(&pk, &alpha, &with_proof(&p), "U = V = infinity").is_none());

    // Hints short, long, or for another counter.
    refused(&data[..data.len() - 1], "short hints");
    let mut long = data.clone();
    long.push(0);
    refused(&long, "extra hint bytes");
    let mut other_counter = data.clone();
    other_counter[113] = other_counter[113].wrapping_add(1);
    refused(&other_counter, "another counter");
    // Each witnessed point replaced by its negation (same x, a different point).
    for at in [146usize, 210, 274] {
        let at = at + (data.len() - 81 - protocol::vrf_witness::FIXED_HINTS_LEN);
        let mut d = data.clone();
        let y = U256::from_be_slice(&d[at + 32..at + 64]);
        d[at + 32..at + 64].copy_from_slice(&(p_int - y).to_be_bytes::<32>());
        refused(&d, "a negated witness point");
    }
}

fn beta(proof: &[u8; 81]) -> B256 {
    let digest: [u8; 32] = Sha256::new()
        .chain_update([0xFE, 0x03])
        .chain_update(&proof[..33])
        .finalize()
        .into();
    B256::new(digest)
}

fn challenge_scalar(proof: &[u8]) -> Scalar {
    let mut wide = [0u8; 32];
    wide[16..].copy_from_slice(&proof[33..49]);
    <Scalar as Reduce<k256::U256>>::reduce_bytes(&wide.into())
}

fn decompress(prefix: u8, x: &[u8]) -> Option<AffinePoint> {
    let encoded = EncodedPoint::from_bytes([&[prefix], x].concat()).ok()?;
    Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))
}

fn xy(p: &AffinePoint) -> [u8; 64] {
    p.to_encoded_point(false).as_bytes()[1..]
        .try_into()
        .unwrap()
}

fn compressed(p: &AffinePoint) -> Vec<u8> {
    p.to_encoded_point(true).as_bytes().to_vec()
}

/// The uniqueness attack the counter check stops: a key holder hashes to a later counter than
/// the first valid one, gets a second, different beta for the same input (so it could choose
/// whether its task is sampled), and makes a proof consistent with that H. Without the
/// non-residue witnesses for the skipped counters it would pass every other check; with them the
/// valid counter it skipped has no witness, and the proof is refused.
fn a_later_hash_to_curve_counter_is_refused<C: ProtocolChain>(net: Net<C>) {
    witness_path_only(&net);
    let secret_bytes = keccak256(b"attacker").0;
    let key = VrfSecretKey::from_bytes(&secret_bytes).unwrap();
    let x = Option::<Scalar>::from(Scalar::from_repr(secret_bytes.into())).unwrap();
    let pk = key.public_key();
    let alpha = [7u8; 32];
    let pkc = compressed(&decompress(0x04, &pk).unwrap_or_else(|| {
        let encoded = EncodedPoint::from_untagged_bytes((&pk).into());
        Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded)).unwrap()
    }));
    // The counters in order: which digests are points.
    let digest = |ctr: u8| -> [u8; 32] {
        Sha256::new()
            .chain_update([0xFE, 0x01])
            .chain_update(&pkc)
            .chain_update(alpha)
            .chain_update([ctr])
            .finalize()
            .into()
    };
    let valid: Vec<u8> = (0..=255u8)
        .filter(|c| decompress(0x02, &digest(*c)).is_some())
        .take(2)
        .collect();
    let (first, later) = (valid[0], valid[1]);
    let h2 = decompress(0x02, &digest(later)).unwrap();
    // A proof made with the later H.
    let gamma = (ProjectivePoint::from(h2) * x).to_affine();
    let k = <Scalar as Reduce<k256::U256>>::reduce_bytes(&keccak256(b"nonce").0.into());
    let u = (ProjectivePoint::GENERATOR * k).to_affine();
    let v = (ProjectivePoint::from(h2) * k).to_affine();
    let c16: [u8; 16] = Sha256::new()
        .chain_update([0xFE, 0x02])
        .chain_update(compressed(&h2))
        .chain_update(compressed(&gamma))
        .chain_update(compressed(&u))
        .chain_update(compressed(&v))
        .finalize()[..16]
        .try_into()
        .unwrap();
    let mut proof = [0u8; 81];
    proof[..33].copy_from_slice(&compressed(&gamma));
    proof[33..49].copy_from_slice(&c16);
    let c = challenge_scalar(&proof);
    let s = k + c * x;
    proof[49..].copy_from_slice(&s.to_repr());
    let fake_beta = beta(&proof);
    let (_, true_beta) = key.prove(&alpha);
    assert_ne!(fake_beta.0, true_beta, "a second output for the same input");
    // The draft refuses it: its H is the first valid counter's.
    assert!(protocol::vrf::verify(&pk, &alpha, &proof).is_err());

    // Witnesses for every check but the skipped valid counter's, which has none.
    let p_int = U256::from_be_bytes(FIELD_PRIME);
    let mut hints = xy(&gamma)[32..].to_vec();
    hints.push(later);
    hints.extend_from_slice(&xy(&h2)[32..]);
    for ctr in 0..later {
        let d = digest(ctr);
        if U256::from_be_bytes(d) >= p_int {
            continue;
        }
        let xi = U256::from_be_bytes(d);
        let a = xi
            .mul_mod(xi, p_int)
            .mul_mod(xi, p_int)
            .add_mod(U256::from(7), p_int);
        let w = (p_int - a).pow_mod((p_int + U256::from(1)) >> 2, p_int);
        if ctr == first {
            // -a is not a square here: no w exists. The best the attacker can send.
            assert_ne!(w.mul_mod(w, p_int), p_int - a);
        }
        hints.extend_from_slice(&w.to_be_bytes::<32>());
    }
    let y_point = ProjectivePoint::from(
        Option::<AffinePoint>::from(AffinePoint::from_encoded_point(
            &EncodedPoint::from_untagged_bytes((&pk).into()),
        ))
        .unwrap(),
    );
    let u_w = (ProjectivePoint::GENERATOR * s - y_point * c).to_affine();
    let s_h = (ProjectivePoint::from(h2) * s).to_affine();
    let c_gamma = (ProjectivePoint::from(gamma) * c).to_affine();
    hints.extend_from_slice(&xy(&u_w));
    hints.extend_from_slice(&xy(&s_h));
    hints.extend_from_slice(&xy(&c_gamma));
    let d = U256::from_be_bytes(s_h.x().into())
        .add_mod(p_int - U256::from_be_bytes(c_gamma.x().into()), p_int);
    hints.extend_from_slice(&d.inv_mod(p_int).unwrap().to_be_bytes::<32>());
    // Everything but the counter holds: U and V are those the challenge hashed.
    assert_eq!(u_w, u);
    assert_eq!(
        (ProjectivePoint::from(s_h) - ProjectivePoint::from(c_gamma)).to_affine(),
        v
    );
    let data = [&proof[..], &hints].concat();
    assert_eq!(verify_on_chain(&net, &pk, &alpha, &data), None);
}

on_both_hosts!(
    every_shared_vector_verifies_from_its_witnesses,
    corner_cases_are_refused_or_agree_with_the_draft,
    a_later_hash_to_curve_counter_is_refused,
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random proofs changed at random: never accepted where the draft refuses, never with
    /// another beta; with the full verification on, exactly the draft's answer.
    #[test]
    fn changed_proofs_never_pass_the_witness_path(
        secret in proptest::array::uniform32(any::<u8>()),
        alpha in proptest::array::uniform32(any::<u8>()),
        change in change(),
    ) {
        let net = Net::new();
        check_change(&net, secret, alpha, &change, true)?;
        witness_path_only(&net);
        check_change(&net, secret, alpha, &change, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_same_on_the_test_vm(
        secret in proptest::array::uniform32(any::<u8>()),
        alpha in proptest::array::uniform32(any::<u8>()),
        change in change(),
    ) {
        let net = Net::on(contract_harness::TestVmChain::new());
        witness_path_only(&net);
        check_change(&net, secret, alpha, &change, false)?;
    }
}
