//! The gas model: Stylus prices for hostios and storage, EVM prices for the rest. Every constant
//! names its source in Arbitrum Nitro (see ../shared/STYLUS.md). WASM execution itself is metered
//! by Nitro's own instrumentation, operator by operator (`instrument.rs`).

/// Nitro `arbos/programs/params.go`: 10,000 ink = 1 gas.
pub const INK_PER_GAS: u64 = 10_000;

// ---- hostio base prices in ink (`crates/arbutil/src/pricing.rs`)
pub const HOSTIO_INK: u64 = 8_400;
pub const PTR_INK: u64 = 13_440 - HOSTIO_INK;
pub const EVM_API_INK: u64 = 59_673;
/// What a storage cache miss adds for the EVM API (`user-host-trait` `storage_load_bytes32`:
/// `ink_to_gas(EVM_API_INK)`, which rounds down, `programs/config.rs`): 5 gas.
pub const EVM_API_GAS: u64 = EVM_API_INK / INK_PER_GAS;
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
/// What reading an account's code adds (go-ethereum `WasmAccountTouchCost` with code:
/// `MaxCodeSize / 24576 x ExtcodeSizeGasEIP150`, 700 with Arbitrum's 24 KiB code limit).
pub const EXTCODE_GAS: u64 = 700;
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

/// EIP-3529's refund for clearing a slot that was non-zero at the start of the transaction.
pub const SSTORE_CLEARS_REFUND: i64 = 4_800;
/// EIP-3529: at most this fraction of a transaction's gas comes back as refund.
pub const MAX_REFUND_QUOTIENT: u64 = 5;

/// EIP-2929/2200/3529 SSTORE pricing of writing `new` over `current`, given the slot's
/// transaction-start value `original`: the gas and the change of the refund counter
/// (go-ethereum `core/vm/operations_acl.go`, `makeGasSStoreFunc` with the EIP-3529 refund, which
/// Nitro also applies to Stylus storage flushes, `WasmStateStoreCost`).
pub fn sstore(original: &[u8; 32], current: &[u8; 32], new: &[u8; 32], cold: bool) -> (u64, i64) {
    let access = if cold { COLD_SLOAD } else { 0 };
    let zero = [0u8; 32];
    if current == new {
        return (access + WARM, 0);
    }
    if original == current {
        if *original == zero {
            return (access + SSTORE_SET, 0);
        }
        let refund = if *new == zero {
            SSTORE_CLEARS_REFUND
        } else {
            0
        };
        return (access + SSTORE_RESET, refund);
    }
    let mut refund = 0;
    if *original != zero {
        if *current == zero {
            refund -= SSTORE_CLEARS_REFUND;
        } else if *new == zero {
            refund += SSTORE_CLEARS_REFUND;
        }
    }
    if original == new {
        refund += if *original == zero {
            (SSTORE_SET - WARM) as i64
        } else {
            (SSTORE_RESET - WARM) as i64
        };
    }
    (access + WARM, refund)
}

/// The refund a transaction that used `gas_used` (intrinsic and L1 poster gas included) gets
/// back for a refund counter of `counter`: geth's `refundGas` with EIP-3529's quotient, which
/// Nitro's go-ethereum applies to the gas less the non-refundable poster gas
/// (`core/state_transition.go`; `arbos/tx_processor.go`, `NonrefundableGas`).
pub fn capped_refund(gas_used: u64, poster_gas: u64, counter: u64) -> u64 {
    counter.min(gas_used.saturating_sub(poster_gas) / MAX_REFUND_QUOTIENT)
}

// ---- transactions (yellow paper, EIP-2028, EIP-3860)
pub const TX_BASE: u64 = 21_000;
pub const TX_CREATE: u64 = 32_000;
pub const TX_DATA_ZERO: u64 = 4;
pub const TX_DATA_NONZERO: u64 = 16;
pub const INITCODE_WORD: u64 = 2;
pub const CODE_DEPOSIT_BYTE: u64 = 200;

/// EIP-2930: each address of a transaction's access list, and each storage key in it.
pub const ACCESS_LIST_ADDRESS: u64 = 2_400;
pub const ACCESS_LIST_STORAGE_KEY: u64 = 1_900;

/// The intrinsic gas of a transaction's access list.
pub fn access_list_gas(list: &alloy::eips::eip2930::AccessList) -> u64 {
    list.iter()
        .map(|item| ACCESS_LIST_ADDRESS + ACCESS_LIST_STORAGE_KEY * item.storage_keys.len() as u64)
        .sum()
}

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
/// `MinInitGas` of Stylus version 2 (69 units of 128 gas, `v2MinInitGas`), charged on every call
/// of a program that is not cached.
pub const MIN_INIT_GAS: u64 = 69 * 128;
/// `MinCachedInitGas` (11 units of 32 gas), charged on every call from Stylus version 2 on.
pub const MIN_CACHED_INIT_GAS: u64 = 11 * 32;
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

