//! Ethereum's precompiles as Arbitrum runs them from ArbOS 50 (go-ethereum's Osaka set,
//! OffchainLabs' fork `core/vm/contracts.go`, `PrecompiledContractsStartingFromArbOS50`):
//! ecrecover, sha256, ripemd160, identity, modexp (EIP-198 with EIP-7883's prices and EIP-7823's
//! 1,024-byte bound), bn254 add / mul / pairing (EIP-196/197 at Istanbul's prices), blake2f
//! (EIP-152) and P256VERIFY (EIP-7951, 6,900 gas). Each is priced before it runs; a failure
//! (bad input) takes all the gas, as geth's precompile errors do. The KZG point evaluation and the
//! BLS12-381 operations are not implemented (they fail loudly, see `mod.rs`).

use alloy::primitives::{address, Address};
use num_bigint::BigUint;
use sha2::Digest;

pub const ECRECOVER: Address = address!("0000000000000000000000000000000000000001");
pub const SHA256: Address = address!("0000000000000000000000000000000000000002");
pub const RIPEMD160: Address = address!("0000000000000000000000000000000000000003");
pub const IDENTITY: Address = address!("0000000000000000000000000000000000000004");
pub const MODEXP: Address = address!("0000000000000000000000000000000000000005");
pub const BN254_ADD: Address = address!("0000000000000000000000000000000000000006");
pub const BN254_MUL: Address = address!("0000000000000000000000000000000000000007");
pub const BN254_PAIRING: Address = address!("0000000000000000000000000000000000000008");
pub const BLAKE2F: Address = address!("0000000000000000000000000000000000000009");
pub const P256_VERIFY: Address = address!("0000000000000000000000000000000000000100");

/// A precompile's price, and its output or a failure.
pub type Run = (u64, Result<Vec<u8>, String>);

/// Runs the Ethereum precompile at `to`, if it is one the devnet implements.
pub fn run(to: Address, input: &[u8]) -> Option<Run> {
    let words = input.len().div_ceil(32) as u64;
    Some(match to {
        // geth's rules, high s included (protocol::ecrecover).
        ECRECOVER => (3_000, Ok(protocol::ecrecover::ecrecover(input))),
        SHA256 => (60 + 12 * words, Ok(sha2::Sha256::digest(input).to_vec())),
        RIPEMD160 => {
            use ripemd::Digest as _;
            let mut out = vec![0u8; 12];
            out.extend_from_slice(&ripemd::Ripemd160::digest(input));
            (600 + 120 * words, Ok(out))
        }
        IDENTITY => (15 + 3 * words, Ok(input.to_vec())),
        MODEXP => modexp(input),
        BN254_ADD => (150, bn254_add(input)),
        BN254_MUL => (6_000, bn254_mul(input)),
        BN254_PAIRING => (
            45_000 + 34_000 * (input.len() / 192) as u64,
            bn254_pairing(input),
        ),
        // One gas a round; a malformed input costs nothing before it fails.
        BLAKE2F => (
            match input.len() {
                213 => u64::from(u32::from_be_bytes([input[0], input[1], input[2], input[3]])),
                _ => 0,
            },
            blake2f(input),
        ),
        P256_VERIFY => (6_900, Ok(p256_verify(input))),
        _ => return None,
    })
}

/// `getData`: `len` bytes from `start`, zero-padded past the end of the input.
fn data(input: &[u8], start: u64, len: u64) -> Vec<u8> {
    let mut out = vec![0u8; len as usize];
    if let Ok(start) = usize::try_from(start) {
        if start < input.len() {
            let end = input.len().min(start.saturating_add(len as usize));
            out[..end - start].copy_from_slice(&input[start..end]);
        }
    }
    out
}

/// A 32-byte length field as u64, saturating.
fn length(input: &[u8], at: u64) -> u64 {
    let word = data(input, at, 32);
    if word[..24].iter().any(|b| *b != 0) {
        return u64::MAX;
    }
    u64::from_be_bytes(word[24..].try_into().unwrap_or_default())
}

