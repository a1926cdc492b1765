//! The numeric codes the contract uses for task and node status, abort reasons and task errors,
//! as names.

use std::fmt;

/// A task's `status` in `getTask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Queued,
    Started,
    ParametersUploaded,
    ErrorReported,
    ScoreReady,
    Validated,
    GroupValidated,
    EndInvalidated,
    EndSuccess,
    EndAborted,
    EndGroupRefund,
    EndGroupSuccess,
}

const TASK_STATUSES: [TaskStatus; 12] = [
    TaskStatus::Queued,
    TaskStatus::Started,
    TaskStatus::ParametersUploaded,
    TaskStatus::ErrorReported,
    TaskStatus::ScoreReady,
    TaskStatus::Validated,
    TaskStatus::GroupValidated,
    TaskStatus::EndInvalidated,
    TaskStatus::EndSuccess,
    TaskStatus::EndAborted,
    TaskStatus::EndGroupRefund,
    TaskStatus::EndGroupSuccess,
];

impl TaskStatus {
    pub fn from_u8(code: u8) -> Option<TaskStatus> {
        TASK_STATUSES.get(code as usize).copied()
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// End states are final.
    pub fn is_final(self) -> bool {
        self.as_u8() >= TaskStatus::EndInvalidated.as_u8()
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A node's `status` in `getNodeInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeStatus {
    Quit,
    Available,
    Busy,
    PendingPause,
    PendingQuit,
    Paused,
}

impl NodeStatus {
    pub fn from_u8(code: u8) -> Option<NodeStatus> {
        [
            NodeStatus::Quit,
            NodeStatus::Available,
            NodeStatus::Busy,
            NodeStatus::PendingPause,
            NodeStatus::PendingQuit,
            NodeStatus::Paused,
        ]
        .get(code as usize)
        .copied()
    }
}

impl fmt::Display for NodeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `abortReason` of `abortTask` and `TaskEndAborted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbortReason {
    None,
    Timeout,
    ModelDownloadFailed,
    IncorrectResult,
    TaskFeeTooLow,
}

impl AbortReason {
    pub fn from_u8(code: u8) -> Option<AbortReason> {
        [
            AbortReason::None,
            AbortReason::Timeout,
            AbortReason::ModelDownloadFailed,
            AbortReason::IncorrectResult,
            AbortReason::TaskFeeTooLow,
        ]
        .get(code as usize)
        .copied()
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `error` of `reportTaskError`: the only error a node reports is a deterministic parameter
/// validation failure.
pub const TASK_ERROR_PARAMETERS_VALIDATION_FAILED: u8 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_contract() {
        assert_eq!(TaskStatus::from_u8(0), Some(TaskStatus::Queued));
        assert_eq!(TaskStatus::from_u8(6), Some(TaskStatus::GroupValidated));
        assert_eq!(TaskStatus::from_u8(11), Some(TaskStatus::EndGroupSuccess));
        assert_eq!(TaskStatus::from_u8(12), None);
        assert!(TaskStatus::EndInvalidated.is_final());
        assert!(!TaskStatus::GroupValidated.is_final());
        assert_eq!(NodeStatus::from_u8(5), Some(NodeStatus::Paused));
        assert_eq!(AbortReason::from_u8(4), Some(AbortReason::TaskFeeTooLow));
        assert_eq!(AbortReason::TaskFeeTooLow.as_u8(), 4);
    }
}
