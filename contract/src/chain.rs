//! What the contract asks other programs: the previous block's hash (Stylus has no BLOCKHASH
//! hostio, so it comes from the ArbSys precompile) and, for the rare proof the witness check does
//! not cover (`ecvrf.rs`), the VRF verifier program's full verification.

use alloy_primitives::{address, Address, B256};

use alloc::vec::Vec;

use crate::abi::{fail, Result};
use crate::events::uint_word;
use crate::{Host, TaskContract};

pub const ARB_SYS: Address = address!("0000000000000000000000000000000000000064");
/// `arbBlockNumber()`
pub const ARB_BLOCK_NUMBER: [u8; 4] = [0xa3, 0xb1, 0xb3, 0x1d];
/// `arbBlockHash(uint256)`
pub const ARB_BLOCK_HASH: [u8; 4] = [0x2b, 0x40, 0x7a, 0x82];
/// `verify(bytes,bytes,bytes)` of the VRF verifier program.
pub const VRF_VERIFY: [u8; 4] = [0xde, 0x8f, 0x50, 0xa1];

impl<H: Host> TaskContract<H> {
    fn static_call_word(&self, to: Address, calldata: &[u8]) -> Result<B256> {
        match self.host.static_call(&to, calldata) {
            Some(bytes) if bytes.len() == 32 => Ok(B256::new(crate::packing::bytes_at(&bytes))),
            _ => fail!(ChainQueryFailed),
        }
    }

    /// Hash of the previous Arbitrum block, the randomness of the sampling seed.
    pub(crate) fn previous_block_hash(&self) -> Result<B256> {
        let number = self.static_call_word(ARB_SYS, &ARB_BLOCK_NUMBER)?;
        let mut calldata = [0u8; 36];
        calldata[..4].copy_from_slice(&ARB_BLOCK_HASH);
        calldata[4..].copy_from_slice(number.as_slice());
        // number - 1, in place on the big-endian word (the genesis block has no parent: 0 stays 0).
        if !number.is_zero() {
            for byte in calldata[4..].iter_mut().rev() {
                let (v, borrow) = byte.overflowing_sub(1);
                *byte = v;
                if !borrow {
                    break;
                }
            }
        }
        self.static_call_word(ARB_SYS, &calldata)
    }

    /// Beta of a VRF proof by the verifier program's full verification, `None` when it rejects
    /// the proof (a revert).
    pub(crate) fn vrf_in_full(
        &self,
        public_key: &[u8; 64],
        alpha: &[u8],
        proof: &[u8],
    ) -> Option<B256> {
        // verify(bytes publicKey, bytes alpha, bytes proof): three heads, then the tails.
        let mut calldata = Vec::with_capacity(4 + 32 * 9 + 96 + alpha.len() + proof.len());
        calldata.extend_from_slice(&VRF_VERIFY);
        let alpha_words = alpha.len().div_ceil(32) as u128;
        for offset in [96, 96 + 96, 96 + 96 + 32 + 32 * alpha_words] {
            calldata.extend_from_slice(&uint_word(offset));
        }
        for bytes in [&public_key[..], alpha, proof] {
            calldata.extend_from_slice(&uint_word(bytes.len() as u128));
            calldata.extend_from_slice(bytes);
            // Whole words after the 4-byte selector.
            calldata.resize(4 + (calldata.len() - 4).div_ceil(32) * 32, 0);
        }
        self.static_call_word(self.verifier(), &calldata).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_their_signatures() {
        assert_eq!(
            alloy_primitives::keccak256("arbBlockNumber()")[..4],
            ARB_BLOCK_NUMBER
        );
        assert_eq!(
            alloy_primitives::keccak256("arbBlockHash(uint256)")[..4],
            ARB_BLOCK_HASH
        );
        assert_eq!(
            alloy_primitives::keccak256("verify(bytes,bytes,bytes)")[..4],
            VRF_VERIFY
        );
    }
}
