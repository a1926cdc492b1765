//! Activation refuses what Nitro refuses, each with its own clear error: small modules written in
//! WAT, compressed and prefixed as cargo-stylus deploys them.

use devnet::program::{compress, ActivationError, ProgramCache, MAX_CODE_SIZE};

const ENTRY: &str = r#"(func (export "user_entrypoint") (param i32) (result i32) i32.const 0)"#;
/// A growable memory, with the hostio Nitro requires for it.
const MEMORY: &str = r#"(import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
    (memory (export "memory") 1)"#;

fn activate_wat(body: &str) -> Result<(), ActivationError> {
    let wasm = wat::parse_str(format!("(module {body})")).expect("valid WAT");
    activate_wasm(&wasm)
}

fn activate_wasm(wasm: &[u8]) -> Result<(), ActivationError> {
    ProgramCache::new()
        .expect("engine")
        .activate(&compress(wasm), |_| Default::default())
        .map(|_| ())
}

fn refused(body: &str) -> String {
    match activate_wat(body) {
        Ok(()) => panic!("activation accepted {body}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_minimal_program_activates() {
    activate_wat(&format!("{MEMORY} {ENTRY}")).expect("a minimal program");
}

#[test]
fn exports_must_be_there_with_the_right_type() {
    assert_eq!(refused(MEMORY), "missing export user_entrypoint");
    assert_eq!(refused(ENTRY), "missing export memory");
    let wrong = r#"(func (export "user_entrypoint") (param i64) (result i32) i32.const 0)"#;
    assert!(refused(&format!("{MEMORY} {wrong}")).contains("(i32) -> i32"));
}

#[test]
fn imports_only_from_vm_hooks_and_only_hostios() {
    let e = refused(&format!(
        r#"(import "env" "abort" (func)) {MEMORY} {ENTRY}"#
    ));
    assert!(e.contains("env::abort") && e.contains("vm_hooks"), "{e}");
    let e = refused(&format!(
        r#"(import "vm_hooks" "no_such_hostio" (func)) {MEMORY} {ENTRY}"#
    ));
    assert!(e.contains("vm_hooks::no_such_hostio"), "{e}");
}

#[test]
fn floats_simd_and_reference_types_are_refused() {
    let float = r#"(func (result f32) f32.const 1 f32.const 2 f32.add)"#;
    let e = refused(&format!("{MEMORY} {ENTRY} {float}"));
    assert!(e.starts_with("invalid WASM") && e.contains("float"), "{e}");
    // memory.init passes the bulk-memory validator, but Nitro allows only memory.copy/fill.
    let init = r#"(data $d "x") (func (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1)))"#;
    let e = refused(&format!("{MEMORY} {ENTRY} {init}"));
    assert!(e.starts_with("unsupported instruction MemoryInit"), "{e}");
    let copy = r#"(func (memory.copy (i32.const 0) (i32.const 1) (i32.const 1)))"#;
    activate_wat(&format!("{MEMORY} {ENTRY} {copy}")).expect("memory.copy is allowed");
    let simd = r#"(func (result v128) v128.const i64x2 0 0)"#;
    assert!(refused(&format!("{MEMORY} {ENTRY} {simd}")).starts_with("invalid WASM"));
    let reference = r#"(func (result funcref) ref.null func)"#;
    assert!(refused(&format!("{MEMORY} {ENTRY} {reference}")).starts_with("invalid WASM"));
    // Multi-value, from ArbOS 60 (`binary.rs`, `ARBOS_VERSION_STYLUS_NO_MULTI_VALUE`): neither
    // a function nor a block may yield two values.
    let pair = r#"(func (result i32 i32) i32.const 1 i32.const 2)"#;
    let e = refused(&format!("{MEMORY} {ENTRY} {pair}"));
    assert!(
        e.starts_with("invalid WASM") && e.contains("multi-value"),
        "{e}"
    );
    let block = r#"(func (block (result i32 i32) i32.const 1 i32.const 2) drop drop)"#;
    let e = refused(&format!("{MEMORY} {ENTRY} {block}"));
    assert!(e.contains("multi-value"), "{e}");
}

#[test]
fn limits_on_start_memory_and_data_segments() {
    let start = r#"(func $s) (start $s)"#;
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {start}")),
        "start functions not allowed"
    );
    let e = refused(&format!(r#"(memory (export "memory") 129) {ENTRY}"#));
    assert!(e.contains("129 pages"), "{e}");
    let segments: String = (0..129)
        .map(|i| format!(r#"(data (i32.const {i}) "x")"#))
        .collect();
    let e = refused(&format!("{MEMORY} {ENTRY} {segments}"));
    assert_eq!(e, "too many wasm datas: 129 > 128");
}

/// Nitro's other limits and name rules (`crates/prover/src/binary.rs`, `parse_user` and
/// `parse_with_version`; `programs/heap.rs`), one small module each, refused with Nitro's words.
#[test]
fn nitros_limits_and_name_rules() {
    // Locals: 348 per function.
    let locals = |n: usize| format!("(func {})", "(local i32)".repeat(n));
    activate_wat(&format!("{MEMORY} {ENTRY} {}", locals(348))).expect("348 locals");
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", locals(349))),
        "too many wasm locals: 349 > 348"
    );
    // Operators: 65,536 per function body, counted after instrumentation: a body of one basic
    // block gains 12 operators of metering, 12 of stack accounting on entry, a `return` and the
    // 4 that give the stack back before it (`meter.rs`, `depth.rs`).
    let body = |n: usize| format!("(func {})", "nop ".repeat(n - 1));
    activate_wat(&format!("{MEMORY} {ENTRY} {}", body(65_507))).expect("65,536 operators");
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", body(65_508))),
        "too many wasm opcodes in func body: 65537 > 65536"
    );
    // Exports and their names are not limited: Nitro drops every export but the entrypoint and
    // the memory (`programs/start.rs`) before it applies its 1,024-export and 512-byte limits.
    let exports = |n: usize| {
        (0..n)
            .map(|i| format!(r#"(global (export "g{i}") i32 (i32.const 0))"#))
            .collect::<String>()
    };
    activate_wat(&format!("{MEMORY} {ENTRY} {}", exports(1_100))).expect("1,102 exports");
    let long = "x".repeat(513);
    activate_wat(&format!(r#"{MEMORY} {ENTRY} (func (export "{long}"))"#))
        .expect("a 513-byte export name");
    // Functions: 4,096 of the module's own.
    let funcs = |n: usize| "(func)".repeat(n);
    activate_wat(&format!("{MEMORY} {ENTRY} {}", funcs(4_095))).expect("4,096 functions");
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", funcs(4_096))),
        "too many wasm functions: 4097 > 4096"
    );
    // Globals: 32,768 including the four instrumentation adds; at five bytes a global, a module
    // holding that many is over the 128 KiB WASM limit first, so no test module can reach it.
    // Imports: 513 (the same hostio may be imported again under the same signature).
    let imports = |n: usize| r#"(import "vm_hooks" "msg_reentrant" (func (result i32)))"#.repeat(n);
    activate_wat(&format!("{} {MEMORY} {ENTRY}", imports(512))).expect("513 imports");
    assert_eq!(
        refused(&format!("{} {MEMORY} {ENTRY}", imports(513))),
        "too many wasm imports: 514 > 513"
    );
    // Table entries: 4,096; element segments: 128; element entries: 4,096.
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} (table 4097 funcref)")),
        "too many wasm table entries: 4097 > 4096"
    );
    let elements = (0..129)
        .map(|i| format!("(elem (i32.const {i}) $f)"))
        .collect::<String>();
    assert_eq!(
        refused(&format!(
            "{MEMORY} {ENTRY} (table 200 funcref) (func $f) {elements}"
        )),
        "too many wasm elements: 129 > 128"
    );
    let entries = "$f ".repeat(4_097);
    assert_eq!(
        refused(&format!(
            "{MEMORY} {ENTRY} (table 4096 funcref) (func $f) (elem (i32.const 0) func {entries})"
        )),
        "too many wasm element entries: 4097 > 4096"
    );
    // The module's own name: 512 bytes at most.
    let wasm = wat::parse_str(format!("(module ${long} {MEMORY} {ENTRY})")).unwrap();
    assert_eq!(
        activate_wasm(&wasm).unwrap_err().to_string(),
        "wasm module name too long: 513 > 512"
    );
    // One signature per imported hostio; no export named like an import; no `stylus` names.
    assert_eq!(
        refused(&format!(
            r#"(import "vm_hooks" "msg_reentrant" (func (result i32)))
               (import "vm_hooks" "msg_reentrant" (func (result i64))) {MEMORY} {ENTRY}"#
        )),
        "invalid WASM for Stylus: inconsistent imports for vm_hooks msg_reentrant"
    );
    assert_eq!(
        refused(&format!(
            r#"(import "vm_hooks" "msg_reentrant" (func (result i32))) {MEMORY} {ENTRY}
               (func (export "mine__msg_reentrant"))"#
        )),
        "invalid WASM for Stylus: binary exports an import with the same name msg_reentrant"
    );
    assert_eq!(
        refused(&format!(
            r#"{MEMORY} {ENTRY} (func (export "stylus_start"))"#
        )),
        "invalid WASM for Stylus: binary exports reserved symbol stylus_start"
    );
    // A hostio imported with another signature than the host's.
    let e = refused(&format!(
        r#"(import "vm_hooks" "msg_reentrant" (func (result i64))) {MEMORY} {ENTRY}"#
    ));
    assert!(
        e.starts_with(
            "invalid WASM for Stylus: incompatible import type for `vm_hooks::msg_reentrant`"
        ),
        "{e}"
    );
    // A memory that can grow needs pay_for_memory_grow, with its type; a fixed one does not.
    assert_eq!(
        refused(&format!(r#"(memory (export "memory") 1) {ENTRY}"#)),
        "invalid WASM for Stylus: missing import pay_for_memory_grow (a memory that can grow \
         must pay for it)"
    );
    assert_eq!(
        refused(&format!(
            r#"(import "vm_hooks" "pay_for_memory_grow" (func (param i64)))
               (memory (export "memory") 1) {ENTRY}"#
        )),
        "invalid WASM for Stylus: wrong type for pay_for_memory_grow: it must be (i32) -> ()"
    );
    activate_wat(&format!(r#"(memory (export "memory") 1 1) {ENTRY}"#))
        .expect("a fixed-size memory needs no pay_for_memory_grow");
}

#[test]
fn size_limits_and_the_stylus_prefix() {
    // 130 KiB of zeros compress to almost nothing but are over 128 KiB uncompressed.
    let big = format!(
        r#"(memory (export "memory") 3) {ENTRY} (data (i32.const 0) "{}")"#,
        "\\00".repeat(130 * 1024)
    );
    assert!(refused(&big).contains("uncompressed, over the 131072-byte limit"));
    // Bytes that do not compress: over 24 KiB deployed.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: String = (0..30 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("\\{:02x}", x as u8)
        })
        .collect();
    let e = refused(&format!(
        r#"{MEMORY} {ENTRY} (data (i32.const 0) "{noise}")"#
    ));
    assert!(
        e.contains(&format!("over the {MAX_CODE_SIZE}-byte limit")),
        "{e}"
    );

    let wasm = wat::parse_str(format!("(module {MEMORY} {ENTRY})")).unwrap();
    let cache = ProgramCache::new().unwrap();
    let e = cache.activate(&wasm, |_| Default::default()).unwrap_err();
    assert!(matches!(e, ActivationError::NotStylus), "{e}");
    let mut code = compress(&wasm);
    code[3] = 1;
    let e = cache.activate(&code, |_| Default::default()).unwrap_err();
    assert!(matches!(e, ActivationError::UnknownDictionary(1)), "{e}");
}

/// `depth.rs`: a function's frame (the most values on its stack at once, its locals and 4 words)
/// is bounded at 10,240 words, and the values alone at 4,096; both are checked before the
/// 348-locals limit, so a function with very many locals is refused for its frame. The values
/// counted include the two the metering header pushes, so an empty body holds 2.
#[test]
fn frames_are_bounded_as_nitro_bounds_them() {
    let locals = |n: usize| format!("(func {})", "(local i32)".repeat(n));
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", locals(10_235))),
        "frame too large: 10241 > 10240-word limit"
    );
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", locals(10_234))),
        "too many wasm locals: 10234 > 348"
    );
    let values = |n: usize| format!("(func {} {})", "i32.const 0 ".repeat(n), "drop ".repeat(n));
    activate_wat(&format!("{MEMORY} {ENTRY} {}", values(4_096))).expect("4,096 values");
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {}", values(4_097))),
        "too many values on the stack at once in func 1: 4097 > 4096"
    );
}
