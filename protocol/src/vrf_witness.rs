//! Witnesses for the contract's cheap ECVRF check (README "Cheap VSS").
//!
//! The contract accepts a draft-04 proof without doing any scalar multiplication: the application
//! computes the expensive values from the public proof and appends them to the 81 proof bytes
//! (`validateSingleTask` / `validateTaskGroup` take proof || hints in the same `bytes`), and the
//! contract only checks them: products with the ecrecover precompile, square roots by squaring,
//! the inverse by multiplying. A wrong witness fails its check and the contract falls back to the
//! full verification, so what it accepts is exactly what the draft's verification accepts.
//!
//! ```text
//! hints := gammaY (32) | ctr (1) | hY (32) | w_k (32) for each counter k < ctr whose digest is a
//!          field element | U (64: x || y) | sH (64) | cGamma (64) | inv (32)
//! ```
//!
//! - gammaY: the y of Gamma (its parity is the proof's prefix);
//! - ctr, hY: the hash-to-curve counter that gave H and H's (even) y; for every earlier counter
//!   whose digest x is below p, w_k with w_k^2 = -(x^3 + 7), which proves x^3 + 7 is not a square
//!   (p = 3 mod 4, so -1 is not one) and the counter was rightly skipped;
//! - U = s*B - c*Y, sH = s*H, cGamma = c*Gamma as x || y, each checked with one ecrecover;
//! - inv = (sH.x - cGamma.x)^-1 mod p, for V = sH - cGamma.

use alloy::primitives::U256 as Fp;
use k256::elliptic_curve::group::prime::PrimeCurveAffine;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};

use crate::vrf::{VrfError, PROOF_LEN};

/// secp256k1's field prime p, big-endian.
pub const FIELD_PRIME: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f,
];
/// secp256k1's group order n, big-endian.
pub const GROUP_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// Length of the hints without non-residue witnesses.
pub const FIXED_HINTS_LEN: usize = 32 + 1 + 32 + 3 * 64 + 32;

/// The hints for a valid proof, or `None` when the proof falls in a case the witness check does
/// not cover (an x-coordinate of Y, H or Gamma not below n, s = 0, c = 0, or sH and cGamma with
/// equal x: together about 2^-126): the contract then verifies it in full.
pub fn hints(public_key: &[u8], alpha: &[u8], proof: &[u8]) -> Result<Option<Vec<u8>>, VrfError> {
    crate::vrf::verify(public_key, alpha, proof)?;
    let y = point(&[&[0x04], public_key].concat()).ok_or(VrfError::PublicKeyNotOnCurve)?;
    let gamma = point(&proof[..33]).ok_or(VrfError::MalformedProof)?;
    let c = scalar_from_challenge(proof[33..49].try_into().expect("16 bytes"));
    let s = Option::<Scalar>::from(Scalar::from_repr(
        <[u8; 32]>::try_from(&proof[49..PROOF_LEN])
            .expect("32 bytes")
            .into(),
    ))
    .ok_or(VrfError::MalformedProof)?;

    let mut out = Vec::with_capacity(FIXED_HINTS_LEN + 64);
    out.extend_from_slice(&xy(&gamma)[32..]);
    let (ctr, h, skipped) = hash_to_curve_with_skips(&y, alpha);
    out.push(ctr);
    out.extend_from_slice(&xy(&h)[32..]);
    let p = Fp::from_be_bytes(FIELD_PRIME);
    for x in skipped {
        // x^3 + 7 is not a square: its negation is (p = 3 mod 4), with root (-a)^((p+1)/4).
        let a = x.mul_mod(x, p).mul_mod(x, p).add_mod(Fp::from(7), p);
        let w = (p - a).pow_mod((p + Fp::from(1)) >> 2, p);
        debug_assert_eq!(w.mul_mod(w, p), p - a);
        out.extend_from_slice(&w.to_be_bytes::<32>());
    }
    let u = (ProjectivePoint::GENERATOR * s - ProjectivePoint::from(y) * c).to_affine();
    let s_h = (ProjectivePoint::from(h) * s).to_affine();
    let c_gamma = (ProjectivePoint::from(gamma) * c).to_affine();
    let coverable = below_order(&y)
        && below_order(&h)
        && below_order(&gamma)
        && !bool::from(s.is_zero())
        && !bool::from(c.is_zero())
        && !bool::from(u.is_identity());
    if !coverable {
        return Ok(None);
    }
    let (sx, cx) = (xy(&s_h), xy(&c_gamma));
    if sx[..32] == cx[..32] {
        return Ok(None);
    }
    let d = Fp::from_be_slice(&sx[..32]).add_mod(p - Fp::from_be_slice(&cx[..32]), p);
    let inv = d.inv_mod(p).expect("x1 != x2, and p is prime");
    out.extend_from_slice(&xy(&u));
    out.extend_from_slice(&sx);
    out.extend_from_slice(&cx);
    out.extend_from_slice(&inv.to_be_bytes::<32>());
    Ok(Some(out))
}

