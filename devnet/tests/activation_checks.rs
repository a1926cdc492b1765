//! Activation refuses what Nitro refuses, each with its own clear error: small modules written in
//! WAT, compressed and prefixed as cargo-stylus deploys them.

use devnet::program::{compress, ActivationError, ProgramCache, MAX_CODE_SIZE};

const ENTRY: &str = r#"(func (export "user_entrypoint") (param i32) (result i32) i32.const 0)"#;
const MEMORY: &str = r#"(memory (export "memory") 1)"#;

fn activate_wat(body: &str) -> Result<(), ActivationError> {
    let wasm = wat::parse_str(format!("(module {body})")).expect("valid WAT");
    activate_wasm(&wasm)
}

fn activate_wasm(wasm: &[u8]) -> Result<(), ActivationError> {
    ProgramCache::new()
        .expect("engine")
        .activate(&compress(wasm))
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
    activate_wat(&format!(
        r#"(import "vm_hooks" "pay_for_memory_grow" (func (param i32))) {MEMORY} {ENTRY}"#
    ))
    .expect("a minimal program");
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
}

#[test]
fn limits_on_start_memory_and_data_segments() {
    let start = r#"(func $s) (start $s)"#;
    assert_eq!(
        refused(&format!("{MEMORY} {ENTRY} {start}")),
        "a start function is not allowed"
    );
    let e = refused(&format!(r#"(memory (export "memory") 129) {ENTRY}"#));
    assert!(e.contains("129 pages"), "{e}");
    let segments: String = (0..129)
        .map(|i| format!(r#"(data (i32.const {i}) "x")"#))
        .collect();
    let e = refused(&format!("{MEMORY} {ENTRY} {segments}"));
    assert!(e.contains("129 data segments"), "{e}");
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
    let e = cache.activate(&wasm).unwrap_err();
    assert!(matches!(e, ActivationError::NotStylus), "{e}");
    let mut code = compress(&wasm);
    code[3] = 1;
    let e = cache.activate(&code).unwrap_err();
    assert!(matches!(e, ActivationError::UnknownDictionary(1)), "{e}");
}
