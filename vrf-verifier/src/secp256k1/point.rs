//! secp256k1 points (y^2 = x^3 + 7) in affine and Jacobian coordinates, with the one scalar
//! operation a VRF verifier needs: `a*P + b*Q`.

use super::field::{geq, limbs_from_be, Fe};

/// The group order n, little-endian limbs.
const N: [u64; 4] = [
    0xBFD2_5E8C_D036_4141,
    0xBAAE_DCE6_AF48_A03B,
    0xFFFF_FFFF_FFFF_FFFE,
    0xFFFF_FFFF_FFFF_FFFF,
];

/// A point in affine coordinates (never the point at infinity).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Affine {
    pub x: Fe,
    pub y: Fe,
}

/// A point in Jacobian coordinates (x = X/Z^2, y = Y/Z^3); Z = 0 is the point at infinity.
#[derive(Clone, Copy, Debug)]
pub struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

/// A scalar below the group order, little-endian limbs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Scalar(pub [u64; 4]);

impl Scalar {
    /// Parses a big-endian integer of up to 32 bytes; `None` when it is not below n.
    pub fn from_be_slice(bytes: &[u8]) -> Option<Scalar> {
        let mut padded = [0u8; 32];
        padded[32 - bytes.len()..].copy_from_slice(bytes);
        let limbs = limbs_from_be(&padded);
        if geq(&limbs, &N) {
            None
        } else {
            Some(Scalar(limbs))
        }
    }

    fn bit(&self, i: usize) -> bool {
        (self.0[i / 64] >> (i % 64)) & 1 == 1
    }
}

const SEVEN: Fe = Fe([7, 0, 0, 0]);

impl Affine {
    /// The generator G.
    pub const GENERATOR: Affine = Affine {
        x: Fe([
            0x59F2_815B_16F8_1798,
            0x029B_FCDB_2DCE_28D9,
            0x55A0_6295_CE87_0B07,
            0x79BE_667E_F9DC_BBAC,
        ]),
        y: Fe([
            0x9C47_D08F_FB10_D4B8,
            0xFD17_B448_A685_5419,
            0x5DA4_FBFC_0E11_08A8,
            0x483A_DA77_26A3_C465,
        ]),
    };

    pub fn is_on_curve(&self) -> bool {
        self.y.square() == self.x.square().mul(&self.x).add(&SEVEN)
    }

    /// Parses 64 bytes X||Y (big-endian), checking that the point lies on the curve.
    pub fn from_uncompressed(xy: &[u8; 64]) -> Option<Affine> {
        let mut half = [0u8; 32];
        half.copy_from_slice(&xy[..32]);
        let x = Fe::from_be_bytes(&half)?;
        half.copy_from_slice(&xy[32..]);
        let y = Fe::from_be_bytes(&half)?;
        let point = Affine { x, y };
        point.is_on_curve().then_some(point)
    }

    /// Parses a SEC1 compressed point (0x02/0x03 prefix and 32-byte x).
    pub fn from_compressed(prefix: u8, x_bytes: &[u8; 32]) -> Option<Affine> {
        if prefix != 2 && prefix != 3 {
            return None;
        }
        let x = Fe::from_be_bytes(x_bytes)?;
        let mut y = x.square().mul(&x).add(&SEVEN).sqrt()?;
        if y.is_odd() != (prefix == 3) {
            y = y.neg();
        }
        Some(Affine { x, y })
    }

    /// SEC1 compressed encoding.
    pub fn to_compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 2 + self.y.is_odd() as u8;
        out[1..].copy_from_slice(&self.x.to_be_bytes());
        out
    }

    pub fn neg(&self) -> Affine {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }

    fn to_jacobian(self) -> Jacobian {
        Jacobian {
            x: self.x,
            y: self.y,
            z: Fe::ONE,
        }
    }

    /// a*P + b*Q by Shamir's trick (one shared doubling chain); `None` for the point at infinity.
    pub fn double_mul(a: &Scalar, p: &Affine, b: &Scalar, q: &Affine) -> Option<Affine> {
        let p = p.to_jacobian();
        let q = q.to_jacobian();
        let pq = p.add(&q);
        let mut acc = Jacobian::INFINITY;
        for i in (0..256).rev() {
            acc = acc.double();
            match (a.bit(i), b.bit(i)) {
                (true, true) => acc = acc.add(&pq),
                (true, false) => acc = acc.add(&p),
                (false, true) => acc = acc.add(&q),
                (false, false) => {}
            }
        }
        acc.to_affine()
    }
}

