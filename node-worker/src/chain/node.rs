//! The node's connection to the chain and the operator's commands: join, pause, resume, quit,
//! status and withdraw.

use std::sync::Arc;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::{bail, Context, Result};
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::key_file::read_signer;
use protocol::task_status::{NodeStatus, TaskStatus};
use protocol::vrf::signer_public_key;

use crate::chain::transactor::Transactor;
use crate::config::Config;
use crate::gpu;
use crate::history::{HistorySummary, TaskHistory};
use crate::models::model_cache;
use crate::record::{Record, TxRecord, TxState};

/// The node version this worker announces (major must equal a task's, minor.patch at least).
pub const NODE_VERSION: [u32; 3] = [1, 0, 0];

#[derive(Debug, thiserror::Error)]
#[error("{url} serves chain {served}, but the configuration says {expected}")]
pub struct WrongChain {
    pub url: String,
    pub served: u64,
    pub expected: u64,
}

/// The configured contract address holds no code on the chain (a wrong address, or a devnet that
/// was restarted without its state).
#[derive(Debug, thiserror::Error)]
#[error("there is no contract at {address} on chain {chain_id} ({url}): check `contract` in the configuration (or --contract)")]
pub struct NoContract {
    pub address: Address,
    pub chain_id: u64,
    pub url: String,
}

pub struct Node {
    pub config: Config,
    pub signer: PrivateKeySigner,
    pub provider: DynProvider,
    pub contract: ITaskContractInstance<DynProvider>,
    pub record: Arc<Record>,
    pub transactor: Transactor,
    pub chain_id: u64,
}

impl Node {
    /// Reads the key, opens the record and connects to the RPC endpoint (checking the chain id
    /// when one is configured).
    pub async fn connect(config: Config) -> Result<Node> {
        let key_file = config.private_key_file()?;
        let signer = read_signer(key_file)?;
        let contract_address = config.contract()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data dir {}", config.data_dir.display()))?;
        let record = Arc::new(Record::open(&config.data_dir.join("worker.sqlite"))?);
        let provider = ProviderBuilder::new()
            .connect(&config.rpc_url)
            .await
            .with_context(|| format!("connecting to {}", config.rpc_url))?
            .erased();
        let chain_id = provider
            .get_chain_id()
            .await
            .with_context(|| format!("asking {} for its chain id", config.rpc_url))?;
        if let Some(expected) = config.chain_id {
            if expected != chain_id {
                bail!(WrongChain {
                    url: config.rpc_url.clone(),
                    served: chain_id,
                    expected
                });
            }
        }
        let code = provider
            .get_code_at(contract_address)
            .await
            .with_context(|| format!("reading the contract's code at {}", config.rpc_url))?;
        if code.is_empty() {
            bail!(NoContract {
                address: contract_address,
                chain_id,
                url: config.rpc_url.clone(),
            });
        }
        let contract = ITaskContract::new(contract_address, provider.clone());
        let transactor =
            Transactor::new(provider.clone(), signer.clone(), chain_id, record.clone());
        Ok(Node {
            config,
            signer,
            provider,
            contract,
            record,
            transactor,
            chain_id,
        })
    }

    /// [`Node::connect`] for the long-running worker: configuration errors end it at once, but
    /// an unreachable RPC endpoint is waited for with backoff.
    pub async fn connect_patiently(config: Config) -> Result<Node> {
        read_signer(config.private_key_file()?)?;
        config.contract()?;
        config.relay_url()?;
        let mut backoff = std::time::Duration::from_millis(500);
        loop {
            match Node::connect(config.clone()).await {
                Ok(node) => return Ok(node),
                Err(e)
                    if e.downcast_ref::<WrongChain>().is_some()
                        || e.downcast_ref::<NoContract>().is_some() =>
                {
                    return Err(e)
                }
                Err(e) => {
                    tracing::warn!("{e:#}; retrying in {:.1} s", backoff.as_secs_f64());
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
                }
            }
        }
    }

    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Sends an operator command's transaction (always a new one: the operator asked for it).
    async fn command(&self, action: &str, input: Vec<u8>, value: U256) -> Result<TxRecord> {
        let tx = self
            .transactor
            .send_new(
                action,
                None,
                *self.contract.address(),
                Bytes::from(input),
                value,
            )
            .await?;
        if tx.state != TxState::Mined {
            bail!("{action} transaction {} was {:?}", tx.hash, tx.state);
        }
        Ok(tx)
    }

