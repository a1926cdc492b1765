//! Amounts of ether as operators type them: `123` is wei, `0.5eth` (or `0.5 eth`) is ether.

use alloy::primitives::utils::{format_units, parse_ether};
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

/// `amount` in ether as people read it: `0.1 ETH`, `10000 ETH`, `0.000000000000000001 ETH`
/// (exact: trailing zeros dropped, never rounded).
pub fn format_ether(amount: U256) -> String {
    let text = format_units(amount, "ether").unwrap_or_else(|_| amount.to_string());
    let text = match text.split_once('.') {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{fraction}")
            }
        }
        None => text,
    };
    format!("{text} ETH")
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

    #[test]
    fn ether_printed_exactly() {
        assert_eq!(format_ether(U256::from(10u64.pow(17))), "0.1 ETH");
        assert_eq!(format_ether(U256::ZERO), "0 ETH");
        assert_eq!(format_ether(U256::from(1)), "0.000000000000000001 ETH");
        assert_eq!(
            format_ether(U256::from(10_000u64) * U256::from(10u64.pow(18))),
            "10000 ETH"
        );
        assert_eq!(
            format_ether(U256::from(1_234_500_000_000_000_000u64)),
            "1.2345 ETH"
        );
    }
}
