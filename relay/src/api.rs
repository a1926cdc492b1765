//! The relay's HTTP API. Every request but `now` and `status` is a signed JSON body (PROTOCOL.md
//! "Relay HTTP API"); the signer's role is checked against the task on chain.

use std::sync::Arc;

use alloy::primitives::{Address, B256};
use alloy::providers::DynProvider;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use protocol::bindings::ITaskContractInstance;
use protocol::relay_signature::MAX_CLOCK_SKEW_SECS;
use protocol::result_score::{score_result, ResultScoreError};
use protocol::sampling::{params_commitment, params_hash};
use protocol::task_status::TaskStatus;
use protocol::TaskParams;
use serde_json::{json, Value};

use crate::api_error::ApiError;
use crate::auth::{Authenticated, SignedRequest};
use crate::chain_view::{read_task, TaskView};
use crate::json_body::JsonBody;
use crate::store::{Store, StoredParams};

/// Largest request body: results of up to 9 images travel base64-encoded.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Largest body of the other requests (parameter documents are at most 256 KiB).
pub const MAX_SMALL_BODY_BYTES: usize = 512 * 1024;

#[derive(Clone)]
pub struct RelayState {
    pub store: Arc<Store>,
    pub contract: ITaskContractInstance<DynProvider>,
    /// Unix seconds; injectable so tests can move time.
    pub clock: Arc<dyn Fn() -> u64 + Send + Sync>,
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
        .route("/v1/now", get(now))
        .route("/v1/tasks/{commitment}/status", get(status))
        .route("/v1/params/upload", post(upload_params).layer(small))
        .route("/v1/params/download", post(download_params).layer(small))
        .route(
            "/v1/result/upload",
            post(upload_result).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route("/v1/result/download", post(download_result).layer(small))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
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
    let files = decode_files(&req.auth)?;
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
        .put_result(
            &req.commitment,
            &req.auth.request_hash,
            &files,
            &score,
            (state.clock)(),
        )
        .await?;
    tracing::info!(task = %req.commitment, files = files.len(), "result uploaded");
    Ok(Json(json!({ "ok": true })))
}

fn decode_files(auth: &Authenticated) -> Result<Vec<Vec<u8>>, ApiError> {
    let Some(Value::Array(items)) = auth.fields.get("files") else {
        return Err(ApiError::bad_request(
            "malformed_request",
            "missing field `files` (an array of base64 strings)",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| {
                    ApiError::bad_request("malformed_request", format!("files[{i}] is not base64"))
                })
        })
        .collect()
}

async fn download_result(
    State(state): State<RelayState>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let req = authenticate(&state, body).await?;
    require_signer(req.auth.signer, req.task.creator, "creator")?;
    // A result is the creator's once the task is paid for: served only after the relay's report
    // has settled the task on chain, never while the creator could still abort it.
    match req.task.status {
        TaskStatus::EndSuccess | TaskStatus::EndGroupSuccess => {}
        TaskStatus::Validated | TaskStatus::GroupValidated => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_ready",
                "the result is served once the task is settled on chain; retry",
            ))
        }
        other => {
            return Err(ApiError::conflict(
                "illegal_task_state",
                format!("the task is {other}: it has no result to serve"),
            ))
        }
    }
    let files = state
        .store
        .result_files(&req.commitment)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_ready",
                "the node has not uploaded the result yet; retry",
            )
        })?;
    let files: Vec<String> = files
        .iter()
        .map(|f| base64::engine::general_purpose::STANDARD.encode(f))
        .collect();
    Ok(Json(json!({ "files": files })))
}
