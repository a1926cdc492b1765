//! A network of actors on a chain: owner, relay, treasury, an application and GPU nodes, with the
//! protocol's calls as methods. Generic over the chain, so that the same scenarios run on the
//! native harness and on the devnet.

use crate::ITaskContract::{self, ITaskContractErrors as E};
use crate::{Chain, Key, ProtocolChain, Revert};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::SolCall;
use protocol::contract_settings::ContractSettings;
use protocol::sampling::{params_commitment, params_salt};

pub const ETH: u128 = 1_000_000_000_000_000_000;
pub const MIN_STAKE: u128 = ETH;
pub const QUEUE_TIMEOUT: u64 = 3_600;
pub const UPLOAD_TIMEOUT: u64 = 300;
pub const EXECUTION_TIMEOUT: u64 = 600;
/// 2 x (execution + upload): the least the contract accepts.
pub const VALIDATION_TIMEOUT: u64 = 1_800;
/// Longer than every deadline: after it any task that is not final may be aborted.
pub const PAST_EVERY_DEADLINE: u64 = QUEUE_TIMEOUT + 1;
pub const SAMPLING_RATE: u32 = 10;
pub const QUEUE_LIMIT: u16 = 4;
pub const MAX_GPU_CLASSES: u32 = 8;
/// The paramsHash of the net's tasks (sha256 of their parameters, which the chain never sees).
pub const PARAMS_HASH: B256 = B256::repeat_byte(0x5A);

pub use task_contract::{node_status, status};

pub fn wei(v: u128) -> U256 {
    U256::from(v)
}

/// A task as the application knows it.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    pub commitment: B256,
    pub guid: B256,
    pub nonce: B256,
}

impl Task {
    /// The task's paramsCommitment to parameters hashing to `params_hash`.
    pub fn params_commitment(&self, params_hash: &B256) -> B256 {
        params_commitment(params_hash, &params_salt(&self.guid, &self.nonce))
    }
}

pub struct Net<C: ProtocolChain = Chain> {
    pub chain: C,
    pub owner: Key,
    pub relay: Key,
    pub treasury: Address,
    pub app: Key,
    pub nodes: Vec<Key>,
    next_nonce: u64,
}

/// The contract error of a revert.
pub fn err<T>(r: Result<T, Revert>) -> E {
    match r {
        Ok(_) => panic!("the call should revert"),
        Err(revert) => revert
            .error()
            .unwrap_or_else(|| panic!("not a contract error: {:?}", revert.data)),
    }
}

/// The keys the network sends transactions with: owner, relay, application, then six nodes. A
/// chain that checks signatures signs with these.
pub fn sender_keys() -> [Key; 9] {
    let seeds = [1, 2, 4, 100, 101, 102, 103, 104, 105];
    seeds.map(Key::from_seed)
}

impl Net<Chain> {
    /// The network on a fresh harness chain.
    pub fn new() -> Net {
        Net::on(Chain::new())
    }
}

impl Default for Net<Chain> {
    fn default() -> Self {
        Net::new()
    }
}

impl<C: ProtocolChain> Net<C> {
    /// The network on `chain`: accounts funded, the contract constructed with the owner's
    /// settings.
    pub fn on(chain: C) -> Net<C> {
        Net::with_settings(chain, |_| {})
    }

    /// The network on `chain` with the net's settings changed by `change`.
    pub fn with_settings(chain: C, change: impl FnOnce(&mut ContractSettings)) -> Net<C> {
        let net = Net::unconstructed(chain);
        let mut settings = net.settings();
        change(&mut settings);
        net.chain
            .construct(net.owner.address, &net.constructor_calldata(&settings))
            .expect("constructor");
        net
    }

    /// The network with the accounts funded and the contract not constructed yet.
    pub fn unconstructed(chain: C) -> Net<C> {
        let [owner, relay, app, nodes @ ..] = sender_keys();
        let treasury = Key::from_seed(3).address;
        for k in [&owner, &relay, &app].into_iter().chain(nodes.iter()) {
            chain.set_balance(k.address, wei(1_000 * ETH));
        }
        Net {
            chain,
            owner,
            relay,
            treasury,
            app,
            nodes: nodes.to_vec(),
            next_nonce: 1,
        }
    }

    /// The settings the net is constructed with.
    pub fn settings(&self) -> ContractSettings {
        ContractSettings {
            relay: self.relay.address,
            treasury: self.treasury,
            vrf_verifier: self.chain.verifier(),
            min_stake: wei(MIN_STAKE),
            queue_timeout: QUEUE_TIMEOUT,
            upload_timeout: UPLOAD_TIMEOUT,
            execution_timeout: EXECUTION_TIMEOUT,
            validation_timeout: VALIDATION_TIMEOUT,
            distance_threshold: 24,
            sampling_rate: SAMPLING_RATE,
            queue_size_limit: QUEUE_LIMIT,
            max_gpu_classes: MAX_GPU_CLASSES,
        }
    }

