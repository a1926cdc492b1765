//! The task contract's owner-set parameters as deployment tools write them: the constructor's
//! calldata (run by cargo-stylus's StylusDeployer in the deployment transaction), `setConfig`,
//! and the defaults a deployment starts from.

use alloy::primitives::{keccak256, Address, U256};
use alloy::sol_types::SolValue;

use crate::bindings::ITaskContract;

alloy::sol! {
    /// The constructor's arguments, in the order of its signature (all static: encoded inline).
    struct ConstructorArgs {
        address extension;
        address owner;
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
}

/// Seconds a queued task waits before anyone may abort it.
pub const DEFAULT_QUEUE_TIMEOUT: u64 = 3_600;
/// Seconds the creator has to upload parameters, and a node to upload its result.
pub const DEFAULT_UPLOAD_TIMEOUT: u64 = 300;
/// Seconds a node has to run a task once its parameters are uploaded.
pub const DEFAULT_EXECUTION_TIMEOUT: u64 = 600;
/// Seconds the creator has to validate a scored task: at least 2 x (execution + upload), the time
/// the two further tasks of a validation group need.
pub const DEFAULT_VALIDATION_TIMEOUT: u64 = 3_600;
pub const DEFAULT_DISTANCE_THRESHOLD: u8 = 24;
pub const DEFAULT_SAMPLING_RATE: u32 = 10;
pub const DEFAULT_QUEUE_SIZE_LIMIT: u16 = 64;
pub const DEFAULT_MAX_GPU_CLASSES: u32 = 32;

/// stylus-sdk's constructor selector: keccak256("stylus_constructor()")[..4], whatever the
/// arguments.
pub fn constructor_selector() -> [u8; 4] {
    let h = keccak256("stylus_constructor()");
    [h[0], h[1], h[2], h[3]]
}

/// Everything `setConfig` sets (the constructor takes the extension and the owner first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSettings {
    pub relay: Address,
    pub treasury: Address,
    pub vrf_verifier: Address,
    pub min_stake: U256,
    pub queue_timeout: u64,
    pub upload_timeout: u64,
    pub execution_timeout: u64,
    pub validation_timeout: u64,
    pub distance_threshold: u8,
    pub sampling_rate: u32,
    pub queue_size_limit: u16,
    pub max_gpu_classes: u32,
}

impl ContractSettings {
    /// The defaults above with these accounts and stake.
    pub fn with_defaults(
        relay: Address,
        treasury: Address,
        vrf_verifier: Address,
        min_stake: U256,
    ) -> ContractSettings {
        ContractSettings {
            relay,
            treasury,
            vrf_verifier,
            min_stake,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            upload_timeout: DEFAULT_UPLOAD_TIMEOUT,
            execution_timeout: DEFAULT_EXECUTION_TIMEOUT,
            validation_timeout: DEFAULT_VALIDATION_TIMEOUT,
            distance_threshold: DEFAULT_DISTANCE_THRESHOLD,
            sampling_rate: DEFAULT_SAMPLING_RATE,
            queue_size_limit: DEFAULT_QUEUE_SIZE_LIMIT,
            max_gpu_classes: DEFAULT_MAX_GPU_CLASSES,
        }
    }

    /// What `getConfig` reports, as settings.
    pub fn from_config(c: &ITaskContract::ContractConfig) -> ContractSettings {
        ContractSettings {
            relay: c.relay,
            treasury: c.treasury,
            vrf_verifier: c.vrfVerifier,
            min_stake: c.minStake,
            queue_timeout: c.queueTimeout,
            upload_timeout: c.uploadTimeout,
            execution_timeout: c.executionTimeout,
            validation_timeout: c.validationTimeout,
            distance_threshold: c.distanceThreshold,
            sampling_rate: c.samplingRate,
            queue_size_limit: c.queueSizeLimit,
            max_gpu_classes: c.maxGPUClasses,
        }
    }

    /// The constructor's arguments, ABI-encoded (without the selector), in the order of its
    /// signature: `constructor(address extension, address owner, ...settings)`.
    pub fn constructor_args(&self, extension: Address, owner: Address) -> Vec<u8> {
        ConstructorArgs {
            extension,
            owner,
            relay: self.relay,
            treasury: self.treasury,
            vrfVerifier: self.vrf_verifier,
            minStake: self.min_stake,
            queueTimeout: self.queue_timeout,
            uploadTimeout: self.upload_timeout,
            executionTimeout: self.execution_timeout,
            validationTimeout: self.validation_timeout,
            distanceThreshold: self.distance_threshold,
            samplingRate: self.sampling_rate,
            queueSizeLimit: self.queue_size_limit,
            maxGPUClasses: self.max_gpu_classes,
        }
        .abi_encode()
    }

    /// The calldata of the constructor call (what the deployer sends the new contract).
    pub fn constructor_calldata(&self, extension: Address, owner: Address) -> Vec<u8> {
        let mut data = constructor_selector().to_vec();
        data.extend(self.constructor_args(extension, owner));
        data
    }

    /// The same settings as arguments of `setConfig`.
    pub fn set_config_call(&self) -> ITaskContract::setConfigCall {
        ITaskContract::setConfigCall {
            relay: self.relay,
            treasury: self.treasury,
            vrf_verifier: self.vrf_verifier,
            min_stake: self.min_stake,
            queue_timeout: self.queue_timeout,
            upload_timeout: self.upload_timeout,
            execution_timeout: self.execution_timeout,
            validation_timeout: self.validation_timeout,
            distance_threshold: self.distance_threshold,
            sampling_rate: self.sampling_rate,
            queue_size_limit: self.queue_size_limit,
            max_gpu_classes: self.max_gpu_classes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolCall;

    #[test]
    fn constructor_calldata_is_the_sdk_selector_then_the_arguments() {
        assert_eq!(
            constructor_selector(),
            keccak256("stylus_constructor()")[..4]
        );
        let s = ContractSettings::with_defaults(
            Address::repeat_byte(1),
            Address::repeat_byte(2),
            Address::repeat_byte(3),
            U256::from(7),
        );
        let data = s.constructor_calldata(Address::repeat_byte(4), Address::repeat_byte(5));
        assert_eq!(data.len(), 4 + 14 * 32);
        // setConfig's arguments are the constructor's after the extension and the owner.
        let set = s.set_config_call().abi_encode();
        assert_eq!(&set[4..], &data[4 + 64..]);
    }
}
