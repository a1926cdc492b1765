//! What the contract's scenario tests ask of a chain, so that the same scenarios run on the
//! native harness and on any other host of the contract (the devnet runs them on the real WASM).

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent};

use crate::{Log, Revert};

pub trait ProtocolChain {
    /// The task contract.
    fn contract(&self) -> Address;
    /// The VRF verifier program the contract is configured with.
    fn verifier(&self) -> Address;
    /// The extension program the contract delegates its views, owner and registry methods to.
    fn extension(&self) -> Address;
    /// Deploys the contract (where that is a separate step) and runs its constructor with
    /// `calldata`, as cargo-stylus's deployer does in the deployment transaction of `deployer`.
    /// Hosts without a deployer call the constructor directly.
    fn construct(&self, deployer: Address, calldata: &[u8]) -> Result<(), Revert> {
        self.send_raw(deployer, U256::ZERO, calldata).map(|_| ())
    }
    fn set_balance(&self, account: Address, wei: U256);
    fn balance(&self, account: Address) -> U256;
    /// Makes `account` refuse the value the contract pushes to it, or accept it again.
    fn reject_payments(&self, account: Address, reject: bool);
    /// Moves the clock on by `seconds`.
    fn advance(&self, seconds: u64);
    /// The timestamp the next transaction runs at.
    fn now(&self) -> u64;
    /// A transaction from `from` paying `value` to the contract: its return data or its revert.
    fn send_raw(&self, from: Address, value: U256, calldata: &[u8]) -> Result<Vec<u8>, Revert>;
    /// A read-only call (eth_call): nothing it does is kept.
    fn view_raw(&self, calldata: &[u8]) -> Result<Vec<u8>, Revert>;
    /// The logs of the last transaction, if it succeeded.
    fn last_logs(&self) -> Vec<Log>;
    /// A digest of the contract's storage and balance, to check that a refused call changed
    /// nothing.
    fn contract_state(&self) -> B256;

    /// A typed transaction.
    fn send<C: SolCall>(&self, from: Address, value: U256, call: C) -> Result<C::Return, Revert> {
        let out = self.send_raw(from, value, &call.abi_encode())?;
        Ok(C::abi_decode_returns_validate(&out).expect("return data decodes"))
    }

    /// The events of type `E` of the last transaction.
    fn events<E: SolEvent>(&self) -> Vec<E> {
        self.last_logs()
            .iter()
            .filter(|l| l.topics.first() == Some(&E::SIGNATURE_HASH))
            .map(|l| E::decode_raw_log(l.topics.iter().copied(), &l.data).expect("event decodes"))
            .collect()
    }

    /// A typed read-only call.
    fn view<C: SolCall>(&self, call: C) -> Result<C::Return, Revert> {
        let out = self.view_raw(&call.abi_encode())?;
        Ok(C::abi_decode_returns_validate(&out).expect("return data decodes"))
    }
}
