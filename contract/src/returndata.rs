//! ABI encoding of return values: a head of fixed-size words, with `bytes`, `string` and arrays
//! placed in the tail and referenced by offset, as Solidity lays them out.

use alloc::vec::Vec;

use alloy_primitives::Address;

use crate::events::{address_word, uint_word};

/// Builds one ABI tuple whose head has a known number of words.
pub struct Tuple {
    head: Vec<u8>,
    tail: Vec<u8>,
    head_len: usize,
}

impl Tuple {
    pub fn new(head_words: usize) -> Tuple {
        Tuple {
            head: Vec::with_capacity(32 * head_words),
            tail: Vec::new(),
            head_len: 32 * head_words,
        }
    }

    pub fn word(&mut self, w: &[u8; 32]) -> &mut Self {
        self.head.extend_from_slice(w);
        self
    }

    pub fn uint(&mut self, v: u128) -> &mut Self {
        self.word(&uint_word(v))
    }

    pub fn address(&mut self, a: &Address) -> &mut Self {
        self.word(&address_word(a))
    }

    /// A dynamic value already encoded (an inner tuple or array).
    pub fn dynamic(&mut self, encoded: &[u8]) -> &mut Self {
        self.uint((self.head_len + self.tail.len()) as u128);
        self.tail.extend_from_slice(encoded);
        self
    }

    /// A `bytes` or `string` value.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let encoded = bytes_encoding(b);
        self.dynamic(&encoded)
    }

    pub fn finish(mut self) -> Vec<u8> {
        debug_assert_eq!(self.head.len(), self.head_len, "head size declared wrongly");
        self.head.append(&mut self.tail);
        self.head
    }
}

/// A return value of one static word.
pub fn single(w: [u8; 32]) -> Vec<u8> {
    w.to_vec()
}

/// Length word and zero-padded content.
pub fn bytes_encoding(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + b.len().div_ceil(32) * 32);
    out.extend_from_slice(&uint_word(b.len() as u128));
    out.extend_from_slice(b);
    out.resize(32 + b.len().div_ceil(32) * 32, 0);
    out
}

/// A dynamic array of static words (`uint8[]`, `uint256[]`, `bytes32[]`, `address[]`).
pub fn word_array(words: &[[u8; 32]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * (1 + words.len()));
    out.extend_from_slice(&uint_word(words.len() as u128));
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

/// A `string[]` or `bytes[]`.
pub fn bytes_array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut inner = Tuple::new(items.len());
    for item in items {
        inner.bytes(item);
    }
    let mut out = uint_word(items.len() as u128).to_vec();
    out.append(&mut inner.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::{sol_data, SolType};

    #[test]
    fn matches_alloy_encoding() {
        type T = (
            sol_data::Uint<8>,
            sol_data::String,
            sol_data::Array<sol_data::String>,
            sol_data::Array<sol_data::Uint<8>>,
            sol_data::Address,
        );
        let a = Address::repeat_byte(0x11);
        let expected = T::abi_encode_params(&(
            7u8,
            String::from("a longer string that spans two words"),
            vec![String::from("x"), String::new()],
            vec![1u8, 2, 3],
            a,
        ));
        let mut t = Tuple::new(5);
        t.uint(7)
            .bytes(b"a longer string that spans two words")
            .dynamic(&bytes_array(&[b"x".to_vec(), Vec::new()]))
            .dynamic(&word_array(&[uint_word(1), uint_word(2), uint_word(3)]))
            .address(&a);
        assert_eq!(t.finish(), expected);
    }
}
