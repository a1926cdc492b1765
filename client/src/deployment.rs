//! After `cargo stylus deploy`: checking that the task contract was constructed as intended and
//! recording the deployment where the node worker, the relay and `taskctl` read it
//! (`scripts/deploy.sh` runs this step through `taskctl contract record`).
//!
//! The contract is configured by its constructor, which cargo-stylus's deployer runs in the
//! deployment transaction: nobody can configure it first. What is left to check is that the
//! deployed contract holds the settings the deployer meant.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::{ITaskContract, ITaskContractErrors};
use protocol::contract_settings::ContractSettings;
use serde_json::json;

/// What `getConfig` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedConfig {
    pub owner: Address,
    pub pending_owner: Address,
    pub settings: ContractSettings,
}

impl DeployedConfig {
    /// The contract's configuration; None while it is not constructed.
    pub async fn read(
        contract: &ITaskContract::ITaskContractInstance<DynProvider>,
    ) -> Result<Option<DeployedConfig>, DeploymentError> {
        match contract.getConfig().call().await {
            Ok(c) => Ok(Some(DeployedConfig {
                owner: c.owner,
                pending_owner: c.pendingOwner,
                settings: ContractSettings::from_config(&c),
            })),
            Err(e) => match e.as_decoded_interface_error::<ITaskContractErrors>() {
                Some(ITaskContractErrors::NotInitialized(_)) => Ok(None),
                _ => Err(refused(e)),
            },
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let s = &self.settings;
        json!({
            "owner": self.owner,
            "pending_owner": self.pending_owner,
            "relay": s.relay,
            "treasury": s.treasury,
            "vrf_verifier": s.vrf_verifier,
            "min_stake_wei": s.min_stake.to_string(),
            "queue_timeout_s": s.queue_timeout,
            "upload_timeout_s": s.upload_timeout,
            "execution_timeout_s": s.execution_timeout,
            "validation_timeout_s": s.validation_timeout,
            "distance_threshold": s.distance_threshold,
            "sampling_rate": s.sampling_rate,
            "queue_size_limit": s.queue_size_limit,
            "max_gpu_classes": s.max_gpu_classes,
        })
    }

    /// One setting per line, for people.
    pub fn to_text(&self) -> String {
        let s = &self.settings;
        format!(
            "owner              {}\npending owner      {}\nrelay              {}\n\
             treasury           {}\nvrf verifier       {}\nmin stake          {}\n\
             queue timeout      {} s\nupload timeout     {} s\nexecution timeout  {} s\n\
             validation timeout {} s\ndistance threshold {}\nsampling rate      1 in {}\n\
             queue size limit   {}\nmax GPU classes    {}",
            self.owner,
            self.pending_owner,
            s.relay,
            s.treasury,
            s.vrf_verifier,
            protocol::amount::format_ether(s.min_stake),
            s.queue_timeout,
            s.upload_timeout,
            s.execution_timeout,
            s.validation_timeout,
            s.distance_threshold,
            s.sampling_rate,
            s.queue_size_limit,
            s.max_gpu_classes
        )
    }
}

/// A deployed and constructed task contract.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub chain_id: u64,
    pub rpc_url: String,
    /// Where the relay serves applications and nodes.
    pub relay_url: String,
    pub task_contract: Address,
    pub extension: Address,
    pub config: DeployedConfig,
    pub block_number: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    #[error("no contract code at {address} ({what}): deploy it first (scripts/deploy.sh)")]
    NoCode {
        what: &'static str,
        address: Address,
    },
    #[error(
        "the task contract at {address} is not constructed: deploy it with cargo stylus deploy \
         --constructor-args (scripts/deploy.sh), which runs the constructor in the deployment \
         transaction"
    )]
    NotConstructed { address: Address },
    #[error(
        "the task contract at {address} holds other settings ({current}) than expected \
         ({expected}): redeploy, or have its owner call setConfig"
    )]
    ConstructedDifferently {
        address: Address,
        current: String,
        expected: String,
    },
    #[error("chain: {0}")]
    Chain(String),
    #[error("the contract refused: {0}")]
    Refused(String),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn chain<E: std::fmt::Display>(e: E) -> DeploymentError {
    DeploymentError::Chain(e.to_string())
}

fn refused(e: alloy::contract::Error) -> DeploymentError {
    match e.as_decoded_interface_error::<ITaskContractErrors>() {
        Some(decoded) => DeploymentError::Refused(protocol::contract_error::describe(&decoded)),
        None => chain(e),
    }
}

