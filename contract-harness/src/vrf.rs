//! Test accounts: a secp256k1 key, its address, and an ECVRF-SECP256K1-SHA256-TAI prover
//! (draft-04) whose proofs the verifier program checks. The nonce is derived from the key and the
//! input instead of RFC 6979: verification does not depend on how the nonce was chosen.

use alloy_primitives::{keccak256, Address};
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, ProjectivePoint, Scalar};
use sha2::{Digest, Sha256};

const SUITE: u8 = 0xFE;

#[derive(Clone, Debug)]
pub struct Key {
    secret: Scalar,
    pub address: Address,
    /// X || Y.
    pub public_key: [u8; 64],
}

fn compressed(p: &ProjectivePoint) -> Vec<u8> {
    p.to_affine().to_encoded_point(true).as_bytes().to_vec()
}

impl Key {
    /// The key with secret scalar derived from `seed` (never zero).
    pub fn from_seed(seed: u64) -> Key {
        let digest = keccak256([b"harness key ".as_slice(), &seed.to_be_bytes()].concat());
        let secret = <Scalar as Reduce<k256::U256>>::reduce_bytes(&digest.0.into());
        let point = (ProjectivePoint::GENERATOR * secret)
            .to_affine()
            .to_encoded_point(false);
        let mut public_key = [0u8; 64];
        public_key.copy_from_slice(&point.as_bytes()[1..]);
        let address = Address::from_slice(&keccak256(public_key)[12..]);
        Key {
            secret,
            address,
            public_key,
        }
    }

    fn hash_to_curve(&self, alpha: &[u8]) -> ProjectivePoint {
        let pk = compressed(&(ProjectivePoint::GENERATOR * self.secret));
        for ctr in 0..=255u8 {
            let digest = Sha256::new()
                .chain_update([SUITE, 0x01])
                .chain_update(&pk)
                .chain_update(alpha)
                .chain_update([ctr])
                .finalize();
            let mut enc = vec![0x02];
            enc.extend_from_slice(&digest);
            let point = EncodedPoint::from_bytes(&enc).expect("33 bytes");
            if let Some(p) = Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&point)) {
                return p.into();
            }
        }
        panic!("no curve point in 256 tries");
    }

    /// An 81-byte proof for `alpha` and its beta.
    pub fn prove(&self, alpha: &[u8]) -> (Vec<u8>, [u8; 32]) {
        let h = self.hash_to_curve(alpha);
        let gamma = h * self.secret;
        let k_digest = keccak256([&self.secret.to_repr()[..], alpha].concat());
        let k = <Scalar as Reduce<k256::U256>>::reduce_bytes(&k_digest.0.into());
        let c_hash = Sha256::new()
            .chain_update([SUITE, 0x02])
            .chain_update(compressed(&h))
            .chain_update(compressed(&gamma))
            .chain_update(compressed(&(ProjectivePoint::GENERATOR * k)))
            .chain_update(compressed(&(h * k)))
            .finalize();
        let mut c_bytes = [0u8; 32];
        c_bytes[16..].copy_from_slice(&c_hash[..16]);
        let c = <Scalar as Reduce<k256::U256>>::reduce_bytes(&c_bytes.into());
        let s = k + c * self.secret;
        let mut proof = compressed(&gamma);
        proof.extend_from_slice(&c_hash[..16]);
        proof.extend_from_slice(&s.to_repr());
        let beta: [u8; 32] = Sha256::new()
            .chain_update([SUITE, 0x03])
            .chain_update(compressed(&gamma))
            .finalize()
            .into();
        (proof, beta)
    }

    /// Whether the beta of `alpha` samples a task for group validation.
    pub fn samples(&self, alpha: &[u8]) -> bool {
        task_contract::is_selected(&self.prove(alpha).1)
    }
}
