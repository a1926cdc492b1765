//! The worker's configuration: a TOML file, overridden by environment variables, overridden by
//! command-line flags. Missing required values are reported by name; the private key itself never
//! enters the configuration, only the path of the file that holds it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{Address, U256};
use serde::Deserialize;

/// Values as written in the TOML file; every field is optional there.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub rpc_url: Option<String>,
    pub chain_id: Option<u64>,
    pub contract: Option<Address>,
    pub relay_url: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub model_cache_dir: Option<PathBuf>,
    pub stake: Option<String>,
    pub poll_interval_ms: Option<u64>,
    pub hub_endpoint: Option<String>,
    pub dashboard_listen: Option<SocketAddr>,
    #[serde(default)]
    pub gpu: GpuFileConfig,
    #[serde(default)]
    pub notices: NoticesFileConfig,
}

/// `[notices]`: where slashes, kick-outs, failed tasks and a low balance are announced.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticesFileConfig {
    /// Each notice is POSTed to this URL as JSON.
    pub webhook: Option<String>,
    /// Each notice runs this command with `sh -c`, the notice in its environment.
    pub command: Option<String>,
    /// A notice when the account's balance falls below this amount.
    pub low_balance: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuFileConfig {
    /// Which GPU to use (CUDA ordinal, as nvidia-smi numbers them).
    pub index: Option<usize>,
    /// GPU name and VRAM (GB) to announce when nvidia-smi is not available.
    pub name: Option<String>,
    pub vram_gb: Option<u64>,
}

/// Values given on the command line or in the environment (clap fills both); each wins over the
/// configuration file.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ConfigOverrides {
    /// TOML configuration file [default: node-worker.toml in the working directory, if any].
    #[arg(long, env = "NODE_WORKER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ethereum JSON-RPC endpoint [default: http://127.0.0.1:8547].
    #[arg(long, env = "NODE_WORKER_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Chain id the endpoint must serve [default: not checked].
    #[arg(long, env = "NODE_WORKER_CHAIN_ID")]
    pub chain_id: Option<u64>,
    /// The task contract's address.
    #[arg(long, env = "NODE_WORKER_CONTRACT")]
    pub contract: Option<Address>,
    /// The relay's URL (task parameters and results).
    #[arg(long, env = "NODE_WORKER_RELAY_URL")]
    pub relay_url: Option<String>,
    /// File holding the node's private key (hex); the key is never logged.
    #[arg(long, env = "NODE_WORKER_PRIVATE_KEY_FILE")]
    pub private_key_file: Option<PathBuf>,
    /// Where the worker keeps its SQLite record and task results [default: node-data].
    #[arg(long, env = "NODE_WORKER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Model cache in the Hugging Face layout (`models--org--name/snapshots/REV/...`)
    /// [default: DATA_DIR/models].
    #[arg(long, env = "NODE_WORKER_MODEL_CACHE_DIR")]
    pub model_cache_dir: Option<PathBuf>,
    /// Which GPU to use, as nvidia-smi numbers them [default: 0].
    #[arg(long, env = "NODE_WORKER_GPU_INDEX")]
    pub gpu_index: Option<usize>,
    /// GPU name to announce when nvidia-smi is not available [default: from nvidia-smi].
    #[arg(long, env = "NODE_WORKER_GPU_NAME")]
    pub gpu_name: Option<String>,
    /// GPU VRAM in GB to announce when nvidia-smi is not available [default: from nvidia-smi].
    #[arg(long, env = "NODE_WORKER_GPU_VRAM_GB")]
    pub gpu_vram_gb: Option<u64>,
    /// Stake for `join`: wei, or ether with an `eth` suffix (`0.1eth`).
    #[arg(long, env = "NODE_WORKER_STAKE")]
    pub stake: Option<String>,
    /// Milliseconds between two looks at the chain [default: 1000].
    #[arg(long, env = "NODE_WORKER_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<u64>,
    /// Hugging Face hub (or mirror) that models are downloaded from [default: https://huggingface.co].
    #[arg(long, env = "NODE_WORKER_HUB_ENDPOINT")]
    pub hub_endpoint: Option<String>,
    /// Serve the local dashboard, /metrics and /health on this address (e.g. 127.0.0.1:8700)
    /// [default: off].
    #[arg(long, env = "NODE_WORKER_DASHBOARD_LISTEN")]
    pub dashboard_listen: Option<SocketAddr>,
    /// POST every notice (slash, kick-out, failed task, low balance) to this URL as JSON
    /// [default: none].
    #[arg(long, env = "NODE_WORKER_NOTICE_WEBHOOK")]
    pub notice_webhook: Option<String>,
    /// Run this shell command for every notice, with NOTICE_KIND, NOTICE_MESSAGE and NOTICE_JSON
    /// in its environment [default: none].
    #[arg(long, env = "NODE_WORKER_NOTICE_COMMAND")]
    pub notice_command: Option<String>,
    /// Send a notice when the account's balance falls below this amount: wei, or ether with an
    /// `eth` suffix [default: no balance notices].
    #[arg(long, env = "NODE_WORKER_LOW_BALANCE")]
    pub low_balance: Option<String>,
    /// Demonstrations only: submit a wrong score for every task, so that validation groups catch
    /// and slash this node.
    #[arg(long, env = "NODE_WORKER_DISHONEST", hide = true)]
    pub dishonest: bool,
}

