//! Stylus programs: the deployed code format, activation checks as Nitro makes them, and the
//! compiled wasmtime module (compiled once per code hash, instantiated per call).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use alloy::primitives::{keccak256, Address, Bytes, B256};
use wasmparser::{Operator, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures};

/// `EF F0 00` marks Stylus code; the fourth byte is the dictionary (0: none).
pub const STYLUS_PREFIX: [u8; 3] = [0xef, 0xf0, 0x00];
/// ArbOS 60's fragmented programs (cargo-stylus 0.10 `core/code/mod.rs` writes them; Nitro
/// `arbos/programs/programs.go`, `getWasmFromRootStylus`): each fragment is `EF F0 01` and a
/// piece of the compressed WASM; the root is `EF F0 02`, the dictionary, the decompressed length
/// (4 bytes, big-endian) and the fragments' addresses.
pub const FRAGMENT_PREFIX: [u8; 3] = [0xef, 0xf0, 0x01];
pub const ROOT_PREFIX: [u8; 3] = [0xef, 0xf0, 0x02];
/// `MaxFragmentCount` from ArbOS 60 (`arbos/programs/params.go`, `initialMaxFragmentCount`).
pub const MAX_FRAGMENTS: u8 = 2;
/// Deployed code limit (`MaxCodeSize`, 24 KiB) and decompressed WASM limit (`MaxWasmSize`).
pub const MAX_CODE_SIZE: usize = 24_576;
pub const MAX_WASM_SIZE: usize = 128 * 1024;
/// Other bounds Nitro's validator enforces (`crates/prover/src/binary.rs`).
pub const MAX_FUNCTIONS: usize = 4_096;
pub const MAX_DATA_SEGMENTS: usize = 128;
pub const MAX_PAGES: u64 = 128;
/// Stylus version reported by `ArbWasm.stylusVersion()`.
pub const STYLUS_VERSION: u16 = 2;

