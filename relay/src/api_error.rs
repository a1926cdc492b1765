//! Errors of the HTTP API, all answered as `{"error": {"code": "...", "message": "..."}}` with a
//! status code that says whose fault it is.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::AuthError;
use crate::chain_view::ChainError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "wrong_role", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
}

/// The error code of a refusal, attached to its response for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::info!(status = self.status.as_u16(), code = self.code, message = %self.message, "request refused");
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        // A body without the signing fields is malformed (400); a signature that does not check
        // out, or is outside its time window, is an authentication failure (401).
        let (status, code) = match e {
            AuthError::Expired { .. } => (StatusCode::UNAUTHORIZED, "expired_timestamp"),
            AuthError::BadSignature(_) => (StatusCode::UNAUTHORIZED, "bad_signature"),
            AuthError::NotAnObject | AuthError::MissingTimestamp | AuthError::MissingSignature => {
                (StatusCode::BAD_REQUEST, "malformed_request")
            }
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            e.to_string(),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyUploaded { .. } => {
                ApiError::conflict("already_uploaded", e.to_string())
            }
            StoreError::FileMismatch { .. } => {
                ApiError::bad_request("file_mismatch", e.to_string())
            }
            StoreError::BodyInterrupted(_) => {
                ApiError::bad_request("malformed_request", e.to_string())
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage",
                    other.to_string(),
                )
            }
        }
    }
}
