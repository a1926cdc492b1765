//! The task contract's custom errors in words, for people: every error of the ABI decoded and
//! rendered with its arguments (task states by name, amounts in ETH), instead of a selector or a
//! Rust `Debug` dump.

use alloy::sol_types::SolInterface;
use alloy::transports::{RpcError, TransportErrorKind};

use crate::amount::format_ether;
use crate::bindings::ITaskContractErrors as E;
use crate::task_status::{AbortReason, NodeStatus, TaskStatus};

/// One sentence saying why the contract refused.
pub fn describe(error: &E) -> String {
    match error {
        E::NotOwner(_) => "only the contract's owner may do this".into(),
        E::NotPendingOwner(_) => "only the pending owner may accept ownership".into(),
        E::AlreadyInitialized(_) => "the contract is already constructed".into(),
        E::NotInitialized(_) => {
            "the contract is deployed but not constructed: run its constructor first".into()
        }
        E::InvalidConfig(_) => {
            "the settings are inconsistent (see `taskctl contract config` for the rules)".into()
        }
        E::NotRelay(_) => "only the contract's relay account may report this".into(),
        E::NotTaskCreator(_) => "only the task's creator may do this".into(),
        E::NotSelectedNode(_) => "only the node the task was given to may do this".into(),
        E::NotTaskParticipant(_) => "only the task's creator or its node may do this".into(),
        E::ZeroTaskFee(_) => "the task fee is zero: send the fee as the call's value".into(),
        E::ValueTooLarge(_) => "an amount or duration is larger than the contract stores".into(),
        E::NonceAlreadyUsed(e) => format!("the task nonce {} was used before", e.0),
        E::TaskAlreadyExists(e) => format!("task {} already exists", e.0),
        E::InvalidTaskCommitment(_) => "the task id commitment is zero".into(),
        E::InvalidParamsCommitment(_) => "the parameters commitment is zero".into(),
        E::InvalidTaskType(e) => format!("{} is not a task type (0 text, 1 image)", e.0),
        E::ZeroTaskSize(_) => "the task size is zero".into(),
        E::GPURequired(_) => {
            "text tasks need a required GPU (results compare only on identical GPUs)".into()
        }
        E::TooManyModels(_) => "a task names one model at most".into(),
        E::NoNodeCanRunTask(_) => {
            "no joined node has the GPU, VRAM, version and models this task needs".into()
        }
        E::QueueFull(_) => "the task queue is full: try again later".into(),
        E::TaskNotFound(e) => format!("there is no task {}", e.0),
        E::IllegalTaskState(e) => match TaskStatus::from_u8(e._1) {
            Some(status) if status.is_final() => format!("task {} is already {status}", e._0),
            Some(status) => format!("task {} is {status}, which does not allow this", e._0),
            None => format!("task {} is in unknown state {}", e._0, e._1),
        },
        E::DeadlineNotReached(e) => format!(
            "too early: the deadline is {} (unix time); try again after it",
            e.0
        ),
        E::InvalidScore(_) => "the score is empty or has the wrong length".into(),
        E::InvalidTaskError(e) => format!("{} is not a task error code", e.0),
        E::InvalidAbortReason(e) => match AbortReason::from_u8(e.0) {
            Some(reason) => format!("{reason} is not an abort reason allowed here"),
            None => format!("{} is not an abort reason", e.0),
        },
        E::InvalidPublicKey(_) => {
            "the public key is not 64 bytes or not the sender's own key".into()
        }
        E::InvalidVRFProof(_) => "the VRF proof does not verify".into(),
        E::TaskSelectedForValidation(_) => {
            "the task was sampled: validate it as a group of three".into()
        }
        E::TaskNotSelectedForValidation(_) => "the task was not sampled: validate it alone".into(),
        E::InvalidTaskGroup(_) => "the three tasks do not form a validation group".into(),
        E::InvalidTaskGUID(e) => format!("task {} does not belong to this task GUID", e.0),
        E::TaskGroupMismatch(e) => format!("task {} is not part of this group", e.0),
        E::ParamsMismatch(e) => format!("task {} was committed to other parameters", e.0),
        E::NodeAlreadyJoined(_) => "this node has already joined".into(),
        E::NodeNotJoined(_) => "this node has not joined: run `node-worker join`".into(),
        E::IllegalNodeStatus(e) => match NodeStatus::from_u8(e.0) {
            Some(status) => format!("the node is {status}, which does not allow this"),
            None => format!("the node is in unknown state {}", e.0),
        },
        E::StakeTooLow(e) => format!("the stake is below the minimum {}", format_ether(e.0)),
        E::InvalidGPU(_) => "the GPU name is empty or its VRAM is zero".into(),
        E::TooManyGPUClasses(e) => {
            format!("the network already has its maximum of {} GPU classes", e.0)
        }
        E::NothingToWithdraw(_) => "there is nothing to withdraw".into(),
        E::TransferFailed(_) => "the payment could not be sent".into(),
        E::ChainQueryFailed(_) => "the contract could not read the chain's state".into(),
        E::UnknownSelector(e) => format!(
            "the contract has no function {} (is this the task contract, at the version these \
             tools expect?)",
            e.0
        ),
        E::NotPayable(_) => "this function takes no value".into(),
        E::MalformedCalldata(_) => "the call's arguments are malformed".into(),
    }
}

