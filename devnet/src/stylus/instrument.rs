//! Nitro's instrumentation of a program at activation, reproduced on the WASM itself so that
//! wasmtime runs exactly the code Nitro runs (`crates/prover/src/binary.rs`, `instrument`; the
//! middlewares in `crates/prover/src/programs/`), applied in Nitro's order to each function:
//!
//! 1. `meter.rs`: each basic block is preceded by a check-and-deduct of its ink (the sum of its
//!    operators' `pricing_v1` prices plus the header's own price) from the exported global
//!    `stylus_ink_left`; running short sets `stylus_ink_status` to 1 and traps.
//! 2. `dynamic.rs`: `memory.fill` and `memory.copy` first pay 100 ink per byte.
//! 3. `depth.rs`: each function's worst-case frame (values on the stack + locals + 4 words) is
//!    bounded at activation and charged against `stylus_stack_left` on entry, given back on
//!    return; an exhausted stack sets it to 0 and traps.
//! 4. `heap.rs`: when the memory can grow, each `memory.grow` first calls the
//!    `pay_for_memory_grow` hostio with the page count.
//!
//! The operators a later step inserts are not metered by an earlier one, as in Nitro.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{BlockType, Operator, Parser, Payload, TypeRef, ValType};

/// Names of the globals the instrumentation adds and exports (`meter.rs`, `dynamic.rs`,
/// `depth.rs`): the host reads and writes them around every call and in every hostio.
pub const INK_LEFT: &str = "stylus_ink_left";
pub const INK_STATUS: &str = "stylus_ink_status";
pub const SCRATCH: &str = "stylus_scratch_global";
pub const STACK_LEFT: &str = "stylus_stack_left";
/// How many globals the instrumentation adds.
pub const ADDED_GLOBALS: u64 = 4;

/// Stylus versions 1 and 2 (`programs/config.rs`, `CompileConfig::version`).
pub const INK_HEADER_COST: u64 = 2_450;
pub const MEMORY_FILL_INK: u64 = 800 / 8;
pub const MEMORY_COPY_INK: u64 = 800 / 8;
pub const MAX_FRAME_SIZE: u32 = 10 * 1024;
pub const MAX_FRAME_CONTENTION: u32 = 4_096;
/// The stack a call starts with (`arbos/programs/params.go`: `MaxStackDepth`, 4 x 65,536 capped
/// to 22,000 by the ArbOS 50 upgrade).
pub const MAX_STACK_DEPTH: u32 = 22_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InstrumentError {
    /// `depth.rs`'s words.
    #[error("frame too large: {size} > {MAX_FRAME_SIZE}-word limit")]
    FrameTooLarge { size: u32 },
    #[error(
        "too many values on the stack at once in func {func}: {count} > {MAX_FRAME_CONTENTION}"
    )]
    Contention { func: u32, count: u32 },
    #[error("{0}")]
    Invalid(String),
}

fn invalid(e: impl std::fmt::Display) -> InstrumentError {
    InstrumentError::Invalid(e.to_string())
}

/// What activation checks after instrumentation (`binary.rs`, `parse_user`).
#[derive(Debug, Default)]
pub struct Instrumented {
    pub wasm: Vec<u8>,
    /// Globals including the four added.
    pub globals: u64,
    /// Per function with a body: declared locals, and operators after instrumentation.
    pub locals: Vec<u64>,
    pub operators: Vec<usize>,
}

type Sig = (Vec<ValType>, Vec<ValType>);

/// The module-wide facts the middlewares need.
struct Context {
    types: Vec<Sig>,
    /// Type of every function, imports first.
    funcs: Vec<u32>,
    ink: u32,
    status: u32,
    scratch: u32,
    stack: u32,
    /// `pay_for_memory_grow`'s function index when the memory can grow.
    pay_func: Option<u32>,
}

impl Context {
    fn sig(&self, type_index: u32) -> Result<&Sig, InstrumentError> {
        self.types
            .get(type_index as usize)
            .ok_or_else(|| invalid(format!("missing type {type_index}")))
    }

