//! Message calls: value transfer, then a precompile, a Stylus program (run in wasmtime), or
//! nothing (an account without code). A failed frame is rolled back to its checkpoint.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use alloy::primitives::{Address, Bytes, B256, U256};
use wasmtime::{Store, Val};

use crate::evm::init_code;
use crate::evm::state::State;
use crate::gas;
use crate::precompiles;
use crate::stylus::hostio::Frame;
use crate::stylus::instrument;
use crate::stylus::program::ProgramCache;

/// The block a transaction runs in.
#[derive(Clone, Debug)]
pub struct BlockEnv {
    pub number: u64,
    /// What programs read as the block number on Arbitrum (see `chain::L1_BLOCK_SECONDS`).
    pub l1_block_number: u64,
    pub timestamp: u64,
    pub basefee: U256,
    pub coinbase: Address,
    pub gas_limit: u64,
    pub chain_id: u64,
    /// Hashes of recent blocks (`ArbSys.arbBlockHash`), newest last, with the first's number.
    pub recent_hashes: Vec<B256>,
    pub first_recent: u64,
    /// The L1 pricer's price per calldata unit (`ArbGasInfo.getL1BaseFeeEstimate`).
    pub l1_price_per_unit: U256,
}

/// Everything a transaction's frames share.
pub struct Exec {
    pub state: State,
    pub block: BlockEnv,
    pub origin: Address,
    pub gas_price: U256,
    pub programs: Arc<ProgramCache>,
    /// The programs on the call stack: the address they act for, and whether they run by
    /// delegate call (reentrancy detection).
    pub stack: Vec<(Address, bool)>,
    /// WASM pages held by the programs on the call stack, and the most held at once in this
    /// transaction: what Nitro's memory price depends on.
    pub pages_open: u16,
    pub pages_ever: u16,
    /// What the transaction pays for being posted to L1, in wei
    /// (`ArbGasInfo.getCurrentTxL1GasFees`).
    pub poster_fee: U256,
    /// The programs called so far in this block (ArbOS 60's recent-programs discount).
    pub recent_programs: crate::stylus::program::RecentPrograms,
    /// The hostios the transaction's programs call, when it is traced.
    pub tracer: Option<crate::stylus::trace::HostioTracer>,
}

impl Exec {
    /// Takes `pages` more for the running call; the gas they cost.
    pub fn add_pages(&mut self, pages: u16) -> u64 {
        let cost = gas::memory_cost(pages, self.pages_open, self.pages_ever);
        self.pages_open = self.pages_open.saturating_add(pages);
        self.pages_ever = self.pages_ever.max(self.pages_open);
        cost
    }
}

pub type ExecRef = Rc<RefCell<Exec>>;

#[derive(Clone, Debug)]
pub struct Message {
    pub caller: Address,
    pub to: Address,
    /// Whose code runs (differs from `to` for a delegate call).
    pub code_address: Address,
    pub value: U256,
    pub data: Bytes,
    pub gas: u64,
    pub is_static: bool,
    /// Whether `value` moves (false for a delegate call, which keeps the parent's value).
    pub transfers_value: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Revert,
    OutOfGas,
    /// The frame failed without revert data of its own (a trap, an impossible transfer).
    Failure(String),
}

#[derive(Clone, Debug)]
pub struct CallResult {
    pub outcome: Outcome,
    pub output: Vec<u8>,
    pub gas_used: u64,
}

impl CallResult {
    pub fn ok(&self) -> bool {
        self.outcome == Outcome::Success
    }
    pub(crate) fn failure(why: impl Into<String>, gas_used: u64) -> CallResult {
        CallResult {
            outcome: Outcome::Failure(why.into()),
            output: Vec::new(),
            gas_used,
        }
    }
}

/// Maximum call depth (EVM's 1024).
const MAX_DEPTH: usize = 1024;

pub fn call(exec: &ExecRef, msg: Message) -> CallResult {
    let checkpoint = exec.borrow().state.checkpoint();
    let result = call_inner(exec, &msg);
    if !result.ok() {
        exec.borrow_mut().state.revert_to(checkpoint);
    }
    result
}

