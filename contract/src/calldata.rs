//! Decoding of ABI-encoded call arguments, strict like Solidity's decoder: a value that does not
//! fit its declared type, an offset or length past the end of the calldata, or an array longer
//! than the calldata could hold reverts with `MalformedCalldata`.
//!
//! The contract decodes by hand instead of instantiating alloy's generic decoder for every
//! method, which would not fit in a Stylus program (README "Contract size").

use alloc::vec::Vec;

use alloy_primitives::{Address, B256, U256};

use crate::abi::{fail, Result};

/// The arguments of one call (the calldata after the 4-byte selector).
#[derive(Clone, Copy)]
pub struct Args<'a>(pub &'a [u8]);

impl<'a> Args<'a> {
    /// The 32-byte head word at position `i`.
    pub fn word(&self, i: usize) -> Result<&'a [u8; 32]> {
        word_at(self.0, i * 32)
    }

    /// An unsigned integer of `bytes` bytes (uint8 .. uint128) at head position `i`.
    pub fn uint(&self, i: usize, bytes: usize) -> Result<u128> {
        uint_in(self.word(i)?, bytes)
    }

    pub fn u8(&self, i: usize) -> Result<u8> {
        Ok(self.uint(i, 1)? as u8)
    }

    pub fn u32(&self, i: usize) -> Result<u32> {
        Ok(self.uint(i, 4)? as u32)
    }

    pub fn u64(&self, i: usize) -> Result<u64> {
        Ok(self.uint(i, 8)? as u64)
    }
    pub fn u256(&self, i: usize) -> Result<U256> {
        Ok(U256::from_be_bytes(*self.word(i)?))
    }
    pub fn b256(&self, i: usize) -> Result<B256> {
        Ok(B256::new(*self.word(i)?))
    }
    pub fn address(&self, i: usize) -> Result<Address> {
        let w = self.word(i)?;
        uint_in(w, 20).map(|_| Address::new(crate::packing::bytes_at(&w[12..])))
    }

    /// A `uint32[3]`, which takes three head words from position `i`.
    pub fn u32x3(&self, i: usize) -> Result<[u32; 3]> {
        Ok([self.u32(i)?, self.u32(i + 1)?, self.u32(i + 2)?])
    }

    /// A `bytes` or `string` whose offset is at head position `i` (strings are not checked for
    /// UTF-8, as in Solidity).
    pub fn bytes(&self, i: usize) -> Result<&'a [u8]> {
        let offset = self.uint(i, 4)? as usize;
        bytes_at(self.0, offset)
    }

    /// A `string[]` (or `bytes[]`) whose offset is at head position `i`.
    pub fn bytes_array(&self, i: usize) -> Result<Vec<&'a [u8]>> {
        let offset = self.uint(i, 4)? as usize;
        let n = uint_in(word_at(self.0, offset)?, 4)? as usize;
        let items = &self.0[offset + 32..]; // word_at proved the length word is in range
                                            // Each element takes at least one offset word: a longer claim is malformed, and checking
                                            // it first bounds the allocation below.
        if n > items.len() / 32 {
            return fail!(MalformedCalldata);
        }
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let element = uint_in(word_at(items, 32 * k)?, 4)? as usize;
            out.push(bytes_at(items, element)?);
        }
        Ok(out)
    }
}
fn word_at(data: &[u8], at: usize) -> Result<&[u8; 32]> {
    let word = at.checked_add(32).and_then(|end| data.get(at..end));
    match word.and_then(|w| w.try_into().ok()) {
        Some(w) => Ok(w),
        None => fail!(MalformedCalldata),
    }
}

/// The value of a word that must hold an unsigned integer of `bytes` bytes (at most 16).
fn uint_in(w: &[u8; 32], bytes: usize) -> Result<u128> {
    if w[..32 - bytes].iter().any(|b| *b != 0) {
        return fail!(MalformedCalldata);
    }
    let mut low = [0u8; 16];
    let take = bytes.min(16);
    low[16 - take..].copy_from_slice(&w[32 - take..]);
    Ok(u128::from_be_bytes(low))
}

/// The length-prefixed byte string at `offset` of `data` (checked arithmetic: usize is 32 bits
/// in WASM, and offsets come from the caller).
fn bytes_at(data: &[u8], offset: usize) -> Result<&[u8]> {
    let len = uint_in(word_at(data, offset)?, 4)? as usize;
    let start = offset + 32; // word_at proved offset + 32 <= data.len()
    match start.checked_add(len).and_then(|end| data.get(start..end)) {
        Some(bytes) => Ok(bytes),
        None => fail!(MalformedCalldata),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::{sol_data, SolType};

    type JoinArgs = (
        sol_data::String,
        sol_data::Uint<64>,
        sol_data::FixedArray<sol_data::Uint<32>, 3>,
        sol_data::Bytes,
        sol_data::Array<sol_data::String>,
    );

    fn encoded_join() -> Vec<u8> {
        JoinArgs::abi_encode_params(&(
            String::from("RTX 4090"),
            24u64,
            [1u32, 2, 3],
            alloy_primitives::Bytes::from(vec![7u8; 64]),
            vec![
                "model-a".to_string(),
                String::new(),
                "model-ccc".to_string(),
            ],
        ))
    }

    #[test]
    fn decodes_what_alloy_encodes() {
        let data = encoded_join();
        let a = Args(&data);
        assert_eq!(a.bytes(0).unwrap(), b"RTX 4090");
        assert_eq!(a.u64(1).unwrap(), 24);
        assert_eq!(a.u32x3(2).unwrap(), [1, 2, 3]);
        assert_eq!(a.bytes(5).unwrap(), &[7u8; 64][..]);
        let models = a.bytes_array(6).unwrap();
        assert_eq!(models, vec![&b"model-a"[..], b"", b"model-ccc"]);
    }

    #[test]
    fn rejects_values_too_wide_for_their_type() {
        let mut w = [0u8; 32];
        w[31] = 1;
        w[30] = 1;
        assert!(Args(&w).u8(0).is_err());
        assert_eq!(Args(&w).u32(0).unwrap(), 257);
        let mut a = [0u8; 32];
        a[11] = 1;
        assert!(Args(&a).address(0).is_err());
    }

    #[test]
    fn rejects_truncated_and_out_of_range_data() {
        let data = encoded_join();
        assert!(Args(&data[..31]).word(0).is_err());
        // A prefix that loses content (not just trailing padding) is malformed somewhere.
        for cut in [data.len() - 32, data.len() - 40, 7 * 32] {
            let a = Args(&data[..cut]);
            assert!(a.bytes(0).is_err() || a.bytes(5).is_err() || a.bytes_array(6).is_err());
        }
        // An offset far past the end, and a huge array length.
        let mut bad = data.clone();
        bad[28..32].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Args(&bad).bytes(0).is_err());
        let off = Args(&data).uint(6, 4).unwrap() as usize;
        let mut long = data.clone();
        long[off + 28..off + 32].copy_from_slice(&1_000_000u32.to_be_bytes());
        assert!(Args(&long).bytes_array(6).is_err());
        assert!(Args(&[]).b256(0).is_err());
    }
}
