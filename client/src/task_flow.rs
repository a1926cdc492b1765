//! An application's whole task: create it, upload its parameters once it starts, run the VRF on
//! its sampling seed, add the two extra tasks of a validation group when it is sampled, validate,
//! wait for the result and download it, checking it hashes to the score on chain.

use std::time::Duration;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::{ITaskContract, ITaskContractErrors, ITaskContractInstance};
use protocol::contract_error::describe_call_error;
use protocol::result_score::score_result;
use protocol::sampling::{params_hash, sample, TaskSecret};
use protocol::task_status::{AbortReason, TaskStatus};
use protocol::vrf::VrfSecretKey;
use protocol::vrf_witness::proof_with_hints;
use protocol::{TaskParams, TaskType};

use crate::relay_client::{RelayClient, RelayError};

/// What to run and how much to pay for it.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub task_type: TaskType,
    /// The parameter JSON document.
    pub params: String,
    /// Fee per task, in wei (a sampled task costs three fees, two of them refunded on agreement).
    pub fee: U256,
    pub required_gpu: String,
    pub required_gpu_vram: u64,
    pub minimum_vram: u64,
    pub task_version: [u32; 3],
    pub task_size: u64,
}

/// A step of the task's life, for progress displays.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Created(B256),
    /// The task was seen in a new state while waiting on it.
    State {
        task: B256,
        status: TaskStatus,
    },
    Started {
        task: B256,
        node: Address,
    },
    ParametersUploaded(B256),
    Sampled {
        task: B256,
        sampled: bool,
    },
    Settled {
        task: B256,
        status: TaskStatus,
    },
    Validated {
        task: B256,
        group: bool,
    },
    Finished {
        task: B256,
        status: TaskStatus,
    },
    Aborted {
        task: B256,
        reason: AbortReason,
    },
}