    /// The constructor's calldata for `settings`, with the chain's extension and the net's owner.
    pub fn constructor_calldata(&self, settings: &ContractSettings) -> Vec<u8> {
        settings.constructor_calldata(self.chain.extension(), self.owner.address)
    }

    /// `setConfig(settings)` sent by `from`.
    pub fn set_config(&self, from: Address, settings: &ContractSettings) -> Result<(), Revert> {
        use alloy_sol_types::SolCall as _;
        let call = settings.set_config_call();
        self.chain
            .send_raw(from, U256::ZERO, &call.abi_encode())
            .map(|_| ())
    }

    pub fn config(&self) -> ITaskContract::ContractConfig {
        self.chain
            .view(ITaskContract::getConfigCall {})
            .expect("getConfig")
    }

    pub fn join_with(
        &self,
        node: &Key,
        gpu: &str,
        vram: u64,
        version: [u32; 3],
        models: &[&str],
    ) -> Result<(), Revert> {
        self.chain
            .send(
                node.address,
                wei(MIN_STAKE),
                ITaskContract::joinCall {
                    gpu_name: gpu.into(),
                    gpu_vram: vram,
                    version,
                    public_key: Bytes::copy_from_slice(&node.public_key),
                    model_ids: models.iter().map(|m| m.to_string()).collect(),
                },
            )
            .map(|_| ())
    }

    /// Node `i` joins with an RTX 4090, 24 GB, version 1.0.0 and model "sd15".
    pub fn join(&self, i: usize) {
        self.join_with(&self.nodes[i], "RTX 4090", 24, [1, 0, 0], &["sd15"])
            .expect("join");
    }

    pub fn new_task(&mut self, guid: B256) -> Task {
        let nonce = keccak256(self.next_nonce.to_be_bytes());
        self.next_nonce += 1;
        let commitment = keccak256([guid.as_slice(), nonce.as_slice()].concat());
        Task {
            commitment,
            guid,
            nonce,
        }
    }

    pub fn create_call(
        &self,
        t: &Task,
        task_type: u8,
        gpu: &str,
        size: u64,
    ) -> ITaskContract::createTaskCall {
        ITaskContract::createTaskCall {
            task_type,
            task_id_commitment: t.commitment,
            nonce: t.nonce,
            model_ids: vec!["sd15".into()],
            minimum_vram: 8,
            required_gpu: gpu.into(),
            required_gpu_vram: if gpu.is_empty() { 0 } else { 24 },
            task_version: [1, 0, 0],
            task_size: size,
            params_commitment: t.params_commitment(&PARAMS_HASH),
        }
    }

    /// Creates an SD task paying `fee`.
    pub fn create(&mut self, fee: u128) -> Task {
        let t = self.new_task(keccak256(self.next_nonce.to_be_bytes()));
        self.create_task(&t, fee).expect("createTask");
        t
    }

    pub fn create_task(&self, t: &Task, fee: u128) -> Result<(), Revert> {
        self.chain
            .send(self.app.address, wei(fee), self.create_call(t, 0, "", 1))
            .map(|_| ())
    }

    pub fn task(&self, c: B256) -> ITaskContract::TaskInfo {
        self.chain
            .view(ITaskContract::getTaskCall {
                task_id_commitment: c,
            })
            .expect("getTask")
    }

    pub fn status(&self, c: B256) -> u8 {
        self.task(c).status
    }

    pub fn node_info(&self, node: Address) -> ITaskContract::NodeInfo {
        self.chain
            .view(ITaskContract::getNodeInfoCall { node })
            .expect("getNodeInfo")
    }

    pub fn key_of(&self, node: Address) -> &Key {
        self.nodes
            .iter()
            .find(|k| k.address == node)
            .expect("a node of the net")
    }

    pub fn selected(&self, c: B256) -> Address {
        self.task(c).selectedNode
    }

    /// `from` sends `call` without value; only whether it reverted matters.
    pub fn call_as<S: SolCall>(&self, from: Address, call: S) -> Result<(), Revert> {
        self.chain.send(from, U256::ZERO, call).map(|_| ())
    }

    pub fn upload_params(&self, c: B256) -> Result<(), Revert> {
        self.chain
            .send(
                self.relay.address,
                U256::ZERO,
                ITaskContract::reportTaskParametersUploadedCall {
                    task_id_commitment: c,
                },
            )
            .map(|_| ())
    }

    pub fn submit(&self, c: B256, score: &[u8]) -> Result<(), Revert> {
        let node = self.selected(c);
        self.chain
            .send(
                node,
                U256::ZERO,
                ITaskContract::submitTaskScoreCall {
                    task_id_commitment: c,
                    task_score: Bytes::copy_from_slice(score),
                },
            )
            .map(|_| ())
    }

    pub fn report_error(&self, c: B256) -> Result<(), Revert> {
        let node = self.selected(c);
        self.chain
            .send(
                node,
                U256::ZERO,
                ITaskContract::reportTaskErrorCall {
                    task_id_commitment: c,
                    error: 1,
                },
            )
            .map(|_| ())
    }

