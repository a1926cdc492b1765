//! The VRF verifier of the GPU task network, a small stateless Arbitrum Stylus program.
//!
//! The task contract asks it whether an application's ECVRF-SECP256K1-SHA256-TAI proof
//! (draft-irtf-cfrg-vrf-04) over a task's sampling seed is valid, and for the VRF output beta.
//! It is a program of its own because the verifier (secp256k1 arithmetic and the try-and-increment
//! hash to curve) does not fit in the task contract's 24 KiB beside everything else.

#![cfg_attr(
    not(any(test, feature = "export-abi", feature = "stylus-test")),
    no_main
)]
#![cfg_attr(
    not(any(test, feature = "export-abi", feature = "stylus-test")),
    no_std
)]

extern crate alloc;

pub mod ecvrf;
pub mod secp256k1;

use alloc::{vec, vec::Vec};

use alloy_primitives::{address, Address, Bytes, B256};
use alloy_sol_types::sol;
use stylus_sdk::call::RawCall;
use stylus_sdk::prelude::*;

/// The sha256 precompile.
pub const SHA256_PRECOMPILE: Address = address!("0000000000000000000000000000000000000002");

sol! {
    /// The public key is not 64 bytes (X||Y).
    error InvalidPublicKey();
    /// The proof is malformed or does not verify for this key and input.
    error InvalidProof();
}

#[derive(SolidityError)]
pub enum VerifierError {
    InvalidPublicKey(InvalidPublicKey),
    InvalidProof(InvalidProof),
}

#[storage]
#[entrypoint]
pub struct VrfVerifier {}

#[public]
impl VrfVerifier {
    /// Verifies `proof` (81 bytes: compressed gamma, c, s) for `alpha` under `publicKey` (64 bytes
    /// X||Y) and returns beta = sha256(0xFE || 0x03 || compressed gamma); reverts when invalid.
    pub fn verify(
        &self,
        public_key: Bytes,
        alpha: Bytes,
        proof: Bytes,
    ) -> Result<B256, VerifierError> {
        let Ok(key) = <[u8; 64]>::try_from(public_key.as_ref()) else {
            return Err(VerifierError::InvalidPublicKey(InvalidPublicKey {}));
        };
        match ecvrf::verify(&PrecompileSha256(self), &key, &alpha, &proof) {
            Some(beta) => Ok(B256::new(beta)),
            None => Err(VerifierError::InvalidProof(InvalidProof {})),
        }
    }
}

/// SHA-256 through the precompile.
struct PrecompileSha256<'a>(&'a VrfVerifier);

impl ecvrf::Sha256 for PrecompileSha256<'_> {
    fn sha256(&self, parts: &[&[u8]]) -> Option<[u8; 32]> {
        let input: Vec<u8> = parts.concat();
        // SAFETY: a static call to a precompile cannot reenter this program.
        let out =
            unsafe { RawCall::new_static(self.0.vm()).call(SHA256_PRECOMPILE, &input) }.ok()?;
        out.try_into().ok()
    }
}