/// The hostios a program may import from `vm_hooks` (Nitro `wasm-libraries/forward`).
pub const HOSTIOS: &[&str] = &[
    "read_args",
    "write_result",
    "exit_early",
    "storage_load_bytes32",
    "storage_cache_bytes32",
    "storage_flush_cache",
    "transient_load_bytes32",
    "transient_store_bytes32",
    "call_contract",
    "delegate_call_contract",
    "static_call_contract",
    "create1",
    "create2",
    "read_return_data",
    "return_data_size",
    "emit_log",
    "account_balance",
    "account_code",
    "account_code_size",
    "account_codehash",
    "evm_gas_left",
    "evm_ink_left",
    "block_basefee",
    "chainid",
    "block_coinbase",
    "block_gas_limit",
    "block_number",
    "block_timestamp",
    "contract_address",
    "math_div",
    "math_mod",
    "math_pow",
    "math_add_mod",
    "math_mul_mod",
    "msg_reentrant",
    "msg_sender",
    "msg_value",
    "native_keccak256",
    "tx_gas_price",
    "tx_ink_price",
    "tx_origin",
    "pay_for_memory_grow",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActivationError {
    #[error("code is not a Stylus program (it must start with 0xEFF000)")]
    NotStylus,
    #[error("code uses brotli dictionary {0}; only 0 (none) is supported")]
    UnknownDictionary(u8),
    #[error("deployed code is {0} bytes, over the {MAX_CODE_SIZE}-byte limit")]
    CodeTooLarge(usize),
    #[error("brotli decompression failed: {0}")]
    Decompress(String),
    #[error("WASM is {0} bytes uncompressed, over the {MAX_WASM_SIZE}-byte limit")]
    WasmTooLarge(usize),
    #[error("invalid WASM for Stylus: {0}")]
    Invalid(String),
    #[error("import {module}::{name} is not a Stylus hostio (only vm_hooks is allowed)")]
    ForeignImport { module: String, name: String },
    #[error("missing export {0}")]
    MissingExport(&'static str),
    #[error("{0}")]
    Limit(String),
    #[error("unsupported instruction {0} (floats, SIMD, reference types, threads, tail calls, memory.init, data.drop and table ops are not allowed)")]
    Unsupported(String),
    #[error("compilation failed: {0}")]
    Compile(String),
    /// A root program whose fragments cannot be assembled (Nitro's words).
    #[error("{0}")]
    Fragments(String),
}

impl ActivationError {
    /// Whether Nitro fails the activation itself (`ErrProgramActivation`: all the gas is taken)
    /// rather than failing to read the code (the gas left is kept).
    pub fn takes_all_gas(&self) -> bool {
        !matches!(
            self,
            ActivationError::NotStylus
                | ActivationError::UnknownDictionary(_)
                | ActivationError::CodeTooLarge(_)
                | ActivationError::Decompress(_)
                | ActivationError::WasmTooLarge(_)
                | ActivationError::Fragments(_)
        )
    }
}

/// A root program's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    pub dictionary: u8,
    pub wasm_len: u32,
    pub fragments: Vec<Address>,
}

/// The root program `code` describes, if it is one.
pub fn root_of(code: &[u8]) -> Option<Result<Root, ActivationError>> {
    let rest = code.strip_prefix(&ROOT_PREFIX[..])?;
    let malformed = || ActivationError::Fragments("invalid wasm: malformed root program".into());
    Some((|| {
        let (&dictionary, rest) = rest.split_first().ok_or_else(malformed)?;
        let (len, addresses) = rest.split_at_checked(4).ok_or_else(malformed)?;
        if addresses.len() % 20 != 0 {
            return Err(malformed());
        }
        Ok(Root {
            dictionary,
            wasm_len: u32::from_be_bytes(len.try_into().map_err(|_| malformed())?),
            fragments: addresses.chunks(20).map(Address::from_slice).collect(),
        })
    })())
}

/// The WASM of a root program from its fragments' code, checked as Nitro checks it
/// (`getWasmFromRootStylus`).
pub fn assemble(root: &Root, fragments: &[Bytes]) -> Result<Vec<u8>, ActivationError> {
    let fail = |why: String| Err(ActivationError::Fragments(why));
    if root.wasm_len as usize > MAX_WASM_SIZE {
        return fail(format!(
            "invalid wasm: decompressedLength {} is greater then MaxWasmSize {MAX_WASM_SIZE}",
            root.wasm_len
        ));
    }
    if root.fragments.len() > usize::from(MAX_FRAGMENTS) {
        return fail(format!(
            "invalid wasm: fragment count exceeds limit of {MAX_FRAGMENTS}"
        ));
    }
    if root.fragments.is_empty() {
        return fail("invalid wasm: fragment count cannot be zero".into());
    }
    let mut compressed = Vec::new();
    for (address, code) in root.fragments.iter().zip(fragments) {
        match code.strip_prefix(&FRAGMENT_PREFIX[..]) {
            Some(piece) => compressed.extend_from_slice(piece),
            None => return fail(format!("invalid wasm: {address} holds no Stylus fragment")),
        }
    }
    if root.dictionary != 0 {
        return Err(ActivationError::UnknownDictionary(root.dictionary));
    }
    let wasm = brotli_decompress(&compressed, root.wasm_len as usize)?;
    if wasm.len() != root.wasm_len as usize {
        return fail(format!(
            "invalid wasm: decompressed length {} does not match expected length {}",
            wasm.len(),
            root.wasm_len
        ));
    }
    Ok(wasm)
}

/// The programs called in the current block, most recent last (ArbOS 60: a program called again
/// within the block pays the cached init price; `arbos/programs/programs.go`, `CallProgram`, and
/// go-ethereum's `RecentWasms`, an LRU of `BlockCacheSize` = 32 discarded at the end of each
/// block).
#[derive(Clone, Debug, Default)]
pub struct RecentPrograms(std::collections::VecDeque<B256>);

impl RecentPrograms {
    pub const CAPACITY: usize = 32;

    /// Notes a call of `code_hash`; whether it was already among the recent ones.
    pub fn insert(&mut self, code_hash: B256) -> bool {
        if let Some(i) = self.0.iter().position(|h| *h == code_hash) {
            self.0.remove(i);
            self.0.push_back(code_hash);
            return true;
        }
        if self.0.len() == Self::CAPACITY {
            self.0.pop_front();
        }
        self.0.push_back(code_hash);
        false
    }
}

/// An activated program.
#[derive(Debug)]
pub struct Program {
    pub code_hash: B256,
    pub module: wasmtime::Module,
    pub initial_pages: u64,
    /// Nitro's instantiation cost estimates, fixed at activation (`StylusData::init_cost`,
    /// `cached_init_cost`).
    pub costs: crate::gas::InitCosts,
    /// What activating it costs beyond ArbWasm's fixed price, and the machine-code size estimate
    /// the data fee is computed from.
    pub activation_gas: u64,
    pub asm_estimate: u32,
    /// Stands for Nitro's module hash in `ProgramActivated`: the hash of the instrumented WASM.
    pub module_hash: B256,
}

/// Splits deployed code into the decompressed WASM.
pub fn decompress(code: &[u8]) -> Result<Vec<u8>, ActivationError> {
    if code.len() > MAX_CODE_SIZE {
        return Err(ActivationError::CodeTooLarge(code.len()));
    }
    if code.len() < 4 || code[..3] != STYLUS_PREFIX {
        return Err(ActivationError::NotStylus);
    }
    if code[3] != 0 {
        return Err(ActivationError::UnknownDictionary(code[3]));
    }
    let wasm = brotli_decompress(&code[4..], MAX_WASM_SIZE)?;
    if wasm.len() > MAX_WASM_SIZE {
        return Err(ActivationError::WasmTooLarge(wasm.len()));
    }
    Ok(wasm)
}

/// Decompresses at most `limit` + 1 bytes: enough to tell that the output is over `limit`
/// without inflating a brotli bomb.
fn brotli_decompress(compressed: &[u8], limit: usize) -> Result<Vec<u8>, ActivationError> {
    let mut out = Vec::new();
    brotli::Decompressor::new(compressed, 4096)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ActivationError::Decompress(e.to_string()))?;
    Ok(out)
}

