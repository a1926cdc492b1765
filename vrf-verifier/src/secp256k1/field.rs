//! Arithmetic modulo the secp256k1 field prime p = 2^256 - 2^32 - 977.
//!
//! Written for size, not for constant time: the contract only verifies public data (VRF proofs), so
//! no secret ever flows through this code. Elements are four little-endian 64-bit limbs, always
//! fully reduced (< p).

/// A field element, fully reduced modulo p.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fe(pub [u64; 4]);

/// p in little-endian limbs.
const P: [u64; 4] = [
    0xFFFF_FFFE_FFFF_FC2F,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
];

/// 2^256 mod p: folding the high half of a product multiplies it by this.
const FOLD: u64 = 0x1_0000_03D1;

/// p - 2: the exponent that inverts (Fermat).
const P_MINUS_2: [u64; 4] = [P[0] - 2, P[1], P[2], P[3]];

/// (p + 1) / 4: the exponent that takes a square root (p = 3 mod 4).
const P_PLUS_1_DIV_4: [u64; 4] = [
    0xFFFF_FFFF_BFFF_FF0C,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF_FFFF,
    0x3FFF_FFFF_FFFF_FFFF,
];

impl Fe {
    pub const ZERO: Fe = Fe([0; 4]);
    pub const ONE: Fe = Fe([1, 0, 0, 0]);

    /// Parses 32 big-endian bytes; `None` when the value is not below p.
    pub fn from_be_bytes(bytes: &[u8; 32]) -> Option<Fe> {
        let limbs = limbs_from_be(bytes);
        if geq(&limbs, &P) {
            None
        } else {
            Some(Fe(limbs))
        }
    }

    pub fn to_be_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    pub fn from_u64(v: u64) -> Fe {
        Fe([v, 0, 0, 0])
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 4]
    }

    pub fn is_odd(&self) -> bool {
        self.0[0] & 1 == 1
    }

    #[inline(never)]
    pub fn add(&self, other: &Fe) -> Fe {
        let (mut r, carry) = add_limbs(&self.0, &other.0);
        if carry {
            // The true sum is r + 2^256 = r + FOLD (mod p), and r is small here.
            r = add_limbs(&r, &[FOLD, 0, 0, 0]).0;
        } else if geq(&r, &P) {
            r = sub_limbs(&r, &P).0;
        }
        Fe(r)
    }

    #[inline(never)]
    pub fn sub(&self, other: &Fe) -> Fe {
        let (r, borrow) = sub_limbs(&self.0, &other.0);
        if borrow {
            // r = a - b + 2^256; the answer is a - b + p = r - FOLD.
            Fe(sub_limbs(&r, &[FOLD, 0, 0, 0]).0)
        } else {
            Fe(r)
        }
    }

    pub fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    pub fn double(&self) -> Fe {
        self.add(self)
    }

    #[inline(never)]
    pub fn mul(&self, other: &Fe) -> Fe {
        let a = &self.0;
        let b = &other.0;
        let mut wide = [0u64; 8];
        for i in 0..4 {
            let mut carry: u128 = 0;
            for j in 0..4 {
                let v = (a[i] as u128) * (b[j] as u128) + wide[i + j] as u128 + carry;
                wide[i + j] = v as u64;
                carry = v >> 64;
            }
            wide[i + 4] = carry as u64;
        }
        reduce_wide(&wide)
    }

    pub fn square(&self) -> Fe {
        self.mul(self)
    }

    /// self^exp for an exponent given as little-endian limbs (square-and-multiply).
    #[inline(never)]
    fn pow(&self, exp: &[u64; 4]) -> Fe {
        let mut acc = Fe::ONE;
        for limb in exp.iter().rev() {
            for bit in (0..64).rev() {
                acc = acc.square();
                if (limb >> bit) & 1 == 1 {
                    acc = acc.mul(self);
                }
            }
        }
        acc
    }

    /// Multiplicative inverse; the inverse of zero is zero (callers never invert zero).
    pub fn invert(&self) -> Fe {
        self.pow(&P_MINUS_2)
    }

    /// A square root, when one exists.
    pub fn sqrt(&self) -> Option<Fe> {
        let root = self.pow(&P_PLUS_1_DIV_4);
        if root.square() == *self {
            Some(root)
        } else {
            None
        }
    }
}

