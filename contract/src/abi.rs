//! The Solidity-facing types of the contract: events, custom errors and the structs returned by
//! the views. Everything an application or a worker decodes is declared here.

use alloy_sol_types::sol;
#[cfg(feature = "export-abi")]
use stylus_sdk::prelude::*;

sol!("src/events.sol");

sol! {
    // ---- Errors ----
    error NotOwner();
    error NotPendingOwner();
    error AlreadyInitialized();
    error NotInitialized();
    error InvalidConfig();
    error NotRelay();
    error NotTaskCreator();
    error NotSelectedNode();
    error NotTaskParticipant();
    error ZeroTaskFee();
    error ValueTooLarge();
    error NonceAlreadyUsed(bytes32 nonce);
    error TaskAlreadyExists(bytes32 taskIDCommitment);
    error InvalidTaskCommitment();
    error InvalidParamsCommitment();
    error InvalidTaskType(uint8 taskType);
    error ZeroTaskSize();
    error GPURequired();
    error TooManyModels();
    error NoNodeCanRunTask();
    error QueueFull();
    error TaskNotFound(bytes32 taskIDCommitment);
    error IllegalTaskState(bytes32 taskIDCommitment, uint8 status);
    error DeadlineNotReached(uint64 deadline);
    error InvalidScore();
    error InvalidTaskError(uint8 error);
    error InvalidAbortReason(uint8 reason);
    error InvalidPublicKey();
    error InvalidVRFProof();
    error TaskSelectedForValidation();
    error TaskNotSelectedForValidation();
    error InvalidTaskGroup();
    error InvalidTaskGUID(bytes32 taskIDCommitment);
    error TaskGroupMismatch(bytes32 taskIDCommitment);
    error ParamsMismatch(bytes32 taskIDCommitment);
    error NodeAlreadyJoined();
    error NodeNotJoined();
    error IllegalNodeStatus(uint8 status);
    error StakeTooLow(uint256 minimum);
    error InvalidGPU();
    error TooManyGPUClasses(uint32 maximum);
    error NothingToWithdraw();
    error TransferFailed();
    error ChainQueryFailed();
    error UnknownSelector(bytes4 selector);
    error NotPayable();
    error MalformedCalldata();

    /// Everything the contract stores about a task (`getTask`).
    #[cfg_attr(feature = "export-abi", derive(AbiType))]
    struct TaskInfo {
        uint8 taskType;
        address creator;
        bytes32 taskIDCommitment;
        bytes32 samplingSeed;
        bytes32 nonce;
        bytes32 paramsCommitment;
        uint64 sequence;
        uint8 status;
        address selectedNode;
        bytes score;
        uint256 taskFee;
        uint64 taskSize;
        string[] modelIDs;
        uint64 minimumVRAM;
        string requiredGPU;
        uint64 requiredGPUVRAM;
        uint32[3] taskVersion;
        uint8 abortReason;
        uint8 taskError;
        TaskTimes times;
        TaskTerms terms;
        address[] paymentAddresses;
        uint256[] payments;
    }

    /// When a task was created, started and entered its current status; the current status's
    /// deadline (0 once final); seconds from the parameters' upload to the score or error.
    #[cfg_attr(feature = "export-abi", derive(AbiType))]
    struct TaskTimes {
        uint64 createTimestamp;
        uint64 startTimestamp;
        uint64 stateTimestamp;
        uint64 deadline;
        uint64 executionTime;
    }

    /// The terms a task was created under: its state durations and its sampling rate.
    #[cfg_attr(feature = "export-abi", derive(AbiType))]
    struct TaskTerms {
        uint64 queueTimeout;
        uint64 uploadTimeout;
        uint64 executionTimeout;
        uint64 validationTimeout;
        uint32 samplingRate;
    }

    /// The owner-set parameters (`getConfig`).
    #[cfg_attr(feature = "export-abi", derive(AbiType))]
    struct ContractConfig {
        address owner;
        address pendingOwner;
        address relay;
        address treasury;
        address vrfVerifier;
        uint256 minStake;
        uint64 queueTimeout;
        uint64 uploadTimeout;
        uint64 executionTimeout;
        uint64 validationTimeout;
        uint8 distanceThreshold;
        uint32 samplingRate;
        uint16 queueSizeLimit;
        uint32 maxGPUClasses;
    }

    /// A node as the registry sees it (`getNodeInfo`).
    #[cfg_attr(feature = "export-abi", derive(AbiType))]
    struct NodeInfo {
        uint8 status;
        string gpuName;
        uint64 gpuVram;
        uint32[3] version;
        bytes publicKey;
        uint256 stake;
        uint32 qosScore;
        uint8[] recentTaskScores;
        bytes32[] localModelIDHashes;
        bytes32 currentTask;
        uint64 joinedAt;
    }
}

