//! The ECVRF check of verifiable secret sampling: ECVRF-SECP256K1-SHA256-TAI (draft-04),
//! accepted from witnesses without any scalar multiplication in the program (README "Cheap VSS").
//!
//! The creator appends hints to the 81 proof bytes (`protocol::vrf_witness` computes them): the
//! y of Gamma and of H, the hash-to-curve counter with a non-residue witness for every counter
//! skipped, the points U = s*B - c*Y, s*H and c*Gamma, and one inverse. Each is checked here: the
//! three products with one ecrecover each (it recovers r^-1 (s'*R - h*G)), the y-coordinates and
//! non-residues by squaring, the inverse by multiplying, field arithmetic with the
//! `math_mul_mod` / `math_add_mod` hostios. When any check fails or a case is not covered (an
//! x-coordinate not below n, s = 0, c = 0, equal x in the last addition), the 81 proof bytes go
//! to the full verification of the VRF verifier program: a proof is accepted iff draft-04's
//! verification accepts it. Why a wrong witness cannot pass: README "Cheap VSS".

use alloc::vec::Vec;

use alloy_primitives::{address, keccak256, Address, B256};

use crate::events::uint_word;
use crate::{Host, TaskContract};

type W = [u8; 32];

const ECRECOVER: Address = address!("0000000000000000000000000000000000000001");
const SHA256: Address = address!("0000000000000000000000000000000000000002");
const SUITE: u8 = 0xFE;
/// Proof bytes: compressed Gamma (33), c (16), s (32).
pub const PROOF_LEN: usize = 81;

/// secp256k1's field prime p.
const P: W = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xfc, 0x2f,
];
/// secp256k1's group order n.
const N: W = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
const ZERO: W = [0; 32];

/// Big-endian a < b.
fn lt(a: &[u8], b: &[u8]) -> bool {
    a < b
}

/// a - b for a >= b (big-endian words).
fn sub(a: &W, b: &W) -> W {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = a[i] as i16 - b[i] as i16 - borrow;
        borrow = (d < 0) as i16;
        out[i] = d as u8;
    }
    out
}

fn word(bytes: &[u8]) -> W {
    crate::packing::bytes_at(bytes)
}

fn is_odd(w: &[u8]) -> bool {
    w[31] & 1 == 1
}

/// Hints read in order; `None` when they run short.
struct Hints<'a>(&'a [u8]);

impl<'a> Hints<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

impl<H: Host> TaskContract<H> {
    /// Beta of a valid proof (81 bytes, optionally followed by hints) for `alpha` under `key`;
    /// `None` when draft-04's verification rejects it.
    pub(crate) fn vrf_beta(&self, key: &[u8; 64], alpha: &[u8], proof: &[u8]) -> Option<B256> {
        if proof.len() < PROOF_LEN {
            return None;
        }
        if let Some(beta) = self.vrf_from_witnesses(key, alpha, proof) {
            return Some(beta);
        }
        self.vrf_in_full(key, alpha, &proof[..PROOF_LEN])
    }

    fn mul_mod(&self, a: &W, b: &W, m: &W) -> W {
        self.host.mul_mod(a, b, m)
    }

    fn add_mod(&self, a: &W, b: &W, m: &W) -> W {
        self.host.add_mod(a, b, m)
    }

    /// a - b mod p, for a, b < p.
    fn sub_p(&self, a: &W, b: &W) -> W {
        self.add_mod(a, &sub(&P, b), &P)
    }

    /// x^3 + 7 mod p.
    fn curve_rhs(&self, x: &W) -> W {
        let x3 = self.mul_mod(&self.mul_mod(x, x, &P), x, &P);
        self.add_mod(&x3, &uint_word(7), &P)
    }

    /// Whether (x, y) with both below p lies on the curve.
    fn on_curve(&self, x: &W, y: &W) -> bool {
        lt(x, &P) && lt(y, &P) && self.mul_mod(y, y, &P) == self.curve_rhs(x)
    }

    #[inline(never)]
    fn sha256(&self, parts: &[&[u8]]) -> Option<W> {
        let input: Vec<u8> = parts.concat();
        let out = self.host.static_call(&SHA256, &input)?;
        (out.len() == 32).then(|| word(&out))
    }

    /// Whether ecrecover(h, v, r, s) is the address of `point` (x || y).
    fn recovers(&self, h: &W, odd: bool, r: &W, s: &W, point: &[u8]) -> bool {
        let mut input = [0u8; 128];
        input[..32].copy_from_slice(h);
        input[63] = 27 + odd as u8;
        input[64..96].copy_from_slice(r);
        input[96..].copy_from_slice(s);
        match self.host.static_call(&ECRECOVER, &input) {
            Some(out) if out.len() == 32 => out[12..] == keccak256(point)[12..],
            _ => false,
        }
    }

