//! Typed bindings of the task contract, generated from the checked-in interface
//! (`contract/abi/ITaskContract.sol`, written by `scripts/export-abi.sh`): calls, events, custom
//! errors and the `TaskInfo` / `NodeInfo` structs.

// The generated call builders take one argument per ABI parameter.
#[allow(clippy::too_many_arguments)]
mod generated {
    alloy::sol!(
        #[sol(rpc, abi, all_derives)]
        "../contract/abi/ITaskContract.sol"
    );
}

pub use generated::ITaskContract;

pub use ITaskContract::{ITaskContractErrors, ITaskContractEvents, ITaskContractInstance};

alloy::sol! {
    /// The VRF verifier program (`vrf-verifier/`), which the task contract static-calls.
    #[sol(rpc)]
    interface IVrfVerifier {
        function verify(bytes publicKey, bytes alpha, bytes proof) external view returns (bytes32);
    }
}