/// How the job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Every task created: the first, then the group's siblings if it was sampled.
    pub tasks: Vec<B256>,
    /// The task whose result is the job's result (the validated one), if any.
    pub winner: Option<B256>,
    pub final_status: TaskStatus,
    /// The result files, checked against the score on chain.
    pub result: Option<Vec<Vec<u8>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid parameters: {0}")]
    Params(#[from] protocol::ParamsError),
    #[error("chain: {0}")]
    Chain(String),
    /// The contract refused a call (its custom error in words).
    #[error("the contract refused {call}: {reason}")]
    Refused { call: &'static str, reason: String },
    #[error("there is no contract at {address} on chain {chain_id}: check --contract (or TASKCTL_CONTRACT)")]
    NoContract { address: Address, chain_id: u64 },
    #[error(transparent)]
    Relay(#[from] RelayError),
    #[error("the downloaded result does not hash to the score on chain")]
    ResultMismatch,
    #[error("{}", timeout_text(.task, .what, .status, .waited))]
    Timeout {
        task: B256,
        what: &'static str,
        status: TaskStatus,
        waited: Duration,
    },
}

/// What giving up means for the task, and what the creator can do about it.
fn timeout_text(task: &B256, what: &str, status: &TaskStatus, waited: &Duration) -> String {
    let advice = match status {
        TaskStatus::Queued => {
            format!("No node has taken it; abort it to get the fee back: `taskctl abort {task}`")
        }
        s if s.is_final() => "It has ended.".to_string(),
        _ => format!(
            "Follow it with `taskctl status {task}`; once its state's deadline passes, \
             `taskctl abort {task}` ends it"
        ),
    };
    format!(
        "gave up after {} s: task {task} {what}; it is {status}. {advice}",
        waited.as_secs()
    )
}

fn chain<E: std::error::Error + 'static>(e: E) -> ClientError {
    // With the causes: a refused connection says so.
    ClientError::Chain(protocol::error_report::one_line(&e))
}

/// A contract call's error: the contract's custom error in words when it reverted with one.
fn call_error(call: &'static str) -> impl Fn(alloy::contract::Error) -> ClientError {
    move |e| {
        let reverted = e.as_revert_data().is_some()
            || e.as_decoded_interface_error::<ITaskContractErrors>()
                .is_some();
        let reason = describe_call_error(&e);
        if reverted {
            ClientError::Refused { call, reason }
        } else {
            ClientError::Chain(format!("{call}: {reason}"))
        }
    }
}

/// Fails with [`ClientError::NoContract`] when `address` holds no code.
pub async fn ensure_contract(provider: &DynProvider, address: Address) -> Result<(), ClientError> {
    let code = provider.get_code_at(address).await.map_err(chain)?;
    if code.is_empty() {
        let chain_id = provider.get_chain_id().await.map_err(chain)?;
        return Err(ClientError::NoContract { address, chain_id });
    }
    Ok(())
}

pub struct TaskClient {
    pub contract: ITaskContractInstance<DynProvider>,
    pub relay: RelayClient,
    pub vrf_key: VrfSecretKey,
    pub poll_interval: Duration,
    /// How long to wait for nodes and the relay before giving up (the contract's timeout lets the
    /// creator abort after that).
    pub patience: Duration,
}

impl TaskClient {
    async fn task(&self, c: B256) -> Result<ITaskContract::TaskInfo, ClientError> {
        self.contract
            .getTask(c)
            .call()
            .await
            .map_err(call_error("getTask"))
    }

    async fn status(&self, c: B256) -> Result<TaskStatus, ClientError> {
        let code = self.task(c).await?.status;
        TaskStatus::from_u8(code)
            .ok_or_else(|| ClientError::Chain(format!("unknown task status {code}")))
    }

    /// Sends `createTask` for one task of the job.
    pub async fn create(&self, spec: &TaskSpec, secret: &TaskSecret) -> Result<(), ClientError> {
        let receipt = self
            .contract
            .createTask(
                spec.task_type.as_u8(),
                secret.commitment(),
                secret.nonce,
                vec![TaskParams::parse(spec.task_type, &spec.params)?.model_id()],
                spec.minimum_vram,
                spec.required_gpu.clone(),
                spec.required_gpu_vram,
                spec.task_version,
                spec.task_size,
                secret.params_commitment(spec.params.as_bytes()),
            )
            .value(spec.fee)
            .send()
            .await
            .map_err(call_error("createTask"))?
            .get_receipt()
            .await
            .map_err(chain)?;
        if !receipt.status() {
            return Err(ClientError::Chain("createTask reverted".into()));
        }
        Ok(())
    }

    /// Polls until `done` holds for the task's status, reporting each new state seen.
    async fn wait_for(
        &self,
        c: B256,
        what: &'static str,
        done: impl Fn(TaskStatus) -> bool,
        progress: &mut impl FnMut(Progress),
    ) -> Result<TaskStatus, ClientError> {
        let start = tokio::time::Instant::now();
        let mut seen = None;
        loop {
            let status = self.status(c).await?;
            if seen != Some(status) {
                progress(Progress::State { task: c, status });
                seen = Some(status);
            }
            if done(status) {
                return Ok(status);
            }
            if start.elapsed() > self.patience {
                return Err(ClientError::Timeout {
                    task: c,
                    what,
                    status,
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// Creates a task, waits for it to start and uploads its parameters.
    async fn launch(
        &self,
        spec: &TaskSpec,
        secret: &TaskSecret,
        progress: &mut impl FnMut(Progress),
    ) -> Result<bool, ClientError> {
        let c = secret.commitment();
        self.create(spec, secret).await?;
        progress(Progress::Created(c));
        let status = self
            .wait_for(c, "was not started", |s| s != TaskStatus::Queued, progress)
            .await?;
        if status == TaskStatus::EndAborted {
            let reason =
                AbortReason::from_u8(self.task(c).await?.abortReason).unwrap_or(AbortReason::None);
            progress(Progress::Aborted { task: c, reason });
            return Ok(false);
        }
        progress(Progress::Started {
            task: c,
            node: self.task(c).await?.selectedNode,
        });
        let deadline = tokio::time::Instant::now() + self.patience;
        loop {
            match self
                .relay
                .upload_params(c, &spec.params, secret.params_salt())
                .await
            {
                Ok(()) => break,
                Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(self.poll_interval).await
                }
                Err(e) => return Err(e.into()),
            }
        }
        progress(Progress::ParametersUploaded(c));
        Ok(true)
    }

    /// Runs a whole job and reports each step to `progress`.
    pub async fn run(
        &self,
        spec: &TaskSpec,
        mut progress: impl FnMut(Progress),
    ) -> Result<Outcome, ClientError> {
        TaskParams::parse(spec.task_type, &spec.params)?;
        let first = TaskSecret::random();
        let c1 = first.commitment();
        if !self.launch(spec, &first, &mut progress).await? {
            return Ok(Outcome {
                tasks: vec![c1],
                winner: None,
                final_status: TaskStatus::EndAborted,
                result: None,
            });
        }
        let info = self.task(c1).await?;
        let sampling = sample(&self.vrf_key, &info.samplingSeed, info.terms.samplingRate);
        progress(Progress::Sampled {
            task: c1,
            sampled: sampling.sampled,
        });
        let mut secrets = vec![first];
        if sampling.sampled {
            for _ in 0..2 {
                let sibling = first.sibling();
                self.launch(spec, &sibling, &mut progress).await?;
                secrets.push(sibling);
            }
        }
        let tasks: Vec<B256> = secrets.iter().map(TaskSecret::commitment).collect();
        for &c in &tasks {
            let status = self
                .wait_for(
                    c,
                    "got no score",
                    |s| {
                        matches!(s, TaskStatus::ScoreReady | TaskStatus::ErrorReported)
                            || s.is_final()
                    },
                    &mut progress,
                )
                .await?;
            progress(Progress::Settled { task: c, status });
        }
        let public_key: Bytes = self.vrf_key.public_key().to_vec().into();
        // With the witnesses of the contract's cheap check appended (a tenth of the gas of a full
        // on-chain verification).
        let proof: Bytes =
            proof_with_hints(&public_key, info.samplingSeed.as_slice(), &sampling.proof)
                .map_err(|e| ClientError::Chain(format!("our own VRF proof does not verify: {e}")))?
                .into();
        let call = if sampling.sampled {
            self.contract
                .validateTaskGroup(
                    tasks[0],
                    tasks[1],
                    tasks[2],
                    first.task_guid,
                    params_hash(spec.params.as_bytes()),
                    proof,
                    public_key,
                )
                .send()
                .await
        } else {
            self.contract
                .validateSingleTask(c1, proof, public_key)
                .send()
                .await
        };
        let receipt = call
            .map_err(call_error(if sampling.sampled {
                "validateTaskGroup"
            } else {
                "validateSingleTask"
            }))?
            .get_receipt()
            .await
            .map_err(chain)?;
        if !receipt.status() {
            return Err(ClientError::Chain("validation reverted".into()));
        }
        let mut winner = None;
        for &c in &tasks {
            let status = self.status(c).await?;
            if matches!(status, TaskStatus::Validated | TaskStatus::GroupValidated) {
                winner = Some(c);
                progress(Progress::Validated {
                    task: c,
                    group: sampling.sampled,
                });
            } else if status.is_final() {
                self.report_end(c, status, &mut progress).await?;
            }
        }
        let Some(winner) = winner else {
            let final_status = self.status(c1).await?;
            return Ok(Outcome {
                tasks,
                winner: None,
                final_status,
                result: None,
            });
        };
        let final_status = self
            .wait_for(winner, "got no result", TaskStatus::is_final, &mut progress)
            .await?;
        self.report_end(winner, final_status, &mut progress).await?;
        if !matches!(
            final_status,
            TaskStatus::EndSuccess | TaskStatus::EndGroupSuccess
        ) {
            return Ok(Outcome {
                tasks,
                winner: Some(winner),
                final_status,
                result: None,
            });
        }
        let files = self.relay.download_result(winner).await?;
        let on_chain = self.task(winner).await?.score;
        let recomputed =
            score_result(spec.task_type, &files).map_err(|_| ClientError::ResultMismatch)?;
        if recomputed != on_chain.as_ref() {
            return Err(ClientError::ResultMismatch);
        }
        Ok(Outcome {
            tasks,
            winner: Some(winner),
            final_status,
            result: Some(files),
        })
    }

    /// Reports a final state; an abort comes with its reason.
    async fn report_end(
        &self,
        c: B256,
        status: TaskStatus,
        progress: &mut impl FnMut(Progress),
    ) -> Result<(), ClientError> {
        if status == TaskStatus::EndAborted {
            let code = self.task(c).await?.abortReason;
            let reason = AbortReason::from_u8(code).unwrap_or(AbortReason::None);
            progress(Progress::Aborted { task: c, reason });
        } else {
            progress(Progress::Finished { task: c, status });
        }
        Ok(())
    }

    /// `abortTask` by the creator (after the timeout, or at any time while queued).
    pub async fn abort(&self, c: B256, reason: AbortReason) -> Result<(), ClientError> {
        let receipt = self
            .contract
            .abortTask(c, reason.as_u8())
            .send()
            .await
            .map_err(call_error("abortTask"))?
            .get_receipt()
            .await
            .map_err(chain)?;
        if !receipt.status() {
            return Err(ClientError::Chain("abortTask reverted".into()));
        }
        Ok(())
    }

    /// The provider's view of the chain's latest block time.
    pub async fn chain_time(&self) -> Result<u64, ClientError> {
        let block = self
            .contract
            .provider()
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(chain)?
            .ok_or_else(|| ClientError::Chain("no latest block".into()))?;
        Ok(block.header.timestamp)
    }
}