    fn func_sig(&self, function_index: u32) -> Result<&Sig, InstrumentError> {
        let t = self
            .funcs
            .get(function_index as usize)
            .ok_or_else(|| invalid(format!("missing func {function_index}")))?;
        self.sig(*t)
    }
}

/// Instruments a WASM module that passed the activation checks.
pub fn instrument(wasm: &[u8]) -> Result<Instrumented, InstrumentError> {
    let mut ctx = context(wasm)?;
    let mut out = Instrumented::default();
    let mut module = wasm_encoder::Module::new();
    let mut re = RoundtripReencoder;
    let mut globals_done = false;
    let mut global_count = 0u32;
    let mut code = wasm_encoder::CodeSection::new();
    let mut bodies_left = 0u32;
    let mut local_index = 0u32;
    // The globals section, with the instrumentation's four appended after the module's own.
    let added_globals = |globals: &mut wasm_encoder::GlobalSection| {
        let var = |val_type| wasm_encoder::GlobalType {
            val_type,
            mutable: true,
            shared: false,
        };
        globals.global(
            var(wasm_encoder::ValType::I64),
            &wasm_encoder::ConstExpr::i64_const(0),
        );
        for _ in 0..3 {
            globals.global(
                var(wasm_encoder::ValType::I32),
                &wasm_encoder::ConstExpr::i32_const(0),
            );
        }
    };
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        match payload {
            Payload::GlobalSection(reader) => {
                let mut globals = wasm_encoder::GlobalSection::new();
                global_count = reader.count();
                re.parse_global_section(&mut globals, reader)
                    .map_err(invalid)?;
                added_globals(&mut globals);
                module.section(&globals);
                globals_done = true;
            }
            Payload::ExportSection(reader) => {
                if !globals_done {
                    let mut globals = wasm_encoder::GlobalSection::new();
                    added_globals(&mut globals);
                    module.section(&globals);
                    globals_done = true;
                }
                let mut exports = wasm_encoder::ExportSection::new();
                re.parse_export_section(&mut exports, reader)
                    .map_err(invalid)?;
                for (i, name) in [INK_LEFT, INK_STATUS, SCRATCH, STACK_LEFT]
                    .into_iter()
                    .enumerate()
                {
                    exports.export(
                        name,
                        wasm_encoder::ExportKind::Global,
                        global_count + i as u32,
                    );
                }
                module.section(&exports);
            }
            Payload::CodeSectionStart { count, .. } => bodies_left = count,
            Payload::CodeSectionEntry(body) => {
                let (function, locals, operators) = instrument_body(&ctx, local_index, &body)?;
                code.function(&function);
                out.locals.push(locals);
                out.operators.push(operators);
                local_index += 1;
                bodies_left -= 1;
                if bodies_left == 0 {
                    module.section(&code);
                }
            }
            // Names and other custom sections play no part in execution.
            Payload::CustomSection(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&wasm_encoder::RawSection {
                        id,
                        data: &wasm[range],
                    });
                }
            }
        }
        // The indices of the added globals are known once the globals section has passed.
        ctx.ink = global_count;
        ctx.status = global_count + 1;
        ctx.scratch = global_count + 2;
        ctx.stack = global_count + 3;
    }
    if !globals_done {
        return Err(invalid("a program must export its memory and entrypoint"));
    }
    out.wasm = module.finish();
    out.globals = u64::from(global_count) + ADDED_GLOBALS;
    Ok(out)
}

/// Types, function types and `pay_for_memory_grow`'s index, read before instrumenting.
fn context(wasm: &[u8]) -> Result<Context, InstrumentError> {
    let mut ctx = Context {
        types: Vec::new(),
        funcs: Vec::new(),
        ink: 0,
        status: 0,
        scratch: 0,
        stack: 0,
        pay_func: None,
    };
    let mut pay_import = None;
    let mut can_grow = false;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    let f = ty.map_err(invalid)?;
                    ctx.types.push((f.params().to_vec(), f.results().to_vec()));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    if let TypeRef::Func(t) = import.ty {
                        if import.name == "pay_for_memory_grow" && pay_import.is_none() {
                            pay_import = Some(ctx.funcs.len() as u32);
                        }
                        ctx.funcs.push(t);
                    }
                }
            }
            Payload::FunctionSection(reader) => {
                for t in reader {
                    ctx.funcs.push(t.map_err(invalid)?);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    can_grow = memory.maximum != Some(memory.initial);
                }
            }
            _ => {}
        }
    }
    if can_grow {
        ctx.pay_func = Some(pay_import.ok_or_else(|| {
            invalid("missing import pay_for_memory_grow (a memory that can grow must pay for it)")
        })?);
    }
    Ok(ctx)
}