    /// Sends a task action's transaction at most once per task (see [`Transactor::send_once`]).
    pub async fn task_action(
        &self,
        action: &str,
        task: B256,
        input: Vec<u8>,
    ) -> Result<TxRecord, crate::chain::transactor::TxError> {
        self.transactor
            .send_once(
                action,
                Some(task),
                *self.contract.address(),
                Bytes::from(input),
                U256::ZERO,
            )
            .await
    }

    /// Joins with the configured stake, the detected (or configured) GPU and the models in the
    /// cache.
    pub async fn join(&self) -> Result<TxRecord> {
        let gpu = gpu::detect(
            self.config.gpu_index,
            self.config.gpu_name.as_deref(),
            self.config.gpu_vram_gb,
        )?;
        let models = model_cache::local_model_ids(&self.config.model_cache_dir);
        let stake = self.config.stake()?;
        tracing::info!(
            gpu = %gpu.name,
            vram_gb = gpu.vram_gb,
            detected = gpu.detected,
            models = ?models,
            stake = %stake,
            "joining"
        );
        let call = ITaskContract::joinCall {
            gpu_name: gpu.name,
            gpu_vram: gpu.vram_gb,
            version: NODE_VERSION,
            public_key: signer_public_key(&self.signer).into(),
            model_ids: models,
        };
        self.command("join", call.abi_encode(), stake).await
    }

    pub async fn pause(&self) -> Result<TxRecord> {
        self.command(
            "pause",
            ITaskContract::pauseCall {}.abi_encode(),
            U256::ZERO,
        )
        .await
    }

    pub async fn resume(&self) -> Result<TxRecord> {
        self.command(
            "resume",
            ITaskContract::resumeCall {}.abi_encode(),
            U256::ZERO,
        )
        .await
    }

    pub async fn quit(&self) -> Result<TxRecord> {
        self.command("quit", ITaskContract::quitCall {}.abi_encode(), U256::ZERO)
            .await
    }

    pub async fn withdraw(&self) -> Result<TxRecord> {
        self.command(
            "withdraw",
            ITaskContract::withdrawCall {}.abi_encode(),
            U256::ZERO,
        )
        .await
    }

    pub async fn report_model(&self, model_id: &str) -> Result<TxRecord> {
        let call = ITaskContract::reportModelDownloadedCall {
            model_id: model_id.into(),
        };
        self.command("reportModelDownloaded", call.abi_encode(), U256::ZERO)
            .await
    }

    pub async fn status(&self) -> Result<NodeReport> {
        let me = self.address();
        let info = self
            .contract
            .getNodeInfo(me)
            .call()
            .await
            .context("getNodeInfo")?;
        let balance = self.provider.get_balance(me).await.context("balance")?;
        let credit = self
            .contract
            .creditOf(me)
            .call()
            .await
            .context("creditOf")?;
        let task_status = if info.currentTask == B256::ZERO {
            None
        } else {
            let task = self
                .contract
                .getTask(info.currentTask)
                .call()
                .await
                .context("getTask")?;
            TaskStatus::from_u8(task.status)
        };
        Ok(NodeReport {
            address: me,
            status: NodeStatus::from_u8(info.status),
            gpu_name: info.gpuName,
            gpu_vram: info.gpuVram,
            stake: info.stake,
            qos_score: info.qosScore,
            recent_task_scores: info.recentTaskScores,
            current_task: (info.currentTask != B256::ZERO).then_some(info.currentTask),
            current_task_status: task_status,
            balance,
            credit,
            local_model_hashes: info.localModelIDHashes.len(),
            cached_models: model_cache::local_model_ids(&self.config.model_cache_dir).len(),
            model_cache_dir: self.config.model_cache_dir.clone(),
            amounts_in_wei: false,
            history: self.record.history_summary()?,
            recent: self.record.history(RECENT_TASKS)?,
        })
    }
}

/// What `node-worker status` shows.
#[derive(Debug, Clone)]
pub struct NodeReport {
    pub address: Address,
    pub status: Option<NodeStatus>,
    pub gpu_name: String,
    pub gpu_vram: u64,
    pub stake: U256,
    pub qos_score: u32,
    pub recent_task_scores: Vec<u8>,
    pub current_task: Option<B256>,
    pub current_task_status: Option<TaskStatus>,
    pub balance: U256,
    pub credit: U256,
    pub local_model_hashes: usize,
    /// Usable models in this machine's cache.
    pub cached_models: usize,
    pub model_cache_dir: std::path::PathBuf,
    /// Print stake, balance and credit in wei rather than ETH.
    pub amounts_in_wei: bool,
    /// What the node did so far (from its record).
    pub history: HistorySummary,
    /// Its latest tasks, newest first.
    pub recent: Vec<TaskHistory>,
}

