//! How Nitro prices a call to an ArbOS precompile (`precompiles/precompile.go`, `Call`;
//! `precompiles/context.go`, `makeContext`), shared by the precompiles written here.

use crate::evm::exec::{CallResult, ExecRef, Message, Outcome};

/// Gas of an ArbOS precompile's view, as Nitro charges it (`precompiles/precompile.go`, `Call`;
/// `precompiles/context.go`, `makeContext`): opening the ArbOS state reads its version (one
/// storage read, `arbos/storage` StorageReadCost = 800), then 3 gas a word of arguments and of
/// the result (`params.CopyGas`).
pub const OPEN_STATE_GAS: u64 = 800;
pub const COPY_GAS: u64 = 3;

pub fn words(bytes: usize) -> u64 {
    bytes.div_ceil(32) as u64
}

/// A precompile view, given its (known) selector and the whole calldata: its output, or its
/// revert data.
pub type View = fn(&ExecRef, [u8; 4], &[u8]) -> Result<Vec<u8>, Vec<u8>>;

/// One read of ArbOS's own storage (`arbos/storage`, `StorageReadCost`).
pub const STORAGE_READ: u64 = 800;

/// An account's code hash read by a precompile (`arbos/storage`, `GetCodeHash`:
/// `StorageCodeHashCost`, the cold account price whether or not the account is warm; the access
/// list is left as it is).
pub const CODE_HASH_READ: u64 = 2_600;

/// Reading the Stylus parameters (`arbos/programs/params.go`, `Params`: one warm read, 100).
pub const PARAMS_READ: u64 = 100;

/// A call to one of an ArbOS precompile's views priced as Nitro prices it. A call without a
/// known selector, or with value, reverts and burns all the gas it was given, as Nitro's
/// precompile dispatch does.
pub fn view_call(exec: &ExecRef, msg: &Message, selectors: &[[u8; 4]], view: View) -> CallResult {
    view_call_reading(exec, msg, selectors, view, |_, _| 0)
}

/// [`view_call`] for views that read ArbOS storage: `reads` tells how many reads the method
/// with that selector makes (in the state it runs on), at 800 gas each.
pub fn view_call_reading(
    exec: &ExecRef,
    msg: &Message,
    selectors: &[[u8; 4]],
    view: View,
    reads: fn(&ExecRef, [u8; 4]) -> u64,
) -> CallResult {
    let price = |exec: &ExecRef, selector: [u8; 4]| STORAGE_READ * reads(exec, selector);
    view_call_priced(exec, msg, selectors, view, &price)
}

/// [`view_call`] for views whose work has a price of its own: `price` gives the gas the method
/// with that selector burns besides opening the state and copying (its reads of ArbOS storage,
/// code hashes).
pub fn view_call_priced(
    exec: &ExecRef,
    msg: &Message,
    selectors: &[[u8; 4]],
    view: View,
    price: &dyn Fn(&ExecRef, [u8; 4]) -> u64,
) -> CallResult {
    let data = &msg.data[..];
    let Some(selector) = selector_of(data).filter(|s| selectors.contains(s)) else {
        return burn_all(msg);
    };
    if !msg.value.is_zero() {
        return burn_all(msg);
    }
    let before = OPEN_STATE_GAS + COPY_GAS * words(data.len() - 4);
    if before > msg.gas {
        return out_of_gas(msg);
    }
    let (outcome, output) = match view(exec, selector, data) {
        Ok(out) => (Outcome::Success, out),
        Err(out) => (Outcome::Revert, out),
    };
    let gas = before + price(exec, selector) + COPY_GAS * words(output.len());
    if gas > msg.gas {
        // The caller cannot pay for the result: a revert with all the gas.
        return burn_all(msg);
    }
    CallResult {
        outcome,
        output,
        gas_used: gas,
    }
}

/// The first four bytes of calldata, if there are four.
pub fn selector_of(data: &[u8]) -> Option<[u8; 4]> {
    data.get(..4).and_then(|s| s.try_into().ok())
}

/// A revert with a Solidity error: Nitro charges its data at 3 gas a word on top of `used`
/// (`precompiles/precompile.go`, `Call`).
pub fn solidity_error(data: Vec<u8>, used: u64) -> CallResult {
    CallResult {
        outcome: Outcome::Revert,
        gas_used: used + COPY_GAS * words(data.len()),
        output: data,
    }
}

pub fn burn_all(msg: &Message) -> CallResult {
    CallResult {
        outcome: Outcome::Revert,
        output: Vec::new(),
        gas_used: msg.gas,
    }
}

pub fn out_of_gas(msg: &Message) -> CallResult {
    CallResult {
        outcome: Outcome::OutOfGas,
        output: Vec::new(),
        gas_used: msg.gas,
    }
}
