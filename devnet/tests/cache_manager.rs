//! The program cache as users reach it on Arbitrum: the chain owner adds the cache manager with
//! `ArbOwner.addWasmCacheManager` (`precompiles/ArbOwner.go`, owner-only as `wrapper.go` makes
//! it), after which anyone bids with `placeBid` (what `cargo stylus cache bid` sends) and the
//! manager caches and evicts through ArbWasmCache. The manager is the real program
//! (devnet/programs/cache-manager) deployed with its constructor.

use alloy::network::TransactionBuilder;
use alloy::primitives::aliases::U192;
use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::sol;
use alloy::sol_types::{SolCall, SolEvent, SolInterface};
use devnet::precompiles::{
    ArbOwner, ArbWasm, ArbWasmCache, ARB_OWNER, ARB_WASM, ARB_WASM_CACHE, CHAIN_OWNER,
    NETWORK_FEE_ACCOUNT,
};
use devnet::program::compress;
use devnet::testnet::{build_cache_manager, view, Testnet};

sol! {
    #[sol(rpc)]
    #[derive(Debug)]
    interface CacheManager {
        function cacheSize() external view returns (uint64);
        function queueSize() external view returns (uint64);
        function decay() external view returns (uint64);
        function isPaused() external view returns (bool);
        function entries(uint256 index) external view returns (bytes32 code, uint64 size, uint192 bid);
        function getEntries() external view returns ((bytes32, uint64, uint192)[] memory);
        function getSmallestEntries(uint256 k) external view returns ((bytes32, uint64, uint192)[] memory);
        function getMinBid(uint64 size) external view returns (uint192 min);
        function getMinBid(bytes32 codehash) external view returns (uint192 min);
        function getMinBid(address program) external view returns (uint192 min);
        function placeBid(address program) external payable;
        function makeSpace(uint64 size) external payable returns (uint64 space);
        function setCacheSize(uint64 newSize) external;
        function setDecayRate(uint64 newDecay) external;
        function paused() external;
        function unpause() external;
        function evictAll() external;
        function evictPrograms(uint256 count) external;
        function sweepFunds() external;

        error NotChainOwner(address sender);
        error AsmTooLarge(uint256 asm, uint256 queueSize, uint256 cacheSize);
        error AlreadyCached(bytes32 codehash);
        error BidTooSmall(uint192 bid, uint192 min);
        error BidsArePaused();
        error MakeSpaceTooLarge(uint64 size, uint64 limit);
        error ProgramNotActivated();

        event InsertBid(bytes32 indexed codehash, address program, uint192 bid, uint64 size);
        event DeleteBid(bytes32 indexed codehash, uint192 bid, uint64 size);
    }
}

/// A program that returns at once; `tag` makes its code (and so its code hash) its own.
fn program(tag: u8) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
             (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
             (memory (export "memory") 1)
             (data (i32.const 0) "{tag}")
             (func (export "user_entrypoint") (param i32) (result i32) i32.const 0))"#
    ))
    .unwrap()
}

const GAS: u64 = 3_000_000;

async fn send(provider: &DynProvider, tx: TransactionRequest) -> TransactionReceipt {
    provider
        .send_transaction(tx.with_gas_limit(GAS))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
}

/// Sends a call to the manager as a transaction; its receipt.
async fn mined<D: alloy::contract::CallDecoder>(
    call: alloy::contract::CallBuilder<&DynProvider, D>,
) -> TransactionReceipt {
    call.gas(GAS)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
}

/// The manager's error a call reverted with.
fn manager_error(err: alloy::contract::Error) -> CacheManager::CacheManagerErrors {
    let data = err
        .as_revert_data()
        .unwrap_or_else(|| panic!("not a revert: {err}"));
    CacheManager::CacheManagerErrors::abi_decode(&data)
        .unwrap_or_else(|_| panic!("revert data {data} is none of the manager's errors"))
}

