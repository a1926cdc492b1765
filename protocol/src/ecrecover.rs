//! The ecrecover precompile (0x01) as Ethereum and Arbitrum run it, for the hosts that stand in
//! for a chain (the devnet, the contract's test hosts): `ecrecover(h, v, r, s)` is the address of
//! r^-1 (s*R - h*G), where R is the point with x = r and the y parity v - 27.
//!
//! Exactly geth's rules (`core/vm/contracts.go`, `crypto.ValidateSignatureValues` without the
//! homestead low-s rule): v is 27 or 28 with the 31 bytes above it zero, r and s in [1, n-1], any
//! h (taken modulo n); a point at infinity recovers nothing. The output is the address left-padded
//! to 32 bytes, or empty. ECDSA libraries that verify after recovering refuse a high s, which the
//! precompile accepts: the cheap ECVRF check relies on it.

use alloy::primitives::{keccak256, Address};
use k256::elliptic_curve::group::prime::PrimeCurveAffine;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, ProjectivePoint, Scalar, U256};

/// The precompile's answer to `input` (missing bytes read as zero, extra bytes ignored).
pub fn ecrecover(input: &[u8]) -> Vec<u8> {
    let mut word = [0u8; 128];
    let n = input.len().min(128);
    word[..n].copy_from_slice(&input[..n]);
    match recover(&word) {
        Some(address) => {
            let mut out = vec![0u8; 12];
            out.extend_from_slice(address.as_slice());
            out
        }
        None => Vec::new(),
    }
}

fn recover(input: &[u8; 128]) -> Option<Address> {
    let (h, rest) = input.split_at(32);
    let (v, rest) = rest.split_at(32);
    let (r, s) = rest.split_at(32);
    if v[..31].iter().any(|b| *b != 0) || !(v[31] == 27 || v[31] == 28) {
        return None;
    }
    let r_scalar = nonzero_scalar(r)?;
    let s_scalar = nonzero_scalar(s)?;
    let mut sec1 = [0u8; 33];
    sec1[0] = 2 + (v[31] - 27);
    sec1[1..].copy_from_slice(r);
    let encoded = EncodedPoint::from_bytes(sec1).ok()?;
    let big_r = Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))?;
    let h: [u8; 32] = h.try_into().ok()?;
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&h.into());
    let r_inv = Option::<Scalar>::from(r_scalar.invert())?;
    let q = (ProjectivePoint::from(big_r) * (s_scalar * r_inv)
        - ProjectivePoint::GENERATOR * (z * r_inv))
        .to_affine();
    if bool::from(q.is_identity()) {
        return None;
    }
    let xy = q.to_encoded_point(false);
    Some(Address::from_slice(&keccak256(&xy.as_bytes()[1..])[12..]))
}

/// A scalar in [1, n-1] from 32 big-endian bytes.
fn nonzero_scalar(bytes: &[u8]) -> Option<Scalar> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    Option::<Scalar>::from(Scalar::from_repr(bytes.into())).filter(|s| !bool::from(s.is_zero()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::B256;
    use alloy::signers::local::PrivateKeySigner;
    use alloy::signers::SignerSync;

    fn input(h: &[u8; 32], v: u8, r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
        let mut out = h.to_vec();
        let mut vw = [0u8; 32];
        vw[31] = v;
        out.extend(vw);
        out.extend(r);
        out.extend(s);
        out
    }

    #[test]
    fn recovers_the_signer_of_a_signature_with_low_and_high_s() {
        let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).unwrap();
        let h = B256::repeat_byte(0x42);
        let sig = signer.sign_hash_sync(&h).unwrap();
        let r = sig.r().to_be_bytes::<32>();
        let s = sig.s().to_be_bytes::<32>();
        let v = 27 + sig.v() as u8;
        let out = ecrecover(&input(&h.0, v, &r, &s));
        assert_eq!(&out[12..], signer.address().as_slice());
        // (r, n - s) with the other parity is the same signature: the precompile accepts it.
        let n = alloy::primitives::U256::from_be_bytes(crate::vrf_witness::GROUP_ORDER);
        let high_s = (n - sig.s()).to_be_bytes::<32>();
        let out = ecrecover(&input(&h.0, 55 - v, &r, &high_s));
        assert_eq!(&out[12..], signer.address().as_slice());
    }

    #[test]
    fn refuses_what_geth_refuses() {
        let h = [1u8; 32];
        let r = [2u8; 32];
        let s = [3u8; 32];
        assert!(ecrecover(&input(&h, 26, &r, &s)).is_empty());
        assert!(ecrecover(&input(&h, 29, &r, &s)).is_empty());
        assert!(ecrecover(&input(&h, 27, &[0u8; 32], &s)).is_empty());
        assert!(ecrecover(&input(&h, 27, &r, &[0u8; 32])).is_empty());
        assert!(ecrecover(&input(&h, 27, &crate::vrf_witness::GROUP_ORDER, &s)).is_empty());
        let mut high_v = input(&h, 27, &r, &s);
        high_v[40] = 1;
        assert!(ecrecover(&high_v).is_empty());
        // A zero hash is allowed: r^-1 * s * R.
        assert_eq!(ecrecover(&input(&[0u8; 32], 27, &r, &s)).len() / 32, 1);
    }
}
