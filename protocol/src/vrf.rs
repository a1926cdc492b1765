//! ECVRF-SECP256K1-SHA256-TAI of draft-irtf-cfrg-vrf-04 (suite byte 0xFE): the VRF that
//! applications run on a task's sampling seed. The contract's verifier program accepts exactly the
//! proofs `verify` accepts, whoever made them.
//!
//! Proving is deterministic. The nonce is derived as vrf-ts-256 derives it (the TypeScript library
//! of the original network's applications, and the implementation the shared test vectors come
//! from): the HMAC-DRBG steps of RFC 6979 over h1 = SHA-256(h_string), except that the DRBG's K
//! and V travel as lowercase hex text (K starts as 64 '0' characters, V as 64 '1' characters, and
//! each HMAC takes the text's bytes as key and message). A proof from this module is therefore byte
//! for byte the proof vrf-ts-256 makes. Proofs with a textbook RFC 6979 nonce (witnet/vrf-rs,
//! vechain/go-ecvrf) differ in c and s but verify all the same.

use hmac::{Hmac, Mac};
use k256::elliptic_curve::group::prime::PrimeCurveAffine;
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, EncodedPoint, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};

const SUITE: u8 = 0xFE;

/// Length of a proof: 33-byte compressed gamma, 16-byte c, 32-byte s.
pub const PROOF_LEN: usize = 81;

/// Why a key or a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VrfError {
    #[error("secret key must be 32 bytes, got {0}")]
    SecretKeyLength(usize),
    #[error("secret key is zero or not below the curve order")]
    SecretKeyOutOfRange,
    #[error("public key must be 64 bytes (X || Y), got {0}")]
    PublicKeyLength(usize),
    #[error("public key is not a point on secp256k1")]
    PublicKeyNotOnCurve,
    #[error("proof must be {PROOF_LEN} bytes, got {0}")]
    ProofLength(usize),
    #[error("proof is malformed (gamma not on the curve or s not below the curve order)")]
    MalformedProof,
    #[error("proof does not verify for this public key and input")]
    InvalidProof,
}

/// A VRF secret key with its public point.
#[derive(Clone)]
pub struct VrfSecretKey {
    scalar: Scalar,
    public: AffinePoint,
}

impl std::fmt::Debug for VrfSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("VrfSecretKey")
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl VrfSecretKey {
    /// The key whose secret scalar is the 32 big-endian bytes given (an Ethereum private key).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VrfError> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| VrfError::SecretKeyLength(bytes.len()))?;
        let scalar = Option::<Scalar>::from(Scalar::from_repr(bytes.into()))
            .filter(|s| !bool::from(s.is_zero()))
            .ok_or(VrfError::SecretKeyOutOfRange)?;
        let public = (ProjectivePoint::GENERATOR * scalar).to_affine();
        Ok(Self { scalar, public })
    }

    /// The public key as 64 bytes X || Y, the form the contract takes.
    pub fn public_key(&self) -> [u8; 64] {
        uncompressed_xy(&self.public)
    }

    /// The 81-byte proof for `alpha` and its output beta.
    pub fn prove(&self, alpha: &[u8]) -> ([u8; PROOF_LEN], [u8; 32]) {
        let h = hash_to_curve(&self.public, alpha);
        let h_string = compressed(&h);
        let gamma = (ProjectivePoint::from(h) * self.scalar).to_affine();
        let k = nonce(&self.scalar, &h_string);
        let u = (ProjectivePoint::GENERATOR * k).to_affine();
        let v = (ProjectivePoint::from(h) * k).to_affine();
        let c = challenge(&h_string, &gamma, &u, &v);
        let s = k + scalar_from_challenge(&c) * self.scalar;

        let mut proof = [0u8; PROOF_LEN];
        proof[..33].copy_from_slice(&compressed(&gamma));
        proof[33..49].copy_from_slice(&c);
        proof[49..].copy_from_slice(&s.to_repr());
        (proof, proof_to_hash(&gamma))
    }
}

/// Verifies `proof` for `alpha` under `public_key` (64 bytes X || Y) and returns beta.
pub fn verify(public_key: &[u8], alpha: &[u8], proof: &[u8]) -> Result<[u8; 32], VrfError> {
    let y = public_key_point(public_key)?;
    if proof.len() != PROOF_LEN {
        return Err(VrfError::ProofLength(proof.len()));
    }
    let gamma = decode_point(&proof[..33]).ok_or(VrfError::MalformedProof)?;
    let c: [u8; 16] = proof[33..49].try_into().expect("16-byte slice");
    let s_bytes: [u8; 32] = proof[49..].try_into().expect("32-byte slice");
    let s = Option::<Scalar>::from(Scalar::from_repr(s_bytes.into()))
        .ok_or(VrfError::MalformedProof)?;
    let c_scalar = scalar_from_challenge(&c);

    let h = hash_to_curve(&y, alpha);
    // U = s*B - c*Y, V = s*H - c*Gamma; a point at infinity has no encoding to hash (a key holder
    // can make one with s = c*x): such a proof is invalid, as in the contract's verifier.
    let u = (ProjectivePoint::GENERATOR * s - ProjectivePoint::from(y) * c_scalar).to_affine();
    let v = (ProjectivePoint::from(h) * s - ProjectivePoint::from(gamma) * c_scalar).to_affine();
    if bool::from(u.is_identity()) || bool::from(v.is_identity()) {
        return Err(VrfError::InvalidProof);
    }
    if challenge(&compressed(&h), &gamma, &u, &v) != c {
        return Err(VrfError::InvalidProof);
    }
    Ok(proof_to_hash(&gamma))
}

