//! Arithmetic the program does by hand to stay small.

/// `n / d` (`d > 0`) by shift and subtract. The compiler's 128-bit division builtin costs ~1 KB of
/// WASM; the contract divides twice per task (queue price, fee split), so a 128-step loop is the
/// better trade.
#[inline(never)]
pub fn div_u128(n: u128, d: u128) -> u128 {
    debug_assert!(d > 0);
    let mut quotient = 0u128;
    let mut rem = 0u128;
    for bit in (0..128).rev() {
        // `rem < d` before the shift, so `rem << 1 | 1` only overflows when d > 2^127; then the
        // quotient bit is set exactly when the shifted-out bit was set.
        let carry = rem >> 127;
        rem = (rem << 1) | ((n >> bit) & 1);
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1 << bit;
        }
    }
    quotient
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_builtin() {
        let values = [
            1u128,
            2,
            3,
            7,
            10,
            25,
            1_000_000_007,
            u64::MAX as u128,
            (u64::MAX as u128) + 1,
            1 << 96,
            (1 << 100) - 1,
            (1 << 127) - 1,
            1 << 127,
            u128::MAX - 1,
            u128::MAX,
        ];
        for &n in &values {
            for &d in &values {
                assert_eq!(div_u128(n, d), n / d, "{n} / {d}");
            }
            assert_eq!(div_u128(n, 1), n);
        }
        assert_eq!(div_u128(0, 5), 0);
    }
}
