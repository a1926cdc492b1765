//! ArbWasmCache (`precompiles/ArbWasmCache.go`): the chain owner caches an activated program,
//! after which a call pays only the cached init price (`arbos/programs/programs.go`,
//! `CallProgram`: `MinInitGas` 69 x 128 and the program's `init_cost` are left out); anyone else
//! loses all the gas; eviction restores the full price.

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{keccak256, Address};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolError, SolEvent};
use devnet::precompiles::{ArbWasm, ArbWasmCache, ARB_WASM_CACHE, CHAIN_OWNER};
use devnet::program::compress;
use devnet::testnet::{view, Testnet, RETURNING_PROGRAM};

async fn send(url: &str, from: &PrivateKeySigner, tx: TransactionRequest) -> TransactionReceipt {
    ProviderBuilder::new()
        .wallet(EthereumWallet::from(from.clone()))
        .connect(url)
        .await
        .unwrap()
        .send_transaction(tx.with_gas_limit(500_000))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_owner_caches_a_program_and_its_calls_cost_less() {
    let net = Testnet::spawn_configured(&[], None, 0).await.unwrap();
    let (owner, other) = (net.signers[0].clone(), net.signers[1].clone());
    assert_eq!(owner.address(), CHAIN_OWNER);
    let provider = ProviderBuilder::new().connect(&net.url).await.unwrap();
    let wasm = wat::parse_str(RETURNING_PROGRAM).unwrap();
    let program = devnet::deploy::deploy_wasm(&net.url, owner.clone(), &wasm)
        .await
        .unwrap();
    let code_hash = keccak256(compress(&wasm));
    let call_program = || TransactionRequest::default().with_to(program);
    let cache = |c: &dyn Fn() -> Vec<u8>| {
        TransactionRequest::default()
            .with_to(ARB_WASM_CACHE)
            .with_input(c())
    };
    let cache_program = || ArbWasmCache::cacheProgramCall { addr: program }.abi_encode();
    let is_cached = async || {
        let call = ArbWasmCache::codehashIsCachedCall {
            codehash: code_hash,
        };
        view(&provider, ARB_WASM_CACHE, &call).await.unwrap()
    };

    let uncached = send(&net.url, &owner, call_program()).await.gas_used;
    assert!(!is_cached().await);

    // Someone else may not cache: all the gas is gone.
    let refused = send(&net.url, &other, cache(&cache_program)).await;
    assert!(!refused.status());
    assert_eq!(refused.gas_used, 500_000);

    // The owner may. Its price: calldata, opening the ArbOS state and the argument (803), the
    // cache-manager and chain-owner reads (2 x 800), the program's code hash (2,600, `GetCodeHash`), the
    // parameters and the program record (2 x 800), the event (375 + 3 x 375 + 8 x 32), the
    // program's init_cost, the module hash read and the record written (800 + 20,000).
    let len = wasm.len() as u64;
    let init_cost = 8_252 / 1_000 + 2 * 1_059 / 1_000 + len * 1_286 / 10_000;
    let input = cache_program();
    let cached = send(&net.url, &owner, cache(&cache_program)).await;
    assert!(cached.status());
    let expected = devnet::gas::intrinsic_gas(&input, false)
        + 803
        + 1_600
        + 2_600
        + 1_600
        + 1_756
        + init_cost
        + 20_800;
    assert_eq!(cached.gas_used, expected);
    let log = &cached.logs()[0];
    assert_eq!(
        log.topics(),
        &[
            ArbWasmCache::UpdateProgramCache::SIGNATURE_HASH,
            CHAIN_OWNER.into_word(),
            code_hash
        ]
    );
    assert!(is_cached().await);

    // A call now leaves out MinInitGas and the init cost.
    let cheaper = send(&net.url, &owner, call_program()).await.gas_used;
    assert_eq!(uncached - cheaper, 69 * 128 + init_cost);

    // Caching again changes nothing and costs only the reads.
    let again = send(&net.url, &owner, cache(&cache_program)).await;
    assert!(again.status() && again.logs().is_empty());

    // Eviction brings the full price back.
    let evict = || {
        ArbWasmCache::evictCodehashCall {
            codehash: code_hash,
        }
        .abi_encode()
    };
    assert!(send(&net.url, &owner, cache(&evict)).await.status());
    assert!(!is_cached().await);
    assert_eq!(
        send(&net.url, &owner, call_program()).await.gas_used,
        uncached
    );

    // Code that was never activated cannot be cached.
    let nothing = || {
        ArbWasmCache::cacheProgramCall {
            addr: Address::repeat_byte(7),
        }
        .abi_encode()
    };
    let err = provider
        .call(cache(&nothing).with_from(CHAIN_OWNER))
        .await
        .unwrap_err();
    let data = err.as_error_resp().unwrap().as_revert_data().unwrap();
    assert_eq!(data.as_ref(), ArbWasm::ProgramNotActivated {}.abi_encode());
    // No cache managers until the chain owner adds one.
    let managers = view(
        &provider,
        ARB_WASM_CACHE,
        &ArbWasmCache::allCacheManagersCall {},
    );
    assert!(managers.await.unwrap().is_empty());
}