/// One function body through the four middlewares: the encoded function, its declared locals
/// and its operator count after instrumentation.
fn instrument_body(
    ctx: &Context,
    func: u32,
    body: &wasmparser::FunctionBody<'_>,
) -> Result<(wasm_encoder::Function, u64, usize), InstrumentError> {
    let mut re = RoundtripReencoder;
    let mut locals = Vec::new();
    let mut local_count = 0u64;
    for local in body.get_locals_reader().map_err(invalid)? {
        let (count, ty) = local.map_err(invalid)?;
        local_count += u64::from(count);
        locals.push((count, re.val_type(ty).map_err(invalid)?));
    }
    let mut ops = Vec::new();
    let mut reader = body.get_operators_reader().map_err(invalid)?;
    while !reader.eof() {
        ops.push(reader.read().map_err(invalid)?);
    }
    let ops = meter(ctx, ops)?;
    let ops = dynamic_meter(ctx, ops);
    let ops = depth_check(ctx, func, local_count, ops)?;
    let ops = heap_bound(ctx, ops);
    let mut function = wasm_encoder::Function::new(locals);
    for op in &ops {
        function.instruction(&re.instruction(op.clone()).map_err(invalid)?);
    }
    Ok((function, local_count, ops.len()))
}

/// `meter.rs`, `FuncMeter::feed`.
fn meter<'a>(ctx: &Context, ops: Vec<Operator<'a>>) -> Result<Vec<Operator<'a>>, InstrumentError> {
    let mut out = Vec::with_capacity(ops.len() * 2);
    let mut block = Vec::new();
    let mut cost = 0u64;
    for op in ops {
        let ends = ends_basic_block(&op);
        cost = cost.saturating_add(pricing_v1(ctx, &op)?);
        block.push(op);
        if ends {
            let cost_with_header = cost.saturating_add(INK_HEADER_COST) as i64;
            out.extend([
                Operator::GlobalGet {
                    global_index: ctx.ink,
                },
                Operator::I64Const {
                    value: cost_with_header,
                },
                Operator::I64LtU,
            ]);
            out.extend(exhaust_if_true(ctx));
            out.extend([
                Operator::GlobalGet {
                    global_index: ctx.ink,
                },
                Operator::I64Const {
                    value: cost_with_header,
                },
                Operator::I64Sub,
                Operator::GlobalSet {
                    global_index: ctx.ink,
                },
            ]);
            out.append(&mut block);
            cost = 0;
        }
    }
    Ok(out)
}

/// What both ink meters do when the ink does not cover a cost (the condition on the stack): mark
/// the meter exhausted (status 1) and trap.
fn exhaust_if_true(ctx: &Context) -> [Operator<'static>; 5] {
    [
        Operator::If {
            blockty: BlockType::Empty,
        },
        Operator::I32Const { value: 1 },
        Operator::GlobalSet {
            global_index: ctx.status,
        },
        Operator::Unreachable,
        Operator::End,
    ]
}

/// `arbutil/src/operator.rs`, `ends_basic_block`.
fn ends_basic_block(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        End | Else
            | Return
            | Loop { .. }
            | Br { .. }
            | BrTable { .. }
            | BrIf { .. }
            | If { .. }
            | Call { .. }
            | CallIndirect { .. }
    )
}

