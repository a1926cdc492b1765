//! The gas model: Stylus prices for hostios and storage, EVM prices for the rest. Every constant
//! names its source in Arbitrum Nitro (see ../shared/STYLUS.md). WASM execution itself is metered
//! with wasmtime fuel (one unit per operator) at an average Nitro price per operator, so gas
//! figures are estimates; the README states the limits of the model.

/// Nitro `arbos/programs/params.go`: 10,000 ink = 1 gas.
pub const INK_PER_GAS: u64 = 10_000;

/// Ink charged per WASM operator. Nitro prices each opcode (`meter.rs::pricing_v1`: local.get 75,
/// i32 arithmetic 70, loads 670, stores 825, branches 765, calls 3,800, plus 2,450 per basic
/// block); wasmtime charges one fuel unit per operator, so one fuel unit stands for a rough
/// average of those prices. An estimate, not Nitro's exact meter.
pub const INK_PER_FUEL: u64 = 300;

pub fn fuel_for_gas(gas: u64) -> u64 {
    gas.saturating_mul(INK_PER_GAS) / INK_PER_FUEL
}

pub fn gas_for_fuel(fuel: u64) -> u64 {
    (fuel as u128 * INK_PER_FUEL as u128).div_ceil(INK_PER_GAS as u128) as u64
}

pub fn fuel_for_ink(ink: u64) -> u64 {
    ink.div_ceil(INK_PER_FUEL)
}

// ---- hostio base prices in ink (`crates/arbutil/src/pricing.rs`)
pub const HOSTIO_INK: u64 = 8_400;
pub const PTR_INK: u64 = 13_440 - HOSTIO_INK;
pub const EVM_API_INK: u64 = 59_673;
pub const SLOAD_BASE_INK: u64 = 18_480;
pub const SSTORE_BASE_INK: u64 = 18_480;
pub const FLUSH_BASE_INK: u64 = 68_073;
pub const CALL_BASE_INK: u64 = 83_193;
pub const READ_RETURN_BASE_INK: u64 = 68_073;
pub const EMIT_LOG_BASE_INK: u64 = 68_073;
pub const BALANCE_BASE_INK: u64 = 78_153;
pub const KECCAK_BASE_INK: u64 = 121_800;
pub const KECCAK_WORD_INK: u64 = 21_000;

/// `pricing.rs::write_price`: copying `len` bytes into WASM memory.
pub fn write_ink(len: usize) -> u64 {
    PTR_INK + 30 * (len as u64).saturating_sub(32)
}

/// `pricing.rs::read_price`: copying `len` bytes out of WASM memory.
pub fn read_ink(len: usize) -> u64 {
    16_381 + 55 * (len as u64).saturating_sub(32)
}

pub fn keccak_ink(len: usize) -> u64 {
    KECCAK_BASE_INK + KECCAK_WORD_INK * (len as u64).div_ceil(32).saturating_sub(2)
}

// ---- EVM gas (`crates/arbutil/src/evm/mod.rs`, EIP-2929/2200/3529)
pub const COLD_SLOAD: u64 = 2_100;
pub const COLD_ACCOUNT: u64 = 2_600;
pub const WARM: u64 = 100;
pub const SSTORE_SET: u64 = 20_000;
pub const SSTORE_RESET: u64 = 2_900;
pub const SSTORE_SENTRY: u64 = 2_300;
pub const LOG_BASE: u64 = 375;
pub const LOG_TOPIC: u64 = 375;
pub const LOG_DATA: u64 = 8;
pub const CALL_VALUE: u64 = 9_000;
pub const CALL_NEW_ACCOUNT: u64 = 25_000;
pub const CALL_STIPEND: u64 = 2_300;
/// Stylus storage cache (`evm/storage.rs`): reads beyond the first 32 cost 2 (to 128) then 10
/// gas; on a miss the EVM load (cold/warm) plus `ink_to_gas(EVM_API_INK)`.
pub fn cache_read_gas(reads: usize) -> u64 {
    match reads {
        0..32 => 0,
        32..128 => 2,
        _ => 10,
    }
}
/// Writes into the cache: free for the first 8, then 7 (to 64), then 10 gas.
pub fn cache_write_gas(writes: usize) -> u64 {
    match writes {
        0..8 => 0,
        8..64 => 7,
        _ => 10,
    }
}

/// EIP-2200 SSTORE cost (without refunds) of writing `new` over `current`, given the slot's
/// value at the start of the transaction and whether the slot was cold.
pub fn sstore_gas(original: &[u8; 32], current: &[u8; 32], new: &[u8; 32], cold: bool) -> u64 {
    let access = if cold { COLD_SLOAD } else { 0 };
    let zero = [0u8; 32];
    access
        + if current == new {
            WARM
        } else if original == current {
            if *original == zero {
                SSTORE_SET
            } else {
                SSTORE_RESET
            }
        } else {
            WARM
        }
}

// ---- transactions (yellow paper, EIP-2028, EIP-3860)
pub const TX_BASE: u64 = 21_000;
pub const TX_CREATE: u64 = 32_000;
pub const TX_DATA_ZERO: u64 = 4;
pub const TX_DATA_NONZERO: u64 = 16;
pub const INITCODE_WORD: u64 = 2;
pub const CODE_DEPOSIT_BYTE: u64 = 200;

