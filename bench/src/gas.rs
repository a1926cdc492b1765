//! Gas of every protocol call, measured on the devnet with the real contract WASM: nodes join,
//! tasks are created at growing numbers of available nodes, then tasks are driven through their
//! whole lives (single validation, honest and cheating groups, queueing, abort after timeout).
//! Figures are L2 gas (the receipt's gas less its L1 poster part, which is kept apart per kind
//! of transaction); a second pass runs the same scenario with the three programs cached
//! (ArbWasmCache). See the README's devnet section for how far the devnet follows Nitro.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context, Result};
use devnet::testnet::{public_key, TestConfig, Testnet, TEST_GPU};
use protocol::bindings::{ITaskContract, ITaskContractInstance, IVrfVerifier};
use protocol::sampling::{params_hash, sample, TaskSecret};
use protocol::task_status::{AbortReason, TaskStatus};
use protocol::vrf::VrfSecretKey;
use protocol::vrf_witness::proof_with_hints;
use protocol::TaskType;

/// The GPU of every node here.
const GPU: &str = TEST_GPU;
/// The GPU of one paused node: tasks that require it wait in the queue.
const PAUSED_GPU: &str = "NVIDIA GeForce RTX 3090";
const MODEL: &str = "base:bench/model";
const FEE: u64 = 1_000_000;
/// The parameters every bench task commits to.
const PARAMS: &[u8] = br#"{"bench":true}"#;

/// One protocol call's measured gas (every sample) and the original Solidity contracts' figure.
#[derive(Debug, Clone)]
pub struct CallGas {
    pub call: String,
    pub samples: Vec<u64>,
    pub solidity: &'static str,
}

impl CallGas {
    pub fn min(&self) -> u64 {
        self.samples.iter().copied().min().unwrap_or(0)
    }
    pub fn max(&self) -> u64 {
        self.samples.iter().copied().max().unwrap_or(0)
    }
    pub fn median(&self) -> u64 {
        let mut s = self.samples.clone();
        s.sort_unstable();
        s.get(s.len() / 2).copied().unwrap_or(0)
    }
}

/// The L1 poster gas of every measured transaction, by the kind of transaction.
static L1_GAS: Mutex<BTreeMap<&'static str, Vec<u64>>> = Mutex::new(BTreeMap::new());
/// Where the receipts' `gasUsedForL1` is read.
static RPC: Mutex<Option<DynProvider>> = Mutex::new(None);

