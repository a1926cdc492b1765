//! What the relay reads from the contract to decide a request: the task's creator, selected node,
//! status, type, models, score and parameters commitment.

use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::Provider;
use protocol::bindings::{ITaskContractErrors, ITaskContractInstance};
use protocol::task_status::TaskStatus;
use protocol::TaskType;

#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    pub creator: Address,
    pub selected_node: Address,
    pub status: TaskStatus,
    pub task_type: TaskType,
    pub model_ids: Vec<String>,
    pub score: Bytes,
    pub params_commitment: B256,
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("chain RPC unavailable: {0}")]
    Rpc(String),
    #[error("contract returned an unknown {what} code {code}")]
    UnknownCode { what: &'static str, code: u8 },
}

/// Reads a task; `None` when the contract has no task with this commitment.
pub async fn read_task<P: Provider>(
    contract: &ITaskContractInstance<P>,
    commitment: B256,
) -> Result<Option<TaskView>, ChainError> {
    let task = match contract.getTask(commitment).call().await {
        Ok(task) => task,
        Err(e) => {
            // getTask reverts with TaskNotFound for an unknown commitment.
            return match e.as_decoded_interface_error::<ITaskContractErrors>() {
                Some(ITaskContractErrors::TaskNotFound(_)) => Ok(None),
                _ => Err(ChainError::Rpc(e.to_string())),
            };
        }
    };
    Ok(Some(TaskView {
        creator: task.creator,
        selected_node: task.selectedNode,
        status: TaskStatus::from_u8(task.status).ok_or(ChainError::UnknownCode {
            what: "task status",
            code: task.status,
        })?,
        task_type: TaskType::from_u8(task.taskType).ok_or(ChainError::UnknownCode {
            what: "task type",
            code: task.taskType,
        })?,
        model_ids: task.modelIDs,
        score: task.score,
        params_commitment: task.paramsCommitment,
    }))
}