fn call_inner(exec: &ExecRef, msg: &Message) -> CallResult {
    if exec.borrow().stack.len() >= MAX_DEPTH {
        return CallResult::failure("call depth limit", 0);
    }
    if msg.transfers_value && !msg.value.is_zero() {
        if msg.is_static {
            return CallResult::failure("value transfer in a static call", 0);
        }
        let moved = exec
            .borrow_mut()
            .state
            .transfer(msg.caller, msg.to, msg.value);
        if !moved {
            return CallResult::failure("insufficient balance for the value transfer", 0);
        }
    }
    if let Some(result) = precompiles::run(exec, msg) {
        return result;
    }
    let (program, has_code) = {
        let e = exec.borrow();
        (
            e.state.program(&msg.code_address),
            !e.state.code(&msg.code_address).is_empty(),
        )
    };
    match program {
        Some(program) => run_program(exec, msg, program),
        // Nitro refuses to run code that is Stylus but not activated.
        None if has_code => CallResult {
            outcome: Outcome::Revert,
            output: precompiles::program_not_activated(),
            gas_used: 0,
        },
        None => CallResult {
            outcome: Outcome::Success,
            output: Vec::new(),
            gas_used: 0,
        },
    }
}

fn run_program(
    exec: &ExecRef,
    msg: &Message,
    program: Arc<crate::stylus::program::Program>,
) -> CallResult {
    // Nitro charges the module's initial memory against the pages the calls below already hold,
    // and gives them back (but not the high-water mark) when the call returns.
    let footprint = u16::try_from(program.initial_pages).unwrap_or(u16::MAX);
    let pages_before = exec.borrow().pages_open;
    let memory = exec.borrow_mut().add_pages(footprint);
    let result = run_activated(exec, msg, &program, memory);
    exec.borrow_mut().pages_open = pages_before;
    result
}

fn run_activated(
    exec: &ExecRef,
    msg: &Message,
    program: &crate::stylus::program::Program,
    memory_gas: u64,
) -> CallResult {
    // A program cached through ArbWasmCache, or called before in this block (ArbOS 60), pays
    // only the cached init price (`programs.go`, `CallProgram`; the recent set is noted first,
    // even when the call then fails for want of gas).
    let recent = exec.borrow_mut().recent_programs.insert(program.code_hash);
    let cached =
        recent || precompiles::arb_wasm_cache_holds(&exec.borrow().state, &program.code_hash);
    let upfront = program.costs.call_gas(cached).saturating_add(memory_gas);
    if upfront > msg.gas {
        return CallResult {
            outcome: Outcome::OutOfGas,
            output: Vec::new(),
            gas_used: msg.gas,
        };
    }
    // Nitro (`arbos/tx_processor.go`, ExecuteWASM): reentrant when another frame acts for the
    // same address, counting only frames that are not delegate calls (a program delegating to
    // a library program is not reentered by it).
    let delegate = msg.code_address != msg.to;
    let (programs, reentrant) = {
        let e = exec.borrow();
        let same_actor = e
            .stack
            .iter()
            .filter(|(a, delegated)| *a == msg.to && !delegated)
            .count();
        let open = same_actor + usize::from(!delegate);
        (e.programs.clone(), open > 1)
    };
    let frame = Frame::new(exec.clone(), msg.clone(), reentrant);
    let mut store = Store::new(programs.engine(), frame);
    // Nitro gives the program its gas as ink (`gas_to_ink`) and a fresh stack budget.
    let ink = (msg.gas - upfront).saturating_mul(gas::INK_PER_GAS);
    exec.borrow_mut().stack.push((msg.to, delegate));
    let mut stack = None;
    let run = (|| -> wasmtime::Result<i32> {
        let instance = programs.linker().instantiate(&mut store, &program.module)?;
        let mut global = |name: &str| {
            instance
                .get_global(&mut store, name)
                .ok_or_else(|| wasmtime::format_err!("the program lacks the global {name}"))
        };
        let meter = crate::stylus::hostio::Meter {
            ink: global(instrument::INK_LEFT)?,
            status: global(instrument::INK_STATUS)?,
        };
        let stack_left = global(instrument::STACK_LEFT)?;
        meter.ink.set(&mut store, Val::I64(ink as i64))?;
        stack_left.set(&mut store, Val::I32(instrument::MAX_STACK_DEPTH as i32))?;
        store.data_mut().meter = Some(meter);
        stack = Some(stack_left);
        // Nitro's tracer notes the entry with the calldata length (`crates/stylus/src/run.rs`).
        if let Some(t) = exec.borrow_mut().tracer.as_mut() {
            let len = (msg.data.len() as u32).to_be_bytes().to_vec();
            t.capture("user_entrypoint", len, Vec::new(), ink, ink);
        }
        let entry = instance.get_typed_func::<i32, i32>(&mut store, "user_entrypoint")?;
        entry.call(&mut store, msg.data.len() as i32)
    })();
    exec.borrow_mut().stack.pop();
    // What the globals say after the run: the ink left (`ink_to_gas` rounds down), whether the
    // ink ran out, whether the stack did.
    let (ink_left, exhausted) = match store.data().meter {
        Some(m) => (
            m.ink.get(&mut store).i64().unwrap_or(0) as u64,
            m.status.get(&mut store).i32() != Some(0),
        ),
        None => (0, false),
    };
    let out_of_stack = run.is_err() && stack.is_some_and(|g| g.get(&mut store).i32() == Some(0));
    let gas_used = msg.gas - (ink_left / gas::INK_PER_GAS).min(msg.gas - upfront);
    let frame = store.into_data();
    if out_of_stack {
        // `programs.go`, `userOutOfStack`: vm.ErrDepth, which takes all the gas.
        return CallResult::failure("out of stack", msg.gas);
    }
    let out_of_gas = frame.out_of_gas || exhausted;
    // The program's status: what user_entrypoint returned, or what it passed to exit_early.
    let status = match run {
        _ if out_of_gas => {
            return CallResult {
                outcome: Outcome::OutOfGas,
                output: Vec::new(),
                gas_used: msg.gas,
            }
        }
        Ok(status) => status as u32,
        Err(e) => match frame.exit_status {
            Some(status) => status,
            None => return CallResult::failure(format!("program trapped: {e}"), gas_used),
        },
    };
    if let Some(t) = exec.borrow_mut().tracer.as_mut() {
        t.capture(
            "user_returned",
            Vec::new(),
            status.to_be_bytes().to_vec(),
            ink_left,
            ink_left,
        );
    }
    // Writes left in the storage cache without `storage_flush_cache` are discarded, as on Nitro:
    // its hosts persist the cache only in that hostio (`crates/arbutil/src/evm/req.rs`,
    // `flush_storage_cache`; nothing flushes at the end of a call).
    CallResult {
        outcome: if status == 0 {
            Outcome::Success
        } else {
            Outcome::Revert
        },
        output: frame.result,
        gas_used,
    }
}

