//! Hex arguments as people paste them: with or without `0x`, either case.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("{name}: not hex ({reason})")]
    NotHex { name: String, reason: String },
    #[error("{name}: expected {expected} bytes, got {got}")]
    Length {
        name: String,
        expected: usize,
        got: usize,
    },
}

/// Decodes `text`, naming the argument in the error.
pub fn parse_hex(name: &str, text: &str) -> Result<Vec<u8>, HexError> {
    let digits = text.trim();
    let digits = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .unwrap_or(digits);
    hex::decode(digits).map_err(|e| HexError::NotHex {
        name: name.to_string(),
        reason: e.to_string(),
    })
}

/// Decodes `text` and checks its length.
pub fn parse_hex_exact(name: &str, text: &str, expected: usize) -> Result<Vec<u8>, HexError> {
    let bytes = parse_hex(name, text)?;
    if bytes.len() != expected {
        return Err(HexError::Length {
            name: name.to_string(),
            expected,
            got: bytes.len(),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_both_prefixes_and_cases() {
        assert_eq!(parse_hex("a", "0xABcd").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(parse_hex("a", "abcd").unwrap(), vec![0xab, 0xcd]);
        assert_eq!(parse_hex("a", "").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn names_the_argument_in_errors() {
        let err = parse_hex("--alpha", "0xzz").unwrap_err();
        assert!(err.to_string().starts_with("--alpha: not hex"), "{err}");
        let err = parse_hex_exact("--proof", "00", 81).unwrap_err();
        assert_eq!(err.to_string(), "--proof: expected 81 bytes, got 1");
    }
}
