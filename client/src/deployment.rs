//! After `cargo stylus deploy`: initialising the task contract and recording the deployment where
//! the node worker, the relay and `taskctl` read it (`scripts/deploy.sh` runs this step through
//! `taskctl contract initialize`).

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::{ITaskContract, ITaskContractErrors};
use serde_json::json;

/// What `initialize` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSettings {
    pub owner: Address,
    pub relay: Address,
    pub treasury: Address,
    pub vrf_verifier: Address,
    pub min_stake: U256,
    pub task_timeout: u64,
    pub distance_threshold: u8,
    pub queue_size_limit: u32,
}

impl ContractSettings {
    /// The settings `getConfig` reports; None while the contract is not initialised.
    pub async fn read(
        contract: &ITaskContract::ITaskContractInstance<DynProvider>,
    ) -> Result<Option<ContractSettings>, DeploymentError> {
        let c = contract.getConfig().call().await.map_err(refused)?;
        let settings = ContractSettings {
            owner: c._0,
            relay: c._1,
            treasury: c._2,
            vrf_verifier: c._3,
            min_stake: c._4,
            task_timeout: c._5,
            distance_threshold: c._6,
            queue_size_limit: c._7,
        };
        Ok((!settings.owner.is_zero()).then_some(settings))
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "owner": self.owner,
            "relay": self.relay,
            "treasury": self.treasury,
            "vrf_verifier": self.vrf_verifier,
            "min_stake_wei": self.min_stake.to_string(),
            "task_timeout_s": self.task_timeout,
            "distance_threshold": self.distance_threshold,
            "queue_size_limit": self.queue_size_limit,
        })
    }
}

/// A deployed and initialised task contract.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub chain_id: u64,
    pub rpc_url: String,
    pub task_contract: Address,
    pub settings: ContractSettings,
    /// The `initialize` transaction; None when the contract already held these settings.
    pub initialize_tx: Option<B256>,
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
        "the task contract at {address} is already initialised with other settings ({current}); \
         its owner can change them with setConfig"
    )]
    InitialisedDifferently { address: Address, current: String },
    #[error("chain: {0}")]
    Chain(String),
    #[error("the contract refused: {0}")]
    Refused(String),
    #[error("initialize transaction {0} reverted")]
    Reverted(B256),
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
        Some(decoded) => DeploymentError::Refused(format!("{decoded:?}")),
        None => chain(e),
    }
}

/// Initialises the task contract at `task_contract` with `settings`, sent from the provider's
/// wallet (`initialize` is one-time and names the owner). Running it again with the same settings
/// sends nothing, so an interrupted deployment can be completed; different settings are refused,
/// which also reveals anyone who initialised the contract first.
pub async fn initialize(
    provider: DynProvider,
    rpc_url: &str,
    task_contract: Address,
    settings: &ContractSettings,
) -> Result<Deployment, DeploymentError> {
    let chain_id = provider.get_chain_id().await.map_err(chain)?;
    for (what, address) in [
        ("task contract", task_contract),
        ("VRF verifier", settings.vrf_verifier),
    ] {
        let code = provider.get_code_at(address).await.map_err(chain)?;
        if code.is_empty() {
            return Err(DeploymentError::NoCode { what, address });
        }
    }
    let contract = ITaskContract::new(task_contract, provider.clone());
    let initialize_tx = match ContractSettings::read(&contract).await? {
        Some(current) if current == *settings => None,
        Some(current) => {
            return Err(DeploymentError::InitialisedDifferently {
                address: task_contract,
                current: current.to_json().to_string(),
            })
        }
        None => {
            let receipt = contract
                .initialize(
                    settings.owner,
                    settings.relay,
                    settings.treasury,
                    settings.vrf_verifier,
                    settings.min_stake,
                    settings.task_timeout,
                    settings.distance_threshold,
                    settings.queue_size_limit,
                )
                .send()
                .await
                .map_err(refused)?
                .get_receipt()
                .await
                .map_err(chain)?;
            if !receipt.status() {
                return Err(DeploymentError::Reverted(receipt.transaction_hash));
            }
            Some(receipt.transaction_hash)
        }
    };
    let block_number = provider.get_block_number().await.map_err(chain)?;
    Ok(Deployment {
        chain_id,
        rpc_url: rpc_url.to_string(),
        task_contract,
        settings: settings.clone(),
        initialize_tx,
        block_number,
    })
}

impl Deployment {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "chain_id": self.chain_id,
            "rpc_url": self.rpc_url,
            "task_contract": self.task_contract,
            "settings": self.settings.to_json(),
            "initialize_tx": self.initialize_tx,
            "block_number": self.block_number,
        })
    }

    /// Environment variables naming the chain and the contract for the node worker, the relay and
    /// taskctl (`set -a; . deployment.env; set +a`).
    pub fn env_file(&self) -> String {
        let (rpc, contract, chain_id) = (&self.rpc_url, self.task_contract, self.chain_id);
        format!(
            "# Task contract deployment on chain {chain_id} (written by scripts/deploy.sh).\n\
             # Load it with: set -a; . ./deployment.env; set +a\n\
             NODE_WORKER_RPC_URL={rpc}\n\
             NODE_WORKER_CHAIN_ID={chain_id}\n\
             NODE_WORKER_CONTRACT={contract}\n\
             RELAY_RPC_URL={rpc}\n\
             RELAY_CONTRACT={contract}\n\
             TASKCTL_RPC_URL={rpc}\n\
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
