//! The Stylus host interface (`vm_hooks`) with Nitro's semantics and prices: each hostio charges
//! its base ink plus the EVM gas of what it does, out of the ink left in the instrumented
//! program's `stylus_ink_left` global (`instrument.rs`), as Nitro's hostios do.

use std::collections::HashMap;

use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use wasmtime::{bail, format_err as anyhow, Result};
use wasmtime::{Caller, Extern, Global, Linker, Val};

use crate::evm::exec::{self, ExecRef, Message};
use crate::evm::state::Log;
use crate::gas;

/// A program's call frame: what its hostios read and write.
pub struct Frame {
    pub exec: ExecRef,
    pub msg: Message,
    pub reentrant: bool,
    /// Set by write_result.
    pub result: Vec<u8>,
    /// Return data of the last call this frame made.
    pub return_data: Vec<u8>,
    /// Stylus storage cache: slot -> (value, dirty).
    cache: HashMap<B256, (B256, bool)>,
    cache_reads: usize,
    cache_writes: usize,
    transient: HashMap<B256, B256>,
    pub out_of_gas: bool,
    pub exit_status: Option<u32>,
    /// The instrumented program's ink globals, set once it is instantiated.
    pub meter: Option<Meter>,
}

/// The globals through which a program and its host share the ink left (`meter.rs`,
/// `MeteredMachine`): a status other than 0 means the ink ran out.
#[derive(Clone, Copy)]
pub struct Meter {
    pub ink: Global,
    pub status: Global,
}

impl Frame {
    pub fn new(exec: ExecRef, msg: Message, reentrant: bool) -> Frame {
        Frame {
            exec,
            msg,
            reentrant,
            result: Vec::new(),
            return_data: Vec::new(),
            cache: HashMap::new(),
            cache_reads: 0,
            cache_writes: 0,
            transient: HashMap::new(),
            out_of_gas: false,
            exit_status: None,
            meter: None,
        }
    }
}

type C<'a> = Caller<'a, Frame>;

fn meter(c: &C<'_>) -> Result<Meter> {
    c.data()
        .meter
        .ok_or_else(|| anyhow!("the program is not instrumented"))
}

/// The ink left; an exhausted meter is out of gas (`MeteredMachine::ink_ready`).
fn ink_left(c: &mut C<'_>) -> Result<u64> {
    let m = meter(c)?;
    if m.status.get(&mut *c).i32() != Some(0) {
        return out_of_ink(c);
    }
    Ok(m.ink.get(&mut *c).i64().unwrap_or(0) as u64)
}

fn set_ink(c: &mut C<'_>, ink: u64) -> Result<()> {
    let m = meter(c)?;
    m.ink.set(&mut *c, Val::I64(ink as i64))
}

/// `MeteredMachine::out_of_ink`: the meter is marked exhausted and the program stops.
fn out_of_ink<T>(c: &mut C<'_>) -> Result<T> {
    let m = meter(c)?;
    m.ink.set(&mut *c, Val::I64(0))?;
    m.status.set(&mut *c, Val::I32(1))?;
    c.data_mut().out_of_gas = true;
    bail!("out of ink")
}

/// Charges ink (`MeteredMachine::buy_ink`); running short stops the program out of gas.
fn charge_ink(c: &mut C<'_>, ink: u64) -> Result<()> {
    let left = ink_left(c)?;
    if ink > left {
        return out_of_ink(c);
    }
    set_ink(c, left - ink)
}

fn charge_gas(c: &mut C<'_>, gas_amount: u64) -> Result<()> {
    charge_ink(c, gas_amount.saturating_mul(gas::INK_PER_GAS))
}

/// Gives back gas charged ahead (a call's unused grant).
fn refund_gas(c: &mut C<'_>, gas_amount: u64) -> Result<()> {
    let left = ink_left(c)?;
    set_ink(
        c,
        left.saturating_add(gas_amount.saturating_mul(gas::INK_PER_GAS)),
    )
}