/// Ink of one operator (`meter.rs`, `pricing_v1`). Operators activation refuses (floats, SIMD,
/// atomics, reference types, tables) never reach here; they would be unpayable.
pub fn pricing_v1_of(op: &Operator<'_>, call_indirect_params: usize) -> u64 {
    use Operator::*;
    match op {
        Unreachable | Return | Nop | I32Const { .. } | I64Const { .. } => 1,
        Drop => 9,
        Block { .. } | Loop { .. } | Else | End => 1,
        Br { .. } | BrIf { .. } | If { .. } => 765,
        Select => 1_250,
        Call { .. } => 3_800,
        LocalGet { .. } | LocalTee { .. } => 75,
        LocalSet { .. } => 210,
        GlobalGet { .. } => 225,
        GlobalSet { .. } => 575,
        I32Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. } => 670,
        I64Load { .. }
        | I64Load8S { .. }
        | I64Load8U { .. }
        | I64Load16S { .. }
        | I64Load16U { .. }
        | I64Load32S { .. }
        | I64Load32U { .. } => 680,
        I32Store { .. } | I32Store8 { .. } | I32Store16 { .. } => 825,
        I64Store { .. } | I64Store8 { .. } | I64Store16 { .. } | I64Store32 { .. } => 950,
        MemorySize { .. } => 3_000,
        // The rest of a grow's price is the memory model's, through pay_for_memory_grow.
        MemoryGrow { .. } => 8_050,
        I32Eqz | I32Eq | I32Ne | I32LtS | I32LtU | I32GtS | I32GtU | I32LeS | I32LeU | I32GeS
        | I32GeU => 170,
        I64Eqz | I64Eq | I64Ne | I64LtS | I64LtU | I64GtS | I64GtU | I64LeS | I64LeU | I64GeS
        | I64GeU => 225,
        I32Clz | I32Ctz => 210,
        I32Add | I32Sub => 70,
        I32Mul => 160,
        I32DivS | I32DivU | I32RemS | I32RemU => 1_120,
        I32And | I32Or | I32Xor | I32Shl | I32ShrS | I32ShrU | I32Rotl | I32Rotr => 70,
        I64Clz | I64Ctz => 210,
        I64Add | I64Sub => 100,
        I64Mul => 160,
        I64DivS | I64DivU | I64RemS | I64RemU => 1_270,
        I64And | I64Or | I64Xor | I64Shl | I64ShrS | I64ShrU | I64Rotl | I64Rotr => 100,
        I32Popcnt => 2_650,
        I64Popcnt => 6_000,
        I32WrapI64 | I64ExtendI32S | I64ExtendI32U => 100,
        I32Extend8S | I32Extend16S | I64Extend8S | I64Extend16S | I64Extend32S => 100,
        MemoryCopy { .. } | MemoryFill { .. } => 950,
        BrTable { targets } => 2_400 + 325 * u64::from(targets.len()),
        CallIndirect { .. } => 13_610 + 650 * call_indirect_params as u64,
        _ => u64::MAX,
    }
}

fn pricing_v1(ctx: &Context, op: &Operator<'_>) -> Result<u64, InstrumentError> {
    let params = match op {
        Operator::CallIndirect { type_index, .. } => ctx.sig(*type_index)?.0.len(),
        _ => 0,
    };
    Ok(pricing_v1_of(op, params))
}

/// `dynamic.rs`, `FuncDynamicMeter::feed`: the byte count is moved to the scratch global,
/// count x price is taken from the ink, and an underflow marks the ink exhausted.
fn dynamic_meter<'a>(ctx: &Context, ops: Vec<Operator<'a>>) -> Vec<Operator<'a>> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let coefficient = match op {
            Operator::MemoryFill { .. } => Some(MEMORY_FILL_INK),
            Operator::MemoryCopy { .. } => Some(MEMORY_COPY_INK),
            _ => None,
        };
        if let Some(coefficient) = coefficient {
            out.extend([
                Operator::GlobalSet {
                    global_index: ctx.scratch,
                },
                Operator::GlobalGet {
                    global_index: ctx.ink,
                },
                Operator::GlobalGet {
                    global_index: ctx.ink,
                },
                Operator::GlobalGet {
                    global_index: ctx.scratch,
                },
                Operator::I64ExtendI32U,
                Operator::I64Const {
                    value: coefficient as i64,
                },
                Operator::I64Mul,
                Operator::I64Sub,
                Operator::GlobalSet {
                    global_index: ctx.ink,
                },
                Operator::GlobalGet {
                    global_index: ctx.ink,
                },
                Operator::I64LtU,
            ]);
            out.extend(exhaust_if_true(ctx));
            out.push(Operator::GlobalGet {
                global_index: ctx.scratch,
            });
        }
        out.push(op);
    }
    out
}