/// Tasks `status` lists.
const RECENT_TASKS: usize = 5;

impl NodeReport {
    /// What the operator should do next, when something stands between the node and tasks.
    pub fn hints(&self) -> Vec<String> {
        let mut hints = Vec::new();
        let joined = !matches!(self.status, Some(NodeStatus::Quit) | None);
        if !joined && self.stake.is_zero() {
            hints.push("not joined: run `node-worker join`".to_string());
        }
        if self.cached_models == 0 {
            hints.push(format!(
                "no models installed in {}: run `node-worker download-model base:org/name` or \
                 `node-worker install-model base:org/name FILES`",
                self.model_cache_dir.display()
            ));
        } else if joined && self.local_model_hashes == 0 {
            hints.push(
                "joined without models: no task can be given to this node; report one with \
                 `node-worker download-model base:org/name --report`"
                    .to_string(),
            );
        }
        hints
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "address": self.address.to_string(),
            "status": self.status.map(|s| s.to_string()),
            "gpu_name": self.gpu_name,
            "gpu_vram": self.gpu_vram,
            "stake": self.stake.to_string(),
            "qos_score": self.qos_score,
            "recent_task_scores": self.recent_task_scores,
            "current_task": self.current_task.map(|t| t.to_string()),
            "current_task_status": self.current_task_status.map(|s| s.to_string()),
            "balance": self.balance.to_string(),
            "credit": self.credit.to_string(),
            "local_models": self.local_model_hashes,
            "cached_models": self.cached_models,
            "history": self.history,
            "recent_tasks": self.recent,
            "hints": self.hints(),
        })
    }
}

impl std::fmt::Display for NodeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into());
        writeln!(f, "node        {}", self.address)?;
        writeln!(f, "status      {status}")?;
        writeln!(f, "gpu         {} ({} GB)", self.gpu_name, self.gpu_vram)?;
        let amount = |v: U256| {
            if self.amounts_in_wei {
                format!("{v} wei")
            } else {
                protocol::amount::format_ether(v)
            }
        };
        writeln!(f, "stake       {}", amount(self.stake))?;
        writeln!(
            f,
            "qos         {} (recent task scores {:?})",
            self.qos_score, self.recent_task_scores
        )?;
        match (self.current_task, self.current_task_status) {
            (Some(t), Some(s)) => writeln!(f, "task        {t} ({s})")?,
            _ => writeln!(f, "task        none")?,
        }
        writeln!(f, "balance     {}", amount(self.balance))?;
        write!(f, "credit      {} (withdrawable)", amount(self.credit))?;
        let h = &self.history;
        let outcomes: Vec<String> = h.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        write!(
            f,
            "\nhistory     {} task{}{}; fees earned {}; {} slash{}, {} kick-out{}",
            h.tasks,
            if h.tasks == 1 { "" } else { "s" },
            if outcomes.is_empty() {
                String::new()
            } else {
                format!(" ({})", outcomes.join(", "))
            },
            amount(h.fees_earned_wei.parse().unwrap_or_default()),
            h.slashes,
            if h.slashes == 1 { "" } else { "es" },
            h.kick_outs,
            if h.kick_outs == 1 { "" } else { "s" },
        )?;
        for t in &self.recent {
            let states: Vec<&str> = t.states.iter().map(|(s, _)| s.as_str()).collect();
            let took = match (t.states.first(), t.states.last()) {
                (Some((_, a)), Some((_, b))) => format!("{:.1} s", (b - a) as f64 / 1000.0),
                _ => String::new(),
            };
            write!(
                f,
                "\n  {} {} ({took}){}",
                t.task,
                states.join(" > "),
                t.fee_wei
                    .as_ref()
                    .and_then(|w| w.parse().ok())
                    .map(|w| format!(", earned {}", amount(w)))
                    .unwrap_or_default()
            )?;
        }
        for hint in self.hints() {
            write!(f, "\n{hint}")?;
        }
        Ok(())
    }
}