/// Every revert of the contract, each a custom Solidity error. The export-abi build describes
/// them with this enum, from which stylus-sdk writes the interface.
#[cfg(feature = "export-abi")]
#[derive(SolidityError)]
pub enum ContractError {
    NotOwner(NotOwner),
    NotPendingOwner(NotPendingOwner),
    AlreadyInitialized(AlreadyInitialized),
    NotInitialized(NotInitialized),
    InvalidConfig(InvalidConfig),
    NotRelay(NotRelay),
    NotTaskCreator(NotTaskCreator),
    NotSelectedNode(NotSelectedNode),
    NotTaskParticipant(NotTaskParticipant),
    ZeroTaskFee(ZeroTaskFee),
    ValueTooLarge(ValueTooLarge),
    NonceAlreadyUsed(NonceAlreadyUsed),
    TaskAlreadyExists(TaskAlreadyExists),
    InvalidTaskCommitment(InvalidTaskCommitment),
    InvalidParamsCommitment(InvalidParamsCommitment),
    InvalidTaskType(InvalidTaskType),
    ZeroTaskSize(ZeroTaskSize),
    GPURequired(GPURequired),
    TooManyModels(TooManyModels),
    NoNodeCanRunTask(NoNodeCanRunTask),
    QueueFull(QueueFull),
    TaskNotFound(TaskNotFound),
    IllegalTaskState(IllegalTaskState),
    DeadlineNotReached(DeadlineNotReached),
    InvalidScore(InvalidScore),
    InvalidTaskError(InvalidTaskError),
    InvalidAbortReason(InvalidAbortReason),
    InvalidPublicKey(InvalidPublicKey),
    InvalidVRFProof(InvalidVRFProof),
    TaskSelectedForValidation(TaskSelectedForValidation),
    TaskNotSelectedForValidation(TaskNotSelectedForValidation),
    InvalidTaskGroup(InvalidTaskGroup),
    InvalidTaskGUID(InvalidTaskGUID),
    TaskGroupMismatch(TaskGroupMismatch),
    ParamsMismatch(ParamsMismatch),
    NodeAlreadyJoined(NodeAlreadyJoined),
    NodeNotJoined(NodeNotJoined),
    IllegalNodeStatus(IllegalNodeStatus),
    StakeTooLow(StakeTooLow),
    InvalidGPU(InvalidGPU),
    TooManyGPUClasses(TooManyGPUClasses),
    NothingToWithdraw(NothingToWithdraw),
    TransferFailed(TransferFailed),
    ChainQueryFailed(ChainQueryFailed),
    UnknownSelector(UnknownSelector),
    NotPayable(NotPayable),
    MalformedCalldata(MalformedCalldata),
}

/// A revert of the program: the ABI encoding of one of the custom errors above (selector and
/// static arguments), built directly by `fail!` — a fraction of the size of a derived encoder.
#[cfg(not(feature = "export-abi"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError(pub alloc::vec::Vec<u8>);

#[cfg(not(feature = "export-abi"))]
impl ContractError {
    #[inline(never)]
    pub fn new(selector: [u8; 4], args: &[[u8; 32]]) -> ContractError {
        let mut data = alloc::vec::Vec::with_capacity(4 + 32 * args.len());
        data.extend_from_slice(&selector);
        for word in args {
            data.extend_from_slice(word);
        }
        ContractError(data)
    }
}

#[cfg(not(feature = "export-abi"))]
impl From<ContractError> for alloc::vec::Vec<u8> {
    fn from(e: ContractError) -> alloc::vec::Vec<u8> {
        e.0
    }
}

/// The ABI word of an error argument.
pub trait ErrorArg {
    fn word(&self) -> [u8; 32];
}

impl ErrorArg for alloy_primitives::B256 {
    fn word(&self) -> [u8; 32] {
        self.0
    }
}

impl ErrorArg for alloy_primitives::U256 {
    fn word(&self) -> [u8; 32] {
        self.to_be_bytes()
    }
}

impl ErrorArg for alloy_primitives::FixedBytes<4> {
    fn word(&self) -> [u8; 32] {
        let mut w = [0u8; 32];
        w[..4].copy_from_slice(self.as_slice());
        w
    }
}

macro_rules! uint_error_arg {
    ($($t:ty),*) => {$(
        impl ErrorArg for $t {
            fn word(&self) -> [u8; 32] {
                crate::events::uint_word(*self as u128)
            }
        }
    )*};
}
uint_error_arg!(u8, u32, u64);

pub type Result<T, E = ContractError> = core::result::Result<T, E>;

/// `Err` of a custom error: `fail!(Name)` or `fail!(Name { field: value, .. })`, fields in the
/// error's declaration order (the export-abi build checks the names, the ABI tests the order).
#[cfg(feature = "export-abi")]
macro_rules! fail {
    ($name:ident) => {
        Err($crate::abi::ContractError::$name($crate::abi::$name {}))
    };
    ($name:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        Err($crate::abi::ContractError::$name($crate::abi::$name { $($field $(: $value)?),* }))
    };
}

#[cfg(not(feature = "export-abi"))]
macro_rules! fail {
    ($name:ident) => {
        Err($crate::abi::ContractError::new(
            <$crate::abi::$name as alloy_sol_types::SolError>::SELECTOR,
            &[],
        ))
    };
    ($name:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        Err($crate::abi::ContractError::new(
            <$crate::abi::$name as alloy_sol_types::SolError>::SELECTOR,
            &[$($crate::abi::ErrorArg::word(&$crate::abi::fail!(@value $field $(: $value)?))),*],
        ))
    };
    (@value $field:ident : $value:expr) => { $value };
    (@value $field:ident) => { $field };
}
pub(crate) use fail;