/// The file every command reads when no `--config` is given, if the working directory has one
/// (`node-worker init` writes it there).
pub const DEFAULT_CONFIG_FILE: &str = "node-worker.toml";

/// Which configuration file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Named by `--config` / `NODE_WORKER_CONFIG`.
    Given(PathBuf),
    /// `node-worker.toml` in the working directory.
    Found(PathBuf),
    /// None: flags and environment only.
    None,
}

impl ConfigSource {
    /// One line for the operator.
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Given(path) => format!("configuration: {}", path.display()),
            ConfigSource::Found(path) => format!(
                "configuration: {} (found in the working directory)",
                path.display()
            ),
            ConfigSource::None => format!(
                "configuration: none (no --config and no {DEFAULT_CONFIG_FILE} here; flags and \
                 environment only)"
            ),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file the values came from, besides flags and environment.
    pub source: ConfigSource,
    pub rpc_url: String,
    pub chain_id: Option<u64>,
    pub contract: Option<Address>,
    pub relay_url: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub model_cache_dir: PathBuf,
    pub gpu_index: usize,
    pub gpu_name: Option<String>,
    pub gpu_vram_gb: Option<u64>,
    pub stake: Option<U256>,
    pub poll_interval: Duration,
    pub hub_endpoint: String,
    pub dashboard_listen: Option<SocketAddr>,
    pub notices: NoticeSettings,
    pub dishonest: bool,
}

/// Where notices go; none of them by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeSettings {
    pub webhook: Option<String>,
    pub command: Option<String>,
    pub low_balance: Option<U256>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "`{0}` is not set: put it in the configuration file (`node-worker init` writes one), or \
         give --{flag} or NODE_WORKER_{env}",
        flag = .0.replace('_', "-"),
        env = .0.to_uppercase()
    )]
    Missing(&'static str),
    #[error("`stake` {0:?} is not an amount: use wei (`100000`) or ether (`0.1eth`)")]
    BadStake(String),
    #[error(
        "`notices.low_balance` {0:?} is not an amount: use wei (`100000`) or ether (`0.1eth`)"
    )]
    BadLowBalance(String),
}

pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8547";

impl Config {
    /// Reads the file named by `overrides.config`, or else `node-worker.toml` in the working
    /// directory when there is one, and applies the overrides.
    pub fn load(overrides: &ConfigOverrides) -> Result<Config, ConfigError> {
        let found = Path::new(DEFAULT_CONFIG_FILE);
        let (file, source) = match &overrides.config {
            Some(path) => (read_file(path)?, ConfigSource::Given(path.clone())),
            None if found.is_file() => {
                (read_file(found)?, ConfigSource::Found(found.to_path_buf()))
            }
            None => (FileConfig::default(), ConfigSource::None),
        };
        let mut config = Self::resolve(file, overrides.clone())?;
        config.source = source;
        Ok(config)
    }