/// An account's public key as `join`, `validateSingleTask` and `validateTaskGroup` take it:
/// 64 bytes X || Y, uncompressed without the 0x04 prefix.
pub fn signer_public_key(signer: &alloy::signers::local::PrivateKeySigner) -> Vec<u8> {
    signer
        .credential()
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()[1..]
        .to_vec()
}

/// The public key (64 bytes X || Y) of a 32-byte secret key.
pub fn public_key_of(secret_key: &[u8]) -> Result<[u8; 64], VrfError> {
    Ok(VrfSecretKey::from_bytes(secret_key)?.public_key())
}

fn public_key_point(public_key: &[u8]) -> Result<AffinePoint, VrfError> {
    if public_key.len() != 64 {
        return Err(VrfError::PublicKeyLength(public_key.len()));
    }
    let encoded = EncodedPoint::from_untagged_bytes(public_key.into());
    Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))
        .ok_or(VrfError::PublicKeyNotOnCurve)
}

/// A SEC1 compressed point (prefix 0x02 / 0x03 and x), the only encoding draft-04 takes: the
/// sec1 crate would also read 0x05 ("compact") and other tags.
fn decode_point(bytes: &[u8]) -> Option<AffinePoint> {
    if bytes.len() != 33 || !(bytes[0] == 2 || bytes[0] == 3) {
        return None;
    }
    let encoded = EncodedPoint::from_bytes(bytes).ok()?;
    // A 33-byte compressed encoding never decodes to the identity.
    Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded))
}

fn compressed(p: &AffinePoint) -> [u8; 33] {
    p.to_encoded_point(true)
        .as_bytes()
        .try_into()
        .expect("a compressed non-identity point is 33 bytes")
}

fn uncompressed_xy(p: &AffinePoint) -> [u8; 64] {
    let mut out = [0u8; 64];
    out.copy_from_slice(&p.to_encoded_point(false).as_bytes()[1..]);
    out
}

/// ECVRF_hash_to_curve_try_and_increment (draft-04 5.4.1.1): the first counter whose digest is
/// the x of a point, taken with even y.
fn hash_to_curve(y: &AffinePoint, alpha: &[u8]) -> AffinePoint {
    let pk = compressed(y);
    for ctr in 0..=255u8 {
        let digest = Sha256::new()
            .chain_update([SUITE, 0x01])
            .chain_update(pk)
            .chain_update(alpha)
            .chain_update([ctr])
            .finalize();
        let mut candidate = [0x02u8; 33];
        candidate[1..].copy_from_slice(&digest);
        if let Some(h) = decode_point(&candidate) {
            return h;
        }
    }
    // Each try succeeds with probability ~1/2; 256 failures in a row do not happen.
    unreachable!("no secp256k1 point in 256 hash-to-curve tries")
}

/// The nonce of vrf-ts-256 (see the module comment): two seeding rounds and one output round of
/// HMAC-SHA256 over hex text. The output is taken modulo n, as the big-number arithmetic of the
/// original reduces it.
fn nonce(secret: &Scalar, h_string: &[u8; 33]) -> Scalar {
    let h1: [u8; 32] = Sha256::digest(h_string).into();
    let x = secret.to_repr();
    let k0 = "0".repeat(64);
    let v0 = "1".repeat(64);
    let k1 = hmac_hex(&k0, &[v0.as_bytes(), &[0x00], &x, &h1]);
    let v1 = hmac_hex(&k1, &[v0.as_bytes()]);
    let k2 = hmac_hex(&k1, &[v1.as_bytes(), &[0x01], &x, &h1]);
    let v2 = hmac_hex(&k2, &[v1.as_bytes()]);
    let v3 = hmac_hex(&k2, &[v2.as_bytes()]);
    let bytes: [u8; 32] = hex::decode(v3)
        .expect("hmac_hex writes hex")
        .try_into()
        .expect("SHA-256 output is 32 bytes");
    <Scalar as Reduce<U256>>::reduce_bytes(&bytes.into())
}

