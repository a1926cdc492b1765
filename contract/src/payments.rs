//! Payouts are pushed; a payout the recipient refuses (or that runs out of its gas allowance) is
//! credited instead and taken later with `withdraw()`. Ether never sticks: the contract's balance
//! always equals escrowed fees + stakes + credits.

use alloy_primitives::{Address, U256};
use alloy_sol_types::SolEvent;

use crate::abi::{fail, CreditWithdrawn, PaymentCredited, PaymentSent, Result};
use crate::packing::Word;
use crate::store::{ns, slot};
use crate::{Host, TaskContract};

/// Gas a pushed payout may spend in the recipient (on top of the 2,300 stipend): enough for a
/// smart-contract wallet's receive hook, too little for a recipient to grief the caller.
pub const PAYMENT_GAS: u64 = 30_000;

impl<H: Host> TaskContract<H> {
    pub(crate) fn credit(&self, account: &Address) -> U256 {
        U256::from_be_bytes(self.get(slot(ns::CREDIT, account.as_slice())).0)
    }

    fn set_credit(&mut self, account: &Address, amount: U256) {
        self.put(
            slot(ns::CREDIT, account.as_slice()),
            Word(amount.to_be_bytes()),
        )
    }

    pub(crate) fn pay(&mut self, to: Address, amount: u128) {
        if amount == 0 {
            return;
        }
        let value = U256::from(amount);
        if self.host.send_value(&to, &value, Some(PAYMENT_GAS)) {
            self.emit_amount(PaymentSent::SIGNATURE_HASH, &to, value);
        } else {
            let credit = self.credit(&to) + value;
            self.set_credit(&to, credit);
            self.emit_amount(PaymentCredited::SIGNATURE_HASH, &to, value);
        }
    }
    pub(crate) fn withdraw_impl(&mut self) -> Result<()> {
        let to = self.host.sender();
        let amount = self.credit(&to);
        if amount.is_zero() {
            return fail!(NothingToWithdraw);
        }
        self.set_credit(&to, U256::ZERO);
        // The caller asked for its money: it gets all the gas, and a failure reverts (keeping
        // the credit).
        if !self.host.send_value(&to, &amount, None) {
            return fail!(TransferFailed);
        }
        self.emit_amount(CreditWithdrawn::SIGNATURE_HASH, &to, amount);
        Ok(())
    }
}