/// CREATE / CREATE2: runs the init code and stores the code it returns (a Stylus program is
/// then activated through ArbWasm). The new address, or the failure.
pub fn create(
    exec: &ExecRef,
    caller: Address,
    address: Address,
    init: &[u8],
    value: U256,
    gas_limit: u64,
) -> (Result<Address, Vec<u8>>, u64) {
    let checkpoint = exec.borrow().state.checkpoint();
    let result = (|| {
        {
            let mut e = exec.borrow_mut();
            if !e.state.code(&address).is_empty() || e.state.nonce(&address) != 0 {
                return Err((b"address collision".to_vec(), gas_limit));
            }
            e.state.update(address, |a| a.nonce = 1);
            if !e.state.transfer(caller, address, value) {
                return Err((b"insufficient balance".to_vec(), 0));
            }
        }
        let ctx = init_code::Context {
            address,
            caller,
            value,
            gas: gas_limit,
        };
        let (code, used) = init_code::run(init, &ctx).map_err(|e| match e {
            init_code::InitCodeError::Reverted(data) => (data, gas_limit),
            other => (other.to_string().into_bytes(), gas_limit),
        })?;
        let used = used + gas::CODE_DEPOSIT_BYTE * code.len() as u64;
        if used > gas_limit {
            return Err((Vec::new(), gas_limit));
        }
        if code.len() > crate::stylus::program::MAX_CODE_SIZE {
            return Err((b"code over the size limit".to_vec(), gas_limit));
        }
        exec.borrow_mut().state.set_code(address, Bytes::from(code));
        Ok(used)
    })();
    match result {
        Ok(used) => (Ok(address), used),
        Err((data, used)) => {
            exec.borrow_mut().state.revert_to(checkpoint);
            (Err(data), used)
        }
    }
}
