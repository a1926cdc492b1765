//! The integration tools: VRF proofs, relay signatures and pHashes from plain arguments, printed as
//! the shared test vectors write them (VRF values as bare hex, signatures as 0x hex, pHashes as
//! 16 hex digits).

use alloy::signers::local::PrivateKeySigner;
use protocol::phash::{phash_png, ImageError};
use protocol::relay_signature::{sign, SignatureError};
use protocol::vrf::{self, VrfError, VrfSecretKey};
use serde_json::Value;

use crate::hex_input::{parse_hex, parse_hex_exact, HexError};

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Hex(#[from] HexError),
    #[error(transparent)]
    Vrf(#[from] VrfError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("--fields: {0}")]
    Fields(String),
    #[error("{path}: {source}")]
    Image { path: String, source: ImageError },
    #[error("encoding the ABI: {0}")]
    Abi(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// `taskctl vrf prove`: the 81-byte proof, as hex.
pub fn vrf_prove(secret_key_hex: &str, alpha_hex: &str) -> Result<String, ToolError> {
    let key = VrfSecretKey::from_bytes(&parse_hex_exact("--secret-key", secret_key_hex, 32)?)?;
    let alpha = parse_hex("--alpha", alpha_hex)?;
    Ok(hex::encode(key.prove(&alpha).0))
}

/// `taskctl vrf verify`: beta, as hex, when the proof verifies.
pub fn vrf_verify(
    public_key_hex: &str,
    alpha_hex: &str,
    proof_hex: &str,
) -> Result<String, ToolError> {
    let public_key = parse_hex_exact("--public-key", public_key_hex, 64)?;
    let alpha = parse_hex("--alpha", alpha_hex)?;
    let proof = parse_hex_exact("--proof", proof_hex, vrf::PROOF_LEN)?;
    Ok(hex::encode(vrf::verify(&public_key, &alpha, &proof)?))
}

/// `taskctl vrf witness`: the hints of the contract's cheap check for a valid proof, as hex (empty
/// for the rare proof the check does not cover: the contract verifies it in full).
pub fn vrf_witness(
    public_key_hex: &str,
    alpha_hex: &str,
    proof_hex: &str,
) -> Result<String, ToolError> {
    let public_key = parse_hex_exact("--public-key", public_key_hex, 64)?;
    let alpha = parse_hex("--alpha", alpha_hex)?;
    let proof = parse_hex_exact("--proof", proof_hex, vrf::PROOF_LEN)?;
    Ok(protocol::vrf_witness::hints(&public_key, &alpha, &proof)?
        .map(hex::encode)
        .unwrap_or_default())
}

/// `taskctl sign`: the relay signature of a JSON object of fields at a timestamp.
pub fn relay_sign(
    signer: &PrivateKeySigner,
    timestamp: u64,
    fields_json: &str,
) -> Result<String, ToolError> {
    let fields: Value = serde_json::from_str(fields_json)
        .map_err(|e| ToolError::Fields(format!("not JSON: {e}")))?;
    let Value::Object(fields) = fields else {
        return Err(ToolError::Fields("must be a JSON object".into()));
    };
    Ok(sign(signer, &fields, timestamp)?)
}

/// `taskctl phash`: the image's pHash as 16 hex digits.
pub fn phash_file(path: &str) -> Result<String, ToolError> {
    let bytes = std::fs::read(path).map_err(|source| ToolError::Io {
        path: path.to_string(),
        source,
    })?;
    let hash = phash_png(&bytes).map_err(|source| ToolError::Image {
        path: path.to_string(),
        source,
    })?;
    Ok(hash.to_string())
}

/// `taskctl contract abi`: the task contract's JSON ABI, generated from the checked-in Solidity
/// interface the bindings are built from.
pub fn contract_abi_json() -> Result<String, ToolError> {
    let abi = protocol::bindings::ITaskContract::abi::contract();
    serde_json::to_string_pretty(&abi).map_err(|e| ToolError::Abi(e.to_string()))
}
