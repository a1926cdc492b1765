//! Test accounts: a secp256k1 key, its address, and its VRF proofs, made by the protocol crate's
//! ECVRF-SECP256K1-SHA256-TAI prover (the one applications use), which the verifier program checks.

use alloy_primitives::{keccak256, Address};
use protocol::vrf::VrfSecretKey;

#[derive(Clone, Debug)]
pub struct Key {
    vrf: VrfSecretKey,
    secret: [u8; 32],
    pub address: Address,
    /// X || Y.
    pub public_key: [u8; 64],
}

impl Key {
    /// The key with secret scalar derived from `seed`.
    pub fn from_seed(seed: u64) -> Key {
        let digest = keccak256([b"harness key ".as_slice(), &seed.to_be_bytes()].concat());
        // A keccak digest is zero or above the curve order with negligible probability; the seeds
        // the tests use are fixed, so this cannot flake.
        let vrf = VrfSecretKey::from_bytes(digest.as_slice()).expect("digest is a valid scalar");
        let public_key = vrf.public_key();
        let address = Address::from_slice(&keccak256(public_key)[12..]);
        Key {
            vrf,
            secret: digest.0,
            address,
            public_key,
        }
    }

    /// The secret scalar, big-endian (also the account's signing key).
    pub fn secret(&self) -> [u8; 32] {
        self.secret
    }

    /// An 81-byte proof for `alpha` and its beta.
    pub fn prove(&self, alpha: &[u8]) -> (Vec<u8>, [u8; 32]) {
        let (proof, beta) = self.vrf.prove(alpha);
        (proof.to_vec(), beta)
    }

    /// The proof for `alpha` followed by the hints of the contract's cheap check
    /// (`protocol::vrf_witness`), as applications send it.
    pub fn prove_with_hints(&self, alpha: &[u8]) -> Vec<u8> {
        let (proof, _) = self.vrf.prove(alpha);
        protocol::vrf_witness::proof_with_hints(&self.public_key, alpha, &proof)
            .expect("a fresh proof verifies")
    }

    /// Whether the beta of `alpha` samples a task for group validation at `rate`.
    pub fn samples(&self, alpha: &[u8], rate: u32) -> bool {
        task_contract::is_selected(&self.prove(alpha).1, rate)
    }
}