/// What the checks learned about a module.
struct Shape {
    initial_pages: u64,
    /// Bytes of data segments and entries of element segments, priced apart at activation.
    data_bytes: u64,
    element_entries: u64,
    /// What Nitro's cost estimate counts (`binary.rs`, `instrument`).
    module: crate::gas::ModuleShape,
}

/// Nitro's anti-DoS limits on a user program (`crates/prover/src/binary.rs`, `parse_user`).
/// Its limits on exports (1,024) and on export name lengths apply after `programs/start.rs` has
/// dropped every export but `user_entrypoint` and `memory` (on a chain without debug mode), so
/// they never bind a program and are not checked here.
const MAX_ELEMENT_SEGMENTS: usize = 128;
const MAX_TABLE_ENTRIES: u64 = 4_096;
const MAX_ELEMENT_ENTRIES: u64 = 4_096;
const MAX_GLOBALS: u64 = 32_768;
const MAX_LOCALS: u64 = 348;
const MAX_OPCODES: usize = 65_536;
/// From ArbOS 32 (`ARBOS_VERSION_STYLUS_CHARGING_FIXES`).
const MAX_IMPORTS: usize = 513;
const MAX_NAME_LEN: usize = 512;

/// `binary.rs`'s `limit!`: "too many wasm {name}: {count} > {limit}".
fn limit(name: &str, count: u64, max: u64) -> Result<(), ActivationError> {
    if count > max {
        return Err(ActivationError::Limit(format!(
            "too many wasm {name}: {count} > {max}"
        )));
    }
    Ok(())
}