/// EIP-7883 (`osakaModexpGas`): a multiplication complexity of 16 up to 32 bytes, else
/// 2 x ceil(len / 8)^2; an iteration count of 16 per exponent byte past the 32nd plus the
/// exponent head's bit length less one (at least 1); at least 500.
pub fn modexp_gas(input: &[u8]) -> u64 {
    let (base_len, exp_len, mod_len) = (length(input, 0), length(input, 32), length(input, 64));
    let body = input.get(96..).unwrap_or_default();
    let head = if (body.len() as u64) > base_len {
        data(body, base_len, exp_len.min(32))
    } else {
        Vec::new()
    };
    let head_bits = BigUint::from_bytes_be(&head).bits();
    let max_len = base_len.max(mod_len);
    let complexity = if max_len <= 32 {
        16
    } else {
        let words = max_len.saturating_add(7) / 8;
        words.saturating_mul(words).saturating_mul(2)
    };
    let mut iterations = exp_len.saturating_sub(32).saturating_mul(16);
    if head_bits > 0 {
        iterations = iterations.saturating_add(head_bits - 1);
    }
    complexity.saturating_mul(iterations.max(1)).max(500)
}

fn modexp(input: &[u8]) -> Run {
    let gas = modexp_gas(input);
    let (base_len, exp_len, mod_len) = (length(input, 0), length(input, 32), length(input, 64));
    if base_len.max(exp_len).max(mod_len) > 1_024 {
        return (
            gas,
            Err("one or more of base/exponent/modulus length exceeded 1024 bytes".into()),
        );
    }
    let body = input.get(96..).unwrap_or_default();
    if base_len == 0 && mod_len == 0 {
        return (gas, Ok(Vec::new()));
    }
    let base = BigUint::from_bytes_be(&data(body, 0, base_len));
    let exp = BigUint::from_bytes_be(&data(body, base_len, exp_len));
    let modulus = BigUint::from_bytes_be(&data(body, base_len + exp_len, mod_len));
    let value = if modulus.bits() == 0 {
        Vec::new()
    } else {
        base.modpow(&exp, &modulus).to_bytes_be()
    };
    // Left-padded to the modulus length (a zero result is all zeros).
    let mut out = vec![0u8; mod_len as usize];
    let value = if value == [0] { &[][..] } else { &value[..] };
    out[mod_len as usize - value.len()..].copy_from_slice(value);
    (gas, Ok(out))
}

fn g1(bytes: &[u8]) -> Result<bn::G1, String> {
    use bn::{AffineG1, Fq, Group, G1};
    let x = Fq::from_slice(&bytes[..32]).map_err(|_| "invalid bn254 field element")?;
    let y = Fq::from_slice(&bytes[32..64]).map_err(|_| "invalid bn254 field element")?;
    if x.is_zero() && y.is_zero() {
        return Ok(G1::zero());
    }
    AffineG1::new(x, y)
        .map(Into::into)
        .map_err(|_| "bn254 point not on the curve".to_string())
}

fn g2(bytes: &[u8]) -> Result<bn::G2, String> {
    use bn::{AffineG2, Fq, Fq2, Group, G2};
    let fq = |at: usize| {
        Fq::from_slice(&bytes[at..at + 32]).map_err(|_| "invalid bn254 field element".to_string())
    };
    // EIP-197: each coordinate as (imaginary, real).
    let x = Fq2::new(fq(32)?, fq(0)?);
    let y = Fq2::new(fq(96)?, fq(64)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2::zero());
    }
    AffineG2::new(x, y)
        .map(Into::into)
        .map_err(|_| "bn254 G2 point not on the curve or not in its subgroup".to_string())
}

fn g1_bytes(p: bn::G1) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    if let Some(a) = bn::AffineG1::from_jacobian(p) {
        // Writing a field element into 32 bytes cannot fail.
        let _ = a.x().to_big_endian(&mut out[..32]);
        let _ = a.y().to_big_endian(&mut out[32..]);
    }
    out
}

