//! Minimal secp256k1 arithmetic for on-chain VRF verification (k256 does not fit a Stylus program).

mod field;
mod point;

pub use field::Fe;
pub use point::{Affine, Scalar};