/// Nitro's activation checks on the WASM.
fn check(wasm: &[u8]) -> Result<Shape, ActivationError> {
    // Multi-value is refused from ArbOS 60 (`binary.rs`, `ARBOS_VERSION_STYLUS_NO_MULTI_VALUE`).
    let features = WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::SATURATING_FLOAT_TO_INT;
    Validator::new_with_features(features)
        .validate_all(wasm)
        .map_err(|e| ActivationError::Invalid(e.to_string()))?;
    let mut functions = 0;
    let mut imported_functions = 0;
    let mut initial_pages = 0;
    let mut has_memory = false;
    let mut entry_index = None;
    let mut func_types = Vec::new();
    let mut globals = 0u64;
    let mut data_len = 0u64;
    let mut types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
    // (name, type index) of each import; export names; memory bounds; element and table sizes.
    let mut imports: Vec<(String, u32)> = Vec::new();
    let mut export_names: Vec<String> = Vec::new();
    let mut memory_bounds = None;
    let mut element_segments = 0usize;
    let mut element_entries = 0u64;
    let mut table_entries = 0u64;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| ActivationError::Invalid(e.to_string()))? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    for ty in group.into_types() {
                        if let wasmparser::CompositeInnerType::Func(f) = &ty.composite_type.inner {
                            types.push((f.params().to_vec(), f.results().to_vec()));
                        } else {
                            types.push((Vec::new(), Vec::new()));
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    if import.module != "vm_hooks" || !HOSTIOS.contains(&import.name) {
                        return Err(ActivationError::ForeignImport {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                        });
                    }
                    match import.ty {
                        TypeRef::Func(t) => {
                            func_types.push(t);
                            imported_functions += 1;
                            imports.push((import.name.to_string(), t));
                        }
                        _ => {
                            return Err(ActivationError::ForeignImport {
                                module: import.module.to_string(),
                                name: import.name.to_string(),
                            })
                        }
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    func_types.push(t.map_err(|e| ActivationError::Invalid(e.to_string()))?);
                    functions += 1;
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    initial_pages = memory.initial;
                    memory_bounds = Some((memory.initial, memory.maximum));
                    if memory.initial > MAX_PAGES {
                        return Err(ActivationError::Limit(format!(
                            "memory starts at {} pages, over {MAX_PAGES}",
                            memory.initial
                        )));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    export_names.push(export.name.to_string());
                    match (export.name, export.kind) {
                        ("memory", wasmparser::ExternalKind::Memory) => has_memory = true,
                        ("user_entrypoint", wasmparser::ExternalKind::Func) => {
                            entry_index = Some(export.index)
                        }
                        _ => {}
                    }
                }
            }
            Payload::StartSection { .. } => {
                // `programs/start.rs`, `StartMover::update_module`.
                return Err(ActivationError::Limit("start functions not allowed".into()));
            }
            Payload::DataSection(reader) => {
                limit("datas", u64::from(reader.count()), MAX_DATA_SEGMENTS as u64)?;
                for data in reader {
                    let data = data.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    data_len += data.data.len() as u64;
                }
            }
            Payload::ElementSection(reader) => {
                for element in reader {
                    let element = element.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    let entries = u64::from(match element.items {
                        wasmparser::ElementItems::Functions(r) => r.count(),
                        wasmparser::ElementItems::Expressions(_, r) => r.count(),
                    });
                    data_len += entries;
                    element_entries += entries;
                    element_segments += 1;
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    table_entries += table.ty.initial;
                }
            }
            Payload::CustomSection(reader) => {
                // The name section's module name is held to 512 bytes too.
                if let wasmparser::KnownCustom::Name(names) = reader.as_known() {
                    for name in names {
                        if let Ok(wasmparser::Name::Module { name, .. }) = name {
                            if name.len() > MAX_NAME_LEN {
                                return Err(ActivationError::Limit(format!(
                                    "wasm module name too long: {} > {MAX_NAME_LEN}",
                                    name.len()
                                )));
                            }
                        }
                    }
                }
            }
            Payload::GlobalSection(reader) => globals += u64::from(reader.count()),
            Payload::CodeSectionEntry(body) => {
                let mut ops = body
                    .get_operators_reader()
                    .map_err(|e| ActivationError::Invalid(e.to_string()))?;
                while !ops.eof() {
                    let op = ops
                        .read()
                        .map_err(|e| ActivationError::Invalid(e.to_string()))?;
                    if let Some(name) = forbidden(&op) {
                        return Err(ActivationError::Unsupported(name));
                    }
                }
            }
            _ => {}
        }
    }
    limit(
        "elements",
        element_segments as u64,
        MAX_ELEMENT_SEGMENTS as u64,
    )?;
    limit("functions", functions as u64, MAX_FUNCTIONS as u64)?;
    limit("imports", imports.len() as u64, MAX_IMPORTS as u64)?;
    limit("table entries", table_entries, MAX_TABLE_ENTRIES)?;
    limit("element entries", element_entries, MAX_ELEMENT_ENTRIES)?;
    check_names(&imports, &export_names)?;
    // A memory that can grow needs `pay_for_memory_grow` (i32) -> () (`programs/heap.rs`).
    if let Some((min, max)) = memory_bounds {
        if max != Some(min) {
            let Some((_, t)) = imports.iter().find(|(n, _)| n == "pay_for_memory_grow") else {
                return Err(ActivationError::Invalid(
                    "missing import pay_for_memory_grow (a memory that can grow must pay for it)"
                        .into(),
                ));
            };
            if types.get(*t as usize) != Some(&(vec![ValType::I32], vec![])) {
                return Err(ActivationError::Invalid(
                    "wrong type for pay_for_memory_grow: it must be (i32) -> ()".into(),
                ));
            }
        }
    }
    if !has_memory {
        return Err(ActivationError::MissingExport("memory"));
    }
    let entry = entry_index.ok_or(ActivationError::MissingExport("user_entrypoint"))?;
    let ty = func_types
        .get(entry as usize)
        .and_then(|t| types.get(*t as usize))
        .ok_or(ActivationError::MissingExport("user_entrypoint"))?;
    if ty.0 != [ValType::I32] || ty.1 != [ValType::I32] {
        return Err(ActivationError::Invalid(
            "user_entrypoint must have type (i32) -> i32".into(),
        ));
    }
    // Nitro counts the module's own functions and their types' arity, and the globals after
    // instrumentation (`instrument.rs` adds four).
    let type_len = func_types[imported_functions..]
        .iter()
        .filter_map(|t| types.get(*t as usize))
        .map(|(p, r)| (p.len() + r.len()) as u64)
        .sum();
    Ok(Shape {
        initial_pages,
        data_bytes: data_len - element_entries,
        element_entries,
        module: crate::gas::ModuleShape {
            functions: functions as u64,
            type_len,
            wasm_len: wasm.len() as u64,
            globals: globals + crate::stylus::instrument::ADDED_GLOBALS,
            data_len,
            footprint: u16::try_from(initial_pages).unwrap_or(u16::MAX),
        },
    })
}

