//! The task loop: learn of the node's task from the chain, fetch its parameters, execute it,
//! submit the score, upload the result after validation, abort a task stuck past its timeout.
//! Every step is decided from the contract's state and the worker's record, so the loop can be
//! killed at any point and restarted: a recorded score is never recomputed and an action's
//! transaction is never signed twice. RPC and relay failures are retried with backoff.

use std::collections::HashMap;
use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use client::relay_client::{RelayClient, RelayError};
use protocol::bindings::ITaskContract::{self, TaskInfo};
use protocol::params_error::ParamsError;
use protocol::sampling::{params_commitment, params_hash};
use protocol::task_params::TaskParams;
use protocol::task_status::{AbortReason, TaskStatus};
use protocol::TaskType;

use crate::chain::node::Node;
use crate::chain::transactor::TxError;
use crate::execution::{execute_in_child, Executed, Job};
use crate::models::model_cache;
use crate::models::model_download;
use crate::operator::metrics::WorkerMetrics;
use crate::operator::notices::{NoticeKind, Notifier};
use crate::record::{Stage, TaskRecord, TxState};

/// What the operator is told when the contract removes the node.
#[derive(Debug, PartialEq, Eq)]
pub struct RemovalNotice {
    pub kind: NoticeKind,
    pub message: &'static str,
}

/// The notice for a NodeSlashed or NodeKickedOut event (by its topic), else None.
pub fn removal_notice(topic0: B256) -> Option<RemovalNotice> {
    if topic0 == ITaskContract::NodeSlashed::SIGNATURE_HASH {
        Some(RemovalNotice {
            kind: NoticeKind::Slashed,
            message: "this node was SLASHED: a validation group found its score wrong; its \
                      whole stake went to the treasury and it left the network",
        })
    } else if topic0 == ITaskContract::NodeKickedOut::SIGNATURE_HASH {
        Some(RemovalNotice {
            kind: NoticeKind::KickedOut,
            message: "this node was KICKED OUT for a low QoS score; its stake was returned",
        })
    } else {
        None
    }
}

/// The contract's task error code for "parameters validation failed".
pub const PARAMS_VALIDATION_FAILED: u8 = 1;
/// A task whose execution process died this many times is given up (left to time out).
const MAX_EXECUTIONS: u32 = 2;
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the node's stake, balance and QoS are read for the metrics and the balance notice.
const ACCOUNT_CHECK_INTERVAL: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("RPC: {0}")]
    Rpc(String),
    #[error(transparent)]
    Tx(#[from] TxError),
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
    #[error("relay: {0}")]
    Relay(RelayError),
}

fn rpc(e: impl std::fmt::Display) -> LoopError {
    LoopError::Rpc(e.to_string())
}

pub struct TaskLoop {
    node: Arc<Node>,
    metrics: Arc<WorkerMetrics>,
    notifier: Notifier,
    /// When the account was last read, and whether the low-balance notice is out (it is sent
    /// again only after the balance recovered).
    last_account_check: Option<Instant>,
    low_balance_sent: bool,
    relay: RelayClient,
    executable: PathBuf,
    /// Tasks whose current state was already announced in the log.
    announced: HashSet<(B256, u8)>,
    /// Model downloads under way, and those finished but not yet reported on chain.
    downloads: Arc<Mutex<Downloads>>,
}

#[derive(Default)]
struct Downloads {
    running: HashSet<String>,
    finished: Vec<String>,
}

impl TaskLoop {
    /// The node the loop drives (shared with the dashboard).
    pub fn node(&self) -> Arc<Node> {
        self.node.clone()
    }

    pub fn new(
        node: Arc<Node>,
        executable: PathBuf,
        metrics: Arc<WorkerMetrics>,
    ) -> anyhow::Result<TaskLoop> {
        let relay = RelayClient::new(node.config.relay_url()?, node.signer.clone());
        let notifier = Notifier::new(
            node.config.notices.clone(),
            node.address(),
            node.record.clone(),
            metrics.clone(),
        );
        Ok(TaskLoop {
            node,
            metrics,
            notifier,
            last_account_check: None,
            low_balance_sent: false,
            relay,
            executable,
            announced: HashSet::new(),
            downloads: Arc::default(),
        })
    }

