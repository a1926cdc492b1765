//! Ownership moves in two steps: the owner names a successor, who must accept. A mistyped
//! address therefore never takes the contract: until it accepts, the old owner stays in charge
//! and may name someone else (or the zero address, to cancel).

use alloy_primitives::Address;
use alloy_sol_types::SolEvent;

use crate::abi::{fail, OwnershipTransferStarted, OwnershipTransferred, Result};
use crate::events::address_word;
use crate::packing::Word;
use crate::store::global;
use crate::{Host, TaskContract};

impl<H: Host> TaskContract<H> {
    pub(crate) fn pending_owner(&self) -> Address {
        self.get_global(global::PENDING_OWNER).address(0)
    }

    fn set_pending_owner(&mut self, account: Address) {
        let mut w = Word::default();
        w.set_address(0, account);
        self.put_global(global::PENDING_OWNER, w);
    }

    pub(crate) fn transfer_ownership_impl(&mut self, new_owner: Address) -> Result<()> {
        let owner = self.owner_config()?.owner;
        self.set_pending_owner(new_owner);
        self.emit(
            &[
                OwnershipTransferStarted::SIGNATURE_HASH.0,
                address_word(&owner),
                address_word(&new_owner),
            ],
            &[],
        );
        Ok(())
    }

    pub(crate) fn accept_ownership_impl(&mut self) -> Result<()> {
        let mut config = self.live_config()?;
        let caller = self.host.sender();
        if caller.is_zero() || caller != self.pending_owner() {
            return fail!(NotPendingOwner);
        }
        let previous = config.owner;
        config.owner = caller;
        self.store_config(&config);
        self.set_pending_owner(Address::ZERO);
        self.emit(
            &[
                OwnershipTransferred::SIGNATURE_HASH.0,
                address_word(&previous),
                address_word(&caller),
            ],
            &[],
        );
        Ok(())
    }
}
