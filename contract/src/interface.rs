//! The contract's methods as stylus-sdk `` functions, compiled only for `export-abi`:
//! from them `cargo stylus export-abi` (and `scripts/export-abi.sh`) generates
//! `abi/ITaskContract.sol`. Each method runs the same implementation as `router.rs`, so the
//! export build is a working native contract too; the tests check that the router accepts
//! every method of the generated interface with the same encoding.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::SolValue;
use stylus_sdk::prelude::*;

use crate::abi::{ContractConfig, ContractError, NodeInfo, TaskInfo};
use crate::config::Settings;
use crate::host::Host;
use crate::lifecycle::NewTask;

type Result<T, E = ContractError> = core::result::Result<T, E>;

fn strs(v: &[String]) -> Vec<&[u8]> {
    v.iter().map(|s| s.as_bytes()).collect()
}

/// The storage type stylus-sdk describes; named like the contract so that the interface is
/// `ITaskContract`.
#[storage]
#[entrypoint]
pub struct TaskContract {}

/// The contract's [`Host`] over stylus-sdk's VM.
pub struct SdkHost(stylus_sdk::host::VM);

impl Host for SdkHost {
    fn sender(&self) -> Address {
        self.0.msg_sender()
    }
    fn value(&self) -> U256 {
        self.0.msg_value()
    }
    fn timestamp(&self) -> u64 {
        self.0.block_timestamp()
    }
    fn address(&self) -> Address {
        self.0.contract_address()
    }
    fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
        self.0.storage_load_bytes32(U256::from_be_bytes(*slot)).0
    }
    fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
        // SAFETY: the contract holds no storage references across this write.
        unsafe {
            self.0
                .storage_cache_bytes32(U256::from_be_bytes(*slot), B256::new(*word))
        }
    }
    fn emit_log(&self, topics_then_data: &[u8], topics: usize) {
        self.0.emit_log(topics_then_data, topics)
    }
    fn send_value(&self, to: &Address, value: &U256, gas: Option<u64>) -> bool {
        let mut call = stylus_sdk::call::RawCall::new_with_value(&self.0, *value);
        if let Some(gas) = gas {
            call = call.gas(gas);
        }
        // SAFETY: no storage references are held across the call.
        unsafe { call.call(*to, &[]) }.is_ok()
    }
    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>> {
        // SAFETY: no storage references are held across the call.
        unsafe { stylus_sdk::call::RawCall::new_static(&self.0).call(*to, calldata) }.ok()
    }
    fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        crate::host::native_mul_mod(a, b, m)
    }
    fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        crate::host::native_add_mod(a, b, m)
    }
    fn delegate_call(&self, to: &Address, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        // SAFETY: no storage references are held across the call.
        unsafe {
            stylus_sdk::call::RawCall::new_delegate(&self.0)
                .flush_storage_cache()
                .call(*to, calldata)
        }
    }
}

impl TaskContract {
    /// The contract over this storage's host.
    fn c(&self) -> crate::TaskContract<SdkHost> {
        crate::TaskContract {
            host: SdkHost(self.vm().clone()),
        }
    }
}

#[public]
impl TaskContract {
    // ---------------------------------------------------------------- owner

