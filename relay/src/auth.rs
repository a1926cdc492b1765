//! Authentication of relay requests (PROTOCOL.md "Relay HTTP API"): the body carries the request's
//! fields plus `timestamp` and `signature`; the signer is recovered from the signature over the
//! other fields, and the timestamp must be within 60 s of the relay's clock.

use alloy::primitives::{Address, B256};
use protocol::relay_signature::{
    recover_signer, signing_hash, SignatureError, MAX_CLOCK_SKEW_SECS,
};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("request body must be a JSON object")]
    NotAnObject,
    #[error("missing or non-integer field `timestamp` (unix seconds)")]
    MissingTimestamp,
    #[error("missing or non-string field `signature`")]
    MissingSignature,
    #[error(
        "timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} s from the relay's clock ({now})"
    )]
    Expired { timestamp: u64, now: u64 },
    #[error("invalid signature: {0}")]
    BadSignature(#[from] SignatureError),
}

/// A request's signed fields, as received.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedRequest {
    pub fields: Map<String, Value>,
    pub timestamp: u64,
    pub signature: String,
}

/// A request whose signer is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated {
    pub signer: Address,
    pub fields: Map<String, Value>,
    /// The signed hash: identifies this exact request for replay protection.
    pub request_hash: B256,
    pub timestamp: u64,
}

impl SignedRequest {
    /// Splits a JSON body into its fields and its `timestamp` and `signature`.
    pub fn from_body(body: Value) -> Result<Self, AuthError> {
        let Value::Object(mut fields) = body else {
            return Err(AuthError::NotAnObject);
        };
        let timestamp = fields
            .remove("timestamp")
            .and_then(|t| t.as_u64())
            .ok_or(AuthError::MissingTimestamp)?;
        let signature = match fields.remove("signature") {
            Some(Value::String(s)) => s,
            _ => return Err(AuthError::MissingSignature),
        };
        Ok(Self {
            fields,
            timestamp,
            signature,
        })
    }

    /// Checks the time window and recovers the signer.
    pub fn authenticate(self, now: u64) -> Result<Authenticated, AuthError> {
        if self.timestamp.abs_diff(now) > MAX_CLOCK_SKEW_SECS {
            return Err(AuthError::Expired {
                timestamp: self.timestamp,
                now,
            });
        }
        let signer = recover_signer(&self.fields, self.timestamp, &self.signature)?;
        Ok(Authenticated {
            signer,
            request_hash: signing_hash(&self.fields, self.timestamp),
            fields: self.fields,
            timestamp: self.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;
    use protocol::relay_signature::signed_body;

    fn body(signer: &PrivateKeySigner, timestamp: u64) -> Value {
        let mut fields = Map::new();
        fields.insert("task_id_commitment".into(), Value::from("0xab"));
        Value::Object(signed_body(signer, fields, timestamp).unwrap())
    }

    #[test]
    fn recovers_the_signer_inside_the_window() {
        let signer = PrivateKeySigner::from_slice(&[5u8; 32]).unwrap();
        for now in [1_000, 1_060, 940] {
            let auth = SignedRequest::from_body(body(&signer, 1_000))
                .unwrap()
                .authenticate(now)
                .unwrap();
            assert_eq!(auth.signer, signer.address());
            assert_eq!(auth.fields["task_id_commitment"], "0xab");
            assert!(!auth.fields.contains_key("signature"));
        }
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let signer = PrivateKeySigner::from_slice(&[5u8; 32]).unwrap();
        for now in [1_061, 939] {
            let err = SignedRequest::from_body(body(&signer, 1_000))
                .unwrap()
                .authenticate(now)
                .unwrap_err();
            assert!(matches!(err, AuthError::Expired { .. }), "{err}");
        }
    }

    #[test]
    fn a_changed_field_changes_the_signer() {
        let signer = PrivateKeySigner::from_slice(&[5u8; 32]).unwrap();
        let mut b = body(&signer, 1_000);
        b["task_id_commitment"] = "0xac".into();
        let auth = SignedRequest::from_body(b)
            .unwrap()
            .authenticate(1_000)
            .unwrap();
        assert_ne!(auth.signer, signer.address());
    }

    #[test]
    fn refuses_bodies_without_timestamp_or_signature() {
        assert_eq!(
            SignedRequest::from_body(serde_json::json!([1])).unwrap_err(),
            AuthError::NotAnObject
        );
        assert_eq!(
            SignedRequest::from_body(serde_json::json!({"signature": "0x"})).unwrap_err(),
            AuthError::MissingTimestamp
        );
        assert_eq!(
            SignedRequest::from_body(serde_json::json!({"timestamp": "1", "signature": "0x"}))
                .unwrap_err(),
            AuthError::MissingTimestamp
        );
        assert_eq!(
            SignedRequest::from_body(serde_json::json!({"timestamp": 1})).unwrap_err(),
            AuthError::MissingSignature
        );
        let err =
            SignedRequest::from_body(serde_json::json!({"timestamp": 1, "signature": "0x12"}))
                .unwrap()
                .authenticate(1)
                .unwrap_err();
        assert!(matches!(err, AuthError::BadSignature(_)));
    }
}