fn bn254_add(input: &[u8]) -> Result<Vec<u8>, String> {
    let input = data(input, 0, 128);
    Ok(g1_bytes(g1(&input[..64])? + g1(&input[64..])?))
}

fn bn254_mul(input: &[u8]) -> Result<Vec<u8>, String> {
    let input = data(input, 0, 96);
    let scalar = bn::Fr::from_slice(&input[64..]).map_err(|_| "invalid scalar")?;
    Ok(g1_bytes(g1(&input[..64])? * scalar))
}

fn bn254_pairing(input: &[u8]) -> Result<Vec<u8>, String> {
    if !input.len().is_multiple_of(192) {
        return Err("bad elliptic curve pairing size".into());
    }
    let pairs = input
        .chunks(192)
        .map(|c| Ok((g1(&c[..64])?, g2(&c[64..])?)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut out = vec![0u8; 32];
    if bn::pairing_batch(&pairs) == bn::Gt::one() {
        out[31] = 1;
    }
    Ok(out)
}

/// EIP-7951 / go-ethereum `secp256r1.Verify`: exactly 160 bytes (hash, r, s, x, y); r and s in
/// [1, n); the key a point of the curve; high s accepted. 1 as a word, else nothing.
fn p256_verify(input: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    if input.len() != 160 {
        return Vec::new();
    }
    let mut point = [0u8; 65];
    point[0] = 4;
    point[1..].copy_from_slice(&input[96..160]);
    let verified = (|| {
        let key = VerifyingKey::from_sec1_bytes(&point).ok()?;
        let r: [u8; 32] = input[32..64].try_into().ok()?;
        let s: [u8; 32] = input[64..96].try_into().ok()?;
        let signature = Signature::from_scalars(r, s).ok()?;
        key.verify_prehash(&input[..32], &signature).ok()
    })();
    match verified {
        Some(()) => {
            let mut out = vec![0u8; 32];
            out[31] = 1;
            out
        }
        None => Vec::new(),
    }
}

/// BLAKE2b's initialisation vector and message schedule (RFC 7693).
const BLAKE2B_IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// EIP-152: BLAKE2b's compression function F for a chosen number of rounds. The input is the
/// rounds (4 bytes, big-endian), the state h (8 words), the message m (16 words), the offset
/// counters t (2 words), all little-endian, and the final-block flag (0 or 1): 213 bytes.
fn blake2f(input: &[u8]) -> Result<Vec<u8>, String> {
    if input.len() != 213 {
        return Err("invalid input length".into());
    }
    let last = match input[212] {
        0 => false,
        1 => true,
        _ => return Err("invalid final flag".into()),
    };
    let word = |at: usize| u64::from_le_bytes(input[at..at + 8].try_into().unwrap_or_default());
    let rounds = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    let mut h: [u64; 8] = std::array::from_fn(|i| word(4 + 8 * i));
    let m: [u64; 16] = std::array::from_fn(|i| word(68 + 8 * i));
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(&h);
    v[8..].copy_from_slice(&BLAKE2B_IV);
    v[12] ^= word(196);
    v[13] ^= word(204);
    if last {
        v[14] = !v[14];
    }
    let g = |v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64| {
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
        v[d] = (v[d] ^ v[a]).rotate_right(32);
        v[c] = v[c].wrapping_add(v[d]);
        v[b] = (v[b] ^ v[c]).rotate_right(24);
        v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
        v[d] = (v[d] ^ v[a]).rotate_right(16);
        v[c] = v[c].wrapping_add(v[d]);
        v[b] = (v[b] ^ v[c]).rotate_right(63);
    };
    for round in 0..rounds as usize {
        let s = &SIGMA[round % 10];
        g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
    Ok(h.iter().flat_map(|w| w.to_le_bytes()).collect())
}
