//! The real compiled contract and VRF verifier, deployed and called over JSON-RPC with alloy, the
//! way applications and workers will.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::sol_types::{SolError, SolInterface};
use protocol::bindings::ITaskContract;
use protocol::contract_settings::ContractSettings;

use devnet::testnet::{build_programs, public_key, Testnet};

#[tokio::test(flavor = "multi_thread")]
async fn deploys_constructs_and_runs_the_real_contract() {
    let programs = build_programs().unwrap();
    let Testnet { url, signers } = Testnet::spawn(&[]).await.unwrap();
    let owner = signers[0].clone();

    let verifier = devnet::deploy::deploy_wasm(&url, owner.clone(), &programs.verifier)
        .await
        .expect("verifier deploys");
    let extension = devnet::deploy::deploy_wasm(&url, owner.clone(), &programs.extension)
        .await
        .expect("extension deploys");
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(owner.clone()))
        .connect(&url)
        .await
        .unwrap();
    assert_eq!(provider.get_chain_id().await.unwrap(), 412_346);
    let relay = signers[8].address();
    let treasury = signers[9].address();
    let min_stake = U256::from(10u64).pow(U256::from(18));
    let settings = ContractSettings::with_defaults(relay, treasury, verifier, min_stake);
    let constructor = settings.constructor_calldata(extension, owner.address());

    // A constructor that reverts (an invalid setting) fails the whole deployment.
    let mut bad = settings.clone();
    bad.sampling_rate = 0;
    let err = devnet::deploy::deploy_with_constructor(
        &url,
        owner.clone(),
        &programs.contract,
        &bad.constructor_calldata(extension, owner.address()),
    )
    .await
    .unwrap_err();
    // The deployer's ContractInitializationError(address), found by gas estimation already.
    let selector = alloy::hex::encode(
        devnet::stylus_deployer::StylusDeployer::ContractInitializationError::SELECTOR,
    );
    assert!(format!("{err:#}").contains(&selector), "{err:#}");

    // Deployed, activated and constructed by the StylusDeployer in one transaction.
    let blocks_before = provider.get_block_number().await.unwrap();
    let contract = devnet::deploy::deploy_with_constructor(
        &url,
        owner.clone(),
        &programs.contract,
        &constructor,
    )
    .await
    .expect("the contract deploys through the StylusDeployer");
    assert_eq!(
        provider.get_block_number().await.unwrap(),
        blocks_before + 1
    );
    let c = ITaskContract::new(contract, &provider);
    let config = c.getConfig().call().await.unwrap();
    assert_eq!(config.owner, owner.address());
    assert_eq!(config.relay, relay);
    assert_eq!(config.vrfVerifier, verifier);
    assert_eq!(config.minStake, min_stake);
    assert_eq!(config.samplingRate, settings.sampling_rate);

    // Nobody can run the constructor afterwards, through the deployer's selector or otherwise.
    let again = alloy::rpc::types::TransactionRequest::default()
        .to(contract)
        .input(constructor.clone().into());
    let err = provider.call(again).await.unwrap_err();
    let data = err
        .as_error_resp()
        .and_then(|e| e.as_revert_data())
        .expect("revert data");
    let decoded = ITaskContract::ITaskContractErrors::abi_decode(&data).unwrap();
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