/// What Nitro's instantiation cost estimate reads from a module (`crates/prover/src/binary.rs`,
/// `WasmBinary::instrument`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ModuleShape {
    /// Functions with a body (imports not counted).
    pub functions: u64,
    /// Parameters plus results over those functions' types.
    pub type_len: u64,
    pub wasm_len: u64,
    /// Globals after instrumentation.
    pub globals: u64,
    /// Bytes of data segments plus element segment entries.
    pub data_len: u64,
    /// Initial memory pages.
    pub footprint: u16,
}

/// A program's `init_cost` and `cached_init_cost`, fixed at activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InitCosts {
    pub init: u16,
    pub cached: u16,
}

impl InitCosts {
    /// Nitro's estimate (`binary.rs`, "predict costs"; integer arithmetic as there): an error
    /// where Nitro refuses the program because a cost does not fit 16 bits.
    pub fn estimate(m: &ModuleShape) -> Result<InitCosts, &'static str> {
        let cached = m.functions * 13_420 / 100_000
            + m.type_len * 89 / 100_000
            + m.wasm_len * 122 / 100_000
            + m.globals * 1_628 / 1_000
            + m.data_len * 75_244 / 100_000
            + u64::from(m.footprint) * 5;
        // Stylus version 2: the cached cost is charged on its own, not folded into init.
        let init =
            m.functions * 8_252 / 1_000 + m.type_len * 1_059 / 1_000 + m.wasm_len * 1_286 / 10_000;
        Ok(InitCosts {
            init: u16::try_from(init).map_err(|_| "init cost too high")?,
            cached: u16::try_from(cached).map_err(|_| "cached cost too high")?,
        })
    }

    /// Gas to start a call (`programs.go`, `CallProgram`): `cachedGas` always (version 2),
    /// plus `initGas` unless the program is cached. The scalars are at their initial 100%.
    pub fn call_gas(&self, cached: bool) -> u64 {
        let cached_gas = MIN_CACHED_INIT_GAS + u64::from(self.cached);
        if cached {
            cached_gas
        } else {
            cached_gas + MIN_INIT_GAS + u64::from(self.init)
        }
    }
}

/// Nitro's estimate of the machine code a module compiles to, in bytes (`binary.rs`,
/// `instrument`, "asm_estimate"): what the activation data fee is charged on.
pub fn asm_estimate(m: &ModuleShape) -> Result<u32, &'static str> {
    let estimate = 512_000u64
        .saturating_add(m.functions.saturating_mul(996_829) / 1_000)
        .saturating_add(m.type_len.saturating_mul(11_416) / 1_000)
        .saturating_add(m.wasm_len.saturating_mul(62_628) / 10_000);
    u32::try_from(estimate).map_err(|_| "asm estimate too large")
}

/// What `crates/prover/src/programs/mod.rs` (`Module::activate`) charges for a module.
#[derive(Clone, Copy, Debug, Default)]
pub struct ActivationShape {
    pub wasm_len: u64,
    pub functions: u64,
    pub data_bytes: u64,
    pub element_entries: u64,
    pub initial_pages: u64,
    /// Operators of all function bodies after instrumentation.
    pub operators: u64,
}

/// `ArbWasm.activateProgram`'s fixed price (`precompiles/ArbWasm.go`), burnt before the module
/// is parsed; the chain's configurable `ActivationGas` (0 by default) comes on top of it.
pub const ACTIVATION_FIXED_GAS: u64 = 1_659_168;

/// The gas of compiling a module (`Module::activate`): each part estimated in microseconds and
/// converted at 28 gas a microsecond (fudge 2 x 7,000,000 gas/s over a 500,000 us sync rate),
/// each rounded down on its own as there.
pub fn activation_gas(a: &ActivationShape) -> u64 {
    let us_to_gas = |us: u64| us.saturating_mul(2 * 7_000_000) / (1_000_000 / 2);
    [
        a.wasm_len.saturating_mul(31_733) / 100_000,
        a.functions.saturating_mul(17_263) / 100_000,
        a.data_bytes.saturating_mul(17_376) / 100_000,
        a.element_entries.saturating_mul(17_376) / 100_000,
        a.initial_pages.saturating_mul(2_217),
        a.operators.saturating_mul(535) / 1_000,
    ]
    .into_iter()
    .map(us_to_gas)
    .fold(0u64, u64::saturating_add)
}

/// The data pricer's state (`arbos/programs/data_pricer.go`): demand in bytes, decaying at
/// `bytesPerSecond` since the last update.
pub const DATA_PRICER_BYTES_PER_SECOND: u32 = ((1u64 << 40) / (365 * 24) / (60 * 60)) as u32;
pub const DATA_PRICER_START_TIME: u64 = 1_421_388_000;
const DATA_PRICER_MIN_PRICE: u32 = 82_928_201;
const DATA_PRICER_INERTIA: u32 = 21_360_419;

