//! Relay request signatures (PROTOCOL.md "Relay HTTP API"): secp256k1 ECDSA with an RFC 6979 nonce,
//! no message prefix, over `keccak256(canonical_json(fields) || decimal timestamp)`; 65 bytes
//! r || s || v with v in {0, 1}, written as 0x-prefixed hex.

use alloy::primitives::{keccak256, Address, Signature, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use serde_json::{Map, Value};

use crate::canonical_json::to_canonical_json;

/// How far a request's timestamp may be from the relay's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature must be 65 bytes of hex (r || s || v), got {0}")]
    Malformed(String),
    #[error("signature v must be 0 or 1, got {0}")]
    BadRecoveryId(u8),
    #[error("signature does not recover to a public key")]
    Unrecoverable,
    #[error("signing failed: {0}")]
    Signing(String),
}

/// The bytes that are hashed: canonical JSON of the fields, then the decimal timestamp.
pub fn signed_bytes(fields: &Map<String, Value>, timestamp: u64) -> Vec<u8> {
    let mut bytes = to_canonical_json(&Value::Object(fields.clone())).into_bytes();
    bytes.extend_from_slice(timestamp.to_string().as_bytes());
    bytes
}

/// keccak256 of [`signed_bytes`].
pub fn signing_hash(fields: &Map<String, Value>, timestamp: u64) -> B256 {
    keccak256(signed_bytes(fields, timestamp))
}

/// Signs a request's fields at `timestamp`; returns the 0x-prefixed hex of r || s || v.
pub fn sign(
    signer: &PrivateKeySigner,
    fields: &Map<String, Value>,
    timestamp: u64,
) -> Result<String, SignatureError> {
    let signature = signer
        .sign_hash_sync(&signing_hash(fields, timestamp))
        .map_err(|e| SignatureError::Signing(e.to_string()))?;
    Ok(encode(&signature))
}

/// r || s || v with v in {0, 1}.
pub fn encode(signature: &Signature) -> String {
    let mut raw = [0u8; 65];
    raw[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    raw[32..64].copy_from_slice(&signature.s().to_be_bytes::<32>());
    raw[64] = signature.v() as u8;
    format!("0x{}", hex::encode(raw))
}

/// The address that signed `fields` at `timestamp`.
pub fn recover_signer(
    fields: &Map<String, Value>,
    timestamp: u64,
    signature_hex: &str,
) -> Result<Address, SignatureError> {
    let digits = signature_hex.strip_prefix("0x").unwrap_or(signature_hex);
    let raw = hex::decode(digits)
        .ok()
        .filter(|b| b.len() == 65)
        .ok_or_else(|| SignatureError::Malformed(format!("{} hex digits", digits.len())))?;
    let v = raw[64];
    if v > 1 {
        return Err(SignatureError::BadRecoveryId(v));
    }
    let signature = Signature::from_bytes_and_parity(&raw[..64], v == 1);
    signature
        .recover_address_from_prehash(&signing_hash(fields, timestamp))
        .map_err(|_| SignatureError::Unrecoverable)
}

/// Headers that carry a file transfer's signature and timestamp (its fields are the path's).
pub const TIMESTAMP_HEADER: &str = "x-relay-timestamp";
pub const SIGNATURE_HEADER: &str = "x-relay-signature";

/// The signed fields of a result file transfer: the task, the file's sha256, and for an upload
/// its size in bytes (the request's Content-Length).
pub fn file_fields(commitment: B256, sha256: B256, size: Option<u64>) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert(
        "task_id_commitment".into(),
        Value::from(commitment.to_string()),
    );
    fields.insert("file_sha256".into(), Value::from(sha256.to_string()));
    if let Some(size) = size {
        fields.insert("file_size".into(), Value::from(size));
    }
    fields
}

/// A signed relay request's body: its fields with `timestamp` and `signature` added.
pub fn signed_body(
    signer: &PrivateKeySigner,
    mut fields: Map<String, Value>,
    timestamp: u64,
) -> Result<Map<String, Value>, SignatureError> {
    let signature = sign(signer, &fields, timestamp)?;
    fields.insert("timestamp".into(), Value::from(timestamp));
    fields.insert("signature".into(), Value::from(signature));
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_signer_and_refuses_changed_fields_or_time() {
        let signer = PrivateKeySigner::from_slice(&[9u8; 32]).unwrap();
        let mut fields = Map::new();
        fields.insert("task_id_commitment".into(), Value::from("0x01"));
        let sig = sign(&signer, &fields, 1_700_000_000).unwrap();
        assert_eq!(
            recover_signer(&fields, 1_700_000_000, &sig).unwrap(),
            signer.address()
        );
        assert_ne!(
            recover_signer(&fields, 1_700_000_001, &sig).unwrap(),
            signer.address()
        );
        fields.insert("task_id_commitment".into(), Value::from("0x02"));
        assert_ne!(
            recover_signer(&fields, 1_700_000_000, &sig).unwrap(),
            signer.address()
        );
    }

    #[test]
    fn refuses_malformed_signatures() {
        let fields = Map::new();
        assert!(matches!(
            recover_signer(&fields, 1, "0x1234"),
            Err(SignatureError::Malformed(_))
        ));
        let mut v27 = "11".repeat(64);
        v27.push_str("1b");
        assert_eq!(
            recover_signer(&fields, 1, &v27),
            Err(SignatureError::BadRecoveryId(27))
        );
    }
}
