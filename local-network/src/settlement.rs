//! The settlement table printed at the end: what each account deposited (fees, stakes), received
//! (payments, refunds, returned stakes), lost to slashing, and its balance change including gas;
//! plus the contract's balance.

use std::collections::BTreeMap;

use alloy::primitives::utils::format_ether;
use alloy::primitives::{Address, I256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use anyhow::Result;
use protocol::bindings::ITaskContract;

pub struct Account {
    pub name: String,
    pub role: String,
    pub address: Address,
    pub balance_before: U256,
    /// Fees of the tasks it created (applications).
    pub fees: U256,
}

fn signed(v: U256) -> I256 {
    I256::from_raw(v)
}

fn eth(v: I256) -> String {
    let text = format_ether(v.unsigned_abs());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if v.is_negative() {
        format!("-{text}")
    } else {
        text.to_string()
    }
}

/// Prints the table for `accounts` from the contract's payment, stake and slashing events.
pub async fn print_table(
    provider: &DynProvider,
    contract: Address,
    accounts: &[Account],
) -> Result<()> {
    let logs = provider
        .get_logs(&Filter::new().address(contract).from_block(0))
        .await?;
    let mut received: BTreeMap<Address, U256> = BTreeMap::new();
    let mut staked: BTreeMap<Address, U256> = BTreeMap::new();
    let mut slashed: BTreeMap<Address, bool> = BTreeMap::new();
    for log in &logs {
        if let Ok(e) = log.log_decode::<ITaskContract::PaymentSent>() {
            *received.entry(e.inner.to).or_default() += e.inner.amount;
        } else if let Ok(e) = log.log_decode::<ITaskContract::PaymentCredited>() {
            *received.entry(e.inner.to).or_default() += e.inner.amount;
        } else if let Ok(e) = log.log_decode::<ITaskContract::NodeJoined>() {
            *staked.entry(e.inner.nodeAddress).or_default() += e.inner.stake;
        } else if log.topics().first() == Some(&ITaskContract::NodeSlashed::SIGNATURE_HASH) {
            if let Some(topic) = log.topics().get(1) {
                slashed.insert(Address::from_word(*topic), true);
            }
        }
    }
    println!();
    println!("settlement (ETH; net = received - paid in; gas = what the account's own transactions cost)");
    println!(
        "{:<9} {:<24} {:>10} {:>6} {:>22} {:>22} {:>22} {:>22}",
        "account", "role", "fees paid", "staked", "received", "net", "gas", "balance change"
    );
    for a in accounts {
        let stake = staked.get(&a.address).copied().unwrap_or_default();
        let got = received.get(&a.address).copied().unwrap_or_default();
        let net = signed(got) - signed(a.fees) - signed(stake);
        let after = provider.get_balance(a.address).await?;
        let change = signed(after) - signed(a.balance_before);
        let gas = net - change;
        let role = if slashed.contains_key(&a.address) {
            format!("{} (SLASHED)", a.role)
        } else {
            a.role.clone()
        };
        println!(
            "{:<9} {:<24} {:>10} {:>6} {:>22} {:>22} {:>22} {:>22}",
            a.name,
            role,
            eth(signed(a.fees)),
            eth(signed(stake)),
            eth(signed(got)),
            eth(net),
            eth(gas),
            eth(change)
        );
    }
    let held = provider.get_balance(contract).await?;
    println!(
        "contract {contract} holds {} ETH (escrowed fees + stakes + credits)",
        eth(signed(held))
    );
    Ok(())
}