/// `DataPricer.UpdateModel`: the new demand and the fee in wei for activating `bytes` of
/// estimated machine code at `time`.
pub fn data_fee(demand: u32, last_update: u64, bytes: u32, time: u64) -> (u32, u128) {
    let passed = u32::try_from(time.saturating_sub(last_update)).unwrap_or(u32::MAX);
    let credit = DATA_PRICER_BYTES_PER_SECOND.saturating_mul(passed);
    let demand = demand.saturating_sub(credit).saturating_add(bytes);
    let exponent = 10_000 * u64::from(demand) / u64::from(DATA_PRICER_INERTIA);
    let multiplier = approx_exp_bips(exponent, 12);
    let cost_per_byte = u64::from(DATA_PRICER_MIN_PRICE).saturating_mul(multiplier) / 10_000;
    (
        demand,
        u128::from(cost_per_byte.saturating_mul(u64::from(bytes))),
    )
}

/// `arbmath.ApproxExpBasisPoints` for a non-negative exponent: 10,000 x e^(x / 10,000) by
/// Horner's method over `accuracy` terms.
fn approx_exp_bips(x: u64, accuracy: u64) -> u64 {
    let b = 10_000u64;
    let mut res = b + x / accuracy;
    for i in (1..accuracy).rev() {
        res = b + res.saturating_mul(x) / (i * b);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sstore_prices_and_refunds_follow_eip_3529() {
        let (z, a, b) = ([0u8; 32], [1u8; 32], [2u8; 32]);
        // Fresh slot set; a slot rewritten; a no-op write.
        assert_eq!(sstore(&z, &z, &a, true), (22_100, 0));
        assert_eq!(sstore(&a, &a, &b, true), (5_000, 0));
        assert_eq!(sstore(&a, &a, &a, false), (100, 0));
        // Clearing an originally non-zero slot refunds 4,800.
        assert_eq!(sstore(&a, &a, &z, false), (2_900, 4_800));
        // Set then cleared in one transaction: the 20,000 comes back but for the warm read.
        assert_eq!(sstore(&z, &a, &z, false), (100, 19_900));
        // Changed then restored: 2,800 back.
        assert_eq!(sstore(&a, &b, &a, false), (100, 2_800));
        // Cleared then set again: the clearing refund is taken back.
        assert_eq!(sstore(&a, &z, &b, false), (100, -4_800));
        // Cleared, then restored: the clearing refund goes, the restore refund comes.
        assert_eq!(sstore(&a, &z, &a, false), (100, -4_800 + 2_800));
        assert_eq!(capped_refund(100_000, 0, 4_800), 4_800);
        assert_eq!(capped_refund(20_000, 0, 19_900), 4_000);
        // The poster gas is not refundable: a fifth of what is left.
        assert_eq!(capped_refund(120_000, 100_000, 19_900), 4_000);
        assert_eq!(capped_refund(90_000, 100_000, 19_900), 0);
    }

    #[test]
    fn init_costs_follow_nitros_estimate() {
        // The task contract's shape; figures worked by hand from `binary.rs`'s formulas.
        let m = ModuleShape {
            functions: 355,
            type_len: 1_137,
            wasm_len: 62_090,
            globals: 6,
            data_len: 3_742,
            footprint: 2,
        };
        let costs = InitCosts::estimate(&m).unwrap();
        assert_eq!(
            costs,
            InitCosts {
                init: 12_117,
                cached: 2_957
            }
        );
        assert_eq!(costs.call_gas(false), 352 + 2_957 + 8_832 + 12_117);
        assert_eq!(costs.call_gas(true), 352 + 2_957);
        let huge = ModuleShape {
            functions: 10_000,
            ..m
        };
        assert_eq!(InitCosts::estimate(&huge), Err("init cost too high"));
    }

    #[test]
    fn activation_prices_follow_nitro() {
        // The data pricer, worked by hand from `data_pricer.go`: the first activation after a
        // long quiet spell pays on its own bytes alone.
        assert_eq!(DATA_PRICER_BYTES_PER_SECOND, 34_865);
        assert_eq!(approx_exp_bips(0, 12), 10_000);
        // e^1 to Nitro's accuracy.
        assert_eq!(approx_exp_bips(10_000, 12), 27_182);
        let (demand, fee) = data_fee(0, DATA_PRICER_START_TIME, 1_000_000, 1_800_000_000);
        assert_eq!(demand, 1_000_000);
        // exponent 468 bips, multiplier 10,479: 86,900,461 wei a byte.
        assert_eq!(fee, 86_900_461 * 1_000_000);
        // A second activation in the same second pays on the demand of both.
        let (demand, fee) = data_fee(demand, 1_800_000_000, 1_000_000, 1_800_000_000);
        assert_eq!(demand, 2_000_000);
        assert_eq!(approx_exp_bips(936, 12), 10_981);
        assert_eq!(fee, 91_063_457 * 1_000_000);
        // Demand drains at 34,865 bytes a second.
        assert_eq!(data_fee(2_000_000, 0, 0, 10).0, 2_000_000 - 348_650);
        // Compilation gas: 28 gas a microsecond, each part rounded down on its own.
        let a = ActivationShape {
            wasm_len: 62_090,
            functions: 355,
            data_bytes: 3_742,
            element_entries: 100,
            initial_pages: 1,
            operators: 40_000,
        };
        assert_eq!(
            activation_gas(&a),
            28 * (19_703 + 61 + 650 + 17 + 2_217 + 21_400)
        );
    }

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