/// Checks the deployment of the task contract at `task_contract` (its extension and verifier
/// deployed, the contract constructed with `expected` and `owner`) and returns what to record.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    provider: DynProvider,
    rpc_url: &str,
    relay_url: &str,
    task_contract: Address,
    extension: Address,
    owner: Address,
    expected: &ContractSettings,
) -> Result<Deployment, DeploymentError> {
    let chain_id = provider.get_chain_id().await.map_err(chain)?;
    for (what, address) in [
        ("task contract", task_contract),
        ("task contract extension", extension),
        ("VRF verifier", expected.vrf_verifier),
    ] {
        let code = provider.get_code_at(address).await.map_err(chain)?;
        if code.is_empty() {
            return Err(DeploymentError::NoCode { what, address });
        }
    }
    let contract = ITaskContract::new(task_contract, provider.clone());
    let Some(config) = DeployedConfig::read(&contract).await? else {
        return Err(DeploymentError::NotConstructed {
            address: task_contract,
        });
    };
    let wanted = DeployedConfig {
        owner,
        pending_owner: config.pending_owner,
        settings: expected.clone(),
    };
    if config != wanted {
        return Err(DeploymentError::ConstructedDifferently {
            address: task_contract,
            current: config.to_json().to_string(),
            expected: wanted.to_json().to_string(),
        });
    }
    let block_number = provider.get_block_number().await.map_err(chain)?;
    Ok(Deployment {
        chain_id,
        rpc_url: rpc_url.to_string(),
        relay_url: relay_url.to_string(),
        task_contract,
        extension,
        config,
        block_number,
    })
}

/// The constructor's arguments as `cargo stylus deploy --constructor-args` takes them (one
/// string per argument, in the constructor's order).
pub fn constructor_args(extension: Address, owner: Address, s: &ContractSettings) -> Vec<String> {
    let u = |v: U256| v.to_string();
    vec![
        extension.to_string(),
        owner.to_string(),
        s.relay.to_string(),
        s.treasury.to_string(),
        s.vrf_verifier.to_string(),
        u(s.min_stake),
        s.queue_timeout.to_string(),
        s.upload_timeout.to_string(),
        s.execution_timeout.to_string(),
        s.validation_timeout.to_string(),
        s.distance_threshold.to_string(),
        s.sampling_rate.to_string(),
        s.queue_size_limit.to_string(),
        s.max_gpu_classes.to_string(),
    ]
}

impl Deployment {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "chain_id": self.chain_id,
            "rpc_url": self.rpc_url,
            "relay_url": self.relay_url,
            "task_contract": self.task_contract,
            "extension": self.extension,
            "settings": self.config.to_json(),
            "block_number": self.block_number,
        })
    }

    /// Environment variables naming the chain and the contract for the node worker, the relay and
    /// taskctl (`set -a; . deployment.env; set +a`).
    pub fn env_file(&self) -> String {
        let (rpc, contract, chain_id) = (&self.rpc_url, self.task_contract, self.chain_id);
        let relay = &self.relay_url;
        format!(
            "# Task contract deployment on chain {chain_id} (written by scripts/deploy.sh).\n\
             # Load it with: set -a; . ./deployment.env; set +a\n\
             NODE_WORKER_RPC_URL={rpc}\n\
             NODE_WORKER_CHAIN_ID={chain_id}\n\
             NODE_WORKER_CONTRACT={contract}\n\
             NODE_WORKER_RELAY_URL={relay}\n\
             RELAY_RPC_URL={rpc}\n\
             RELAY_CHAIN_ID={chain_id}\n\
             RELAY_CONTRACT={contract}\n\
             TASKCTL_RPC_URL={rpc}\n\
             TASKCTL_RELAY_URL={relay}\n\
             TASKCTL_CONTRACT={contract}\n"
        )
    }

    /// Writes `deployment.json` and `deployment.env` into `dir`; the paths written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, DeploymentError> {
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            // Write then rename, so a reader never sees half a file.
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| DeploymentError::Write {
                    path: path.clone(),
                    source,
                })?;
            Ok(path)
        };
        std::fs::create_dir_all(dir).map_err(|source| DeploymentError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let json = serde_json::to_string_pretty(&self.to_json()).map_err(chain)? + "\n";
        Ok(vec![
            write("deployment.json", json)?,
            write("deployment.env", self.env_file())?,
        ])
    }
}