/// The L1 poster gas of every transaction measured so far, by kind (and forgets it).
pub fn take_l1_gas() -> BTreeMap<&'static str, Vec<u64>> {
    std::mem::take(&mut *L1_GAS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The `gasUsedForL1` of a mined transaction, noted under `what`.
async fn note_l1_gas(what: &'static str, hash: B256) -> Result<u64> {
    let rpc = RPC
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .context("no devnet to read receipts from")?;
    let l1 = devnet::testnet::gas_used_for_l1(&rpc, hash).await?;
    L1_GAS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(what)
        .or_default()
        .push(l1);
    Ok(l1)
}

/// Sends a contract call, waits for it to be mined and returns its L2 gas (the L1 poster gas
/// noted apart); a revert is an error.
macro_rules! gas {
    ($what:expr, $call:expr) => {{
        let receipt = $call
            .send()
            .await
            .with_context(|| format!("sending {}", $what))?
            .get_receipt()
            .await
            .with_context(|| format!("receipt of {}", $what))?;
        if !receipt.status() {
            bail!("{} reverted", $what);
        }
        let l1 = note_l1_gas($what, receipt.transaction_hash).await?;
        let l2: u64 = receipt.gas_used - l1;
        l2
    }};
}

struct Bench {
    testnet: Testnet,
    contract: Address,
    creator: ITaskContractInstance<DynProvider>,
    relay: ITaskContractInstance<DynProvider>,
    vrf: VrfSecretKey,
    creator_key: Bytes,
    nodes: Vec<PrivateKeySigner>,
    by_address: HashMap<Address, usize>,
    joined: usize,
    busy: usize,
    /// Nodes slashed out of the network.
    removed: usize,
    measured: HashMap<&'static str, Vec<u64>>,
}

impl Bench {
    fn record(&mut self, call: &'static str, gas: u64) {
        self.measured.entry(call).or_default().push(gas);
    }

    async fn node(&self, address: Address) -> Result<ITaskContractInstance<DynProvider>> {
        let i = *self
            .by_address
            .get(&address)
            .with_context(|| format!("{address} is not a bench node"))?;
        self.testnet
            .contract_as(&self.nodes[i], self.contract)
            .await
    }

    async fn join_next(&mut self) -> Result<()> {
        let signer = self
            .nodes
            .get(self.joined)
            .context("no more node accounts")?
            .clone();
        let receipt = self
            .testnet
            .join(&signer, self.contract, &[MODEL], U256::from(1u64))
            .await?;
        if !receipt.status() {
            bail!("join reverted");
        }
        let l1 = note_l1_gas("join", receipt.transaction_hash).await?;
        self.record("join", receipt.gas_used - l1);
        self.joined += 1;
        Ok(())
    }

    /// Joins nodes until `n` are available.
    async fn ensure_available(&mut self, n: usize) -> Result<()> {
        while self.joined - self.busy - self.removed < n {
            self.join_next().await?;
        }
        Ok(())
    }

    async fn create(&mut self, secret: &TaskSecret, gpu: &str, vram: u64) -> Result<u64> {
        Ok(gas!(
            "createTask",
            self.creator
                .createTask(
                    TaskType::TextGeneration.as_u8(),
                    secret.commitment(),
                    secret.nonce,
                    vec![MODEL.into()],
                    0,
                    gpu.into(),
                    vram,
                    [1, 0, 0],
                    1,
                    secret.params_commitment(PARAMS),
                )
                .value(U256::from(FEE))
        ))
    }

    async fn status(&self, c: B256) -> Result<TaskStatus> {
        let code = self.creator.getTask(c).call().await?.status;
        TaskStatus::from_u8(code).with_context(|| format!("unknown task status {code}"))
    }

    /// Creates a dispatched task and takes it to ScoreReady with `score`.
    async fn run_to_score(&mut self, secret: &TaskSecret, score: [u8; 32]) -> Result<()> {
        let c = secret.commitment();
        self.create(secret, GPU, 24).await?;
        self.busy += 1;
        let node = self.creator.getTask(c).call().await?.selectedNode;
        let g = gas!(
            "reportTaskParametersUploaded",
            self.relay.reportTaskParametersUploaded(c)
        );
        self.record("params uploaded", g);
        let g = gas!(
            "submitTaskScore",
            self.node(node)
                .await?
                .submitTaskScore(c, Bytes::from(score.to_vec()))
        );
        self.record("submit score", g);
        Ok(())
    }

    /// Fills the GPU classes up to `max` with paused nodes of distinct names, then measures
    /// createTask for an image task every class fits.
    async fn create_at_every_class(&mut self, max: u32) -> Result<CallGas> {
        let mut names = 0;
        loop {
            let signer = self
                .nodes
                .get(self.joined)
                .context("no more node accounts")?
                .clone();
            let node = self.testnet.contract_as(&signer, self.contract).await?;
            let join = node
                .join(
                    format!("GPU class {names}"),
                    24,
                    [1, 0, 0],
                    public_key(&signer).into(),
                    vec![MODEL.into()],
                )
                .value(U256::from(1u64));
            match join.call().await {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.as_decoded_interface_error::<ITaskContract::ITaskContractErrors>(),
                        Some(ITaskContract::ITaskContractErrors::TooManyGPUClasses(_))
                    ) =>
                {
                    break
                }
                Err(e) => bail!("join: {e}"),
            }
            gas!("join", join);
            gas!("pause", node.pause());
            self.joined += 1;
            self.removed += 1;
            names += 1;
        }
        let classes = self.creator.getConfig().call().await?.maxGPUClasses;
        if classes != max {
            bail!("the contract allows {classes} GPU classes, not {max}");
        }
        let mut samples = Vec::new();
        for _ in 0..3 {
            let secret = TaskSecret::random();
            let g = gas!(
                "createTask",
                self.creator
                    .createTask(
                        TaskType::ImageGeneration.as_u8(),
                        secret.commitment(),
                        secret.nonce,
                        vec![MODEL.into()],
                        0,
                        String::new(),
                        0,
                        [1, 0, 0],
                        1,
                        secret.params_commitment(PARAMS),
                    )
                    .value(U256::from(FEE))
            );
            samples.push(g);
        }
        Ok(CallGas {
            call: format!("createTask, all {max} GPU classes (the maximum) joined"),
            samples,
            solidity: "- (unbounded)",
        })
    }

    /// One task's whole life, its five transactions' gas summed: createTask, parameters
    /// uploaded, score, validateSingleTask, result uploaded. `None` when the task was sampled for
    /// a group (it is left waiting, its node busy).
    async fn life(&mut self) -> Result<Option<u64>> {
        let secret = TaskSecret::random();
        let c = secret.commitment();
        let mut total = self.create(&secret, GPU, 24).await?;
        self.busy += 1;
        let node = self.creator.getTask(c).call().await?.selectedNode;
        total += gas!(
            "reportTaskParametersUploaded",
            self.relay.reportTaskParametersUploaded(c)
        );
        total += gas!(
            "submitTaskScore",
            self.node(node)
                .await?
                .submitTaskScore(c, Bytes::from(vec![7u8; 32]))
        );
        let info = self.creator.getTask(c).call().await?;
        let proof = sample(&self.vrf, &info.samplingSeed, info.terms.samplingRate);
        if proof.sampled {
            return Ok(None);
        }
        let proof = proof_with_hints(
            &self.creator_key,
            info.samplingSeed.as_slice(),
            &proof.proof,
        )?;
        total += gas!(
            "validateSingleTask",
            self.creator
                .validateSingleTask(c, proof.into(), self.creator_key.clone())
        );
        total += gas!(
            "reportTaskResultUploaded",
            self.relay.reportTaskResultUploaded(c)
        );
        self.busy -= 1;
        Ok(Some(total))
    }

    /// The relay reports the result of every task of `tasks` waiting for it.
    async fn upload_results(&mut self, tasks: &[B256], call: &'static str) -> Result<()> {
        for &c in tasks {
            if matches!(
                self.status(c).await?,
                TaskStatus::Validated | TaskStatus::GroupValidated
            ) {
                let g = gas!(
                    "reportTaskResultUploaded",
                    self.relay.reportTaskResultUploaded(c)
                );
                self.record(call, g);
                self.busy -= 1;
            }
        }
        Ok(())
    }
}

