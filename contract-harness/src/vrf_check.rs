//! Tests of the contract's cheap ECVRF check (`verifyVRF`, the check validation runs) on any
//! [`ProtocolChain`]: the shared independent vectors, and soundness against the draft's full
//! verification (`protocol::vrf::verify`) for proofs, keys, inputs and hints changed at will.
//!
//! "Witness path only" means the contract's full-verification fallback is switched off: the owner
//! points the configuration at a VRF verifier address without code, so that a proof is accepted
//! only if its witnesses passed.

use alloy_primitives::{Address, Bytes, B256};
use proptest::prelude::*;
use serde_json::Value;

use crate::net::Net;
use crate::{ITaskContract, ProtocolChain};

/// One of the shared ECVRF vectors (independent implementation).
#[derive(Clone, Debug)]
pub struct Vector {
    pub public_key: [u8; 64],
    pub alpha: Vec<u8>,
    pub proof: Vec<u8>,
    pub beta: B256,
}

/// The shared vectors, `../shared/test-vectors/ecvrf-secp256k1-sha256-tai.json`.
pub fn vectors() -> Vec<Vector> {
    let text = include_str!("../../../shared/test-vectors/ecvrf-secp256k1-sha256-tai.json");
    let doc: Value = serde_json::from_str(text).expect("the vectors file is JSON");
    let hex = |v: &Value, name: &str| hex::decode(v[name].as_str().expect("a hex field")).unwrap();
    doc["vectors"]
        .as_array()
        .expect("a vectors array")
        .iter()
        .map(|v| {
            let mut public_key = [0u8; 64];
            public_key[..32].copy_from_slice(&hex(v, "public_key_x"));
            public_key[32..].copy_from_slice(&hex(v, "public_key_y"));
            Vector {
                public_key,
                alpha: hex(v, "alpha"),
                proof: hex(v, "pi"),
                beta: B256::from_slice(&hex(v, "beta")),
            }
        })
        .collect()
}

/// The contract's answer to `verifyVRF(publicKey, alpha, data)`: beta, or `None` for a revert.
pub fn verify_on_chain<C: ProtocolChain>(
    net: &Net<C>,
    public_key: &[u8],
    alpha: &[u8],
    data: &[u8],
) -> Option<B256> {
    net.chain
        .view(ITaskContract::verifyVRFCall {
            public_key: Bytes::copy_from_slice(public_key),
            alpha: Bytes::copy_from_slice(alpha),
            proof: Bytes::copy_from_slice(data),
        })
        .ok()
}

/// Switches the contract's full verification off (a verifier address without code): only the
/// witness path can accept from now on.
pub fn witness_path_only<C: ProtocolChain>(net: &Net<C>) {
    let mut s = net.settings();
    s.vrf_verifier = Address::repeat_byte(0xDE);
    net.set_config(net.owner.address, &s)
        .expect("the owner reconfigures");
}

/// What the draft's full verification says of these inputs (the 81 proof bytes of `data`).
pub fn reference(public_key: &[u8], alpha: &[u8], data: &[u8]) -> Option<B256> {
    if data.len() < protocol::vrf::PROOF_LEN {
        return None;
    }
    protocol::vrf::verify(public_key, alpha, &data[..protocol::vrf::PROOF_LEN])
        .ok()
        .map(B256::from)
}

/// A change made to a valid proof's inputs before the contract sees them.
#[derive(Clone, Debug)]
pub enum Change {
    /// Flip bits of one byte of proof || hints.
    Data(usize, u8),
    /// Flip bits of one byte of the public key.
    Key(usize, u8),
    /// Flip bits of one byte of alpha.
    Alpha(usize, u8),
    /// Drop the last bytes of proof || hints.
    Truncate(usize),
    /// Append bytes to proof || hints.
    Extend(Vec<u8>),
    /// Hints from another input's proof.
    OtherHints,
}

pub fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => (any::<usize>(), 1..=255u8).prop_map(|(i, b)| Change::Data(i, b)),
        1 => (0..64usize, 1..=255u8).prop_map(|(i, b)| Change::Key(i, b)),
        1 => (0..32usize, 1..=255u8).prop_map(|(i, b)| Change::Alpha(i, b)),
        1 => (1..64usize).prop_map(Change::Truncate),
        1 => proptest::collection::vec(any::<u8>(), 1..40).prop_map(Change::Extend),
        1 => Just(Change::OtherHints),
    ]
}

/// Applies `change` to a fresh proof by `secret` of `alpha`, asks the contract, and checks the
/// answer: the same as the draft's when the full verification is on (`full`); when only the
/// witness path can accept, whatever it accepts the draft accepts with the same beta.
pub fn check_change<C: ProtocolChain>(
    net: &Net<C>,
    secret: [u8; 32],
    alpha: [u8; 32],
    change: &Change,
    full: bool,
) -> Result<(), TestCaseError> {
    let Ok(key) = protocol::vrf::VrfSecretKey::from_bytes(&secret) else {
        return Ok(());
    };
    let (proof, _) = key.prove(&alpha);
    let mut public_key = key.public_key().to_vec();
    let mut alpha = alpha.to_vec();
    let mut data = protocol::vrf_witness::proof_with_hints(&public_key, &alpha, &proof)
        .map_err(|e| TestCaseError::fail(format!("hints of a fresh proof: {e}")))?;
    match change {
        Change::Data(i, bits) => {
            let i = i % data.len();
            data[i] ^= bits;
        }
        Change::Key(i, bits) => public_key[*i] ^= bits,
        Change::Alpha(i, bits) => alpha[*i] ^= bits,
        Change::Truncate(n) => data.truncate(data.len().saturating_sub(*n)),
        Change::Extend(more) => data.extend(more),
        Change::OtherHints => {
            let mut other = alpha.clone();
            other[0] ^= 1;
            let (other_proof, _) = key.prove(&other);
            let with = protocol::vrf_witness::proof_with_hints(&public_key, &other, &other_proof)
                .map_err(|e| TestCaseError::fail(format!("hints of a fresh proof: {e}")))?;
            data.truncate(protocol::vrf::PROOF_LEN);
            data.extend(&with[protocol::vrf::PROOF_LEN..]);
        }
    }
    let got = verify_on_chain(net, &public_key, &alpha, &data);
    let want = reference(&public_key, &alpha, &data);
    if full {
        prop_assert_eq!(got, want, "{:?}", change);
    } else if let Some(beta) = got {
        prop_assert_eq!(
            Some(beta),
            want,
            "the witness path accepted what the draft does not: {:?}",
            change
        );
    }
    Ok(())
}
