//! Ethereum's precompiles as Arbitrum runs them from ArbOS 50 (go-ethereum's Osaka set,
//! OffchainLabs' fork `core/vm/contracts.go`, `PrecompiledContractsStartingFromArbOS50`):
//! ecrecover, sha256, identity, modexp (EIP-198 with EIP-7883's prices and EIP-7823's 1,024-byte
//! bound), bn254 add / mul / pairing (EIP-196/197 at Istanbul's prices) and P256VERIFY
//! (EIP-7951, 6,900 gas). Each is priced before it runs; a failure (bad input) takes all the
//! gas, as geth's precompile errors do. ripemd160, blake2f, the KZG point evaluation and the
//! BLS12-381 operations are not implemented (they fail loudly, see `mod.rs`).

use alloy::primitives::{address, Address};
use num_bigint::BigUint;
use sha2::Digest;

pub const ECRECOVER: Address = address!("0000000000000000000000000000000000000001");
pub const SHA256: Address = address!("0000000000000000000000000000000000000002");
pub const IDENTITY: Address = address!("0000000000000000000000000000000000000004");
pub const MODEXP: Address = address!("0000000000000000000000000000000000000005");
pub const BN254_ADD: Address = address!("0000000000000000000000000000000000000006");
pub const BN254_MUL: Address = address!("0000000000000000000000000000000000000007");
pub const BN254_PAIRING: Address = address!("0000000000000000000000000000000000000008");
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
        IDENTITY => (15 + 3 * words, Ok(input.to_vec())),
        MODEXP => modexp(input),
        BN254_ADD => (150, bn254_add(input)),
        BN254_MUL => (6_000, bn254_mul(input)),
        BN254_PAIRING => (
            45_000 + 34_000 * (input.len() / 192) as u64,
            bn254_pairing(input),
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