/// `GasMeteredMachine::gas_left`: the ink left in whole gas, rounded down.
fn gas_left(c: &mut C<'_>) -> Result<u64> {
    Ok(ink_left(c)? / gas::INK_PER_GAS)
}

fn memory(c: &mut C<'_>) -> Result<wasmtime::Memory> {
    match c.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => bail!("program has no memory export"),
    }
}

fn read(c: &mut C<'_>, ptr: i32, len: usize) -> Result<Vec<u8>> {
    let m = memory(c)?;
    let start = ptr as u32 as usize;
    m.data(&c)
        .get(
            start
                ..start
                    .checked_add(len)
                    .ok_or_else(|| anyhow!("pointer overflow"))?,
        )
        .map(<[u8]>::to_vec)
        .ok_or_else(|| anyhow!("memory access out of bounds"))
}

fn read32(c: &mut C<'_>, ptr: i32) -> Result<[u8; 32]> {
    let v = read(c, ptr, 32)?;
    Ok(v.try_into().expect("read 32 bytes"))
}

fn read_address(c: &mut C<'_>, ptr: i32) -> Result<Address> {
    Ok(Address::from_slice(&read(c, ptr, 20)?))
}

fn write(c: &mut C<'_>, ptr: i32, bytes: &[u8]) -> Result<()> {
    let m = memory(c)?;
    let start = ptr as u32 as usize;
    m.data_mut(&mut *c)
        .get_mut(start..start + bytes.len())
        .ok_or_else(|| anyhow!("memory access out of bounds"))?
        .copy_from_slice(bytes);
    Ok(())
}

fn write_u32(c: &mut C<'_>, ptr: i32, v: u32) -> Result<()> {
    write(c, ptr, &v.to_le_bytes())
}

/// Persists the frame's dirty cached slots (`storage_flush_cache`).
fn flush(frame: &Frame) {
    let mut e = frame.exec.borrow_mut();
    for (slot, (value, dirty)) in &frame.cache {
        if *dirty {
            e.state.set_storage(frame.msg.to, *slot, *value);
        }
    }
}

/// SSTORE gas of flushing the dirty slots.
fn flush_gas(c: &mut C<'_>) -> u64 {
    let frame = c.data();
    let to = frame.msg.to;
    let dirty: Vec<(B256, B256)> = frame
        .cache
        .iter()
        .filter(|(_, (_, d))| *d)
        .map(|(k, (v, _))| (*k, *v))
        .collect();
    let mut e = frame.exec.borrow_mut();
    let mut total = 0;
    for (slot, value) in dirty {
        let current = e.state.storage(&to, &slot);
        let original = e.state.original_storage(&to, &slot);
        let cold = e.state.touch_slot(to, slot);
        let (g, refund) = gas::sstore(&original.0, &current.0, &value.0, cold);
        e.state.adjust_refund(refund);
        total += g;
    }
    total
}

