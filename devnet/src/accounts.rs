//! The ten development accounts of the mnemonic anvil and Hardhat use, so Foundry users
//! recognise the keys.

use alloy::primitives::{Address, U256};
use alloy::signers::local::{coins_bip39::English, MnemonicBuilder, PrivateKeySigner};

pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";
pub const DEV_ACCOUNTS: u32 = 10;

/// Every development account starts with 10,000 ETH.
pub fn dev_balance() -> U256 {
    U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18))
}

pub fn dev_signers() -> anyhow::Result<Vec<PrivateKeySigner>> {
    (0..DEV_ACCOUNTS)
        .map(|i| {
            Ok(MnemonicBuilder::<English>::default()
                .phrase(DEV_MNEMONIC)
                .index(i)?
                .build()?)
        })
        .collect()
}

pub fn dev_addresses() -> anyhow::Result<Vec<Address>> {
    Ok(dev_signers()?.iter().map(|s| s.address()).collect())
}