    fn me(&self) -> Address {
        self.node.address()
    }

    /// Runs until `shutdown` completes. Failures of one round are logged and retried with
    /// exponential backoff; nothing here ends the loop except the shutdown.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = self.node.config.poll_interval;
        let mut backoff = poll;
        tracing::info!(node = %self.me(), "watching the chain for tasks");
        loop {
            let wait = match self.round().await {
                Ok(()) => {
                    self.metrics.round_succeeded();
                    backoff = poll;
                    poll
                }
                Err(e) => {
                    match &e {
                        LoopError::Relay(_) => self.metrics.relay_errors.inc(),
                        LoopError::Rpc(_) | LoopError::Tx(_) => self.metrics.rpc_errors.inc(),
                        LoopError::Record(_) => {}
                    }
                    self.metrics.round_failed(e.to_string());
                    tracing::warn!("{e}; retrying in {:.1} s", backoff.as_secs_f64());
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                _ = &mut shutdown => {
                    tracing::info!("stopping; the record keeps everything needed to resume");
                    return;
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One pass: settle pending transactions, report events, advance every open task.
    pub async fn round(&mut self) -> Result<(), LoopError> {
        self.node.transactor.settle_pending().await?;
        self.scan_events().await?;
        self.check_account().await?;
        self.report_downloads().await;
        let current = self
            .node
            .contract
            .getNodeTask(self.me())
            .call()
            .await
            .map_err(rpc)?;
        let mut tasks: Vec<B256> = self
            .node
            .record
            .open_tasks()?
            .into_iter()
            .map(|t| t.commitment)
            .collect();
        if current != B256::ZERO && !tasks.contains(&current) {
            tasks.push(current);
        }
        for task in tasks {
            self.advance(task).await?;
        }
        Ok(())
    }

    /// Reports the node's events since the last scan in the log, and reacts to DownloadModel.
    async fn scan_events(&mut self) -> Result<(), LoopError> {
        let latest = self.node.provider.get_block_number().await.map_err(rpc)?;
        let from = match self.node.record.meta("next_block")? {
            Some(b) => b.parse::<u64>().unwrap_or(latest),
            // A fresh record starts at the current block: the state, not old events, drives us.
            None => latest,
        };
        if from > latest {
            return Ok(());
        }
        let me = self.me().into_word();
        let filter = Filter::new()
            .address(*self.node.contract.address())
            .from_block(from)
            .to_block(latest)
            .event_signature(vec![
                ITaskContract::TaskEndSuccess::SIGNATURE_HASH,
                ITaskContract::TaskEndGroupSuccess::SIGNATURE_HASH,
                ITaskContract::TaskStarted::SIGNATURE_HASH,
                ITaskContract::DownloadModel::SIGNATURE_HASH,
                ITaskContract::NodeSlashed::SIGNATURE_HASH,
                ITaskContract::NodeKickedOut::SIGNATURE_HASH,
                ITaskContract::PaymentSent::SIGNATURE_HASH,
                ITaskContract::PaymentCredited::SIGNATURE_HASH,
            ]);
        let logs = self.node.provider.get_logs(&filter).await.map_err(rpc)?;
        // Which of this node's tasks each transaction ended: a payment in the same transaction is
        // that task's fee.
        let mut ended_in: HashMap<B256, B256> = HashMap::new();
        for log in &logs {
            let topics = log.topics();
            let ends = topics[0] == ITaskContract::TaskEndSuccess::SIGNATURE_HASH
                || topics[0] == ITaskContract::TaskEndGroupSuccess::SIGNATURE_HASH;
            if let (true, Some(task), Some(tx)) = (ends, topics.get(1), log.transaction_hash) {
                if self.node.record.in_history(task)? {
                    ended_in.insert(tx, *task);
                }
            }
        }
        for log in logs {
            if !log.topics().contains(&me) {
                continue;
            }
            let topic0 = log.topics()[0];
            if let Some(notice) = removal_notice(topic0) {
                if notice.kind == NoticeKind::Slashed {
                    tracing::error!("{}", notice.message);
                } else {
                    tracing::warn!("{}", notice.message);
                }
                self.node
                    .record
                    .add_node_event(notice.kind.as_str(), None, notice.message)?;
                self.notifier
                    .send(notice.kind, None, notice.message.to_string());
            } else if let Ok(e) = log.log_decode::<ITaskContract::PaymentSent>() {
                let amount = e.inner.amount;
                let task = log
                    .transaction_hash
                    .and_then(|tx| ended_in.get(&tx).copied());
                match task {
                    Some(task) => {
                        self.node.record.history_fee(&task, amount)?;
                        tracing::info!(
                            "received {} for task {task}",
                            protocol::amount::format_ether(amount)
                        );
                    }
                    None => tracing::info!("received {}", protocol::amount::format_ether(amount)),
                }
                self.node.record.add_node_event(
                    "payment",
                    task.as_ref(),
                    &format!("received {amount} wei"),
                )?;
            } else if let Ok(e) = log.log_decode::<ITaskContract::PaymentCredited>() {
                tracing::info!(
                    "{} credited (the transfer failed); take it with `node-worker withdraw`",
                    protocol::amount::format_ether(e.inner.amount)
                );
                self.node.record.add_node_event(
                    "credit",
                    None,
                    &format!("{} wei credited", e.inner.amount),
                )?;
            } else if let Ok(e) = log.log_decode::<ITaskContract::DownloadModel>() {
                self.download_model(&e.inner.modelID).await;
            } else if let Ok(e) = log.log_decode::<ITaskContract::TaskStarted>() {
                tracing::info!("task {}: started on this node", e.inner.taskIDCommitment);
            }
        }
        self.node
            .record
            .set_meta("next_block", &(latest + 1).to_string())?;
        Ok(())
    }

    /// A DownloadModel hint: a model already in the cache is reported at once, another one is
    /// downloaded in the background and reported when it is complete.
    async fn download_model(&self, model_id: &str) {
        let cache = self.node.config.model_cache_dir.clone();
        if model_cache::local_model_ids(&cache)
            .iter()
            .any(|m| m == model_id)
        {
            self.report_model(model_id).await;
            return;
        }
        {
            let mut downloads = self.downloads.lock().unwrap_or_else(|p| p.into_inner());
            if !downloads.running.insert(model_id.to_string()) {
                return;
            }
        }
        tracing::info!(
            "the network asks this node to fetch {model_id}; downloading it in the background"
        );
        let endpoint = self.node.config.hub_endpoint.clone();
        let downloads = self.downloads.clone();
        let model_id = model_id.to_string();
        tokio::task::spawn_blocking(move || {
            let result = model_download::download(&cache, &model_id, &endpoint);
            let mut downloads = downloads.lock().unwrap_or_else(|p| p.into_inner());
            downloads.running.remove(&model_id);
            match result {
                Ok(_) => {
                    tracing::info!("downloaded {model_id}");
                    downloads.finished.push(model_id);
                }
                Err(e) => tracing::warn!(
                    "downloading {model_id} failed: {e}; install it with `node-worker install-model` to serve its tasks"
                ),
            }
        });
    }

    async fn report_model(&self, model_id: &str) {
        match self.node.report_model(model_id).await {
            Ok(_) => tracing::info!("reported {model_id} as a local model"),
            Err(e) => tracing::warn!("reporting {model_id} as local: {e:#}"),
        }
    }

    /// Reports the models whose background download finished.
    async fn report_downloads(&self) {
        let finished = std::mem::take(
            &mut self
                .downloads
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .finished,
        );
        for model_id in finished {
            self.report_model(&model_id).await;
        }
    }

    async fn chain_time(&self) -> Result<u64, LoopError> {
        let block = self
            .node
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(rpc)?
            .ok_or_else(|| rpc("no latest block"))?;
        Ok(block.header.timestamp)
    }

    /// Logs a task's new state once, and keeps it in the history (a final state counts in the
    /// metrics once).
    fn announce(&mut self, task: B256, task_type: u8, status: TaskStatus) -> Result<(), LoopError> {
        if self.announced.insert((task, status.as_u8())) {
            tracing::info!("task {task}: {status}");
            // After a restart the record already holds the state: counted once, not again.
            let new = self.node.record.history_state(&task, task_type, status)?;
            if new && status.is_final() {
                self.metrics
                    .tasks
                    .with_label_values(&[&status.to_string()])
                    .inc();
            }
        }
        Ok(())
    }

    /// Reads the account for the metrics, and sends the low-balance notice when the balance
    /// crosses below the configured amount.
    async fn check_account(&mut self) -> Result<(), LoopError> {
        if self
            .last_account_check
            .is_some_and(|t| t.elapsed() < ACCOUNT_CHECK_INTERVAL)
        {
            return Ok(());
        }
        let me = self.me();
        let balance = self.node.provider.get_balance(me).await.map_err(rpc)?;
        let info = self
            .node
            .contract
            .getNodeInfo(me)
            .call()
            .await
            .map_err(rpc)?;
        self.last_account_check = Some(Instant::now());
        let as_f64 = |v: U256| f64::from(v);
        self.metrics.balance_wei.set(as_f64(balance));
        self.metrics.stake_wei.set(as_f64(info.stake));
        self.metrics.qos_score.set(f64::from(info.qosScore));
        if let Some(threshold) = self.notifier.settings().low_balance {
            if balance < threshold && !self.low_balance_sent {
                let message = format!(
                    "the balance of {me} is {}, below {}: fund it so the node can pay for its \
                     transactions",
                    protocol::amount::format_ether(balance),
                    protocol::amount::format_ether(threshold)
                );
                tracing::warn!("{message}");
                self.notifier.send(NoticeKind::LowBalance, None, message);
                self.low_balance_sent = true;
            } else if balance >= threshold {
                self.low_balance_sent = false;
            }
        }
        Ok(())
    }

    /// Moves one task forward from its on-chain status and the record.
    async fn advance(&mut self, c: B256) -> Result<(), LoopError> {
        let info = self.node.contract.getTask(c).call().await.map_err(rpc)?;
        let Some(status) = TaskStatus::from_u8(info.status) else {
            return Err(rpc(format!("task {c} has unknown status {}", info.status)));
        };
        let record = self.node.record.task(&c)?;
        if info.selectedNode != self.me() {
            if record.is_some() {
                self.node.record.set_stage(
                    &c,
                    Stage::Ended,
                    Some("no longer assigned to this node"),
                )?;
            }
            return Ok(());
        }
        self.announce(c, info.taskType, status)?;
        if status.is_final() {
            if record.is_some() {
                self.node
                    .record
                    .set_stage(&c, Stage::Ended, Some(&status.to_string()))?;
            }
            if status == TaskStatus::EndInvalidated && self.announced.insert((c, u8::MAX)) {
                let message = format!(
                    "task {c} was INVALIDATED: this node's score disagreed with its validation group"
                );
                tracing::error!("{message}");
                self.notifier.send(NoticeKind::TaskFailed, Some(c), message);
            }
            return Ok(());
        }
        self.node.record.ensure_task(&c, info.taskType)?;
        let record = self.node.record.task(&c)?.expect("just ensured");

        match status {
            TaskStatus::ParametersUploaded => self.execute_or_submit(c, &info, &record).await?,
            TaskStatus::Validated | TaskStatus::GroupValidated => {
                self.upload_result(c, &record).await?
            }
            _ => {}
        }
        // Past its state's deadline (PROTOCOL.md "Deadlines"), a task the node is waiting on is
        // ended: Started (the creator never uploaded the parameters), ScoreReady / ErrorReported
        // (never validated) leave the node's QoS as it was; ParametersUploaded is the node's own
        // timeout, ended so that it can take new work. A validated task is not abandoned: the
        // upload is retried until the creator ends it.
        let waiting = matches!(
            status,
            TaskStatus::Started
                | TaskStatus::ParametersUploaded
                | TaskStatus::ScoreReady
                | TaskStatus::ErrorReported
        );
        if waiting && self.chain_time().await? > info.times.deadline {
            self.abort_timed_out(c, status).await?;
        }
        Ok(())
    }

    async fn execute_or_submit(
        &mut self,
        c: B256,
        info: &TaskInfo,
        record: &TaskRecord,
    ) -> Result<(), LoopError> {
        match record.stage {
            Stage::Scored => return self.submit_score(c, record).await,
            Stage::ParamsError => return self.report_error(c).await,
            Stage::Failed | Stage::Uploaded | Stage::Ended => return Ok(()),
            Stage::Executing => {}
        }
        if record.executions >= MAX_EXECUTIONS {
            tracing::warn!(
                "task {c}: execution failed {} times; the task is left to time out",
                record.executions
            );
            self.node
                .record
                .set_stage(&c, Stage::Failed, Some("execution kept failing"))?;
            self.task_failed(
                c,
                info.taskType,
                format!(
                    "task {c}: execution failed {} times; given up",
                    record.executions
                ),
            )?;
            return Ok(());
        }
        let Some(task_type) = TaskType::from_u8(info.taskType) else {
            return Err(rpc(format!("task {c} has unknown type {}", info.taskType)));
        };
        let (args, salt) = match self.relay.download_params(c).await {
            Ok(downloaded) => downloaded,
            Err(e) => return self.relay_failure(c, "downloading parameters", e),
        };
        // Only the parameters the task committed to are run: other ones would give a score that
        // a validation group could hold against this node.
        let committed = params_commitment(&params_hash(args.as_bytes()), &salt);
        if committed != info.paramsCommitment {
            tracing::error!(
                "task {c}: the relay served parameters that do not open the task's commitment \
                 ({committed} != {}); not running them, will retry",
                info.paramsCommitment
            );
            return Ok(());
        }
        if let Err(e) = TaskParams::parse_for_task(task_type, &info.modelIDs, &args) {
            return self.params_error(c, e).await;
        }

        self.node.record.begin_execution(&c, info.taskType)?;
        let now = self.chain_time().await?;
        let budget = Duration::from_secs(info.times.deadline.saturating_sub(now).max(1));
        let job = Job {
            task_type: info.taskType,
            params: args,
            model_cache_dir: self.node.config.model_cache_dir.clone(),
            gpu_index: self.node.config.gpu_index,
            out_dir: self.node.config.data_dir.join("tasks").join(c.to_string()),
        };
        tracing::info!("task {c}: executing (deadline in {} s)", budget.as_secs());
        let started = Instant::now();
        let executed = execute_in_child(&self.executable, &job, budget).await;
        let took = started.elapsed();
        match executed {
            Ok(Executed::Scored { files, score }) => {
                self.metrics.execution_seconds.observe(took.as_secs_f64());
                self.node
                    .record
                    .history_execution(&c, took.as_millis() as i64)?;
                self.node.record.record_score(&c, &score, &files)?;
                tracing::info!("task {c}: executed, score 0x{}", hex::encode(&score));
                let record = self.node.record.task(&c)?.expect("recorded above");
                self.submit_score(c, &record).await
            }
            Ok(Executed::ParamsError(e)) => self.params_error(c, e).await,
            Err(e) => {
                // Local failures are never reported on chain (PROTOCOL.md): the task times out.
                let message = format!("task {c} failed locally: {e}; it is left to time out");
                tracing::error!("{message}");
                self.node
                    .record
                    .set_stage(&c, Stage::Failed, Some(&e.to_string()))?;
                self.task_failed(c, info.taskType, message)?;
                Ok(())
            }
        }
    }

    /// A task this node could not finish: history, metrics and a notice.
    fn task_failed(&mut self, c: B256, task_type: u8, message: String) -> Result<(), LoopError> {
        self.node.record.history_failed(&c, task_type)?;
        self.metrics
            .tasks
            .with_label_values(&["FailedLocally"])
            .inc();
        self.notifier.send(NoticeKind::TaskFailed, Some(c), message);
        Ok(())
    }

    /// An unreachable relay is an outage (the loop backs off); a refusal is logged and retried
    /// at the normal pace (parameters not uploaded yet, a clock out of the window).
    fn relay_failure(&self, c: B256, what: &str, e: RelayError) -> Result<(), LoopError> {
        match e {
            RelayError::Transport(_) => Err(LoopError::Relay(e)),
            e if e.is_retryable() => {
                tracing::debug!("task {c}: {what}: {e}; will retry");
                Ok(())
            }
            e => {
                tracing::warn!("task {c}: {what}: {e}; will retry");
                Ok(())
            }
        }
    }

    async fn params_error(&mut self, c: B256, e: ParamsError) -> Result<(), LoopError> {
        tracing::warn!("task {c} has invalid parameters ({e}); reporting the error on chain");
        self.node
            .record
            .set_stage(&c, Stage::ParamsError, Some(&e.to_string()))?;
        self.report_error(c).await
    }

    async fn report_error(&mut self, c: B256) -> Result<(), LoopError> {
        let call = ITaskContract::reportTaskErrorCall {
            task_id_commitment: c,
            error: PARAMS_VALIDATION_FAILED,
        };
        self.send_task_action("reportTaskError", c, call.abi_encode())
            .await
    }

    async fn submit_score(&mut self, c: B256, record: &TaskRecord) -> Result<(), LoopError> {
        let Some(score) = &record.score else {
            return Ok(());
        };
        let mut score = score.clone();
        if self.node.config.dishonest {
            // The demonstration of slashing: every bit flipped, far from any honest score.
            score.iter_mut().for_each(|b| *b = !*b);
            tracing::warn!("task {c}: DISHONEST demonstration mode, submitting a wrong score");
        }
        let call = ITaskContract::submitTaskScoreCall {
            task_id_commitment: c,
            task_score: score.into(),
        };
        self.send_task_action("submitTaskScore", c, call.abi_encode())
            .await
    }

    async fn abort_timed_out(&mut self, c: B256, status: TaskStatus) -> Result<(), LoopError> {
        tracing::warn!("task {c} passed its {status} deadline; ending it");
        let call = ITaskContract::abortTaskCall {
            task_id_commitment: c,
            abort_reason: AbortReason::Timeout.as_u8(),
        };
        self.send_task_action("abortTask", c, call.abi_encode())
            .await
    }

    /// Sends a task action once; a refusal by the contract means the state moved on (another
    /// party acted first), which the next round reads.
    async fn send_task_action(
        &mut self,
        action: &str,
        c: B256,
        input: Vec<u8>,
    ) -> Result<(), LoopError> {
        match self.node.task_action(action, c, input).await {
            Ok(tx) if tx.state == TxState::Mined => {
                tracing::info!(tx = %tx.hash, "{action} sent for task {c}");
                Ok(())
            }
            Ok(tx) => {
                tracing::warn!(tx = %tx.hash, "{action} for task {c} ended {:?}", tx.state);
                Ok(())
            }
            Err(e) if e.is_refusal() => {
                tracing::debug!("{e}");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn upload_result(&mut self, c: B256, record: &TaskRecord) -> Result<(), LoopError> {
        if record.stage != Stage::Scored {
            return Ok(());
        }
        let mut files = Vec::new();
        for path in &record.files {
            match std::fs::read(path) {
                Ok(bytes) => files.push(bytes),
                Err(e) => {
                    tracing::error!(
                        "result file {} is gone ({e}); cannot upload",
                        path.display()
                    );
                    self.node
                        .record
                        .set_stage(&c, Stage::Failed, Some("result files lost"))?;
                    return Ok(());
                }
            }
        }
        match self.relay.upload_result(c, &files).await {
            Ok(()) => {}
            // A second upload after a crash between upload and record is refused as a duplicate.
            Err(RelayError::Refused { code, .. }) if code == "already_uploaded" => {}
            Err(e) => return self.relay_failure(c, "uploading the result", e),
        }
        tracing::info!("result of task {c} uploaded to the relay");
        self.node.record.set_stage(&c, Stage::Uploaded, None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_and_kick_out_events_become_notices() {
        let slashed = removal_notice(ITaskContract::NodeSlashed::SIGNATURE_HASH).unwrap();
        assert_eq!(slashed.kind, NoticeKind::Slashed);
        assert!(slashed.message.starts_with("this node was SLASHED"));
        let kicked = removal_notice(ITaskContract::NodeKickedOut::SIGNATURE_HASH).unwrap();
        assert_eq!(kicked.kind, NoticeKind::KickedOut);
        assert!(kicked.message.starts_with("this node was KICKED OUT"));
        assert_eq!(
            removal_notice(ITaskContract::PaymentSent::SIGNATURE_HASH),
            None
        );
    }
}