struct Setup {
    net: Testnet,
    owner: DynProvider,
    manager: CacheManager::CacheManagerInstance<DynProvider>,
    /// The manager as seen by an account that is no chain owner.
    stranger: CacheManager::CacheManagerInstance<DynProvider>,
    programs: Vec<(Address, B256)>,
    /// The size each program takes in the cache (ArbWasm's `codehashAsmSize`: Nitro's asm
    /// estimate, 512,000 bytes and more, in whole kilobytes).
    asm: u64,
}

/// A devnet with three small programs (of one size) and the cache manager, with room for
/// `room` of them and `decay`.
async fn setup(room: u64, decay: u64) -> Setup {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let owner_key = net.signers[0].clone();
    assert_eq!(owner_key.address(), CHAIN_OWNER);
    let owner = net.wallet(&owner_key).unwrap();
    let mut programs = Vec::new();
    for tag in 1..=3 {
        let wasm = program(tag);
        let at = devnet::deploy::deploy_wasm(&net.url, owner_key.clone(), &wasm)
            .await
            .unwrap();
        programs.push((at, keccak256(compress(&wasm))));
    }
    let asm_size = async |codehash: B256| {
        let call = ArbWasm::codehashAsmSizeCall { codehash };
        u64::from(view(&owner, ARB_WASM, &call).await.unwrap())
    };
    let asm = asm_size(programs[0].1).await;
    for p in &programs {
        assert_eq!(asm_size(p.1).await, asm);
    }
    assert!(asm >= 512_000 && asm % 1024 == 0, "{asm}");
    let wasm = build_cache_manager().unwrap();
    let address =
        devnet::deploy::deploy_cache_manager(&net.url, owner_key.clone(), &wasm, room * asm, decay)
            .await
            .unwrap();
    let stranger = CacheManager::new(address, net.wallet(&net.signers[1]).unwrap());
    Setup {
        manager: CacheManager::new(address, owner.clone()),
        owner,
        stranger,
        programs,
        asm,
        net,
    }
}

impl Setup {
    async fn is_cached(&self, codehash: B256) -> bool {
        let call = ArbWasmCache::codehashIsCachedCall { codehash };
        view(&self.owner, ARB_WASM_CACHE, &call).await.unwrap()
    }

    /// Bids `value` for program `i` by the stranger; the receipt (which may record a failure).
    async fn bid(&self, i: usize, value: u64) -> TransactionReceipt {
        let call = self
            .stranger
            .placeBid(self.programs[i].0)
            .value(U256::from(value));
        if let Err(e) = call.call().await {
            panic!("bid for program {i} refused: {:?}", manager_error(e));
        }
        mined(call).await
    }

    async fn refused_bid(&self, i: usize, value: u64) -> CacheManager::CacheManagerErrors {
        let err = self
            .stranger
            .placeBid(self.programs[i].0)
            .value(U256::from(value))
            .call()
            .await
            .expect_err("the bid was accepted");
        manager_error(err)
    }