#[allow(clippy::too_many_arguments)] // one per hostio argument
fn do_call(
    c: &mut C<'_>,
    kind: CallKind,
    to: i32,
    data: i32,
    len: i32,
    value: Option<i32>,
    gas_req: i64,
    ret_len: i32,
) -> Result<i32> {
    let len = len as u32 as usize;
    charge_ink(c, gas::CALL_BASE_INK + 2 * gas::read_ink(len))?;
    let to = read_address(c, to)?;
    let calldata = read(c, data, len)?;
    let value = match value {
        Some(p) => U256::from_be_bytes(read32(c, p)?),
        None => U256::ZERO,
    };
    let frame_msg = c.data().msg.clone();
    if frame_msg.is_static && !value.is_zero() {
        bail!("value transfer in a static context");
    }
    // WasmCallCost: warm/cold access, value transfer, new account.
    let (cold, empty) = {
        let mut e = c.data().exec.borrow_mut();
        let cold = e.state.touch_account(to);
        let empty = e
            .state
            .account(&to)
            .is_none_or(|a| a.balance.is_zero() && a.nonce == 0 && a.code.is_empty());
        (cold, empty)
    };
    let mut cost = if cold { gas::COLD_ACCOUNT } else { gas::WARM };
    if !value.is_zero() {
        cost += gas::CALL_VALUE;
        if empty {
            cost += gas::CALL_NEW_ACCOUNT;
        }
    }
    charge_gas(c, cost)?;
    // The 63/64 rule as Nitro applies it to Stylus calls (`arbos/programs/api.go`, doCall:
    // (gas left - base cost) x 63 / 64), and the stipend a value transfer adds on top. The caller
    // then pays the base cost plus all the gas the callee used, stipend included: unlike an EVM
    // CALL, an unused stipend is not a gain.
    let available = gas_left(c)?;
    let granted = (available * 63 / 64).min(gas_req as u64);
    charge_gas(c, granted)?;
    let callee_gas = if value.is_zero() {
        granted
    } else {
        granted + gas::CALL_STIPEND
    };
    let msg = match kind {
        CallKind::Call => Message {
            caller: frame_msg.to,
            to,
            code_address: to,
            value,
            data: Bytes::from(calldata),
            gas: callee_gas,
            is_static: frame_msg.is_static,
            transfers_value: true,
        },
        CallKind::Static => Message {
            caller: frame_msg.to,
            to,
            code_address: to,
            value: U256::ZERO,
            data: Bytes::from(calldata),
            gas: callee_gas,
            is_static: true,
            transfers_value: false,
        },
        CallKind::Delegate => Message {
            caller: frame_msg.caller,
            to: frame_msg.to,
            code_address: to,
            value: frame_msg.value,
            data: Bytes::from(calldata),
            gas: callee_gas,
            is_static: frame_msg.is_static,
            transfers_value: false,
        },
    };
    let exec = c.data().exec.clone();
    let traced = match kind {
        CallKind::Call => "evm_call_contract",
        CallKind::Static => "evm_static_call_contract",
        CallKind::Delegate => "evm_delegate_call_contract",
    };
    enter_traced(&exec, traced, to);
    let result = exec::call(&exec, msg);
    exit_traced(&exec);
    // What was charged up front (`granted`) against what the callee used: the rest comes back,
    // and gas it used from the stipend is charged now.
    let used = result.gas_used.min(callee_gas);
    if used <= granted {
        refund_gas(c, granted - used)?;
    } else {
        charge_gas(c, used - granted)?;
    }
    let status = if result.ok() { 0 } else { 1 };
    write_u32(c, ret_len, result.output.len() as u32)?;
    c.data_mut().return_data = result.output;
    Ok(status)
}

/// A traced transaction's program enters a frame (geth's `OnEnter` at depth > 0).
fn enter_traced(exec: &ExecRef, name: &'static str, to: Address) {
    if let Some(t) = exec.borrow_mut().tracer.as_mut() {
        t.enter(name, to);
    }
}

fn exit_traced(exec: &ExecRef) {
    if let Some(t) = exec.borrow_mut().tracer.as_mut() {
        t.exit();
    }
}

#[derive(Clone, Copy)]
enum CallKind {
    Call,
    Static,
    Delegate,
}