    pub fn resolve(file: FileConfig, o: ConfigOverrides) -> Result<Config, ConfigError> {
        let stake = match o.stake.or(file.stake) {
            Some(text) => Some(parse_stake(&text)?),
            None => None,
        };
        let low_balance = match o.low_balance.or(file.notices.low_balance) {
            Some(text) => Some(
                protocol::amount::parse_amount(&text).ok_or(ConfigError::BadLowBalance(text))?,
            ),
            None => None,
        };
        let data_dir = o
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("node-data"));
        let model_cache_dir = o
            .model_cache_dir
            .or(file.model_cache_dir)
            .unwrap_or_else(|| data_dir.join("models"));
        Ok(Config {
            source: ConfigSource::None,
            rpc_url: o
                .rpc_url
                .or(file.rpc_url)
                .unwrap_or_else(|| DEFAULT_RPC_URL.into()),
            chain_id: o.chain_id.or(file.chain_id),
            contract: o.contract.or(file.contract),
            relay_url: o.relay_url.or(file.relay_url),
            private_key_file: o.private_key_file.or(file.private_key_file),
            data_dir,
            model_cache_dir,
            gpu_index: o.gpu_index.or(file.gpu.index).unwrap_or(0),
            gpu_name: o.gpu_name.or(file.gpu.name),
            gpu_vram_gb: o.gpu_vram_gb.or(file.gpu.vram_gb),
            stake,
            poll_interval: Duration::from_millis(
                o.poll_interval_ms.or(file.poll_interval_ms).unwrap_or(1000),
            ),
            hub_endpoint: o
                .hub_endpoint
                .or(file.hub_endpoint)
                .unwrap_or_else(|| crate::models::model_download::DEFAULT_ENDPOINT.into()),
            dashboard_listen: o.dashboard_listen.or(file.dashboard_listen),
            notices: NoticeSettings {
                webhook: o.notice_webhook.or(file.notices.webhook),
                command: o.notice_command.or(file.notices.command),
                low_balance,
            },
            dishonest: o.dishonest,
        })
    }

    pub fn contract(&self) -> Result<Address, ConfigError> {
        self.contract.ok_or(ConfigError::Missing("contract"))
    }

    pub fn relay_url(&self) -> Result<&str, ConfigError> {
        self.relay_url
            .as_deref()
            .ok_or(ConfigError::Missing("relay_url"))
    }

    pub fn private_key_file(&self) -> Result<&Path, ConfigError> {
        self.private_key_file
            .as_deref()
            .ok_or(ConfigError::Missing("private_key_file"))
    }

    pub fn stake(&self) -> Result<U256, ConfigError> {
        self.stake.ok_or(ConfigError::Missing("stake"))
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `123` is wei; `0.5eth` / `0.5 eth` is ether.
pub fn parse_stake(text: &str) -> Result<U256, ConfigError> {
    protocol::amount::parse_amount(text).ok_or_else(|| ConfigError::BadStake(text.into()))
}

/// The commented example `node-worker init` writes.
pub const EXAMPLE_CONFIG: &str = r#"# node-worker configuration. Every value can also be given as an environment variable
# (NODE_WORKER_<NAME>, e.g. NODE_WORKER_RPC_URL) or a flag (--rpc-url); flags win over the
# environment, which wins over this file.

# Ethereum JSON-RPC endpoint: the local devnet by default, or Arbitrum Sepolia
# (https://sepolia-rollup.arbitrum.io/rpc, chain id 421614).
rpc_url = "http://127.0.0.1:8547"
# chain_id = 412346          # checked against the endpoint when set

# The task contract (scripts/deploy.sh prints it) and the relay.
# contract = "0x..."
relay_url = "http://127.0.0.1:8548"

# File holding the node's private key as hex. Keep it readable by you only; the key is never
# logged.
private_key_file = "node.key"

# The worker's SQLite record and task results; models in the Hugging Face cache layout.
data_dir = "node-data"
# model_cache_dir = "node-data/models"

# Stake sent with `join`: wei, or ether with an `eth` suffix. At least the contract's minimum.
stake = "0.1eth"

# How often the chain is polled, in milliseconds.
poll_interval_ms = 1000

# Where models are downloaded from when the network asks this node to fetch one (DownloadModel)
# or with `node-worker download-model`. Without network access, install models by hand
# (`node-worker install-model`).
# hub_endpoint = "https://huggingface.co"

# A local web page with the node's state, its task history and the live log, plus Prometheus
# /metrics and /health, on this address (off when absent). Keep it on 127.0.0.1.
# dashboard_listen = "127.0.0.1:8700"

[gpu]
# index = 0                  # which GPU (nvidia-smi numbering)
# Announced when nvidia-smi is not available (a CPU-only machine): name and VRAM in GB.
# name = "NVIDIA GeForce RTX 4090"
# vram_gb = 24

[notices]
# Announce slashes, kick-outs, failed tasks and a low balance: POST them as JSON to a webhook,
# and/or run a command (sh -c) with NOTICE_KIND, NOTICE_MESSAGE and NOTICE_JSON set.
# webhook = "http://127.0.0.1:9000/node-notices"
# command = "notify-send \"$NOTICE_MESSAGE\""
# low_balance = "0.01eth"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_parses_and_flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(EXAMPLE_CONFIG).unwrap();
        let overrides = ConfigOverrides {
            relay_url: Some("http://relay:1".into()),
            ..Default::default()
        };
        let config = Config::resolve(file, overrides).unwrap();
        assert_eq!(config.relay_url().unwrap(), "http://relay:1");
        assert_eq!(config.rpc_url, DEFAULT_RPC_URL);
        assert_eq!(
            config.stake().unwrap(),
            U256::from(100_000_000_000_000_000u64)
        );
        assert_eq!(config.model_cache_dir, PathBuf::from("node-data/models"));
        assert!(matches!(
            config.contract(),
            Err(ConfigError::Missing("contract"))
        ));
    }

    #[test]
    fn refuses_unknown_keys_and_bad_stakes() {
        assert!(toml::from_str::<FileConfig>("rcp_url = \"x\"").is_err());
        assert_eq!(parse_stake("1000").unwrap(), U256::from(1000u64));
        assert!(matches!(parse_stake("ten"), Err(ConfigError::BadStake(_))));
    }
}