    async fn entry_bids(&self) -> Vec<(B256, u64, U192)> {
        self.manager
            .getEntries()
            .call()
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.0, e.1, e.2))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_owner_adds_and_removes_cache_managers() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let owner = net.wallet(&net.signers[0]).unwrap();
    let other = net.wallet(&net.signers[1]).unwrap();
    let managers = async || {
        let call = ArbWasmCache::allCacheManagersCall {};
        view(&owner, ARB_WASM_CACHE, &call).await.unwrap()
    };
    let owner_call = |input: Vec<u8>| {
        TransactionRequest::default()
            .with_to(ARB_OWNER)
            .with_input(input)
    };
    let add =
        |m: Address| owner_call(ArbOwner::addWasmCacheManagerCall { manager: m }.abi_encode());
    let remove =
        |m: Address| owner_call(ArbOwner::removeWasmCacheManagerCall { manager: m }.abi_encode());
    let (a, b, c) = (
        Address::repeat_byte(0xa),
        Address::repeat_byte(0xb),
        Address::repeat_byte(0xc),
    );
    assert!(managers().await.is_empty());

    // Anyone but a chain owner loses all the gas the call was given (and L1 gas is off here).
    let refused = send(&other, add(a)).await;
    assert!(!refused.status());
    assert_eq!(refused.gas_used, GAS);
    assert!(managers().await.is_empty());

    // The owner pays nothing for the method itself: the transaction costs its intrinsic gas, and
    // each success is logged as OwnerActs(method, owner, calldata).
    let added = send(&owner, add(a)).await;
    assert!(added.status());
    let input = ArbOwner::addWasmCacheManagerCall { manager: a }.abi_encode();
    let calldata_gas: u64 = input.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum();
    assert_eq!(added.gas_used, 21_000 + calldata_gas);
    let log = &added.logs()[0];
    assert_eq!(log.address(), ARB_OWNER);
    let acts = ArbOwner::OwnerActs::decode_log_data(log.data()).unwrap();
    assert_eq!(
        (acts.method.0, acts.owner, acts.data.to_vec()),
        (
            ArbOwner::addWasmCacheManagerCall::SELECTOR,
            CHAIN_OWNER,
            input
        )
    );
    // Adding one twice keeps one.
    assert!(send(&owner, add(a)).await.status());
    assert!(send(&owner, add(b)).await.status());
    assert!(send(&owner, add(c)).await.status());
    assert_eq!(managers().await, vec![a, b, c]);
    // Its price in a transaction: intrinsic gas, opening the ArbOS state (800), the set's size and
    // each of its 3 members (4 x 800), and 3 gas a word of the result (offset, length, 3 members).
    let input = ArbWasmCache::allCacheManagersCall {}.abi_encode();
    let calldata_gas: u64 = input.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum();
    let read = send(
        &other,
        TransactionRequest::default()
            .with_to(ARB_WASM_CACHE)
            .with_input(input),
    )
    .await;
    assert!(read.status());
    assert_eq!(read.gas_used, 21_000 + calldata_gas + 800 + 4 * 800 + 3 * 5);

    // Removal moves the last member into the gap, as ArbOS's address set does.
    assert!(send(&owner, remove(a)).await.status());
    assert_eq!(managers().await, vec![c, b]);
    // Removing one that is none reverts ("tried to remove non-manager"), still free of charge.
    let none = send(&owner, remove(a)).await;
    assert!(!none.status());
    assert_eq!(managers().await, vec![c, b]);
    let is_manager = async |manager: Address| {
        let call = ArbWasmCache::isCacheManagerCall { manager };
        view(&owner, ARB_WASM_CACHE, &call).await.unwrap()
    };
    assert!(is_manager(b).await && is_manager(c).await && !is_manager(a).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn bids_cache_programs_and_evict_the_lowest_when_the_cache_is_full() {
    // Room for two programs.
    let s = setup(2, 0).await;
    let (p, hash, asm) = (&s.programs, |i: usize| s.programs[i].1, s.asm);
    assert_eq!(s.manager.cacheSize().call().await.unwrap(), 2 * asm);
    assert_eq!(s.manager.decay().call().await.unwrap(), 0);

    // While there is room a bid of nothing caches the program.
    assert_eq!(
        s.manager.getMinBid_2(p[0].0).call().await.unwrap(),
        U192::ZERO
    );
    let receipt = s.bid(0, 0).await;
    assert!(receipt.status());
    eprintln!("placeBid into free room: {} gas", receipt.gas_used);
    assert!(s.is_cached(hash(0)).await);
    let inserted = receipt
        .logs()
        .iter()
        .find_map(|l| CacheManager::InsertBid::decode_log_data(l.data()).ok())
        .unwrap();
    assert_eq!(
        (
            inserted.codehash,
            inserted.program,
            inserted.bid,
            inserted.size
        ),
        (hash(0), p[0].0, U192::ZERO, asm)
    );
    assert_eq!(s.manager.queueSize().call().await.unwrap(), asm);

    // A cached program's calls pay the cached init price.
    let call = TransactionRequest::default().with_to(p[0].0);
    let uncached = TransactionRequest::default().with_to(p[1].0);
    let cached_gas = s.owner.estimate_gas(call).await.unwrap();
    let uncached_gas = s.owner.estimate_gas(uncached).await.unwrap();
    assert!(cached_gas < uncached_gas, "{cached_gas} >= {uncached_gas}");

    // A program already cached cannot be bid for again.
    assert!(matches!(
        s.refused_bid(0, 1).await,
        CacheManager::CacheManagerErrors::AlreadyCached(e) if e.codehash == hash(0)
    ));

    assert!(s.bid(1, 10).await.status());
    assert_eq!(s.manager.queueSize().call().await.unwrap(), 2 * asm);
    // Full: the third program must beat the lowest bid (0, program 0), which it evicts.
    let receipt = s.bid(2, 5).await;
    assert!(receipt.status());
    eprintln!("placeBid evicting one: {} gas", receipt.gas_used);
    assert!(!s.is_cached(hash(0)).await);
    assert!(s.is_cached(hash(1)).await && s.is_cached(hash(2)).await);
    // Program 2 took the evicted entry's index.
    assert_eq!(
        s.entry_bids().await,
        vec![
            (hash(2), asm, U192::from(5)),
            (hash(1), asm, U192::from(10))
        ]
    );
    let smallest = s
        .manager
        .getSmallestEntries(U256::from(5))
        .call()
        .await
        .unwrap();
    assert_eq!(
        smallest.iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![U192::from(5), U192::from(10)]
    );

    // Program 0 again: the lowest bid now is 5, so 4 is too small and nothing changes...
    assert_eq!(
        s.manager.getMinBid_2(p[0].0).call().await.unwrap(),
        U192::from(5)
    );
    assert!(matches!(
        s.refused_bid(0, 4).await,
        CacheManager::CacheManagerErrors::BidTooSmall(e) if e.bid == U192::from(4) && e.min == U192::from(5)
    ));
    assert!(s.is_cached(hash(2)).await);
    // ...and two programs' worth must beat the higher of the two it would evict.
    assert_eq!(
        s.manager.getMinBid_0(2 * asm).call().await.unwrap(),
        U192::from(10)
    );
    // Larger than the whole cache: refused.
    assert!(matches!(
        manager_error(s.manager.getMinBid_0(2 * asm + 1).call().await.unwrap_err()),
        CacheManager::CacheManagerErrors::AsmTooLarge(e) if e.asm == U256::from(2 * asm + 1) && e.cacheSize == U256::from(2 * asm)
    ));
    // A tie evicts: 5 replaces the entry bid 5.
    let receipt = s.bid(0, 5).await;
    assert!(receipt.status());
    let deleted = receipt
        .logs()
        .iter()
        .find_map(|l| CacheManager::DeleteBid::decode_log_data(l.data()).ok())
        .unwrap();
    assert_eq!((deleted.codehash, deleted.bid), (hash(2), U192::from(5)));
    assert!(s.is_cached(hash(0)).await && !s.is_cached(hash(2)).await);

    // An address without an activated program: ArbWasm's ProgramNotActivated comes through.
    let refused = s
        .stranger
        .placeBid(Address::repeat_byte(7))
        .call()
        .await
        .unwrap_err();
    assert!(matches!(
        manager_error(refused),
        CacheManager::CacheManagerErrors::ProgramNotActivated(_)
    ));

    // The bids paid are the manager's until swept to the network fee account.
    let balance = s.owner.get_balance(*s.manager.address()).await.unwrap();
    assert_eq!(balance, U256::from(20));
    let network_before = s.owner.get_balance(NETWORK_FEE_ACCOUNT).await.unwrap();
    let swept = mined(s.stranger.sweepFunds()).await;
    assert!(swept.status());
    assert_eq!(
        s.owner.get_balance(*s.manager.address()).await.unwrap(),
        U256::ZERO
    );
    // The bids and the sweep's own gas (all L2: no L1 price here).
    assert_eq!(
        s.owner.get_balance(NETWORK_FEE_ACCOUNT).await.unwrap() - network_before,
        U256::from(20) + U256::from(swept.gas_used) * U256::from(swept.effective_gas_price)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_chain_owner_manages_the_cache_manager() {
    let s = setup(2, 0).await;
    let asm = s.asm;
    let hash = |i: usize| s.programs[i].1;
    let stranger = s.net.signers[1].address();
    let not_owner = |e: alloy::contract::Error| matches!(manager_error(e), CacheManager::CacheManagerErrors::NotChainOwner(n) if n.sender == stranger);
    assert!(not_owner(
        s.stranger.setCacheSize(1).call().await.unwrap_err()
    ));
    assert!(not_owner(
        s.stranger.setDecayRate(1).call().await.unwrap_err()
    ));
    assert!(not_owner(s.stranger.paused().call().await.unwrap_err()));
    assert!(not_owner(s.stranger.unpause().call().await.unwrap_err()));
    assert!(not_owner(s.stranger.evictAll().call().await.unwrap_err()));
    assert!(not_owner(
        s.stranger
            .evictPrograms(U256::from(1))
            .call()
            .await
            .unwrap_err()
    ));

    // Paused: no bids, and no makeSpace.
    assert!(mined(s.manager.paused()).await.status());
    assert!(s.manager.isPaused().call().await.unwrap());
    assert!(matches!(
        s.refused_bid(0, 0).await,
        CacheManager::CacheManagerErrors::BidsArePaused(_)
    ));
    assert!(matches!(
        manager_error(s.stranger.makeSpace(asm).call().await.unwrap_err()),
        CacheManager::CacheManagerErrors::BidsArePaused(_)
    ));
    assert!(mined(s.manager.unpause()).await.status());
    assert!(s.bid(0, 1).await.status());
    assert!(s.bid(1, 2).await.status());

    // makeSpace frees room without caching anything; at most 5 MiB at a time.
    assert!(matches!(
        manager_error(s.stranger.makeSpace(5 * 1024 * 1024 + 1).call().await.unwrap_err()),
        CacheManager::CacheManagerErrors::MakeSpaceTooLarge(e) if e.limit == 5 * 1024 * 1024
    ));
    assert_eq!(
        s.stranger
            .makeSpace(asm)
            .value(U256::from(1))
            .call()
            .await
            .unwrap(),
        asm
    );

    // More than the whole cache cannot be made room for.
    assert!(matches!(
        manager_error(s.stranger.makeSpace(2 * asm + 1).call().await.unwrap_err()),
        CacheManager::CacheManagerErrors::AsmTooLarge(e) if e.asm == U256::from(2 * asm + 1)
    ));

    // Evicting by count takes the lowest bids first.
    assert!(mined(s.manager.evictPrograms(U256::from(1))).await.status());
    assert!(!s.is_cached(hash(0)).await && s.is_cached(hash(1)).await);
    assert_eq!(s.manager.queueSize().call().await.unwrap(), asm);
    // Shrinking the cache evicts nothing until the next bid needs room.
    assert!(mined(s.manager.setCacheSize(asm)).await.status());
    assert!(s.is_cached(hash(1)).await);
    assert!(matches!(
        s.refused_bid(2, 1).await,
        CacheManager::CacheManagerErrors::BidTooSmall(e) if e.min == U192::from(2)
    ));
    // evictAll empties the cache and the entries.
    assert!(mined(s.manager.evictAll()).await.status());
    assert!(!s.is_cached(hash(1)).await);
    assert_eq!(s.manager.queueSize().call().await.unwrap(), 0);
    assert!(s.entry_bids().await.is_empty());
    // A program larger than the cache is refused before anything is evicted.
    assert!(mined(s.manager.setCacheSize(asm - 1)).await.status());
    assert!(matches!(
        s.refused_bid(2, 100).await,
        CacheManager::CacheManagerErrors::AsmTooLarge(e) if e.asm == U256::from(asm) && e.cacheSize == U256::from(asm - 1)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn older_bids_decay_against_newer_ones() {
    // Decay 3 wei a second: a bid counts its value plus 3 x the block's timestamp.
    let s = setup(1, 3).await;
    let receipt = s.bid(0, 1_000).await;
    assert!(receipt.status());
    let block = s
        .owner
        .get_block_by_number(receipt.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap();
    let stamp = block.header.timestamp;
    let bid = U192::from(1_000 + 3 * stamp);
    assert_eq!(s.entry_bids().await, vec![(s.programs[0].1, s.asm, bid)]);

    // 100 seconds later the old bid is worth 3 x 100 less against a new one: the minimum value
    // to send falls by as much.
    s.owner
        .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (100u64,))
        .await
        .unwrap();
    s.owner
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .unwrap();
    let now = s
        .owner
        .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let min = s.manager.getMinBid_2(s.programs[1].0).call().await.unwrap();
    // The call may run at `now` or in the next second.
    let at = |t: u64| U192::from(1_000u64.saturating_sub(3 * (t - stamp)));
    assert!(now >= stamp + 100);
    assert!(
        min == at(now) || min == at(now + 1),
        "min bid {min}, bid {bid} at {stamp}, now {now}"
    );
    // A bid of that value wins and evicts the old one.
    assert!(s.bid(1, min.to::<u64>()).await.status());
    assert!(!s.is_cached(s.programs[0].1).await);
    assert!(s.is_cached(s.programs[1].1).await);
}

/// Delegate-calls the address in the first 20 bytes of its calldata with the rest, and fails
/// when that call fails.
const DELEGATOR: &str = r#"(module
  (import "vm_hooks" "read_args" (func $read_args (param i32)))
  (import "vm_hooks" "delegate_call_contract"
    (func $delegate (param i32 i32 i32 i64 i32) (result i32)))
  (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "user_entrypoint") (param $len i32) (result i32)
    (call $read_args (i32.const 0))
    (call $delegate (i32.const 0) (i32.const 20) (i32.sub (local.get $len) (i32.const 20))
      (i64.const -1) (i32.const 0x6000))))"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_program_cannot_act_as_the_cache_precompiles_for_the_chain_owner() {
    // A program the chain owner calls delegate-calls ArbOwner and ArbWasmCache: the caller they
    // see is the owner, but the address they would act as is the program's, which Nitro's
    // precompile dispatch refuses (ArbWasmCache taking all the gas, ArbOwner's wrapper none).
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let owner_key = net.signers[0].clone();
    let owner = net.wallet(&owner_key).unwrap();
    let deploy = async |wat: &str| {
        devnet::deploy::deploy_wasm(&net.url, owner_key.clone(), &wat::parse_str(wat).unwrap())
            .await
            .unwrap()
    };
    let delegator = deploy(DELEGATOR).await;
    let target = deploy(devnet::testnet::RETURNING_PROGRAM).await;
    let through = |to: Address, input: Vec<u8>| {
        TransactionRequest::default()
            .with_to(delegator)
            .with_input([to.as_slice(), &input].concat())
    };
    let add = ArbOwner::addWasmCacheManagerCall {
        manager: Address::repeat_byte(0xa),
    };
    let refused = send(&owner, through(ARB_OWNER, add.abi_encode())).await;
    assert!(!refused.status());
    let managers = view(
        &owner,
        ARB_WASM_CACHE,
        &ArbWasmCache::allCacheManagersCall {},
    );
    assert!(managers.await.unwrap().is_empty());

    let cache = ArbWasmCache::cacheProgramCall { addr: target };
    let free = send(&owner, through(ARB_OWNER, add.abi_encode()))
        .await
        .gas_used;
    let refused = send(&owner, through(ARB_WASM_CACHE, cache.abi_encode())).await;
    assert!(!refused.status());
    // All the gas forwarded (63/64 of what was left) went, unlike ArbOwner's free refusal.
    assert!(
        refused.gas_used > GAS * 9 / 10,
        "{} of {GAS}",
        refused.gas_used
    );
    assert!(free < 200_000, "{free}");
    let target_hash = keccak256(owner.get_code_at(target).await.unwrap());
    let is_cached = ArbWasmCache::codehashIsCachedCall {
        codehash: target_hash,
    };
    assert!(!view(&owner, ARB_WASM_CACHE, &is_cached).await.unwrap());
    // Called directly, the owner may do both.
    let direct = TransactionRequest::default()
        .with_to(ARB_WASM_CACHE)
        .with_input(cache.abi_encode());
    assert!(send(&owner, direct).await.status());
}