/// `depth.rs`, `FuncDepthChecker::feed`: refuses an oversized frame, charges the frame on entry,
/// gives it back before every return (a `return` is added before the final `end`, as there).
fn depth_check<'a>(
    ctx: &Context,
    func: u32,
    locals: u64,
    mut ops: Vec<Operator<'a>>,
) -> Result<Vec<Operator<'a>>, InstrumentError> {
    let worst = worst_case_depth(ctx, &ops)?;
    if worst > MAX_FRAME_CONTENTION {
        return Err(InstrumentError::Contention { func, count: worst });
    }
    let size = u32::try_from(u64::from(worst) + locals + 4).unwrap_or(u32::MAX);
    if size > MAX_FRAME_SIZE {
        return Err(InstrumentError::FrameTooLarge { size });
    }
    let stack = ctx.stack;
    let mut out = Vec::with_capacity(ops.len() + 16);
    out.extend([
        Operator::GlobalGet {
            global_index: stack,
        },
        Operator::I32Const { value: size as i32 },
        Operator::I32LeU,
        Operator::If {
            blockty: BlockType::Empty,
        },
        Operator::I32Const { value: 0 },
        Operator::GlobalSet {
            global_index: stack,
        },
        Operator::Unreachable,
        Operator::End,
        Operator::GlobalGet {
            global_index: stack,
        },
        Operator::I32Const { value: size as i32 },
        Operator::I32Sub,
        Operator::GlobalSet {
            global_index: stack,
        },
    ]);
    let last = ops
        .pop()
        .ok_or_else(|| invalid("a function body without end"))?;
    ops.push(Operator::Return);
    ops.push(last);
    for op in ops {
        if matches!(op, Operator::Return) {
            out.extend([
                Operator::GlobalGet {
                    global_index: stack,
                },
                Operator::I32Const { value: size as i32 },
                Operator::I32Add,
                Operator::GlobalSet {
                    global_index: stack,
                },
            ]);
        }
        out.push(op);
    }
    Ok(out)
}

