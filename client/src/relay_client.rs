//! The application's side of the relay API: signed uploads and downloads.

use std::time::Duration;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use protocol::relay_signature::{
    file_fields, sign, signed_body, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay unreachable: {0}")]
    Transport(String),
    #[error("relay refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("relay answered something unexpected: {0}")]
    Protocol(String),
    #[error("signing failed: {0}")]
    Signing(String),
}

impl RelayError {
    /// Whether the request may succeed later (not uploaded yet, outage).
    pub fn is_retryable(&self) -> bool {
        match self {
            RelayError::Transport(_) => true,
            RelayError::Refused { status, code, .. } => {
                code == "not_ready" || code == "chain_unavailable" || *status >= 500
            }
            _ => false,
        }
    }
}

#[derive(Clone)]
pub struct RelayClient {
    base_url: String,
    http: reqwest::Client,
    signer: PrivateKeySigner,
}

impl RelayClient {
    pub fn new(base_url: &str, signer: PrivateKeySigner) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("a reqwest client with rustls builds"),
            signer,
        }
    }

    /// The relay's clock, so that signatures fall inside its window even if ours drifts.
    pub async fn now(&self) -> Result<u64, RelayError> {
        let answer = self
            .send(self.http.get(format!("{}/v1/now", self.base_url)))
            .await?;
        answer["now"]
            .as_u64()
            .ok_or_else(|| RelayError::Protocol(format!("no `now` in {answer}")))
    }

    /// Sends a request; the body of a success, or the relay's refusal decoded.
    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, RelayError> {
        let response = request
            .send()
            .await
            .map_err(|e| RelayError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| RelayError::Transport(e.to_string()))?;
        if status >= 400 {
            let text = String::from_utf8_lossy(&body);
            let value: Value = serde_json::from_slice(&body)
                .map_err(|_| RelayError::Protocol(format!("HTTP {status}: {text}")))?;
            return Err(RelayError::Refused {
                status,
                code: value["error"]["code"].as_str().unwrap_or("unknown").into(),
                message: value["error"]["message"].as_str().unwrap_or(&text).into(),
            });
        }
        Ok(body.to_vec())
    }

    /// Sends a request whose answer is JSON.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, RelayError> {
        let body = self.fetch(request).await?;
        serde_json::from_slice(&body).map_err(|_| {
            RelayError::Protocol(format!("not JSON: {}", String::from_utf8_lossy(&body)))
        })
    }

    async fn post_signed(&self, path: &str, fields: Value) -> Result<Value, RelayError> {
        let Value::Object(fields) = fields else {
            return Err(RelayError::Protocol("fields must be an object".into()));
        };
        let body = signed_body(&self.signer, fields, self.now().await?)
            .map_err(|e| RelayError::Signing(e.to_string()))?;
        self.send(
            self.http
                .post(format!("{}{path}", self.base_url))
                .json(&body),
        )
        .await
    }

    /// Uploads a task's parameters with the task's paramsSalt: the relay refuses them unless they
    /// open the task's paramsCommitment on chain.
    pub async fn upload_params(
        &self,
        commitment: B256,
        task_args: &str,
        params_salt: B256,
    ) -> Result<(), RelayError> {
        self.post_signed(
            "/v1/params/upload",
            json!({
                "task_id_commitment": commitment,
                "task_args": task_args,
                "params_salt": params_salt,
            }),
        )
        .await
        .map(|_| ())
    }

    /// A task's parameters and salt, as the selected node downloads them (it checks them against
    /// the task's paramsCommitment before running them).
    pub async fn download_params(&self, commitment: B256) -> Result<(String, B256), RelayError> {
        let answer = self
            .post_signed(
                "/v1/params/download",
                json!({"task_id_commitment": commitment}),
            )
            .await?;
        let args = answer["task_args"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| RelayError::Protocol(format!("no task_args in {answer}")))?;
        let salt = answer["params_salt"]
            .as_str()
            .and_then(|s| s.parse::<B256>().ok())
            .ok_or_else(|| RelayError::Protocol(format!("no params_salt in {answer}")))?;
        Ok((args, salt))
    }

    /// Signature headers of a file transfer.
    async fn file_headers(
        &self,
        commitment: B256,
        sha256: B256,
        size: Option<u64>,
    ) -> Result<[(&'static str, String); 2], RelayError> {
        let timestamp = self.now().await?;
        let signature = sign(
            &self.signer,
            &file_fields(commitment, sha256, size),
            timestamp,
        )
        .map_err(|e| RelayError::Signing(e.to_string()))?;
        Ok([
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, signature),
        ])
    }

    /// Uploads a task's result: each file with its own signed request (covering its sha256 and
    /// size), then the list of files, which the relay checks against the task's score.
    pub async fn upload_result(
        &self,
        commitment: B256,
        files: &[Vec<u8>],
    ) -> Result<(), RelayError> {
        let mut hashes = Vec::with_capacity(files.len());
        for file in files {
            let sha256 = B256::from_slice(&Sha256::digest(file));
            let mut request = self
                .http
                .put(format!(
                    "{}/v1/result/{commitment}/files/{sha256}",
                    self.base_url
                ))
                .body(file.clone());
            for (name, value) in self
                .file_headers(commitment, sha256, Some(file.len() as u64))
                .await?
            {
                request = request.header(name, value);
            }
            self.send(request).await?;
            hashes.push(sha256);
        }
        self.post_signed(
            "/v1/result/upload",
            json!({"task_id_commitment": commitment, "files": hashes}),
        )
        .await
        .map(|_| ())
    }

    /// Downloads a settled task's result files, in order, each checked against its sha256.
    pub async fn download_result(&self, commitment: B256) -> Result<Vec<Vec<u8>>, RelayError> {
        let answer = self
            .post_signed(
                "/v1/result/download",
                json!({"task_id_commitment": commitment}),
            )
            .await?;
        let Some(items) = answer["files"].as_array() else {
            return Err(RelayError::Protocol(format!("no files in {answer}")));
        };
        let mut files = Vec::with_capacity(items.len());
        for item in items {
            let sha256 = item["sha256"]
                .as_str()
                .and_then(|s| s.parse::<B256>().ok())
                .ok_or_else(|| RelayError::Protocol(format!("a file without sha256: {item}")))?;
            let mut request = self.http.get(format!(
                "{}/v1/result/{commitment}/files/{sha256}",
                self.base_url
            ));
            for (name, value) in self.file_headers(commitment, sha256, None).await? {
                request = request.header(name, value);
            }
            let bytes = self.fetch(request).await?;
            if B256::from_slice(&Sha256::digest(&bytes)) != sha256 {
                return Err(RelayError::Protocol(format!(
                    "file {sha256} arrived with other bytes"
                )));
            }
            files.push(bytes);
        }
        Ok(files)
    }
}
