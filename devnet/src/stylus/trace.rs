//! What Nitro's `stylusTracer` records of a transaction (`execution/gethexec/stylus_tracer.go`):
//! each hostio a program called, with the ink left before and after it, the program's entry
//! (`user_entrypoint`, args: the calldata length) and return (`user_returned`, outs: the
//! status), and for the call hostios the called address and the hostios run there (`steps`).
//! Served by `debug_traceTransaction` with `{"tracer": "stylusTracer"}`. The hostios' own
//! argument and output bytes are not recorded (Nitro's are, for `cargo stylus replay`).

use alloy::primitives::{Address, Bytes};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostioTrace {
    pub name: &'static str,
    pub args: Bytes,
    pub outs: Bytes,
    pub start_ink: u64,
    pub end_ink: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<HostioTrace>>,
}

/// The hostios whose record takes the steps of the call they made.
const NESTS: [&str; 3] = [
    "call_contract",
    "delegate_call_contract",
    "static_call_contract",
];

/// Builds a transaction's trace as Nitro's tracer does: a frame entered from a program opens a
/// placeholder (`evm_call_contract`, `evm_create1`, ...) whose steps are the hostios run inside;
/// the call hostio that made it then replaces it. A placeholder no hostio claims stays (creates
/// keep theirs, followed by the `create1`/`create2` record).
#[derive(Debug, Default)]
pub struct HostioTracer {
    open: Vec<HostioTrace>,
    stack: Vec<Vec<HostioTrace>>,
}

impl HostioTracer {
    pub fn capture(
        &mut self,
        name: &'static str,
        args: Vec<u8>,
        outs: Vec<u8>,
        start: u64,
        end: u64,
    ) {
        let mut info = HostioTrace {
            name,
            args: args.into(),
            outs: outs.into(),
            start_ink: start,
            end_ink: end,
            address: None,
            steps: None,
        };
        if NESTS.contains(&name) {
            let matches = self
                .open
                .last()
                .is_some_and(|last| last.name.strip_prefix("evm_") == Some(name));
            if matches {
                let last = self.open.pop().expect("checked above");
                info.address = last.address;
                info.steps = last.steps;
            }
        }
        self.open.push(info);
    }

    /// A program's hostio enters a frame at `to`; `name` is the EVM's for it
    /// (`evm_call_contract`, `evm_delegate_call_contract`, `evm_static_call_contract`,
    /// `evm_create1`, `evm_create2`).
    pub fn enter(&mut self, name: &'static str, to: Address) {
        self.open.push(HostioTrace {
            name,
            args: Bytes::new(),
            outs: Bytes::new(),
            start_ink: 0,
            end_ink: 0,
            address: Some(to),
            steps: Some(Vec::new()),
        });
        self.stack.push(std::mem::take(&mut self.open));
    }

    /// The frame entered last returns: what ran in it becomes its placeholder's steps.
    pub fn exit(&mut self) {
        let steps = std::mem::replace(&mut self.open, self.stack.pop().unwrap_or_default());
        if let Some(last) = self.open.last_mut() {
            last.steps = Some(steps);
        }
    }

    pub fn finish(self) -> Vec<HostioTrace> {
        self.open
    }
}