    /// Runs in the deployment transaction (cargo-stylus's deployer deploys, activates and
    /// constructs in one transaction, so nobody can configure the contract first). `extension`
    /// is the deployed extension program (contract/extension), which runs every method the core
    /// does not; `owner` is explicit: the caller is the deployer contract.
    #[constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn constructor(
        &mut self,
        extension: Address,
        owner: Address,
        relay: Address,
        treasury: Address,
        vrf_verifier: Address,
        min_stake: U256,
        queue_timeout: u64,
        upload_timeout: u64,
        execution_timeout: u64,
        validation_timeout: u64,
        distance_threshold: u8,
        sampling_rate: u32,
        queue_size_limit: u16,
        max_gpu_classes: u32,
    ) -> Result<()> {
        self.c().set_extension_impl(extension)?;
        self.c().construct_impl(
            owner,
            &Settings {
                relay,
                treasury,
                verifier: vrf_verifier,
                min_stake,
                queue_timeout,
                upload_timeout,
                execution_timeout,
                validation_timeout,
                distance_threshold,
                sampling_rate,
                queue_limit: queue_size_limit,
                max_classes: max_gpu_classes,
            },
        )
    }

    /// Owner only: replaces every parameter but the owner. Durations, the sampling rate and the
    /// distance threshold apply to tasks created afterwards.
    #[allow(clippy::too_many_arguments)]
    pub fn set_config(
        &mut self,
        relay: Address,
        treasury: Address,
        vrf_verifier: Address,
        min_stake: U256,
        queue_timeout: u64,
        upload_timeout: u64,
        execution_timeout: u64,
        validation_timeout: u64,
        distance_threshold: u8,
        sampling_rate: u32,
        queue_size_limit: u16,
        max_gpu_classes: u32,
    ) -> Result<()> {
        self.c().set_config_impl(&Settings {
            relay,
            treasury,
            verifier: vrf_verifier,
            min_stake,
            queue_timeout,
            upload_timeout,
            execution_timeout,
            validation_timeout,
            distance_threshold,
            sampling_rate,
            queue_limit: queue_size_limit,
            max_classes: max_gpu_classes,
        })
    }

    pub fn get_config(&self) -> ContractConfig {
        <ContractConfig>::abi_decode(&self.c().config_info())
            .expect("the contract encodes ContractConfig")
    }

    /// Owner only: names the next owner, who takes over with `acceptOwnership` (the zero
    /// address cancels).
    pub fn transfer_ownership(&mut self, new_owner: Address) -> Result<()> {
        self.c().transfer_ownership_impl(new_owner)
    }

    /// The named next owner becomes the owner.
    pub fn accept_ownership(&mut self) -> Result<()> {
        self.c().accept_ownership_impl()
    }

    // ---------------------------------------------------------------- nodes

    /// Stakes `msg.value` and joins with a GPU, a worker version, the node's 64-byte public key
    /// (X||Y, whose address must be the sender) and the models it already holds.
    #[payable]
    pub fn join(
        &mut self,
        gpu_name: String,
        gpu_vram: u64,
        version: [u32; 3],
        public_key: Bytes,
        model_ids: Vec<String>,
    ) -> Result<()> {
        self.c().join_impl(
            gpu_name.as_bytes(),
            gpu_vram,
            version,
            &public_key,
            &strs(&model_ids),
        )
    }

    pub fn pause(&mut self) -> Result<()> {
        self.c().pause_impl()
    }

    pub fn resume(&mut self) -> Result<()> {
        self.c().resume_impl()
    }

    pub fn quit(&mut self) -> Result<()> {
        self.c().quit_impl()
    }

    pub fn report_model_downloaded(&mut self, model_id: String) -> Result<()> {
        self.c().report_model_downloaded_impl(model_id.as_bytes())
    }

    pub fn get_node_info(&self, node: Address) -> NodeInfo {
        <(NodeInfo,)>::abi_decode_params(&self.c().node_info(node))
            .expect("the contract encodes NodeInfo")
            .0
    }

    /// The commitment of the node's current task, zero when it has none.
    pub fn get_node_task(&self, node: Address) -> B256 {
        self.c().node_task(&node)
    }

    pub fn node_count(&self) -> u64 {
        self.c().stats().node_count as u64
    }

    // ---------------------------------------------------------------- tasks

    /// Creates a task paying `msg.value`; it starts at once on a fitting node or is queued.
    /// `paramsCommitment` = keccak256(sha256(parameters) || keccak256("params" || taskGUID ||
    /// nonce)).
    #[payable]
    #[allow(clippy::too_many_arguments)]
    pub fn create_task(
        &mut self,
        task_type: u8,
        task_id_commitment: B256,
        nonce: B256,
        model_ids: Vec<String>,
        minimum_vram: u64,
        required_gpu: String,
        required_gpu_vram: u64,
        task_version: [u32; 3],
        task_size: u64,
        params_commitment: B256,
    ) -> Result<()> {
        self.c().create_task_impl(NewTask {
            task_type,
            commitment: task_id_commitment,
            nonce,
            model_ids: strs(&model_ids),
            minimum_vram,
            required_gpu: required_gpu.as_bytes(),
            required_gpu_vram,
            version: task_version,
            size: task_size,
            params_commitment,
        })
    }

    pub fn report_task_parameters_uploaded(&mut self, task_id_commitment: B256) -> Result<()> {
        self.c().report_parameters_uploaded_impl(task_id_commitment)
    }

    pub fn submit_task_score(&mut self, task_id_commitment: B256, task_score: Bytes) -> Result<()> {
        self.c().submit_score_impl(task_id_commitment, &task_score)
    }

    pub fn report_task_error(&mut self, task_id_commitment: B256, error: u8) -> Result<()> {
        self.c().report_error_impl(task_id_commitment, error)
    }

    pub fn validate_single_task(
        &mut self,
        task_id_commitment: B256,
        vrf_proof: Bytes,
        public_key: Bytes,
    ) -> Result<()> {
        self.c()
            .validate_single_impl(task_id_commitment, &vrf_proof, &public_key)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn validate_task_group(
        &mut self,
        task_id_commitment1: B256,
        task_id_commitment2: B256,
        task_id_commitment3: B256,
        task_guid: B256,
        params_hash: B256,
        vrf_proof: Bytes,
        public_key: Bytes,
    ) -> Result<()> {
        self.c().validate_group_impl(
            [
                task_id_commitment1,
                task_id_commitment2,
                task_id_commitment3,
            ],
            task_guid,
            params_hash,
            &vrf_proof,
            &public_key,
        )
    }

    pub fn report_task_result_uploaded(&mut self, task_id_commitment: B256) -> Result<()> {
        self.c().report_result_uploaded_impl(task_id_commitment)
    }

    pub fn abort_task(&mut self, task_id_commitment: B256, abort_reason: u8) -> Result<()> {
        self.c().abort_task_impl(task_id_commitment, abort_reason)
    }

    pub fn get_task(&self, task_id_commitment: B256) -> Result<TaskInfo> {
        let encoded = self.c().task_info(task_id_commitment)?;
        Ok(<(TaskInfo,)>::abi_decode_params(&encoded)
            .expect("the contract encodes TaskInfo")
            .0)
    }

    pub fn task_count(&self) -> u64 {
        self.c().stats().task_count
    }

    /// Number of queued tasks.
    pub fn queue_size(&self) -> u64 {
        self.c().stats().queued as u64
    }

    /// The contract's own ECVRF check (the one validation runs): `proof` is the 81-byte draft-04
    /// proof, optionally followed by the hints of `protocol::vrf_witness`. Returns beta; reverts
    /// with `InvalidVRFProof` when draft-04's verification rejects the proof.
    #[selector(name = "verifyVRF")]
    pub fn verify_vrf(&self, public_key: Bytes, alpha: Bytes, proof: Bytes) -> Result<B256> {
        let Ok(key) = <[u8; 64]>::try_from(public_key.as_ref()) else {
            return Err(ContractError::InvalidPublicKey(
                crate::abi::InvalidPublicKey {},
            ));
        };
        self.c()
            .vrf_beta(&key, &alpha, &proof)
            .ok_or(ContractError::InvalidVRFProof(
                crate::abi::InvalidVRFProof {},
            ))
    }

    // ---------------------------------------------------------------- payments

    /// Sends the caller the payments that could not be pushed to it.
    pub fn withdraw(&mut self) -> Result<()> {
        self.c().withdraw_impl()
    }

    pub fn credit_of(&self, account: Address) -> U256 {
        self.c().credit(&account)
    }
}

