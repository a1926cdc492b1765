//! What the relay checks before it says "ready": the RPC endpoint answers (an outage is waited
//! out with a visible warning), the chain is the expected one, there is a contract at the address,
//! and the contract's relay is the account whose key this relay holds. Anything else would make
//! every report revert later, far from its cause.

use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::{ITaskContractErrors, ITaskContractInstance};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartupError {
    #[error("{url} is chain {actual}, not the expected chain {expected}")]
    WrongChain {
        url: String,
        expected: u64,
        actual: u64,
    },
    #[error("there is no contract at {contract} on chain {chain_id} ({url})")]
    NoContract {
        contract: Address,
        chain_id: u64,
        url: String,
    },
    #[error("the contract at {contract} is not constructed yet (its deployment did not finish)")]
    NotConstructed { contract: Address },
    #[error("{contract} does not answer getConfig as the task contract does: {reason}")]
    NotTaskContract { contract: Address, reason: String },
    #[error(
        "the contract's relay is {configured}, but the relay key holds {ours}: use the key of \
         {configured}, or have the owner call setConfig with {ours}"
    )]
    WrongRelay { configured: Address, ours: Address },
}

/// Checks the chain and the contract; returns the chain id. While the endpoint does not answer,
/// prints a warning to stderr every `retry` and tries again.
pub async fn check(
    contract: &ITaskContractInstance<DynProvider>,
    url: &str,
    ours: Address,
    expected_chain: Option<u64>,
    retry: Duration,
) -> Result<u64, StartupError> {
    let provider = contract.provider();
    let mut attempt = 0u32;
    let chain_id = loop {
        match provider.get_chain_id().await {
            Ok(id) => break id,
            Err(e) => {
                attempt += 1;
                eprintln!(
                    "warning: the RPC endpoint {url} does not answer ({e}); retrying every {} s \
                     (attempt {attempt})",
                    retry.as_secs_f64()
                );
                tokio::time::sleep(retry).await;
            }
        }
    };
    if let Some(expected) = expected_chain {
        if expected != chain_id {
            return Err(StartupError::WrongChain {
                url: url.to_string(),
                expected,
                actual: chain_id,
            });
        }
    }
    let address = *contract.address();
    let code = loop {
        match provider.get_code_at(address).await {
            Ok(code) => break code,
            Err(e) => {
                eprintln!("warning: reading the contract's code from {url} failed ({e}); retrying");
                tokio::time::sleep(retry).await;
            }
        }
    };
    if code.is_empty() {
        return Err(StartupError::NoContract {
            contract: address,
            chain_id,
            url: url.to_string(),
        });
    }
    let config = match contract.getConfig().call().await {
        Ok(config) => config,
        Err(e) => {
            return Err(
                match e.as_decoded_interface_error::<ITaskContractErrors>() {
                    Some(ITaskContractErrors::NotInitialized(_)) => {
                        StartupError::NotConstructed { contract: address }
                    }
                    _ => StartupError::NotTaskContract {
                        contract: address,
                        reason: e.to_string(),
                    },
                },
            )
        }
    };
    if config.relay != ours {
        return Err(StartupError::WrongRelay {
            configured: config.relay,
            ours,
        });
    }
    Ok(chain_id)
}