/// `binary.rs`'s name rules: one signature per imported name, no export named like an import
/// (the part after the last `__`), nothing exported or imported under the reserved `stylus`
/// prefix.
fn check_names(imports: &[(String, u32)], exports: &[String]) -> Result<(), ActivationError> {
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for (name, t) in imports {
        if let Some(prior) = seen.insert(name.as_str(), *t) {
            if prior != *t {
                return Err(ActivationError::Invalid(format!(
                    "inconsistent imports for vm_hooks {name}"
                )));
            }
        }
    }
    let exported: Vec<&str> = exports
        .iter()
        .map(|e| e.rsplit("__").next().unwrap_or(e))
        .collect();
    for (name, _) in imports {
        if exported.contains(&name.as_str()) {
            return Err(ActivationError::Invalid(format!(
                "binary exports an import with the same name {name}"
            )));
        }
    }
    if let Some(name) = exported.iter().find(|n| n.starts_with("stylus")) {
        return Err(ActivationError::Invalid(format!(
            "binary exports reserved symbol {name}"
        )));
    }
    if let Some((name, _)) = imports.iter().find(|(n, _)| n.starts_with("stylus")) {
        return Err(ActivationError::Invalid(format!(
            "binary imports reserved symbol {name}"
        )));
    }
    Ok(())
}

/// Instructions the validator's feature set admits but Nitro does not.
fn forbidden(op: &Operator<'_>) -> Option<String> {
    match op {
        Operator::MemoryInit { .. }
        | Operator::DataDrop { .. }
        | Operator::TableInit { .. }
        | Operator::ElemDrop { .. }
        | Operator::TableCopy { .. } => Some(format!("{op:?}")),
        Operator::I32TruncSatF32S
        | Operator::I32TruncSatF32U
        | Operator::I32TruncSatF64S
        | Operator::I32TruncSatF64U
        | Operator::I64TruncSatF32S
        | Operator::I64TruncSatF32U
        | Operator::I64TruncSatF64S
        | Operator::I64TruncSatF64U => Some(format!("{op:?}")),
        _ => None,
    }
}

/// Compiles activated programs once per code hash; holds the engine and the hostio linker that
/// every call instantiates with.
pub struct ProgramCache {
    engine: wasmtime::Engine,
    linker: wasmtime::Linker<crate::stylus::hostio::Frame>,
    compiled: Mutex<HashMap<B256, Arc<Program>>>,
}