/// Available nodes at which whole task lives are measured (when among the dispatch figures).
const LIFECYCLE_NODES: usize = 100;

/// Runs the measurements with `available` nodes for the dispatch figures (ascending), with the
/// programs cached by the chain owner when `cached`.
pub async fn measure(available: &[usize], cached: bool) -> Result<Vec<CallGas>> {
    let most = available.iter().copied().max().unwrap_or(10);
    // Enough accounts for the dispatch rounds, the nodes the lifecycle runs keep busy, and one
    // node per GPU class.
    let accounts = most + 3 * available.len() + 64 + 64;
    let nodes: Vec<PrivateKeySigner> = (1..=accounts as u64)
        .map(|i| {
            let mut key = [0u8; 32];
            key[24..].copy_from_slice(&(0x2000_0000 + i).to_be_bytes());
            PrivateKeySigner::from_slice(&key).context("node key")
        })
        .collect::<Result<_>>()?;
    let addresses: Vec<Address> = nodes.iter().map(|n| n.address()).collect();
    // At the default L1 price; the rows are L2 gas, comparable with the Solidity figures.
    let testnet = Testnet::spawn(&addresses).await?;
    *RPC.lock().unwrap_or_else(|e| e.into_inner()) = Some(testnet.provider().await?);
    let dev = testnet.signers.clone();
    let mut config = TestConfig::with_dev_accounts(&dev, U256::from(1u64));
    config.queue_size_limit = 64;
    let programs = testnet.deploy_task_programs(&config).await?;
    if cached {
        testnet
            .cache_programs(&[programs.contract, programs.extension, programs.verifier])
            .await?;
    }
    let contract = programs.contract;
    let mut b = Bench {
        creator: testnet.contract_as(&dev[2], contract).await?,
        relay: testnet.contract_as(&dev[8], contract).await?,
        vrf: VrfSecretKey::from_bytes(&dev[2].credential().to_bytes())?,
        creator_key: public_key(&dev[2]).into(),
        by_address: addresses.iter().enumerate().map(|(i, a)| (*a, i)).collect(),
        nodes,
        testnet,
        contract,
        joined: 0,
        busy: 0,
        removed: 0,
        measured: HashMap::new(),
    };

    // createTask against the number of available nodes: three tasks per round, the median. At
    // 100 available nodes, also five whole single-task lives.
    let mut dispatch = Vec::new();
    let mut lives = None;
    for &n in available {
        b.ensure_available(n).await?;
        let mut samples = Vec::new();
        for _ in 0..3 {
            let g = b.create(&TaskSecret::random(), GPU, 24).await?;
            b.busy += 1;
            samples.push(g);
        }
        dispatch.push(CallGas {
            call: format!("createTask, {n} available nodes"),
            samples,
            solidity: solidity_create_task(n),
        });
        if n == LIFECYCLE_NODES {
            let mut samples = Vec::new();
            for _ in 0..20 {
                if samples.len() == 5 {
                    break;
                }
                b.ensure_available(n).await?;
                if let Some(total) = b.life().await? {
                    samples.push(total);
                }
            }
            lives = Some(CallGas {
                call: format!(
                    "single-task lifecycle at {n} available nodes (create + params + score + \
                     validate + result, one task's transactions summed)"
                ),
                samples,
                solidity: "~5,800,000",
            });
        }
    }

    // Whole lives: single validations, an honest group and a group with a cheater.
    let (mut singles, mut honest_groups, mut cheating_groups) = (0, 0, 0);
    for _ in 0..600 {
        if singles >= 5 && honest_groups >= 2 && cheating_groups >= 2 {
            break;
        }
        // A group needs three free nodes.
        b.ensure_available(3).await?;
        let first = TaskSecret::random();
        let c1 = first.commitment();
        let score = [7u8; 32];
        b.run_to_score(&first, score).await?;
        let info = b.creator.getTask(c1).call().await?;
        let proof = sample(&b.vrf, &info.samplingSeed, info.terms.samplingRate);
        // As applications send it: with the witnesses of the contract's cheap check.
        let proof_bytes: Bytes =
            proof_with_hints(&b.creator_key, info.samplingSeed.as_slice(), &proof.proof)?.into();
        if !proof.sampled {
            let g = gas!(
                "validateSingleTask",
                b.creator
                    .validateSingleTask(c1, proof_bytes, b.creator_key.clone())
            );
            b.record("validateSingleTask", g);
            b.upload_results(&[c1], "result uploaded (single)").await?;
            singles += 1;
            continue;
        }
        let cheat = cheating_groups < honest_groups;
        let (s2, s3) = (first.sibling(), first.sibling());
        b.run_to_score(&s2, score).await?;
        b.run_to_score(&s3, if cheat { [9u8; 32] } else { score })
            .await?;
        let tasks = [c1, s2.commitment(), s3.commitment()];
        let g = gas!(
            "validateTaskGroup",
            b.creator.validateTaskGroup(
                tasks[0],
                tasks[1],
                tasks[2],
                first.task_guid,
                params_hash(PARAMS),
                proof_bytes,
                b.creator_key.clone(),
            )
        );
        let ended = [
            b.status(tasks[0]).await?,
            b.status(tasks[1]).await?,
            b.status(tasks[2]).await?,
        ];
        // Nodes of tasks that ended at validation are free again (or slashed and gone).
        b.busy -= ended.iter().filter(|s| s.is_final()).count();
        b.removed += ended
            .iter()
            .filter(|s| **s == TaskStatus::EndInvalidated)
            .count();
        if cheat {
            if !ended.contains(&TaskStatus::EndInvalidated) {
                bail!("the cheating group member was not invalidated: {ended:?}");
            }
            b.record("validateTaskGroup (one cheater slashed)", g);
            cheating_groups += 1;
        } else {
            b.record("validateTaskGroup (all agree)", g);
            honest_groups += 1;
        }
        b.upload_results(&tasks, "result uploaded (group)").await?;
    }
    if singles < 5 || honest_groups < 2 || cheating_groups < 2 {
        bail!("600 tasks gave too few single validations or groups");
    }

    // The ECVRF check alone. In the task contract (the witness path validation runs): a
    // verifyVRF transaction, minus the same transaction with an empty proof (base gas, the
    // program's init gas, dispatch) and minus the calldata of the proof and its witnesses. And the
    // full verification of the fallback: a transaction to the verifier program.
    let verifier = b.creator.getConfig().call().await?.vrfVerifier;
    let verifier = IVrfVerifier::new(verifier, b.creator.provider().clone());
    for _ in 0..3 {
        let alpha = B256::random();
        let proof = sample(&b.vrf, &alpha, 10);
        let data = proof_with_hints(&b.creator_key, alpha.as_slice(), &proof.proof)?;
        let full = gas!(
            "verifyVRF",
            b.creator.verifyVRF(
                b.creator_key.clone(),
                alpha.to_vec().into(),
                data.clone().into()
            )
        );
        // A set gas limit: estimation would refuse a call that reverts.
        let empty_call = b
            .creator
            .verifyVRF(b.creator_key.clone(), alpha.to_vec().into(), Bytes::new())
            .gas(1_000_000);
        let empty = empty_call
            .send()
            .await
            .context("sending verifyVRF with an empty proof")?
            .get_receipt()
            .await
            .context("receipt of verifyVRF with an empty proof")?;
        if empty.status() {
            bail!("verifyVRF accepted an empty proof");
        }
        let padded = data.len().div_ceil(32) * 32;
        let calldata: u64 = data
            .iter()
            .map(|b| if *b == 0 { 4 } else { 16 })
            .sum::<u64>()
            + 4 * (padded - data.len()) as u64
            + 16; // the length word's non-zero byte
        let empty_l1 = note_l1_gas("verifyVRF (empty proof)", empty.transaction_hash).await?;
        b.record("VRF check", full - (empty.gas_used - empty_l1) - calldata);
        b.record("VRF verifyVRF transaction", full);
        let g = gas!(
            "verify",
            verifier.verify(
                b.creator_key.clone(),
                alpha.to_vec().into(),
                proof.proof.to_vec().into()
            )
        );
        b.record("VRF verify", g);
    }

    // Queued: the only node with the required GPU is paused.
    let paused = b
        .nodes
        .get(b.joined)
        .context("no more node accounts")?
        .clone();
    b.joined += 1;
    b.removed += 1;
    let as_paused = b.testnet.contract_as(&paused, b.contract).await?;
    gas!(
        "join",
        as_paused
            .join(
                PAUSED_GPU.into(),
                24,
                [1, 0, 0],
                public_key(&paused).into(),
                vec![MODEL.into()],
            )
            .value(U256::from(1u64))
    );
    gas!("pause", as_paused.pause());
    for _ in 0..3 {
        let secret = TaskSecret::random();
        let g = b.create(&secret, PAUSED_GPU, 24).await?;
        if b.status(secret.commitment()).await? != TaskStatus::Queued {
            bail!("a task for a paused node's GPU was not queued");
        }
        b.record("createTask queued", g);
    }

    // Abort after the execution deadline, by the creator, of tasks whose parameters were
    // uploaded.
    b.ensure_available(3).await?;
    let mut running = Vec::new();
    for _ in 0..3 {
        let secret = TaskSecret::random();
        b.create(&secret, GPU, 24).await?;
        gas!(
            "reportTaskParametersUploaded",
            b.relay.reportTaskParametersUploaded(secret.commitment())
        );
        running.push(secret.commitment());
    }
    let provider = b.creator.provider().clone();
    provider
        .raw_request::<_, serde_json::Value>(
            "evm_increaseTime".into(),
            (config.execution_timeout + 1,),
        )
        .await?;
    provider
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await?;
    for c in running {
        let g = gas!(
            "abortTask",
            b.creator.abortTask(c, AbortReason::Timeout.as_u8())
        );
        b.record("abortTask after timeout", g);
    }

    // createTask when every allowed GPU class has members: nodes of distinct GPU names join
    // (paused) up to the owner's maximum, and an image task that any of them fits is created:
    // dispatch reads every class. Its cost is bounded by the maximum, not by joining nodes.
    let class_bound = b.create_at_every_class(config.max_gpu_classes).await?;

    let take = |b: &mut Bench, key: &'static str, call: &str, solidity: &'static str| CallGas {
        call: call.into(),
        samples: b.measured.remove(key).unwrap_or_default(),
        solidity,
    };
    let mut rows = vec![take(&mut b, "join", "join", "920,000")];
    rows.extend(dispatch);
    rows.push(take(
        &mut b,
        "createTask queued",
        "createTask, queued",
        "~1,000,000",
    ));
    for (key, solidity) in [
        ("params uploaded", "36,000"),
        ("submit score", "81,000"),
        ("validateSingleTask", "1,590,000-1,760,000"),
        ("validateTaskGroup (all agree)", "2,700,000-3,100,000"),
        (
            "validateTaskGroup (one cheater slashed)",
            "2,700,000-3,100,000",
        ),
        ("result uploaded (single)", "388,000-423,000"),
        ("result uploaded (group)", "388,000-423,000"),
        ("abortTask after timeout", "867,000"),
        ("VRF check", "- (inside validate)"),
        ("VRF verifyVRF transaction", "-"),
        ("VRF verify", "- (inside validate)"),
    ] {
        let call = match key {
            "VRF check" => {
                "ECVRF check alone, in the task contract (verifyVRF minus base, init and calldata)"
            }
            "VRF verifyVRF transaction" => "ECVRF check: whole verifyVRF transaction",
            "VRF verify" => {
                "ECVRF full verification, the fallback (transaction to the verifier program)"
            }
            _ => key,
        };
        rows.push(take(&mut b, key, call, solidity));
    }
    rows.extend(lives);
    rows.push(class_bound);
    if let Some(empty) = rows.iter().find(|r| r.samples.is_empty()) {
        bail!("no sample of {}", empty.call);
    }
    Ok(rows)
}

/// The original contracts' createTask gas at `n` nodes (their measured points: 3, 10, 50, 100;
/// about 30k more per node beyond).
fn solidity_create_task(n: usize) -> &'static str {
    match n {
        3 => "930,000",
        10 => "1,050,000",
        50 => "2,230,000",
        100 => "3,650,000",
        1000 => "~30,650,000 (3.65M + 30k per node)",
        _ => "-",
    }
}