fn do_create(
    c: &mut C<'_>,
    code: i32,
    len: i32,
    endowment: i32,
    salt: Option<i32>,
    out: i32,
    revert_len: i32,
) -> Result<()> {
    let len = len as u32 as usize;
    charge_ink(
        c,
        if salt.is_some() { 88_233 } else { 83_193 } + 2 * gas::read_ink(len),
    )?;
    if c.data().msg.is_static {
        bail!("create in a static context");
    }
    let init = read(c, code, len)?;
    let value = U256::from_be_bytes(read32(c, endowment)?);
    let salt = match salt {
        Some(p) => Some(B256::new(read32(c, p)?)),
        None => None,
    };
    let me = c.data().msg.to;
    let exec = c.data().exec.clone();
    let address = {
        let mut e = exec.borrow_mut();
        let nonce = e.state.nonce(&me);
        e.state.update(me, |a| a.nonce += 1);
        match salt {
            Some(s) => me.create2(s, keccak256(&init)),
            None => me.create(nonce),
        }
    };
    charge_gas(c, gas::TX_CREATE)?;
    let available = gas_left(c)?;
    let budget = available - available / 64;
    charge_gas(c, budget)?;
    let traced = if salt.is_some() {
        "evm_create2"
    } else {
        "evm_create1"
    };
    enter_traced(&exec, traced, address);
    let (result, used) = exec::create(&exec, me, address, &init, value, budget);
    exit_traced(&exec);
    refund_gas(c, budget.saturating_sub(used))?;
    match result {
        Ok(a) => {
            write(c, out, a.as_slice())?;
            write_u32(c, revert_len, 0)?;
            c.data_mut().return_data = Vec::new();
        }
        Err(data) => {
            write(c, out, Address::ZERO.as_slice())?;
            write_u32(c, revert_len, data.len() as u32)?;
            c.data_mut().return_data = data;
        }
    }
    Ok(())
}

/// Binary 256-bit operations of the math hostios.
fn math2(c: &mut C<'_>, a: i32, b: i32, ink: u64, f: fn(U256, U256) -> U256) -> Result<()> {
    charge_ink(c, ink)?;
    let x = U256::from_be_bytes(read32(c, a)?);
    let y = U256::from_be_bytes(read32(c, b)?);
    write(c, a, &f(x, y).to_be_bytes::<32>())
}

fn math3(c: &mut C<'_>, a: i32, b: i32, m: i32, ink: u64, mul: bool) -> Result<()> {
    charge_ink(c, ink)?;
    let x = U256::from_be_bytes(read32(c, a)?);
    let y = U256::from_be_bytes(read32(c, b)?);
    let z = U256::from_be_bytes(read32(c, m)?);
    let r = if z.is_zero() {
        U256::ZERO
    } else if mul {
        x.mul_mod(y, z)
    } else {
        x.add_mod(y, z)
    };
    write(c, a, &r.to_be_bytes::<32>())
}

fn write_word_hostio(c: &mut C<'_>, dest: i32, word: [u8; 32]) -> Result<()> {
    charge_ink(c, gas::HOSTIO_INK + gas::PTR_INK)?;
    write(c, dest, &word)
}

fn write_address_hostio(c: &mut C<'_>, dest: i32, a: Address) -> Result<()> {
    charge_ink(c, gas::HOSTIO_INK + gas::PTR_INK)?;
    write(c, dest, a.as_slice())
}

/// The ink left as the meter holds it, when the transaction is traced (Nitro's `start_ink`).
fn trace_start(c: &mut C<'_>) -> Option<u64> {
    let traced = c.data().exec.borrow().tracer.is_some();
    let m = c.data().meter.filter(|_| traced)?;
    m.ink.get(&mut *c).i64().map(|ink| ink as u64)
}

/// Records a hostio that succeeded (Nitro's `trace!`, at the end of each hostio).
fn trace_end(c: &mut C<'_>, name: &'static str, start: Option<u64>) {
    let Some(start) = start else { return };
    let Some(m) = c.data().meter else { return };
    let end = m.ink.get(&mut *c).i64().unwrap_or(0) as u64;
    if let Some(t) = c.data().exec.borrow_mut().tracer.as_mut() {
        t.capture(name, Vec::new(), Vec::new(), start, end);
    }
}

