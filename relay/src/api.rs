//! The relay's HTTP API. Every request but `now` and `status` is a signed JSON body (PROTOCOL.md
//! "Relay HTTP API"); the signer's role is checked against the task on chain.

use std::sync::Arc;

use alloy::primitives::{Address, B256};
use alloy::providers::DynProvider;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures::StreamExt;
use protocol::bindings::ITaskContractInstance;
use protocol::relay_signature::{
    file_fields, MAX_CLOCK_SKEW_SECS, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use protocol::result_score::{score_result, ResultScoreError};
use protocol::sampling::{params_commitment, params_hash};
use protocol::task_status::TaskStatus;
use protocol::TaskParams;
use serde_json::{json, Map, Value};

use crate::api_error::{ApiError, ErrorCode};
use crate::auth::{Authenticated, SignedRequest};
use crate::chain_view::{read_task, TaskView};
use crate::json_body::JsonBody;
use crate::metrics::Metrics;
use crate::store::{Store, StoredParams};
use alloy::providers::Provider;

/// Largest JSON body (parameter documents are at most 256 KiB; result files travel apart).
pub const MAX_SMALL_BODY_BYTES: usize = 512 * 1024;
/// Default largest result file.
pub const DEFAULT_MAX_RESULT_FILE_BYTES: u64 = 1 << 30;

#[derive(Clone)]
pub struct RelayState {
    pub store: Arc<Store>,
    pub contract: ITaskContractInstance<DynProvider>,
    /// Unix seconds; injectable so tests can move time.
    pub clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// Largest result file accepted.
    pub max_result_file_bytes: u64,
    pub metrics: Arc<Metrics>,
}

pub fn system_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn router(state: RelayState) -> Router {
    let small = DefaultBodyLimit::max(MAX_SMALL_BODY_BYTES);
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/now", get(now))
        .route("/v1/tasks/{commitment}/status", get(status))
        .route("/v1/params/upload", post(upload_params).layer(small))
        .route("/v1/params/download", post(download_params).layer(small))
        .route(
            "/v1/result/{commitment}/files/{sha256}",
            put(upload_result_file)
                .layer(DefaultBodyLimit::disable())
                .get(download_result_file),
        )
        .route("/v1/result/upload", post(upload_result).layer(small))
        .route("/v1/result/download", post(download_result).layer(small))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), count_request))
        .with_state(state)
}

/// Counts every answer by endpoint (the route's pattern, never the raw path) and status, and the
/// chain and storage failures among them.
async fn count_request(
    State(state): State<RelayState>,
    matched: Option<MatchedPath>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let endpoint = matched
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.requests
        .with_label_values(&[endpoint.as_str(), response.status().as_str()])
        .inc();
    m.request_seconds
        .with_label_values(&[endpoint.as_str()])
        .observe(started.elapsed().as_secs_f64());
    match response.extensions().get::<ErrorCode>().map(|c| c.0) {
        Some("chain_unavailable") => m.chain_errors.inc(),
        Some("storage") => m.storage_errors.inc(),
        _ => {}
    }
    response
}