/// The proof followed by its hints (the proof alone when the witness check does not cover it),
/// as `validateSingleTask`, `validateTaskGroup` and `verifyVRF` take it.
pub fn proof_with_hints(
    public_key: &[u8],
    alpha: &[u8],
    proof: &[u8],
) -> Result<Vec<u8>, VrfError> {
    let mut out = proof.to_vec();
    if let Some(h) = hints(public_key, alpha, proof)? {
        out.extend(h);
    }
    Ok(out)
}

/// Hash to curve as draft-04 tries it, with the x of every counter it skipped although its digest
/// was a field element (those need a non-residue witness).
fn hash_to_curve_with_skips(y: &AffinePoint, alpha: &[u8]) -> (u8, AffinePoint, Vec<Fp>) {
    let pk = y.to_encoded_point(true);
    let mut skipped = Vec::new();
    for ctr in 0..=255u8 {
        let digest: [u8; 32] = Sha256::new()
            .chain_update([0xFE, 0x01])
            .chain_update(pk.as_bytes())
            .chain_update(alpha)
            .chain_update([ctr])
            .finalize()
            .into();
        if let Some(h) = point(&[&[0x02], &digest[..]].concat()) {
            return (ctr, h, skipped);
        }
        if digest < FIELD_PRIME {
            skipped.push(Fp::from_be_bytes(digest));
        }
    }
    unreachable!("no secp256k1 point in 256 hash-to-curve tries")
}

fn point(sec1: &[u8]) -> Option<AffinePoint> {
    let encoded = EncodedPoint::from_bytes(sec1).ok()?;
    Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))
}

/// x || y of a (non-identity) point.
fn xy(p: &AffinePoint) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(&p.to_encoded_point(false).as_bytes()[1..]);
    out
}

fn below_order(p: &AffinePoint) -> bool {
    xy(p)[..32] < GROUP_ORDER[..]
}

fn scalar_from_challenge(c: &[u8; 16]) -> Scalar {
    let mut wide = [0u8; 32];
    wide[16..].copy_from_slice(c);
    <Scalar as Reduce<U256>>::reduce_bytes(&wide.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrf::VrfSecretKey;

    #[test]
    fn constants_are_the_curve_parameters() {
        // p = 2^256 - 2^32 - 977; n - 1 is a scalar, n is not.
        let p: Fp = (Fp::MAX - (Fp::from(1u64) << 32)) - Fp::from(976u64);
        assert_eq!(p.to_be_bytes::<32>(), FIELD_PRIME);
        let mut n_minus_1 = GROUP_ORDER;
        n_minus_1[31] -= 1;
        assert!(bool::from(Scalar::from_repr(n_minus_1.into()).is_some()));
        assert!(bool::from(Scalar::from_repr(GROUP_ORDER.into()).is_none()));
    }

    #[test]
    fn hints_hold_what_they_claim() {
        for seed in 1u8..20 {
            let key = VrfSecretKey::from_bytes(&[seed; 32]).unwrap();
            let alpha = [seed ^ 0x5A; 32];
            let (proof, _) = key.prove(&alpha);
            let hints = hints(&key.public_key(), &alpha, &proof).unwrap().unwrap();
            let skipped = (hints.len() - FIXED_HINTS_LEN) / 32;
            assert_eq!(hints.len(), FIXED_HINTS_LEN + 32 * skipped);
            // The counter is at least the number of non-residues skipped.
            assert!(hints[32] as usize >= skipped);
            // Gamma's y has the proof's parity.
            assert_eq!(hints[31] & 1, proof[0] - 2);
        }
    }

    #[test]
    fn an_invalid_proof_has_no_hints() {
        let key = VrfSecretKey::from_bytes(&[9; 32]).unwrap();
        let (mut proof, _) = key.prove(b"x");
        proof[40] ^= 1;
        assert_eq!(
            hints(&key.public_key(), b"x", &proof),
            Err(VrfError::InvalidProof)
        );
    }
}