    /// Whether the application's VRF samples the task for group validation.
    pub fn sampled(&self, c: B256) -> bool {
        let t = self.task(c);
        self.app
            .samples(t.samplingSeed.as_slice(), t.terms.samplingRate)
    }

    pub fn validate_single(&self, c: B256) -> Result<(), Revert> {
        let proof = self
            .app
            .prove_with_hints(self.task(c).samplingSeed.as_slice());
        self.chain
            .send(
                self.app.address,
                U256::ZERO,
                ITaskContract::validateSingleTaskCall {
                    task_id_commitment: c,
                    vrf_proof: proof.into(),
                    public_key: Bytes::copy_from_slice(&self.app.public_key),
                },
            )
            .map(|_| ())
    }

    pub fn validate_group(&self, ts: [&Task; 3]) -> Result<(), Revert> {
        self.call_as(self.app.address, self.group_call(ts, ts[0]))
    }

    /// validateTaskGroup of `ts` in that order, with the application's proof on `sampled`'s seed.
    pub fn group_call(
        &self,
        ts: [&Task; 3],
        sampled: &Task,
    ) -> ITaskContract::validateTaskGroupCall {
        self.group_call_with(ts, sampled, PARAMS_HASH)
    }

    /// validateTaskGroup claiming the tasks ran parameters hashing to `params_hash`.
    pub fn group_call_with(
        &self,
        ts: [&Task; 3],
        sampled: &Task,
        params_hash: B256,
    ) -> ITaskContract::validateTaskGroupCall {
        let proof = self
            .app
            .prove_with_hints(self.task(sampled.commitment).samplingSeed.as_slice());
        ITaskContract::validateTaskGroupCall {
            task_id_commitment1: ts[0].commitment,
            task_id_commitment2: ts[1].commitment,
            task_id_commitment3: ts[2].commitment,
            task_guid: ts[0].guid,
            params_hash,
            vrf_proof: proof.into(),
            public_key: Bytes::copy_from_slice(&self.app.public_key),
        }
    }

    pub fn abort(&self, from: Address, c: B256, reason: u8) -> Result<(), Revert> {
        self.chain
            .send(
                from,
                U256::ZERO,
                ITaskContract::abortTaskCall {
                    task_id_commitment: c,
                    abort_reason: reason,
                },
            )
            .map(|_| ())
    }

    pub fn upload_result(&self, c: B256) -> Result<(), Revert> {
        self.chain
            .send(
                self.relay.address,
                U256::ZERO,
                ITaskContract::reportTaskResultUploadedCall {
                    task_id_commitment: c,
                },
            )
            .map(|_| ())
    }

    /// Creates SD tasks until one is (or is not) sampled for group validation.
    pub fn create_sampled(&mut self, want: bool, fee: u128) -> Task {
        for _ in 0..200 {
            let t = self.create(fee);
            if self.sampled(t.commitment) == want {
                return t;
            }
            // Leave the unwanted task to time out: abort it as its creator once allowed.
            self.chain.advance(PAST_EVERY_DEADLINE);
            self.abort(self.app.address, t.commitment, 1)
                .expect("abort after timeout");
        }
        panic!("no task with sampling = {want} in 200 tries");
    }

    /// Node 0 joins and runs an unsampled SD task paying `fee` up to `Validated`: parameters,
    /// score and validation alone. The task and the node.
    pub fn validated_single_task(&mut self, fee: u128) -> (Task, Address) {
        self.join(0);
        let t = self.create_sampled(false, fee);
        self.upload_params(t.commitment).unwrap();
        self.submit(t.commitment, &[1u8; 8]).unwrap();
        self.validate_single(t.commitment).unwrap();
        (t, self.nodes[0].address)
    }

    /// Three SD tasks of one group paying `fee` each, the first sampled, each started on a node.
    /// Unsampled first tasks are left to time out and aborted by the application.
    pub fn create_group(&mut self, fee: u128) -> [Task; 3] {
        for attempt in 0..200u64 {
            let guid = keccak256(attempt.to_be_bytes());
            let t1 = self.new_task(guid);
            self.create_task(&t1, fee).expect("createTask");
            if !self.sampled(t1.commitment) {
                self.chain.advance(PAST_EVERY_DEADLINE);
                self.abort(self.app.address, t1.commitment, 1)
                    .expect("abort after timeout");
                continue;
            }
            let t2 = self.new_task(guid);
            self.create_task(&t2, fee).expect("createTask");
            let t3 = self.new_task(guid);
            self.create_task(&t3, fee).expect("createTask");
            return [t1, t2, t3];
        }
        panic!("no sampled task in 200 tries");
    }

    /// Sum of the stakes of the nodes of the net.
    pub fn stakes(&self) -> U256 {
        self.nodes
            .iter()
            .map(|k| self.node_info(k.address).stake)
            .sum()
    }
}