/// Revert data in words: one of the contract's errors, or the raw bytes when it is none of them.
pub fn describe_revert_data(data: &[u8]) -> String {
    if data.is_empty() {
        return "the call reverted without a reason".into();
    }
    match E::abi_decode(data) {
        Ok(error) => describe(&error),
        Err(_) => format!(
            "the call reverted with 0x{} (not an error of the task contract)",
            hex::encode(data)
        ),
    }
}

/// A contract call's failure in words: the decoded custom error when it reverted with one,
/// otherwise the transport's message.
pub fn describe_call_error(e: &alloy::contract::Error) -> String {
    if let Some(decoded) = e.as_decoded_interface_error::<E>() {
        return describe(&decoded);
    }
    if let Some(data) = e.as_revert_data() {
        return describe_revert_data(&data);
    }
    if let alloy::contract::Error::TransportError(rpc) = e {
        return describe_rpc_error(rpc).1;
    }
    e.to_string()
}

/// An RPC failure in words, and whether the contract refused (a revert) rather than the
/// endpoint failing.
pub fn describe_rpc_error(e: &RpcError<TransportErrorKind>) -> (bool, String) {
    match e.as_error_resp() {
        Some(payload) => match payload.as_revert_data() {
            Some(data) => (true, describe_revert_data(&data)),
            None => (
                payload.message.contains("revert"),
                payload.message.to_string(),
            ),
        },
        None => (false, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::ITaskContract;
    use alloy::primitives::{b256, B256, U256};
    use alloy::sol_types::SolError;

    #[test]
    fn task_states_by_name_and_amounts_in_eth() {
        let task = b256!("31000000000000000000000000000000000000000000000000000000000000aa");
        let data = ITaskContract::IllegalTaskState {
            _0: task,
            _1: TaskStatus::EndAborted.as_u8(),
        }
        .abi_encode();
        assert_eq!(
            describe_revert_data(&data),
            format!("task {task} is already EndAborted")
        );
        let data = ITaskContract::StakeTooLow(U256::from(10u64).pow(U256::from(17))).abi_encode();
        assert_eq!(
            describe_revert_data(&data),
            "the stake is below the minimum 0.1 ETH"
        );
        let data = ITaskContract::IllegalTaskState {
            _0: B256::ZERO,
            _1: TaskStatus::Started.as_u8(),
        }
        .abi_encode();
        assert_eq!(
            describe_revert_data(&data),
            format!("task {} is Started, which does not allow this", B256::ZERO)
        );
    }

    #[test]
    fn unknown_and_empty_revert_data() {
        assert_eq!(
            describe_revert_data(&[]),
            "the call reverted without a reason"
        );
        assert_eq!(
            describe_revert_data(&[0xde, 0xad, 0xbe, 0xef]),
            "the call reverted with 0xdeadbeef (not an error of the task contract)"
        );
    }

    #[test]
    fn every_error_of_the_abi_has_words() {
        // Each selector of the ABI decodes and renders without a Rust Debug dump.
        for selector in E::SELECTORS {
            let mut data = selector.to_vec();
            data.extend([0u8; 64]);
            let text = describe_revert_data(&data);
            assert!(
                !text.contains("0x")
                    || text.contains("task 0x")
                    || text.contains("nonce 0x")
                    || text.contains("function 0x"),
                "{text}"
            );
            assert!(!text.contains('{') && !text.contains("_0"), "{text}");
        }
    }
}