/// Defines a `vm_hooks` function whose calls a traced transaction records with the ink left
/// before and after. `exit_early` is recorded though it stops the program, as on Nitro.
macro_rules! hostio {
    ($l:ident, $name:literal, |mut $c:ident: C<'_> $(, $a:ident: $t:ty)*| -> $r:ty $body:block) => {
        $l.func_wrap("vm_hooks", $name, |mut $c: C<'_> $(, $a: $t)*| -> $r {
            let start = trace_start(&mut $c);
            #[allow(clippy::redundant_closure_call)]
            let out = (|| -> $r { $body })();
            if out.is_ok() || $c.data().exit_status.is_some() {
                trace_end(&mut $c, $name, start);
            }
            out
        })?;
    };
    ($l:ident, $name:literal, |mut $c:ident: C<'_> $(, $a:ident: $t:ty)*| $body:block) => {
        hostio!($l, $name, |mut $c: C<'_> $(, $a: $t)*| -> Result<()> $body)
    };
}

/// The linker with every `vm_hooks` function.
pub fn linker(engine: &wasmtime::Engine) -> Result<Linker<Frame>> {
    let mut l = Linker::new(engine);
    hostio!(l, "read_args", |mut c: C<'_>, dest: i32| {
        let args = c.data().msg.data.clone();
        charge_ink(&mut c, gas::HOSTIO_INK + gas::write_ink(args.len()))?;
        write(&mut c, dest, &args)
    });
    hostio!(l, "write_result", |mut c: C<'_>, ptr: i32, len: i32| {
        let len = len as u32 as usize;
        charge_ink(&mut c, gas::HOSTIO_INK + 2 * gas::read_ink(len))?;
        let data = read(&mut c, ptr, len)?;
        c.data_mut().result = data;
        Ok(())
    });
    hostio!(l, "exit_early", |mut c: C<'_>, status: i32| -> Result<()> {
        c.data_mut().exit_status = Some(status as u32);
        bail!("exit_early({status})")
    });
    hostio!(
        l,
        "storage_load_bytes32",
        |mut c: C<'_>, key: i32, dest: i32| {
            charge_ink(&mut c, gas::SLOAD_BASE_INK)?;
            let slot = B256::new(read32(&mut c, key)?);
            let reads = c.data().cache_reads;
            c.data_mut().cache_reads += 1;
            let cached = c.data().cache.get(&slot).map(|(v, _)| *v);
            let value = match cached {
                Some(v) => {
                    charge_gas(&mut c, gas::cache_read_gas(reads))?;
                    v
                }
                None => {
                    let (value, cold) = {
                        let f = c.data();
                        let mut e = f.exec.borrow_mut();
                        let to = f.msg.to;
                        (e.state.storage(&to, &slot), e.state.touch_slot(to, slot))
                    };
                    let access = if cold { gas::COLD_SLOAD } else { gas::WARM };
                    charge_gas(
                        &mut c,
                        gas::cache_read_gas(reads) + access + gas::EVM_API_GAS,
                    )?;
                    c.data_mut().cache.insert(slot, (value, false));
                    value
                }
            };
            write(&mut c, dest, value.as_slice())
        }
    );
    hostio!(
        l,
        "storage_cache_bytes32",
        |mut c: C<'_>, key: i32, value: i32| {
            charge_ink(&mut c, gas::SSTORE_BASE_INK)?;
            if gas_left(&mut c)? < gas::SSTORE_SENTRY + 10 {
                c.data_mut().out_of_gas = true;
                bail!("out of gas: SSTORE needs the sentry");
            }
            if c.data().msg.is_static {
                bail!("storage write in a static context");
            }
            let slot = B256::new(read32(&mut c, key)?);
            let value = B256::new(read32(&mut c, value)?);
            let writes = c.data().cache_writes;
            c.data_mut().cache_writes += 1;
            charge_gas(&mut c, gas::cache_write_gas(writes))?;
            c.data_mut().cache.insert(slot, (value, true));
            Ok(())
        }
    );
    hostio!(l, "storage_flush_cache", |mut c: C<'_>, clear: i32| {
        charge_ink(&mut c, gas::FLUSH_BASE_INK)?;
        if gas_left(&mut c)? < gas::SSTORE_SENTRY {
            c.data_mut().out_of_gas = true;
            bail!("out of gas: flush needs the sentry");
        }
        let cost = flush_gas(&mut c);
        charge_gas(&mut c, cost)?;
        flush(c.data());
        let f = c.data_mut();
        if clear != 0 {
            f.cache.clear();
        } else {
            for entry in f.cache.values_mut() {
                entry.1 = false;
            }
        }
        Ok(())
    });
    hostio!(
        l,
        "transient_load_bytes32",
        |mut c: C<'_>, key: i32, dest: i32| {
            charge_ink(&mut c, 78_153)?;
            charge_gas(&mut c, gas::WARM)?;
            let slot = B256::new(read32(&mut c, key)?);
            let v = c.data().transient.get(&slot).copied().unwrap_or_default();
            write(&mut c, dest, v.as_slice())
        }
    );
    hostio!(
        l,
        "transient_store_bytes32",
        |mut c: C<'_>, key: i32, value: i32| {
            charge_ink(&mut c, 78_153)?;
            charge_gas(&mut c, gas::WARM)?;
            let slot = B256::new(read32(&mut c, key)?);
            let v = B256::new(read32(&mut c, value)?);
            c.data_mut().transient.insert(slot, v);
            Ok(())
        }
    );
    hostio!(l, "call_contract", |mut c: C<'_>,
                                 to: i32,
                                 data: i32,
                                 len: i32,
                                 value: i32,
                                 gas: i64,
                                 ret: i32|
     -> Result<i32> {
        do_call(&mut c, CallKind::Call, to, data, len, Some(value), gas, ret)
    });
    hostio!(l, "delegate_call_contract", |mut c: C<'_>,
                                          to: i32,
                                          data: i32,
                                          len: i32,
                                          gas: i64,
                                          ret: i32|
     -> Result<i32> {
        do_call(&mut c, CallKind::Delegate, to, data, len, None, gas, ret)
    });
    hostio!(l, "static_call_contract", |mut c: C<'_>,
                                        to: i32,
                                        data: i32,
                                        len: i32,
                                        gas: i64,
                                        ret: i32|
     -> Result<i32> {
        do_call(&mut c, CallKind::Static, to, data, len, None, gas, ret)
    });
    hostio!(l, "create1", |mut c: C<'_>,
                           code: i32,
                           len: i32,
                           endowment: i32,
                           out: i32,
                           revert_len: i32| {
        do_create(&mut c, code, len, endowment, None, out, revert_len)
    });
    hostio!(l, "create2", |mut c: C<'_>,
                           code: i32,
                           len: i32,
                           endowment: i32,
                           salt: i32,
                           out: i32,
                           revert_len: i32| {
        do_create(&mut c, code, len, endowment, Some(salt), out, revert_len)
    });
    hostio!(l, "read_return_data", |mut c: C<'_>,
                                    dest: i32,
                                    offset: i32,
                                    size: i32|
     -> Result<i32> {
        let data = c.data().return_data.clone();
        let start = (offset as u32 as usize).min(data.len());
        let end = start.saturating_add(size as u32 as usize).min(data.len());
        charge_ink(
            &mut c,
            gas::READ_RETURN_BASE_INK + gas::write_ink(end - start),
        )?;
        write(&mut c, dest, &data[start..end])?;
        Ok((end - start) as i32)
    });
    hostio!(l, "return_data_size", |mut c: C<'_>| -> Result<i32> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(c.data().return_data.len() as i32)
    });
    hostio!(l, "emit_log", |mut c: C<'_>,
                            data: i32,
                            len: i32,
                            topics: i32| {
        let len = len as u32 as usize;
        let topics = topics as u32 as usize;
        charge_ink(&mut c, gas::EMIT_LOG_BASE_INK + gas::read_ink(len))?;
        if topics > 4 || len < topics * 32 {
            bail!("emit_log: bad topic count");
        }
        if c.data().msg.is_static {
            bail!("log in a static context");
        }
        charge_gas(
            &mut c,
            gas::LOG_BASE
                + gas::LOG_TOPIC * topics as u64
                + gas::LOG_DATA * (len - topics * 32) as u64,
        )?;
        let bytes = read(&mut c, data, len)?;
        let (t, d) = bytes.split_at(topics * 32);
        let log = Log {
            address: c.data().msg.to,
            topics: t.chunks(32).map(B256::from_slice).collect(),
            data: Bytes::copy_from_slice(d),
        };
        c.data().exec.borrow_mut().state.push_log(log);
        Ok(())
    });
    hostio!(
        l,
        "account_balance",
        |mut c: C<'_>, addr: i32, dest: i32| {
            charge_ink(&mut c, gas::BALANCE_BASE_INK)?;
            let a = read_address(&mut c, addr)?;
            let (balance, cold) = {
                let mut e = c.data().exec.borrow_mut();
                (e.state.balance(&a), e.state.touch_account(a))
            };
            charge_gas(&mut c, if cold { gas::COLD_ACCOUNT } else { gas::WARM })?;
            write(&mut c, dest, &balance.to_be_bytes::<32>())
        }
    );
    hostio!(l, "account_code", |mut c: C<'_>,
                                addr: i32,
                                offset: i32,
                                size: i32,
                                dest: i32|
     -> Result<i32> {
        charge_ink(&mut c, 68_073)?;
        let a = read_address(&mut c, addr)?;
        let (code, cold) = {
            let mut e = c.data().exec.borrow_mut();
            (e.state.code(&a), e.state.touch_account(a))
        };
        let access = if cold { gas::COLD_ACCOUNT } else { gas::WARM };
        charge_gas(&mut c, gas::EXTCODE_GAS + access)?;
        let start = (offset as u32 as usize).min(code.len());
        let end = start.saturating_add(size as u32 as usize).min(code.len());
        charge_ink(&mut c, gas::write_ink(end - start))?;
        write(&mut c, dest, &code[start..end])?;
        Ok((end - start) as i32)
    });
    hostio!(l, "account_code_size", |mut c: C<'_>,
                                     addr: i32|
     -> Result<i32> {
        charge_ink(&mut c, 68_073)?;
        let a = read_address(&mut c, addr)?;
        let (len, cold) = {
            let mut e = c.data().exec.borrow_mut();
            (e.state.code(&a).len(), e.state.touch_account(a))
        };
        let access = if cold { gas::COLD_ACCOUNT } else { gas::WARM };
        charge_gas(&mut c, gas::EXTCODE_GAS + access)?;
        Ok(len as i32)
    });
    hostio!(
        l,
        "account_codehash",
        |mut c: C<'_>, addr: i32, dest: i32| {
            charge_ink(&mut c, 78_153)?;
            let a = read_address(&mut c, addr)?;
            let (hash, cold) = {
                let mut e = c.data().exec.borrow_mut();
                let hash = match e.state.account(&a) {
                    None => B256::ZERO,
                    Some(acc) => keccak256(&acc.code),
                };
                (hash, e.state.touch_account(a))
            };
            charge_gas(&mut c, if cold { gas::COLD_ACCOUNT } else { gas::WARM })?;
            write(&mut c, dest, hash.as_slice())
        }
    );
    hostio!(l, "evm_gas_left", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(gas_left(&mut c)? as i64)
    });
    hostio!(l, "evm_ink_left", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(ink_left(&mut c)? as i64)
    });
    hostio!(l, "block_basefee", |mut c: C<'_>, dest: i32| {
        let v = c.data().exec.borrow().block.basefee.to_be_bytes::<32>();
        write_word_hostio(&mut c, dest, v)
    });
    hostio!(l, "chainid", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(c.data().exec.borrow().block.chain_id as i64)
    });
    hostio!(l, "block_coinbase", |mut c: C<'_>, dest: i32| {
        let a = c.data().exec.borrow().block.coinbase;
        write_address_hostio(&mut c, dest, a)
    });
    hostio!(l, "block_gas_limit", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(c.data().exec.borrow().block.gas_limit as i64)
    });
    hostio!(l, "block_number", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        // Arbitrum's programs get the L1 block number (`arbos/programs/programs.go`).
        Ok(c.data().exec.borrow().block.l1_block_number as i64)
    });
    hostio!(l, "block_timestamp", |mut c: C<'_>| -> Result<i64> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(c.data().exec.borrow().block.timestamp as i64)
    });
    hostio!(l, "contract_address", |mut c: C<'_>, dest: i32| {
        let a = c.data().msg.to;
        write_address_hostio(&mut c, dest, a)
    });
    hostio!(l, "math_div", |mut c: C<'_>, a: i32, b: i32| {
        math2(&mut c, a, b, 43_520, |x, y| {
            x.checked_div(y).unwrap_or_default()
        })
    });
    hostio!(l, "math_mod", |mut c: C<'_>, a: i32, b: i32| {
        math2(&mut c, a, b, 43_520, |x, y| {
            x.checked_rem(y).unwrap_or_default()
        })
    });
    hostio!(l, "math_pow", |mut c: C<'_>, a: i32, b: i32| {
        let e = U256::from_be_bytes(read32(&mut c, b)?);
        let bytes = e.byte_len() as u64;
        // `pricing.rs`, `pow_price`: 33 less the exponent's leading zero bytes, 17,500 each.
        charge_ink(&mut c, 3_000 + 17_500 * (bytes + 1))?;
        math2(&mut c, a, b, 23_520, |x, y| x.wrapping_pow(y))
    });
    hostio!(l, "math_add_mod", |mut c: C<'_>, a: i32, b: i32, m: i32| {
        math3(&mut c, a, b, m, 49_560, false)
    });
    hostio!(l, "math_mul_mod", |mut c: C<'_>, a: i32, b: i32, m: i32| {
        math3(&mut c, a, b, m, 52_660, true)
    });
    hostio!(l, "msg_reentrant", |mut c: C<'_>| -> Result<i32> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(c.data().reentrant as i32)
    });
    hostio!(l, "msg_sender", |mut c: C<'_>, dest: i32| {
        let a = c.data().msg.caller;
        write_address_hostio(&mut c, dest, a)
    });
    hostio!(l, "msg_value", |mut c: C<'_>, dest: i32| {
        let v = c.data().msg.value.to_be_bytes::<32>();
        write_word_hostio(&mut c, dest, v)
    });
    hostio!(
        l,
        "native_keccak256",
        |mut c: C<'_>, ptr: i32, len: i32, out: i32| {
            let len = len as u32 as usize;
            charge_ink(&mut c, gas::keccak_ink(len))?;
            let data = read(&mut c, ptr, len)?;
            write(&mut c, out, keccak256(&data).as_slice())
        }
    );
    hostio!(l, "tx_gas_price", |mut c: C<'_>, dest: i32| {
        let v = c.data().exec.borrow().gas_price.to_be_bytes::<32>();
        write_word_hostio(&mut c, dest, v)
    });
    hostio!(l, "tx_ink_price", |mut c: C<'_>| -> Result<i32> {
        charge_ink(&mut c, gas::HOSTIO_INK)?;
        Ok(gas::INK_PER_GAS as i32)
    });
    hostio!(l, "tx_origin", |mut c: C<'_>, dest: i32| {
        let a = c.data().exec.borrow().origin;
        write_address_hostio(&mut c, dest, a)
    });
    // Nitro: a call with 0 pages (the SDK's entrypoint makes one) costs the hostio's ink; else
    // only the memory model's gas for the pages the transaction adds.
    hostio!(l, "pay_for_memory_grow", |mut c: C<'_>, pages: i32| {
        if pages == 0 {
            return charge_ink(&mut c, gas::HOSTIO_INK);
        }
        let pages = u16::try_from(pages as u32).unwrap_or(u16::MAX);
        let cost = c.data().exec.borrow_mut().add_pages(pages);
        charge_gas(&mut c, cost)
    });
    Ok(l)
}