pub fn intrinsic_gas(data: &[u8], create: bool) -> u64 {
    let data_gas: u64 = data
        .iter()
        .map(|b| {
            if *b == 0 {
                TX_DATA_ZERO
            } else {
                TX_DATA_NONZERO
            }
        })
        .sum();
    let create_gas = if create {
        TX_CREATE + INITCODE_WORD * (data.len() as u64).div_ceil(32)
    } else {
        0
    };
    TX_BASE + data_gas + create_gas
}

// ---- program calls (`arbos/programs/params.go`, `programs.go`, `memory.go`)
/// `MinInitGas` (72 units of 128 gas) charged on every call of a program that is not cached.
pub const MIN_INIT_GAS: u64 = 72 * 128;
/// Pages a transaction gets without paying (`FreePages`).
pub const FREE_PAGES: u16 = 2;
/// Linear price of each page beyond the free ones (`PageGas`).
pub const PAGE_GAS: u64 = 1_000;
/// Most pages a program may hold (`PageLimit`, 8 MiB).
pub const PAGE_LIMIT: u16 = 128;
/// The exponential term of the memory price is floor(b^pages) with b = MEMORY_EXP_TOP^(1/128)
/// (`memory.go`): 31 873 999 gas for a transaction that reaches the page limit.
const MEMORY_EXP_TOP: f64 = 31_874_000.0;

/// Exponential term of Nitro's memory model for a high-water mark of `pages`; beyond the limit
/// it is unpayable.
fn memory_exp(pages: u16) -> u64 {
    static TABLE: std::sync::OnceLock<[u64; PAGE_LIMIT as usize + 1]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let base = (MEMORY_EXP_TOP.ln() / f64::from(PAGE_LIMIT)).exp();
        std::array::from_fn(|p| base.powi(p as i32) as u64)
    });
    table.get(usize::from(pages)).copied().unwrap_or(u64::MAX)
}

/// Gas for `new` more pages when `open` are held by the calls on the stack and `ever` is the
/// most the transaction has held (Nitro's `MemoryModel::GasCost`): nothing while the high-water
/// mark stays within the free pages; else the linear price of the pages added beyond the free
/// ones plus the rise of the exponential term. Pages reopened below the high-water mark (after a
/// call returned) pay only the linear part.
pub fn memory_cost(new: u16, open: u16, ever: u16) -> u64 {
    let new_open = open.saturating_add(new);
    let new_ever = ever.max(new_open);
    if new_ever <= FREE_PAGES {
        return 0;
    }
    let beyond_free = |pages: u16| pages.saturating_sub(FREE_PAGES);
    let added = u64::from(beyond_free(new_open).saturating_sub(beyond_free(open)));
    let linear = added.saturating_mul(PAGE_GAS);
    linear.saturating_add(memory_exp(new_ever).saturating_sub(memory_exp(ever)))
}

/// Init gas of a program call: the minimum plus Nitro's estimate of the instantiation cost from
/// the module's shape (`binary.rs::instrument`: 8.252 per function, 0.1286 per byte of WASM).
pub fn init_gas(wasm_len: usize, functions: usize) -> u64 {
    let init_cost = (functions as f64 * 8.252 + wasm_len as f64 * 0.1286).ceil() as u64;
    MIN_INIT_GAS + init_cost
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_term_follows_nitro() {
        assert_eq!(memory_exp(0), 1);
        // Values of Nitro's table (`memory.go`).
        assert_eq!(memory_exp(6), 2);
        assert_eq!(memory_exp(64), 5_645);
        assert_eq!(memory_exp(127), 27_849_408);
        assert_eq!(memory_exp(PAGE_LIMIT), 31_873_999);
        assert_eq!(memory_exp(PAGE_LIMIT + 1), u64::MAX);
        assert!((1..=PAGE_LIMIT).all(|p| memory_exp(p) >= memory_exp(p - 1)));
    }

    #[test]
    fn free_pages_cost_nothing_and_the_limit_is_unpayable() {
        assert_eq!(memory_cost(FREE_PAGES, 0, 0), 0);
        assert_eq!(memory_cost(1, 1, 1), 0);
        // The third page: its linear price and exp(3) - exp(0) = 0.
        assert_eq!(memory_cost(3, 0, 0), PAGE_GAS);
        assert_eq!(memory_cost(PAGE_LIMIT + 1, 0, 0), u64::MAX);
        assert_eq!(memory_cost(u16::MAX, 0, 0), u64::MAX);
    }

    #[test]
    fn growing_to_the_limit_costs_the_same_in_any_steps() {
        // Linear part for the 126 paid pages plus exp(128) - exp(0).
        let whole = 126 * PAGE_GAS + 31_873_998;
        for step in 1..=PAGE_LIMIT {
            let mut pages = 0;
            let mut total = 0;
            while pages < PAGE_LIMIT {
                let add = step.min(PAGE_LIMIT - pages);
                total += memory_cost(add, pages, pages);
                pages += add;
            }
            assert_eq!(total, whole, "in steps of {step}");
        }
    }

    #[test]
    fn reopened_pages_pay_only_the_linear_part() {
        // A call that held 10 pages returned; a second call opens 10 again.
        let first = memory_cost(10, 0, 0);
        let second = memory_cost(10, 0, 10);
        assert_eq!(second, 8 * PAGE_GAS);
        assert_eq!(first, 8 * PAGE_GAS + memory_exp(10) - 1);
        // Going past the old mark pays the exponential rise from there.
        assert_eq!(
            memory_cost(12, 0, 10),
            10 * PAGE_GAS + memory_exp(12) - memory_exp(10)
        );
    }
}