async fn metrics(State(state): State<RelayState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /health`: 200 when the store and the chain answer, 503 otherwise, with what failed.
async fn health(State(state): State<RelayState>) -> Response {
    let limit = std::time::Duration::from_secs(3);
    let store = match tokio::time::timeout(limit, state.store.pending_reports()).await {
        Ok(Ok(pending)) => {
            state.metrics.reports_pending.set(pending.len() as i64);
            Ok(pending.len())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".to_string()),
    };
    let chain =
        match tokio::time::timeout(limit, state.contract.provider().get_block_number()).await {
            Ok(Ok(block)) => Ok(block),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 3 s".to_string()),
        };
    let healthy = store.is_ok() && chain.is_ok();
    let body = json!({
        "status": if healthy { "ok" } else { "unavailable" },
        "store": match &store { Ok(_) => json!("ok"), Err(e) => json!(e) },
        "chain": match &chain { Ok(_) => json!("ok"), Err(e) => json!(e) },
        "block": chain.as_ref().ok(),
        "reports_pending": store.as_ref().ok(),
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not accept {method}", uri.path()),
    )
}

async fn now(State(state): State<RelayState>) -> Json<Value> {
    Json(json!({ "now": (state.clock)() }))
}

fn parse_commitment(text: &str) -> Result<B256, ApiError> {
    text.parse::<B256>().map_err(|_| {
        ApiError::bad_request(
            "malformed_request",
            format!("task_id_commitment: {text:?} is not 32 bytes of 0x hex"),
        )
    })
}

/// A signed request, its task commitment and the task on chain.
struct Request {
    auth: Authenticated,
    commitment: B256,
    task: TaskView,
}

async fn authenticate(state: &RelayState, body: Value) -> Result<Request, ApiError> {
    let auth = SignedRequest::from_body(body)?.authenticate((state.clock)())?;
    with_task(state, auth).await
}

/// A signed request whose fields travel in the path and headers (file transfers): the signature
/// and timestamp in `X-Relay-Signature` / `X-Relay-Timestamp`, over `fields`.
async fn authenticate_headers(
    state: &RelayState,
    headers: &HeaderMap,
    fields: Map<String, Value>,
) -> Result<Request, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::bad_request("malformed_request", format!("missing header {name}"))
            })
    };
    let timestamp = header(TIMESTAMP_HEADER)?.parse::<u64>().map_err(|_| {
        ApiError::bad_request(
            "malformed_request",
            "X-Relay-Timestamp: expected unix seconds",
        )
    })?;
    let signature = header(SIGNATURE_HEADER)?.to_string();
    let auth = SignedRequest {
        fields,
        timestamp,
        signature,
    }
    .authenticate((state.clock)())?;
    with_task(state, auth).await
}

async fn with_task(state: &RelayState, auth: Authenticated) -> Result<Request, ApiError> {
    let commitment = match auth.fields.get("task_id_commitment") {
        Some(Value::String(s)) => parse_commitment(s)?,
        _ => {
            return Err(ApiError::bad_request(
                "malformed_request",
                "missing string field `task_id_commitment`",
            ))
        }
    };
    let task = read_task(&state.contract, commitment)
        .await?
        .ok_or_else(|| task_not_found(commitment))?;
    Ok(Request {
        auth,
        commitment,
        task,
    })
}

fn task_not_found(commitment: B256) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "task_not_found",
        format!("no task {commitment} on chain"),
    )
}

fn require_signer(signer: Address, expected: Address, role: &str) -> Result<(), ApiError> {
    if signer != expected {
        return Err(ApiError::forbidden(format!(
            "signed by {signer}, but only the task's {role} ({expected}) may do this"
        )));
    }
    Ok(())
}

fn require_status(task: &TaskView, allowed: &[TaskStatus], action: &str) -> Result<(), ApiError> {
    if !allowed.contains(&task.status) {
        return Err(ApiError::conflict(
            "illegal_task_state",
            format!("cannot {action} while the task is {}", task.status),
        ));
    }
    Ok(())
}

/// Refuses a signed upload that was already used, before any other check: a replay is a replay,
/// whatever the task's state is now. Requests that fail are not recorded, so a client may retry
/// one after a transient error.
async fn reject_replay(state: &RelayState, auth: &Authenticated) -> Result<(), ApiError> {
    if state
        .store
        .request_used(&auth.request_hash, (state.clock)())
        .await?
    {
        return Err(replayed());
    }
    Ok(())
}

fn replayed() -> ApiError {
    ApiError::conflict(
        "replayed_request",
        "this signed request was already used; sign again with a new timestamp",
    )
}

/// Records a signed upload as used; refuses it when a concurrent copy got there first.
async fn claim(state: &RelayState, auth: &Authenticated) -> Result<(), ApiError> {
    let fresh = state
        .store
        .claim_request(
            &auth.request_hash,
            auth.timestamp + MAX_CLOCK_SKEW_SECS,
            (state.clock)(),
        )
        .await?;
    if !fresh {
        return Err(replayed());
    }
    Ok(())
}

fn string_field<'a>(auth: &'a Authenticated, name: &str) -> Result<&'a str, ApiError> {
    auth.fields
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            ApiError::bad_request(
                "malformed_request",
                format!("missing string field `{name}`"),
            )
        })
}

async fn status(
    State(state): State<RelayState>,
    commitment: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(commitment) =
        commitment.map_err(|e| ApiError::bad_request("malformed_request", e.body_text()))?;
    let commitment = parse_commitment(&commitment)?;
    let task = read_task(&state.contract, commitment)
        .await?
        .ok_or_else(|| task_not_found(commitment))?;
    Ok(Json(json!({
        "task_id_commitment": commitment,
        "on_chain_status": task.status.to_string(),
        "parameters_uploaded": state.store.params(&commitment).await?.is_some(),
        "result_uploaded": state.store.has_result(&commitment).await?,
    })))
}

async fn upload_params(
    State(state): State<RelayState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let req = authenticate(&state, body).await?;
    require_signer(req.auth.signer, req.task.creator, "creator")?;
    reject_replay(&state, &req.auth).await?;
    require_status(&req.task, &[TaskStatus::Started], "upload parameters")?;
    let task_args = string_field(&req.auth, "task_args")?;
    let salt = string_field(&req.auth, "params_salt")?
        .parse::<B256>()
        .map_err(|_| {
            ApiError::bad_request(
                "malformed_request",
                "params_salt: expected 32 bytes of 0x hex",
            )
        })?;
    // The parameters must be the ones the task committed to on chain: the node's work (and a
    // validation group's comparison) is only meaningful for them.
    let committed = params_commitment(&params_hash(task_args.as_bytes()), &salt);
    if committed != req.task.params_commitment {
        return Err(ApiError::bad_request(
            "params_mismatch",
            format!(
                "these parameters and salt commit to {committed}, the task's paramsCommitment \
                 is {}",
                req.task.params_commitment
            ),
        ));
    }
    TaskParams::parse_for_task(req.task.task_type, &req.task.model_ids, task_args)
        .map_err(|e| ApiError::bad_request("invalid_parameters", e.to_string()))?;
    claim(&state, &req.auth).await?;
    state
        .store
        .put_params(
            &req.commitment,
            &StoredParams::new(task_args, salt),
            (state.clock)(),
        )
        .await?;
    tracing::info!(task = %req.commitment, "parameters uploaded");
    Ok(Json(json!({ "ok": true })))
}

async fn download_params(
    State(state): State<RelayState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let req = authenticate(&state, body).await?;
    require_signer(req.auth.signer, req.task.selected_node, "selected node")?;
    let params = state.store.params(&req.commitment).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_ready",
            "the creator has not uploaded the parameters yet; retry",
        )
    })?;
    // With the salt, the node checks the parameters against the commitment on chain itself.
    Ok(Json(
        json!({ "task_args": params.body, "params_salt": params.salt }),
    ))
}

fn parse_sha256(text: &str) -> Result<B256, ApiError> {
    text.parse::<B256>().map_err(|_| {
        ApiError::bad_request(
            "malformed_request",
            format!("{text:?} is not a sha256 (32 bytes of 0x hex)"),
        )
    })
}

/// The commitment and file hash of a file transfer's path.
fn file_path(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(B256, B256), ApiError> {
    let Path((commitment, sha256)) =
        path.map_err(|e| ApiError::bad_request("malformed_request", e.body_text()))?;
    Ok((parse_commitment(&commitment)?, parse_sha256(&sha256)?))
}

/// `PUT /v1/result/{c}/files/{sha256}`: one result file, streamed to storage and kept only if
/// its bytes hash to `sha256` and have the signed `file_size` (the `Content-Length`).
async fn upload_result_file(
    State(state): State<RelayState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let (commitment, sha256) = file_path(path)?;
    let size = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                "a result file needs a Content-Length (the signed file_size)",
            )
        })?;
    let req = authenticate_headers(
        &state,
        &headers,
        file_fields(commitment, sha256, Some(size)),
    )
    .await?;
    require_signer(req.auth.signer, req.task.selected_node, "selected node")?;
    require_status(
        &req.task,
        &[TaskStatus::Validated, TaskStatus::GroupValidated],
        "upload the result",
    )?;
    if size > state.max_result_file_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "a result file may have at most {} bytes, this one has {size}",
                state.max_result_file_bytes
            ),
        ));
    }
    let stream = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other));
    state
        .store
        .put_result_file(&req.commitment, &sha256, size, Box::pin(stream))
        .await?;
    tracing::info!(task = %req.commitment, file = %sha256, size, "result file uploaded");
    Ok(Json(json!({ "ok": true, "sha256": sha256, "size": size })))
}

/// `POST /v1/result/upload`: commits the result made of the uploaded files, in order, once their
/// score matches the task's score on chain.
async fn upload_result(
    State(state): State<RelayState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let req = authenticate(&state, body).await?;
    require_signer(req.auth.signer, req.task.selected_node, "selected node")?;
    reject_replay(&state, &req.auth).await?;
    require_status(
        &req.task,
        &[TaskStatus::Validated, TaskStatus::GroupValidated],
        "upload the result",
    )?;
    let hashes = file_hashes(&req.auth)?;
    let mut files = Vec::with_capacity(hashes.len());
    for sha256 in &hashes {
        let file = state
            .store
            .read_result_file(&req.commitment, sha256)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "file_not_uploaded",
                    format!(
                        "file {sha256} was not uploaded: PUT it to /v1/result/{}/files/{sha256} \
                         first",
                        req.commitment
                    ),
                )
            })?;
        files.push(file);
    }
    let score = score_result(req.task.task_type, &files).map_err(|e| match e {
        ResultScoreError::FileCount(_) => ApiError::bad_request("malformed_request", e.to_string()),
        ResultScoreError::Invalid(message) => ApiError::bad_request("invalid_result", message),
    })?;
    if score != req.task.score.as_ref() {
        return Err(ApiError::bad_request(
            "score_mismatch",
            format!(
                "the uploaded result scores 0x{}, the score on chain is {}",
                hex::encode(&score),
                req.task.score
            ),
        ));
    }
    claim(&state, &req.auth).await?;
    state
        .store
        .commit_result(&req.commitment, &hashes, &score, (state.clock)())
        .await?;
    tracing::info!(task = %req.commitment, files = hashes.len(), "result uploaded");
    Ok(Json(json!({ "ok": true })))
}

fn file_hashes(auth: &Authenticated) -> Result<Vec<B256>, ApiError> {
    let Some(Value::Array(items)) = auth.fields.get("files") else {
        return Err(ApiError::bad_request(
            "malformed_request",
            "missing field `files` (an array of the files' sha256, 0x hex, in order)",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .and_then(|s| s.parse::<B256>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "malformed_request",
                        format!("files[{i}] is not a sha256 (32 bytes of 0x hex)"),
                    )
                })
        })
        .collect()
}

/// A result is the creator's once the task is paid for: served only after the relay's report
/// has settled the task on chain, never while the creator could still abort it.
fn require_settled(task: &TaskView) -> Result<(), ApiError> {
    match task.status {
        TaskStatus::EndSuccess | TaskStatus::EndGroupSuccess => Ok(()),
        TaskStatus::Validated | TaskStatus::GroupValidated => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_ready",
            "the result is served once the task is settled on chain; retry",
        )),
        other => Err(ApiError::conflict(
            "illegal_task_state",
            format!("the task is {other}: it has no result to serve"),
        )),
    }
}

/// `POST /v1/result/download`: the result's files (sha256 and size, in order), each then
/// fetched with `GET /v1/result/{c}/files/{sha256}`.
async fn download_result(
    State(state): State<RelayState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let req = authenticate(&state, body).await?;
    require_signer(req.auth.signer, req.task.creator, "creator")?;
    require_settled(&req.task)?;
    let manifest = state
        .store
        .result_manifest(&req.commitment)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_ready",
                "the node has not uploaded the result yet; retry",
            )
        })?;
    let files: Vec<Value> = manifest
        .iter()
        .map(|(sha256, size)| json!({"sha256": sha256, "size": size}))
        .collect();
    Ok(Json(json!({ "files": files })))
}

/// `GET /v1/result/{c}/files/{sha256}`: one file of a settled result, streamed from storage.
async fn download_result_file(
    State(state): State<RelayState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (commitment, sha256) = file_path(path)?;
    let req = authenticate_headers(&state, &headers, file_fields(commitment, sha256, None)).await?;
    require_signer(req.auth.signer, req.task.creator, "creator")?;
    require_settled(&req.task)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "file_not_found",
            format!("the result of task {commitment} has no file {sha256}"),
        )
    };
    let (size, stream) = state
        .store
        .result_file(&commitment, &sha256)
        .await?
        .ok_or_else(not_found)?;
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_string()),
            (CONTENT_LENGTH, size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
