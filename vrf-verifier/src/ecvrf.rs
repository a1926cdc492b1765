//! ECVRF-SECP256K1-SHA256-TAI verification (draft-irtf-cfrg-vrf-04, suite byte 0xFE), the VRF of
//! verifiable secret sampling. Compatible with witnet/vrf-solidity, vrf-ts-256 and vechain/go-ecvrf.

use crate::secp256k1::{Affine, Scalar};

/// SHA-256 over the concatenation of `parts`. The program hashes with the sha256 precompile
/// (0x02), far smaller than a software SHA-256; native tests plug in a software implementation.
pub trait Sha256 {
    fn sha256(&self, parts: &[&[u8]]) -> Option<[u8; 32]>;
}

const SUITE: u8 = 0xFE;

/// Length of a proof: 33-byte compressed gamma, 16-byte c, 32-byte s.
pub const PROOF_LEN: usize = 81;

/// Verifies `proof` for `alpha` under the public key (64 bytes X||Y) and returns beta, the VRF
/// output, or `None` when the key or proof is malformed or the proof does not verify.
pub fn verify(
    hasher: &impl Sha256,
    public_key: &[u8; 64],
    alpha: &[u8],
    proof: &[u8],
) -> Option<[u8; 32]> {
    if proof.len() != PROOF_LEN {
        return None;
    }
    let y = Affine::from_uncompressed(public_key)?;
    let gamma = Affine::from_compressed(proof[0], proof[1..33].try_into().ok()?)?;
    let c = Scalar::from_be_slice(&proof[33..49])?;
    let s = Scalar::from_be_slice(&proof[49..81])?;

    let h = hash_to_curve(hasher, &y, alpha)?;
    // U = s*B - c*Y, V = s*H - c*Gamma
    let u = Affine::double_mul(&s, &Affine::GENERATOR, &c, &y.neg())?;
    let v = Affine::double_mul(&s, &h, &c, &gamma.neg())?;

    let digest = hasher.sha256(&[
        &[SUITE, 0x02],
        &h.to_compressed(),
        &proof[..33],
        &u.to_compressed(),
        &v.to_compressed(),
    ])?;
    if digest[..16] != proof[33..49] {
        return None;
    }
    hasher.sha256(&[&[SUITE, 0x03], &gamma.to_compressed()])
}

/// Try-and-increment hash to the curve: the first counter whose digest is the x of a point with
/// even y (the 0x02 prefix) gives H.
fn hash_to_curve(hasher: &impl Sha256, y: &Affine, alpha: &[u8]) -> Option<Affine> {
    let pk = y.to_compressed();
    for ctr in 0..=255u8 {
        let digest = hasher.sha256(&[&[SUITE, 0x01], &pk, alpha, &[ctr]])?;
        if let Some(h) = Affine::from_compressed(0x02, &digest) {
            return Some(h);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    /// Software SHA-256 standing in for the precompile.
    struct Soft;
    impl Sha256 for Soft {
        fn sha256(&self, parts: &[&[u8]]) -> Option<[u8; 32]> {
            let mut h = sha2::Sha256::new();
            for p in parts {
                h.update(p);
            }
            Some(h.finalize().into())
        }
    }

    fn verify(pk: &[u8; 64], alpha: &[u8], proof: &[u8]) -> Option<[u8; 32]> {
        super::verify(&Soft, pk, alpha, proof)
    }

    fn vectors() -> Vec<serde_json::Value> {
        let text = include_str!("../../../shared/test-vectors/ecvrf-secp256k1-sha256-tai.json");
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        doc["vectors"].as_array().unwrap().clone()
    }

    fn field(v: &serde_json::Value, name: &str) -> Vec<u8> {
        hex::decode(v[name].as_str().unwrap()).unwrap()
    }

    fn public_key(v: &serde_json::Value) -> [u8; 64] {
        let mut pk = [0u8; 64];
        pk[..32].copy_from_slice(&field(v, "public_key_x"));
        pk[32..].copy_from_slice(&field(v, "public_key_y"));
        pk
    }

    #[test]
    fn accepts_every_independent_vector_and_returns_its_beta() {
        let vectors = vectors();
        assert!(vectors.len() >= 5);
        for v in &vectors {
            let beta = verify(&public_key(v), &field(v, "alpha"), &field(v, "pi"))
                .unwrap_or_else(|| panic!("vector rejected: {v}"));
            assert_eq!(beta.to_vec(), field(v, "beta"));
        }
    }

    #[test]
    fn rejects_every_single_byte_tampering() {
        let v = &vectors()[0];
        let pk = public_key(v);
        let alpha = field(v, "alpha");
        let proof = field(v, "pi");
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] ^= 0x01;
            assert!(
                verify(&pk, &alpha, &bad).is_none(),
                "tampered byte {i} accepted"
            );
        }
        let mut bad_alpha = alpha.clone();
        bad_alpha[0] ^= 0x80;
        assert!(verify(&pk, &bad_alpha, &proof).is_none());
        // Another vector's key does not verify this proof.
        let other = public_key(&vectors()[1]);
        assert!(verify(&other, &alpha, &proof).is_none());
        // Truncated or extended proofs are malformed.
        assert!(verify(&pk, &alpha, &proof[..80]).is_none());
        let mut long = proof.clone();
        long.push(0);
        assert!(verify(&pk, &alpha, &long).is_none());
    }

    #[test]
    fn rejects_a_key_off_the_curve() {
        let v = &vectors()[0];
        let mut pk = public_key(v);
        pk[63] ^= 1;
        assert!(verify(&pk, &field(v, "alpha"), &field(v, "pi")).is_none());
    }
}
