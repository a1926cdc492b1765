// Events of the task contract. This file is the single definition: the contract's Rust code
// reads the signatures from it, and scripts/export-abi.sh copies it into abi/ITaskContract.sol.

// ---- Task lifecycle (PROTOCOL.md "Task states and transitions") ----
event TaskQueued(bytes32 indexed taskIDCommitment);
event TaskStarted(bytes32 indexed taskIDCommitment, address indexed selectedNode);
event TaskParametersUploaded(bytes32 indexed taskIDCommitment, address indexed selectedNode);
event TaskErrorReported(bytes32 indexed taskIDCommitment, address indexed selectedNode, uint8 error);
event TaskScoreReady(bytes32 indexed taskIDCommitment, address indexed selectedNode, bytes taskScore);
event TaskValidated(bytes32 indexed taskIDCommitment);
event TaskEndSuccess(bytes32 indexed taskIDCommitment);
event TaskEndInvalidated(bytes32 indexed taskIDCommitment);
event TaskEndGroupSuccess(bytes32 indexed taskIDCommitment);
event TaskEndGroupRefund(bytes32 indexed taskIDCommitment);
event TaskEndAborted(bytes32 indexed taskIDCommitment, address indexed abortIssuer, uint8 lastStatus, uint8 abortReason);
event DownloadModel(address indexed nodeAddress, string modelID, uint8 taskType);

// ---- Nodes ----
event NodeJoined(address indexed nodeAddress, uint256 stake);
event NodePaused(address indexed nodeAddress);
event NodeResumed(address indexed nodeAddress);
event NodeQuit(address indexed nodeAddress);
event NodeModelAdded(address indexed nodeAddress, string modelID);
event NodeSlashed(address indexed nodeAddress);
event NodeKickedOut(address indexed nodeAddress);

// ---- Payments ----
event PaymentSent(address indexed to, uint256 amount);
event PaymentCredited(address indexed to, uint256 amount);
event CreditWithdrawn(address indexed to, uint256 amount);

// ---- Owner ----
event ConfigChanged();
event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
