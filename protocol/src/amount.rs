//! Amounts of ether as operators type them: `123` is wei, `0.5eth` (or `0.5 eth`) is ether.

use alloy::primitives::utils::parse_ether;
use alloy::primitives::U256;

/// The amount in wei, or None when `text` is neither a wei integer nor `<decimal>eth`.
pub fn parse_amount(text: &str) -> Option<U256> {
    let t = text.trim();
    match t.strip_suffix("eth") {
        // parse_ether("") is 0: a bare "eth" is a typo, not zero.
        Some(ether) if ether.trim().is_empty() => None,
        Some(ether) => parse_ether(ether.trim()).ok(),
        None => t.parse::<U256>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wei_and_ether() {
        assert_eq!(parse_amount("123"), Some(U256::from(123)));
        assert_eq!(
            parse_amount(" 0.5 eth"),
            Some(U256::from(500_000_000_000_000_000u64))
        );
        assert_eq!(parse_amount("0.01eth"), Some(U256::from(10u64.pow(16))));
        assert_eq!(parse_amount("1.5"), None);
        assert_eq!(parse_amount("eth"), None);
        assert_eq!(parse_amount("-1"), None);
    }
}