pub(crate) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[24 - 8 * i..32 - 8 * i]);
        *limb = u64::from_be_bytes(word);
    }
    limbs
}

/// a >= b for little-endian 256-bit numbers.
pub(crate) fn geq(a: &[u64; 4], b: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

fn add_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut r = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(carry as u64);
        r[i] = s2;
        carry = c1 | c2;
    }
    (r, carry)
}

fn sub_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(borrow as u64);
        r[i] = d2;
        borrow = b1 | b2;
    }
    (r, borrow)
}

/// Reduces a 512-bit product: high * 2^256 + low = high * FOLD + low (mod p).
fn reduce_wide(wide: &[u64; 8]) -> Fe {
    let mut r = [0u64; 4];
    let mut carry: u128 = 0;
    for i in 0..4 {
        let v = wide[i] as u128 + (wide[i + 4] as u128) * (FOLD as u128) + carry;
        r[i] = v as u64;
        carry = v >> 64;
    }
    // carry < 2^34: fold it once more.
    let (mut r, overflow) = add_limbs(
        &r,
        &[
            (carry * FOLD as u128) as u64,
            ((carry * FOLD as u128) >> 64) as u64,
            0,
            0,
        ],
    );
    if overflow {
        r = add_limbs(&r, &[FOLD, 0, 0, 0]).0;
    }
    if geq(&r, &P) {
        r = sub_limbs(&r, &P).0;
    }
    Fe(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fe(hex_str: &str) -> Fe {
        let bytes: [u8; 32] = hex::decode(hex_str).unwrap().try_into().unwrap();
        Fe::from_be_bytes(&bytes).unwrap()
    }

    #[test]
    fn rejects_values_not_below_p() {
        let p = hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F")
            .unwrap();
        assert!(Fe::from_be_bytes(&p.clone().try_into().unwrap()).is_none());
        let mut below = p;
        below[31] -= 1;
        assert!(Fe::from_be_bytes(&below.try_into().unwrap()).is_some());
    }

    #[test]
    fn add_sub_wrap_around_p() {
        let max = fe("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2E");
        assert_eq!(max.add(&Fe::ONE), Fe::ZERO);
        assert_eq!(max.add(&Fe::from_u64(5)), Fe::from_u64(4));
        assert_eq!(Fe::ZERO.sub(&Fe::ONE), max);
        assert_eq!(
            Fe::from_u64(3).sub(&Fe::from_u64(5)).add(&Fe::from_u64(2)),
            Fe::ZERO
        );
        assert_eq!(max.neg(), Fe::ONE);
    }

    #[test]
    fn multiplication_matches_known_products() {
        // (p-1)^2 = 1 mod p
        let minus_one = Fe::ONE.neg();
        assert_eq!(minus_one.mul(&minus_one), Fe::ONE);
        // 2^128 * 2^128 = 2^256 = 2^32 + 977 mod p
        let two_128 = Fe([0, 0, 1, 0]);
        assert_eq!(two_128.mul(&two_128), Fe::from_u64(FOLD));
    }

    #[test]
    fn inverse_and_sqrt() {
        let x = fe("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");
        assert_eq!(x.mul(&x.invert()), Fe::ONE);
        let sq = x.square();
        let root = sq.sqrt().unwrap();
        assert!(root == x || root == x.neg());
        // -1 is not a square modulo p (p = 3 mod 4).
        assert!(Fe::ONE.neg().sqrt().is_none());
    }

    #[test]
    fn bytes_round_trip() {
        let hex_str = "483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8";
        assert_eq!(
            hex::encode_upper(fe(hex_str).to_be_bytes()),
            hex_str.to_ascii_uppercase()
        );
    }
}
