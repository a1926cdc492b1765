//! The program's side of Stylus: the `vm_hooks` imports, the host built on them, the memory
//! allocator, the panic handler and `user_entrypoint`.
//!
//! The program does not link stylus-sdk: its dependency graph (stylus-core needs `regex`, the SDK
//! `clap`) brings in `std`, whose panic and formatting machinery cost ~500 bytes of the
//! 24 KiB compressed limit. Without it the program is `no_std` all the way down.

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};

use alloy_primitives::{Address, U256};

use crate::host::Host;

#[link(wasm_import_module = "vm_hooks")]
extern "C" {
    fn read_args(dest: *mut u8);
    fn write_result(data: *const u8, len: usize);
    fn msg_reentrant() -> u32;
    fn msg_sender(dest: *mut u8);
    fn msg_value(dest: *mut u8);
    fn block_timestamp() -> u64;
    fn contract_address(dest: *mut u8);
    fn storage_load_bytes32(key: *const u8, dest: *mut u8);
    fn storage_cache_bytes32(key: *const u8, value: *const u8);
    fn storage_flush_cache(clear: u32);
    fn emit_log(data: *const u8, len: usize, topics: usize);
    fn call_contract(
        to: *const u8,
        data: *const u8,
        len: usize,
        value: *const u8,
        gas: u64,
        return_len: *mut usize,
    ) -> u8;
    fn static_call_contract(
        to: *const u8,
        data: *const u8,
        len: usize,
        gas: u64,
        return_len: *mut usize,
    ) -> u8;
    fn delegate_call_contract(
        to: *const u8,
        data: *const u8,
        len: usize,
        gas: u64,
        return_len: *mut usize,
    ) -> u8;
    fn read_return_data(dest: *mut u8, offset: usize, size: usize) -> usize;
    fn pay_for_memory_grow(pages: u16);
    fn math_mul_mod(a: *mut u8, b: *const u8, m: *const u8);
    fn math_add_mod(a: *mut u8, b: *const u8, m: *const u8);
}

/// The host of a deployed program: every method is one hostio.
pub struct Stylus;

impl Host for Stylus {
    fn sender(&self) -> Address {
        let mut a = Address::ZERO;
        unsafe { msg_sender(a.as_mut_ptr()) };
        a
    }

    fn value(&self) -> U256 {
        let mut w = [0u8; 32];
        unsafe { msg_value(w.as_mut_ptr()) };
        U256::from_be_bytes(w)
    }

    fn timestamp(&self) -> u64 {
        unsafe { block_timestamp() }
    }

    fn address(&self) -> Address {
        let mut a = Address::ZERO;
        unsafe { contract_address(a.as_mut_ptr()) };
        a
    }

    fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
        let mut w = [0u8; 32];
        unsafe { storage_load_bytes32(slot.as_ptr(), w.as_mut_ptr()) };
        w
    }

    fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
        unsafe { storage_cache_bytes32(slot.as_ptr(), word.as_ptr()) };
    }

    fn emit_log(&self, topics_then_data: &[u8], topics: usize) {
        unsafe { emit_log(topics_then_data.as_ptr(), topics_then_data.len(), topics) };
    }

    fn send_value(&self, to: &Address, value: &U256, gas: Option<u64>) -> bool {
        let value = value.to_be_bytes::<32>();
        let mut return_len = 0;
        // No flush before the call: the callee cannot reenter (`user_entrypoint` refuses it),
        // so it never sees this program's cached storage.
        let status = unsafe {
            call_contract(
                to.as_ptr(),
                [].as_ptr(),
                0,
                value.as_ptr(),
                gas.unwrap_or(u64::MAX),
                &mut return_len,
            )
        };
        status == 0
    }

    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>> {
        let mut return_len = 0;
        let status = unsafe {
            static_call_contract(
                to.as_ptr(),
                calldata.as_ptr(),
                calldata.len(),
                u64::MAX,
                &mut return_len,
            )
        };
        if status != 0 {
            return None;
        }
        Some(return_data(return_len))
    }

    fn mul_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        let mut out = *a;
        unsafe { math_mul_mod(out.as_mut_ptr(), b.as_ptr(), m.as_ptr()) };
        out
    }

    fn add_mod(&self, a: &[u8; 32], b: &[u8; 32], m: &[u8; 32]) -> [u8; 32] {
        let mut out = *a;
        unsafe { math_add_mod(out.as_mut_ptr(), b.as_ptr(), m.as_ptr()) };
        out
    }

    fn delegate_call(&self, to: &Address, calldata: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
        let mut return_len = 0;
        // The callee works on this program's storage: it must see what this call wrote.
        unsafe { storage_flush_cache(0) };
        let status = unsafe {
            delegate_call_contract(
                to.as_ptr(),
                calldata.as_ptr(),
                calldata.len(),
                u64::MAX,
                &mut return_len,
            )
        };
        let data = return_data(return_len);
        if status == 0 {
            Ok(data)
        } else {
            Err(data)
        }
    }
}

/// The last call's return data.
fn return_data(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    unsafe {
        let n = read_return_data(out.as_mut_ptr(), 0, len);
        out.set_len(n.min(len));
    }
    out
}

/// The program's entry point, with the steps Nitro expects: refuse reentrancy, reference
/// `pay_for_memory_grow` (Nitro charges memory growth through it), run the call, flush the storage
/// cache (Nitro discards it on revert) and set the result.
#[no_mangle]
pub extern "C" fn user_entrypoint(len: usize) -> usize {
    if unsafe { msg_reentrant() } != 0 {
        return 1;
    }
    unsafe { pay_for_memory_grow(0) };
    let mut input = Vec::with_capacity(len);
    unsafe {
        read_args(input.as_mut_ptr());
        input.set_len(len);
    }
    #[cfg(not(feature = "extension"))]
    let result = crate::call(Stylus, &input);
    #[cfg(feature = "extension")]
    let result = crate::extension::call(Stylus, &input);
    let (data, status) = match result {
        Ok(data) => (data, 0),
        Err(data) => (data, 1),
    };
    unsafe {
        storage_flush_cache(0);
        write_result(data.as_ptr(), data.len());
    }
    status
}

/// A bump allocator: a call lives for one transaction and allocates little, so memory is never
/// reused and freeing is a no-op; growing the newest block extends it in place.
struct Bump;

static mut NEXT: usize = 0;

extern "C" {
    /// First byte after the stack and the data, set by the linker.
    static __heap_base: u8;
}

const PAGE: usize = 65_536;

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut next = NEXT;
        if next == 0 {
            next = core::ptr::addr_of!(__heap_base) as usize;
        }
        let start = (next + layout.align() - 1) & !(layout.align() - 1);
        match reserve(start, layout.size()) {
            Some(end) => {
                NEXT = end;
                start as *mut u8
            }
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ptr as usize + layout.size() == NEXT {
            if let Some(end) = reserve(ptr as usize, new_size) {
                NEXT = end;
                return ptr;
            }
            return core::ptr::null_mut();
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
        }
        new
    }
}

/// Makes `[start, start + size)` addressable, growing memory by whole pages; its end.
fn reserve(start: usize, size: usize) -> Option<usize> {
    let end = start.checked_add(size)?;
    let have = core::arch::wasm32::memory_size(0) * PAGE;
    if end > have {
        let pages = (end - have).div_ceil(PAGE);
        if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
            return None;
        }
    }
    Some(end)
}

#[global_allocator]
static ALLOCATOR: Bump = Bump;

/// A panic is a bug or an out-of-memory: trap, which Nitro turns into a revert without data.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