impl Jacobian {
    const INFINITY: Jacobian = Jacobian {
        x: Fe::ONE,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    fn is_infinity(&self) -> bool {
        self.z.is_zero()
    }

    fn to_affine(self) -> Option<Affine> {
        if self.is_infinity() {
            return None;
        }
        let zinv = self.z.invert();
        let zinv2 = zinv.square();
        Some(Affine {
            x: self.x.mul(&zinv2),
            y: self.y.mul(&zinv2).mul(&zinv),
        })
    }

    /// Doubling for a = 0 ("dbl-2009-l").
    #[inline(never)]
    fn double(&self) -> Jacobian {
        if self.is_infinity() || self.y.is_zero() {
            return Jacobian::INFINITY;
        }
        let a = self.x.square();
        let b = self.y.square();
        let c = b.square();
        let d = self.x.add(&b).square().sub(&a).sub(&c).double();
        let e = a.double().add(&a);
        let f = e.square();
        let x3 = f.sub(&d.double());
        let c8 = c.double().double().double();
        let y3 = e.mul(&d.sub(&x3)).sub(&c8);
        let z3 = self.y.mul(&self.z).double();
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// General addition ("add-2007-bl"), with the doubling and inverse cases handled.
    #[inline(never)]
    fn add(&self, other: &Jacobian) -> Jacobian {
        if self.is_infinity() {
            return *other;
        }
        if other.is_infinity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = other.x.mul(&z1z1);
        let s1 = self.y.mul(&other.z).mul(&z2z2);
        let s2 = other.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() {
                self.double()
            } else {
                Jacobian::INFINITY
            };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.add(&other.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(v: u64) -> Scalar {
        Scalar([v, 0, 0, 0])
    }

    #[test]
    fn generator_is_on_curve() {
        assert!(Affine::GENERATOR.is_on_curve());
    }

    #[test]
    fn small_multiples_agree() {
        let g = Affine::GENERATOR;
        // 2G + 3G = 5G, computed three ways.
        let five = Affine::double_mul(&scalar(5), &g, &scalar(0), &g).unwrap();
        let two_plus_three = Affine::double_mul(&scalar(2), &g, &scalar(3), &g).unwrap();
        assert_eq!(five, two_plus_three);
        let seven_minus_two = Affine::double_mul(&scalar(7), &g, &scalar(2), &g.neg()).unwrap();
        assert_eq!(five, seven_minus_two);
        assert!(five.is_on_curve());
    }

    #[test]
    fn opposite_points_cancel_to_infinity() {
        let g = Affine::GENERATOR;
        assert!(Affine::double_mul(&scalar(3), &g, &scalar(3), &g.neg()).is_none());
    }

    #[test]
    fn matches_k256_for_a_large_scalar() {
        use k256::elliptic_curve::{sec1::ToEncodedPoint, PrimeField};
        let bytes: [u8; 32] =
            hex::decode("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
                .unwrap()
                .try_into()
                .unwrap();
        let k = k256::Scalar::from_repr(bytes.into()).unwrap();
        let expected = (k256::ProjectivePoint::GENERATOR * k).to_affine();
        let ours = Affine::double_mul(
            &Scalar::from_be_slice(&bytes).unwrap(),
            &Affine::GENERATOR,
            &scalar(0),
            &Affine::GENERATOR,
        )
        .unwrap();
        assert_eq!(
            ours.to_compressed().to_vec(),
            expected.to_encoded_point(true).as_bytes().to_vec()
        );
    }

    #[test]
    fn compressed_round_trip() {
        let g = Affine::GENERATOR;
        let enc = g.to_compressed();
        let mut x = [0u8; 32];
        x.copy_from_slice(&enc[1..]);
        assert_eq!(Affine::from_compressed(enc[0], &x), Some(g));
        assert_eq!(Affine::from_compressed(enc[0] ^ 1, &x), Some(g.neg()));
        assert_eq!(Affine::from_compressed(4, &x), None);
    }

    #[test]
    fn scalar_must_be_below_order() {
        let n = hex::decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")
            .unwrap();
        assert!(Scalar::from_be_slice(&n).is_none());
        let mut below = n;
        below[31] -= 1;
        assert!(Scalar::from_be_slice(&below).is_some());
    }
}