/// HMAC-SHA256 keyed with the bytes of `key` (hex text), as lowercase hex text.
fn hmac_hex(key: &str, message: &[&[u8]]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes keys of any length");
    for part in message {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// ECVRF_hash_points (draft-04 5.4.3): the first 16 bytes of the digest.
fn challenge(h: &[u8; 33], gamma: &AffinePoint, u: &AffinePoint, v: &AffinePoint) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update([SUITE, 0x02])
        .chain_update(h)
        .chain_update(compressed(gamma))
        .chain_update(compressed(u))
        .chain_update(compressed(v))
        .finalize();
    digest[..16].try_into().expect("16-byte prefix")
}

fn scalar_from_challenge(c: &[u8; 16]) -> Scalar {
    let mut wide = [0u8; 32];
    wide[16..].copy_from_slice(c);
    <Scalar as Reduce<U256>>::reduce_bytes(&wide.into())
}

/// ECVRF_proof_to_hash (draft-04 5.2): beta = SHA-256(0xFE || 0x03 || compressed gamma).
fn proof_to_hash(gamma: &AffinePoint) -> [u8; 32] {
    Sha256::new()
        .chain_update([SUITE, 0x03])
        .chain_update(compressed(gamma))
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order n of secp256k1, big-endian.
    const ORDER_BE: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ];

    #[test]
    fn order_constant_is_the_curve_order() {
        // n - 1 is the largest scalar; n itself is refused.
        let mut n_minus_1 = ORDER_BE;
        n_minus_1[31] -= 1;
        assert!(bool::from(Scalar::from_repr(n_minus_1.into()).is_some()));
        assert!(bool::from(Scalar::from_repr(ORDER_BE.into()).is_none()));
    }

    #[test]
    fn prove_then_verify_round_trips() {
        let key = VrfSecretKey::from_bytes(&[7u8; 32]).unwrap();
        let (proof, beta) = key.prove(b"alpha");
        assert_eq!(verify(&key.public_key(), b"alpha", &proof), Ok(beta));
        assert_eq!(
            verify(&key.public_key(), b"alphb", &proof),
            Err(VrfError::InvalidProof)
        );
    }

    #[test]
    fn a_proof_whose_u_and_v_are_at_infinity_is_refused_not_a_panic() {
        // With the secret x, s = c*x makes U = s*B - c*Y and V = s*H - c*Gamma the identity.
        let x = [3u8; 32];
        let key = VrfSecretKey::from_bytes(&x).unwrap();
        let (mut proof, _) = key.prove(b"alpha");
        let c = scalar_from_challenge(&proof[33..49].try_into().unwrap());
        let s = c * Option::<Scalar>::from(Scalar::from_repr(x.into())).unwrap();
        proof[49..].copy_from_slice(&s.to_repr());
        assert_eq!(
            verify(&key.public_key(), b"alpha", &proof),
            Err(VrfError::InvalidProof)
        );
    }

    #[test]
    fn gamma_must_be_sec1_compressed() {
        let key = VrfSecretKey::from_bytes(&[1u8; 32]).unwrap();
        let (proof, beta) = key.prove(b"a");
        for prefix in 0..=255u8 {
            let mut p = proof;
            p[0] = prefix;
            let ok = verify(&key.public_key(), b"a", &p).is_ok();
            assert_eq!(ok, prefix == proof[0], "prefix {prefix}");
        }
        assert_eq!(verify(&key.public_key(), b"a", &proof), Ok(beta));
    }

    #[test]
    fn refuses_bad_keys() {
        assert_eq!(
            VrfSecretKey::from_bytes(&[0u8; 32]).unwrap_err(),
            VrfError::SecretKeyOutOfRange
        );
        assert_eq!(
            VrfSecretKey::from_bytes(&ORDER_BE).unwrap_err(),
            VrfError::SecretKeyOutOfRange
        );
        assert_eq!(
            VrfSecretKey::from_bytes(&[1u8; 31]).unwrap_err(),
            VrfError::SecretKeyLength(31)
        );
        assert_eq!(
            verify(&[1u8; 63], b"", &[0u8; PROOF_LEN]).unwrap_err(),
            VrfError::PublicKeyLength(63)
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Every key's proof of every input verifies under that key only, with the same beta.
        #[test]
        fn proofs_verify_under_their_own_key_only(
            secret in proptest::array::uniform32(1u8..),
            alpha in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let key = VrfSecretKey::from_bytes(&secret).unwrap();
            let (proof, beta) = key.prove(&alpha);
            prop_assert_eq!(verify(&key.public_key(), &alpha, &proof), Ok(beta));
            prop_assert_eq!(key.prove(&alpha).0, proof);
            let mut other = secret;
            other[0] ^= 0x55;
            if let Ok(other) = VrfSecretKey::from_bytes(&other) {
                prop_assert!(verify(&other.public_key(), &alpha, &proof).is_err());
            }
        }
    }
}