/// `depth.rs`, `worst_case_depth`: the most values on the stack at once, with block results
/// counted as pre-allocated.
fn worst_case_depth(ctx: &Context, ops: &[Operator<'_>]) -> Result<u32, InstrumentError> {
    use Operator::*;
    let mut worst = 0u32;
    let mut stack = 0u32;
    let mut scopes = vec![stack];
    let push = |stack: &mut u32, worst: &mut u32, n: u32| {
        *stack += n;
        *worst = (*worst).max(*stack);
    };
    let pop = |stack: &mut u32, n: u32| *stack = stack.saturating_sub(n);
    let ins_and_outs = |stack: &mut u32, worst: &mut u32, sig: &Sig| {
        push(stack, worst, sig.1.len() as u32);
        pop(stack, sig.0.len() as u32);
    };
    let block_type = |stack: &mut u32, worst: &mut u32, ty: &BlockType| -> Result<(), _> {
        match ty {
            BlockType::Empty => {}
            BlockType::Type(_) => push(stack, worst, 1),
            BlockType::FuncType(id) => ins_and_outs(stack, worst, ctx.sig(*id)?),
        }
        Ok::<(), InstrumentError>(())
    };
    for op in ops {
        match op {
            Block { blockty } | Loop { blockty } => {
                block_type(&mut stack, &mut worst, blockty)?;
                scopes.push(stack);
            }
            If { blockty } => {
                pop(&mut stack, 1);
                block_type(&mut stack, &mut worst, blockty)?;
                scopes.push(stack);
            }
            Else => {
                stack = *scopes
                    .last()
                    .ok_or_else(|| invalid("malformed if-else scope"))?
            }
            End => {
                stack = scopes
                    .pop()
                    .ok_or_else(|| invalid("malformed scoping detected at end of block"))?
            }
            Call { function_index } => {
                ins_and_outs(&mut stack, &mut worst, ctx.func_sig(*function_index)?)
            }
            CallIndirect { type_index, .. } => {
                ins_and_outs(&mut stack, &mut worst, ctx.sig(*type_index)?);
                pop(&mut stack, 1);
            }
            // Nitro's internal memory.fill/copy functions: (i32, i32, i32) -> ().
            MemoryFill { .. } | MemoryCopy { .. } => pop(&mut stack, 3),
            Nop
            | Unreachable
            | I32Eqz
            | I64Eqz
            | I32Clz
            | I32Ctz
            | I32Popcnt
            | I64Clz
            | I64Ctz
            | I64Popcnt
            | Br { .. }
            | Return
            | LocalTee { .. }
            | MemoryGrow { .. }
            | I32Load { .. }
            | I64Load { .. }
            | I32Load8S { .. }
            | I32Load8U { .. }
            | I32Load16S { .. }
            | I32Load16U { .. }
            | I64Load8S { .. }
            | I64Load8U { .. }
            | I64Load16S { .. }
            | I64Load16U { .. }
            | I64Load32S { .. }
            | I64Load32U { .. }
            | I32WrapI64
            | I64ExtendI32S
            | I64ExtendI32U
            | I32Extend8S
            | I32Extend16S
            | I64Extend8S
            | I64Extend16S
            | I64Extend32S => {}
            LocalGet { .. }
            | GlobalGet { .. }
            | MemorySize { .. }
            | I32Const { .. }
            | I64Const { .. } => push(&mut stack, &mut worst, 1),
            Drop
            | I32Eq
            | I32Ne
            | I32LtS
            | I32LtU
            | I32GtS
            | I32GtU
            | I32LeS
            | I32LeU
            | I32GeS
            | I32GeU
            | I64Eq
            | I64Ne
            | I64LtS
            | I64LtU
            | I64GtS
            | I64GtU
            | I64LeS
            | I64LeU
            | I64GeS
            | I64GeU
            | I32Add
            | I32Sub
            | I32Mul
            | I32DivS
            | I32DivU
            | I32RemS
            | I32RemU
            | I64Add
            | I64Sub
            | I64Mul
            | I64DivS
            | I64DivU
            | I64RemS
            | I64RemU
            | I32And
            | I32Or
            | I32Xor
            | I32Shl
            | I32ShrS
            | I32ShrU
            | I32Rotl
            | I32Rotr
            | I64And
            | I64Or
            | I64Xor
            | I64Shl
            | I64ShrS
            | I64ShrU
            | I64Rotl
            | I64Rotr
            | BrIf { .. }
            | BrTable { .. }
            | LocalSet { .. }
            | GlobalSet { .. } => pop(&mut stack, 1),
            Select
            | I32Store { .. }
            | I64Store { .. }
            | I32Store8 { .. }
            | I32Store16 { .. }
            | I64Store8 { .. }
            | I64Store16 { .. }
            | I64Store32 { .. } => pop(&mut stack, 2),
            other => return Err(invalid(format!("extension {other:?} not supported"))),
        }
    }
    Ok(worst)
}

/// `heap.rs`, `FuncHeapBound::feed`: the page count is passed to `pay_for_memory_grow` first.
fn heap_bound<'a>(ctx: &Context, ops: Vec<Operator<'a>>) -> Vec<Operator<'a>> {
    let Some(function_index) = ctx.pay_func else {
        return ops;
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        if matches!(op, Operator::MemoryGrow { .. }) {
            out.extend([
                Operator::GlobalSet {
                    global_index: ctx.scratch,
                },
                Operator::GlobalGet {
                    global_index: ctx.scratch,
                },
                Operator::GlobalGet {
                    global_index: ctx.scratch,
                },
                Operator::Call { function_index },
            ]);
        }
        out.push(op);
    }
    out
}