    /// The check from witnesses: `Some(beta)` only for a proof draft-04 accepts.
    fn vrf_from_witnesses(&self, key: &[u8; 64], alpha: &[u8], data: &[u8]) -> Option<B256> {
        let (proof, hints) = data.split_at(PROOF_LEN);
        let mut hints = Hints(hints);
        let (yx, yy) = (word(&key[..32]), word(&key[32..]));
        if !self.on_curve(&yx, &yy) {
            return None;
        }
        // Gamma: the proof's x and prefix, the witnessed y.
        let prefix = proof[0];
        let gx = word(&proof[1..33]);
        let gy = word(hints.take(32)?);
        if !(prefix == 2 || prefix == 3) || is_odd(&gy) != (prefix == 3) || !self.on_curve(&gx, &gy)
        {
            return None;
        }
        let mut c = ZERO;
        c[16..].copy_from_slice(&proof[33..49]);
        let s = word(&proof[49..PROOF_LEN]);
        if !lt(&s, &N) {
            return None;
        }

        // H: the first counter whose digest is the x of a point. Every earlier digest is either
        // not a field element or comes with w, w^2 = -(x^3 + 7): x^3 + 7 is not a square.
        let ctr = hints.take(1)?[0];
        let hy = word(hints.take(32)?);
        let mut pk = [0u8; 33];
        pk[0] = 2 + is_odd(&yy) as u8;
        pk[1..].copy_from_slice(&yx);
        let mut hx = ZERO;
        for k in 0..=ctr {
            let digest = self.sha256(&[&[SUITE, 0x01], &pk, alpha, &[k]])?;
            if k == ctr {
                hx = digest;
            } else if lt(&digest, &P) {
                let w = word(hints.take(32)?);
                if self.mul_mod(&w, &w, &P) != sub(&P, &self.curve_rhs(&digest)) {
                    return None;
                }
            }
        }
        if is_odd(&hy) || !self.on_curve(&hx, &hy) {
            return None;
        }

        let u = hints.take(64)?;
        let s_h = hints.take(64)?;
        let c_gamma = hints.take(64)?;
        let inv = word(hints.take(32)?);
        // ecrecover takes r = x below n and s' in [1, n-1].
        if !hints.0.is_empty()
            || !lt(&yx, &N)
            || !lt(&hx, &N)
            || !lt(&gx, &N)
            || yx == ZERO
            || s == ZERO
            || c == ZERO
        {
            return None;
        }
        // U = s*B - c*Y = r^-1 (s'*Y - h*B) with r = Y.x, s' = -c*r, h = -s*r.
        let neg = |w: W| if w == ZERO { w } else { sub(&N, &w) };
        let h_u = neg(self.mul_mod(&s, &yx, &N));
        let s_u = neg(self.mul_mod(&c, &yx, &N));
        // s*H and c*Gamma: r^-1 (s'*R - 0*B) with s' = k*r.
        if !self.recovers(&h_u, is_odd(&yy), &yx, &s_u, u)
            || !self.recovers(&ZERO, false, &hx, &self.mul_mod(&s, &hx, &N), s_h)
            || !self.recovers(&ZERO, is_odd(&gy), &gx, &self.mul_mod(&c, &gx, &N), c_gamma)
        {
            return None;
        }

        // V = s*H - c*Gamma: lambda = (y1 + y2) / (x1 - x2), with the inverse witnessed.
        let (x1, y1) = (word(&s_h[..32]), word(&s_h[32..]));
        let (x2, y2) = (word(&c_gamma[..32]), word(&c_gamma[32..]));
        if x1 == x2 || self.mul_mod(&self.sub_p(&x1, &x2), &inv, &P) != uint_word(1) {
            return None;
        }
        let lambda = self.mul_mod(&self.add_mod(&y1, &y2, &P), &inv, &P);
        let x3 = self.sub_p(&self.sub_p(&self.mul_mod(&lambda, &lambda, &P), &x1), &x2);
        let y3 = self.sub_p(&self.mul_mod(&lambda, &self.sub_p(&x1, &x3), &P), &y1);

        let mut h_string = [2u8; 33];
        h_string[1..].copy_from_slice(&hx);
        let mut u_string = [2 + is_odd(&u[32..]) as u8; 33];
        u_string[1..].copy_from_slice(&u[..32]);
        let mut v_string = [2 + is_odd(&y3) as u8; 33];
        v_string[1..].copy_from_slice(&x3);
        let challenge = self.sha256(&[
            &[SUITE, 0x02],
            &h_string,
            &proof[..33],
            &u_string,
            &v_string,
        ])?;
        if challenge[..16] != proof[33..49] {
            return None;
        }
        self.sha256(&[&[SUITE, 0x03], &proof[..33]]).map(B256::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;

    #[test]
    fn constants_and_subtraction() {
        let p = U256::from_be_bytes(P);
        assert_eq!(p, U256::MAX - (U256::from(1u64) << 32) - U256::from(976u64));
        assert_eq!(
            U256::from_be_bytes(N),
            U256::from_str_radix(
                "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
                16
            )
            .unwrap()
        );
        let a: U256 = U256::from(1u64) << 200usize;
        let b = U256::from(12345u64);
        assert_eq!(
            U256::from_be_bytes(sub(&a.to_be_bytes::<32>(), &b.to_be_bytes::<32>())),
            a - b
        );
        assert!(lt(&uint_word(1), &uint_word(2)));
        assert!(!lt(&P, &P));
    }
}
