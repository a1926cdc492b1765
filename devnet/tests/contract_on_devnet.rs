//! The real compiled contract and VRF verifier, deployed and called over JSON-RPC with alloy, the
//! way applications and workers will.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use protocol::bindings::ITaskContract;

use devnet::testnet::{build_programs, public_key, Testnet};

#[tokio::test(flavor = "multi_thread")]
async fn deploys_initializes_and_runs_the_real_contract() {
    let (contract_wasm, verifier_wasm) = build_programs().unwrap();
    let Testnet { url, signers } = Testnet::spawn(&[]).await.unwrap();
    let owner = signers[0].clone();

    let verifier = devnet::deploy::deploy_wasm(&url, owner.clone(), &verifier_wasm)
        .await
        .expect("verifier deploys");
    let contract = devnet::deploy::deploy_wasm(&url, owner.clone(), &contract_wasm)
        .await
        .expect("contract deploys");

    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(owner.clone()))
        .connect(&url)
        .await
        .unwrap();
    assert_eq!(provider.get_chain_id().await.unwrap(), 412_346);
    let c = ITaskContract::new(contract, &provider);
    let relay = signers[8].address();
    let treasury = signers[9].address();
    let min_stake = U256::from(10u64).pow(U256::from(18));
    let initialize = c.initialize(
        owner.address(),
        relay,
        treasury,
        verifier,
        min_stake,
        600,
        5,
        16,
    );
    let receipt = initialize
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    assert!(receipt.gas_used > 21_000, "gas {}", receipt.gas_used);
    eprintln!("initialize: {} gas", receipt.gas_used);
    let config = c.getConfig().call().await.unwrap();
    assert_eq!(config._0, owner.address());
    assert_eq!(config._1, relay);
    assert_eq!(config._3, verifier);
    assert_eq!(config._4, min_stake);

    // A second initialize reverts with the contract's custom error, decoded by alloy.
    let err = initialize.call().await.err().expect("the call reverts");
    let decoded = err
        .as_decoded_interface_error::<ITaskContract::ITaskContractErrors>()
        .expect("a custom error");
    assert!(matches!(
        decoded,
        ITaskContract::ITaskContractErrors::AlreadyInitialized(_)
    ));

    // A node joins with its stake; the contract holds it.
    let node = signers[1].clone();
    let node_provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(node.clone()))
        .connect(&url)
        .await
        .unwrap();
    let as_node = ITaskContract::new(contract, &node_provider);
    let before = provider.get_balance(node.address()).await.unwrap();
    let join = as_node
        .join(
            "NVIDIA GeForce RTX 4090".into(),
            24 << 30,
            [0, 1, 0],
            public_key(&node).into(),
            vec!["gpt2".into()],
        )
        .value(min_stake);
    let receipt = join.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    assert!(!receipt.inner.logs().is_empty(), "join emits events");
    eprintln!("join: {} gas", receipt.gas_used);
    let after = provider.get_balance(node.address()).await.unwrap();
    let fee = U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price);
    assert_eq!(before - after, min_stake + fee);
    assert_eq!(provider.get_balance(contract).await.unwrap(), min_stake);
    assert_eq!(c.nodeCount().call().await.unwrap(), 1);
    let info = c.getNodeInfo(node.address()).call().await.unwrap();
    assert_eq!(info.gpuName, "NVIDIA GeForce RTX 4090");
    assert_eq!(info.stake, min_stake);

    // Joining twice is refused, and a reverted transaction keeps nothing but the fee.
    let err = join.call().await.err().expect("the call reverts");
    assert!(err
        .as_decoded_interface_error::<ITaskContract::ITaskContractErrors>()
        .is_some());
    assert_eq!(provider.get_balance(contract).await.unwrap(), min_stake);
}

#[tokio::test(flavor = "multi_thread")]
async fn activation_refuses_code_that_is_not_stylus() {
    let Testnet { url, signers } = Testnet::spawn(&[]).await.unwrap();
    // A valid WASM module without the Stylus exports.
    let empty_module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    let err = devnet::deploy::deploy_wasm(&url, signers[0].clone(), &empty_module)
        .await
        .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("activation"), "{message}");
    // The code was deployed (one block) but never activated: calling it reverts.
    let provider = ProviderBuilder::new().connect(&url).await.unwrap();
    assert_eq!(provider.get_block_number().await.unwrap(), 1);
    let receipt = provider
        .get_transaction_receipt(
            provider
                .get_block_by_number(1.into())
                .await
                .unwrap()
                .unwrap()
                .transactions
                .hashes()
                .next()
                .unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let program: Address = receipt.contract_address.unwrap();
    let call = alloy::rpc::types::TransactionRequest::default()
        .to(program)
        .input(vec![0u8; 4].into());
    let err = provider.call(call).await.unwrap_err();
    assert!(format!("{err}").contains("revert"), "{err}");
    eprintln!("activation error: {message}");
}