impl ProgramCache {
    pub fn new() -> anyhow::Result<ProgramCache> {
        // Ink is metered by the instrumented code itself (`instrument.rs`), not by wasmtime.
        let config = wasmtime::Config::new();
        let engine = wasmtime::Engine::new(&config)?;
        let linker = crate::stylus::hostio::linker(&engine)?;
        Ok(ProgramCache {
            engine,
            linker,
            compiled: Mutex::default(),
        })
    }

    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine
    }

    pub fn linker(&self) -> &wasmtime::Linker<crate::stylus::hostio::Frame> {
        &self.linker
    }

    /// Checks and compiles deployed code (activation); a root program's fragments are read
    /// with `fragment_code`.
    pub fn activate(
        &self,
        code: &[u8],
        fragment_code: impl Fn(&Address) -> Bytes,
    ) -> Result<Arc<Program>, ActivationError> {
        let code_hash = keccak256(code);
        if let Some(p) = self.lock().get(&code_hash) {
            return Ok(p.clone());
        }
        let wasm = match root_of(code) {
            Some(root) => {
                let root = root?;
                let fragments: Vec<Bytes> = root.fragments.iter().map(fragment_code).collect();
                assemble(&root, &fragments)?
            }
            None if code.starts_with(&FRAGMENT_PREFIX) => {
                return Err(ActivationError::Fragments(
                    "fragmented stylus programs cannot be activated directly; activate the root \
                     program instead"
                        .into(),
                ))
            }
            None => decompress(code)?,
        };
        let shape = check(&wasm)?;
        let instrumented = crate::stylus::instrument::instrument(&wasm).map_err(|e| match e {
            crate::stylus::instrument::InstrumentError::Invalid(why) => {
                ActivationError::Invalid(why)
            }
            limit => ActivationError::Limit(limit.to_string()),
        })?;
        // The limits Nitro checks on the instrumented module (`binary.rs`, `parse_user`).
        limit("globals", instrumented.globals, MAX_GLOBALS)?;
        for (locals, operators) in instrumented.locals.iter().zip(&instrumented.operators) {
            limit("locals", *locals, MAX_LOCALS)?;
            limit(
                "opcodes in func body",
                *operators as u64,
                MAX_OPCODES as u64,
            )?;
        }
        let module = wasmtime::Module::new(&self.engine, &instrumented.wasm)
            .map_err(|e| ActivationError::Compile(e.to_string()))?;
        // Each hostio imported with the host's own signature: Nitro links the imports at
        // activation and refuses a mismatch.
        self.linker
            .instantiate_pre(&module)
            .map_err(|e| ActivationError::Invalid(protocol::error_report::one_line(e.as_ref())))?;
        let costs = crate::gas::InitCosts::estimate(&shape.module)
            .map_err(|e| ActivationError::Limit(e.into()))?;
        let asm_estimate = crate::gas::asm_estimate(&shape.module)
            .map_err(|e| ActivationError::Limit(e.into()))?;
        let activation_gas = crate::gas::activation_gas(&crate::gas::ActivationShape {
            wasm_len: wasm.len() as u64,
            functions: shape.module.functions,
            data_bytes: shape.data_bytes,
            element_entries: shape.element_entries,
            initial_pages: shape.initial_pages,
            operators: instrumented.operators.iter().map(|n| *n as u64).sum(),
        });
        let program = Arc::new(Program {
            code_hash,
            module,
            initial_pages: shape.initial_pages,
            costs,
            activation_gas,
            asm_estimate,
            module_hash: keccak256(&instrumented.wasm),
        });
        self.lock().insert(code_hash, program.clone());
        Ok(program)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<B256, Arc<Program>>> {
        // A panic while holding the lock leaves a consistent map: recover it.
        self.compiled.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Stylus deployed code for a WASM: prefix + brotli (quality 11, window 22), as cargo-stylus
/// builds it.
pub fn compress(wasm: &[u8]) -> Vec<u8> {
    let mut out = STYLUS_PREFIX.to_vec();
    out.push(0);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &wasm[..], &mut out, &params)
        .expect("compressing into a Vec cannot fail");
    out
}

/// EVM init code that returns `code` (the layout `cargo stylus deploy` uses: a 43-byte prelude,
/// a version byte, then the code).
pub fn init_code(code: &[u8]) -> Vec<u8> {
    let mut out = vec![0x7f];
    out.extend_from_slice(&alloy::primitives::U256::from(code.len()).to_be_bytes::<32>());
    out.extend_from_slice(&[0x80, 0x60, 43, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3, 0x00]);
    out.extend_from_slice(code);
    out
}