/// The constructor's signature, which cargo-stylus reads (`cargo run --features export-abi --
/// constructor`) to encode `--constructor-args` for its deployer.
pub fn constructor_signature() -> String {
    struct Sig;
    impl core::fmt::Display for Sig {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            <TaskContract as stylus_sdk::abi::GenerateAbi>::fmt_constructor_signature(f)
        }
    }
    Sig.to_string()
}

/// The Solidity interface, as `scripts/export-abi.sh` writes it to `abi/ITaskContract.sol`: the
/// methods and errors generated by stylus-sdk, then the events of `events.sol`.
pub fn solidity_interface() -> String {
    use core::fmt::Write;
    struct Abi;
    impl core::fmt::Display for Abi {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            <TaskContract as stylus_sdk::abi::GenerateAbi>::fmt_abi(f)
        }
    }
    let mut out = String::new();
    out.push_str("// SPDX-License-Identifier: Apache-2.0\n");
    out.push_str(
        "// Generated by scripts/export-abi.sh from contract/src/interface.rs and events.sol.\n",
    );
    let _ = write!(out, "{}", Abi);
    // The events are declared in events.sol (the program emits them by hand); they belong in
    // the same interface, before its closing brace.
    let body = out
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(&out)
        .trim_end()
        .to_string();
    let mut out = body;
    out.push('\n');
    for line in include_str!("events.sol")
        .lines()
        .filter(|l| l.starts_with("event "))
    {
        out.push_str("\n    ");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("}\n");
    out
}
