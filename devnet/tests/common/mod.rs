//! The devnet as a [`ProtocolChain`] for the contract's shared tests (`contract_harness`): the
//! chain in process (no HTTP) with the release WASM of the programs deployed, the task contract
//! through the StylusDeployer with its constructor, every call a signed transaction with real
//! balances. Accounts that refuse payments get code that always reverts (lifted while they send a
//! transaction of their own: EIP-3607).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use contract_harness::net::sender_keys;
use contract_harness::{state_digest, ProtocolChain, Revert};
use devnet::exec::Outcome;
use devnet::precompiles::{ArbWasm, ARB_WASM};
use devnet::program::{compress, init_code};
use devnet::stylus_deployer::{StylusDeployer, STYLUS_DEPLOYER};
use devnet::testnet::Programs;
use devnet::{CallRequest, Chain};

const CHAIN_ID: u64 = devnet::testnet::CHAIN_ID;
const GAS: u64 = 20_000_000;

/// Value sent with an activation: more than any data fee (0.1 ETH); ArbWasm and the
/// StylusDeployer return the excess.
fn activation_value() -> U256 {
    U256::from(10u64).pow(U256::from(17))
}

/// The devnet chain (in process, no HTTP) with the programs deployed.
pub struct Devnet {
    chain: RefCell<Chain>,
    /// The task contract, once constructed.
    contract: Cell<Address>,
    verifier: Address,
    extension: Address,
    /// The task contract's release WASM, deployed by `construct`.
    contract_wasm: Vec<u8>,
    signers: HashMap<Address, PrivateKeySigner>,
    /// Activated code of a program whose every call reverts: what a refusing account gets.
    refusing_code: Bytes,
    /// What the last transaction cost its sender in gas.
    pub last_fee: Cell<U256>,
    /// The logs of the last transaction.
    last_logs: RefCell<Vec<contract_harness::Log>>,
}

impl Devnet {
    pub fn new(programs: &Programs) -> Devnet {
        let deployer = PrivateKeySigner::random();
        let mut signers: HashMap<Address, PrivateKeySigner> = sender_keys()
            .iter()
            .map(|k| {
                let signer = PrivateKeySigner::from_bytes(&B256::new(k.secret())).unwrap();
                assert_eq!(signer.address(), k.address);
                (k.address, signer)
            })
            .collect();
        signers.insert(deployer.address(), deployer.clone());
        let funded = [(deployer.address(), U256::from(10u128.pow(21)))];
        let mut net = Devnet {
            chain: RefCell::new(Chain::new(CHAIN_ID, &funded).unwrap()),
            contract: Cell::new(Address::ZERO),
            verifier: Address::ZERO,
            extension: Address::ZERO,
            contract_wasm: programs.contract.clone(),
            signers,
            refusing_code: Bytes::new(),
            last_fee: Cell::new(U256::ZERO),
            last_logs: RefCell::default(),
        };
        let refusing = wat::parse_str(
            r#"(module
                 (import "vm_hooks" "pay_for_memory_grow" (func (param i32)))
                 (memory (export "memory") 1)
                 (func (export "user_entrypoint") (param i32) (result i32) i32.const 1))"#,
        )
        .unwrap();
        let refusing = net.deploy(deployer.address(), &refusing);
        net.refusing_code = net.chain.borrow().code(&refusing);
        net.verifier = net.deploy(deployer.address(), &programs.verifier);
        net.extension = net.deploy(deployer.address(), &programs.extension);
        net
    }

    /// CREATE of `wasm` as cargo-stylus deploys it, then activation through ArbWasm (paying the
    /// data fee).
    fn deploy(&self, from: Address, wasm: &[u8]) -> Address {
        let hash = self
            .transact(from, TxKind::Create, U256::ZERO, init_code(&compress(wasm)))
            .expect("CREATE is accepted");
        let address = {
            let chain = self.chain.borrow();
            let tx = chain.transaction(&hash).unwrap();
            assert!(tx.success, "CREATE failed: {}", tx.output);
            tx.contract_address.unwrap()
        };
        let activate = ArbWasm::activateProgramCall { program: address }.abi_encode();
        let hash = self
            .transact(from, TxKind::Call(ARB_WASM), activation_value(), activate)
            .expect("activation is accepted");
        assert!(self.chain.borrow().transaction(&hash).unwrap().success);
        address
    }

    /// A signed EIP-1559 transaction from `from`, mined at once; its hash.
    fn transact(
        &self,
        from: Address,
        to: TxKind,
        value: U256,
        input: Vec<u8>,
    ) -> Result<B256, devnet::TxError> {
        let signer = self
            .signers
            .get(&from)
            .unwrap_or_else(|| panic!("no key for sender {from}"));
        let mut chain = self.chain.borrow_mut();
        let mut tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: chain.nonce(&from),
            gas_limit: GAS,
            max_fee_per_gas: devnet::chain::BASE_FEE as u128,
            max_priority_fee_per_gas: 0,
            to,
            value,
            access_list: Default::default(),
            input: input.into(),
        };
        let signature = signer.sign_transaction_sync(&mut tx).unwrap();
        let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
        // EIP-3607 refuses transactions from an account with code: a refusing account sends its
        // own transactions with its code lifted for their duration (so a payment inside its own
        // transaction is accepted; payments in anyone else's transactions are still refused).
        let code = chain.code(&from);
        if code.is_empty() {
            return chain.send_raw_transaction(&raw);
        }
        chain.set_code(from, Bytes::new());
        let sent = chain.send_raw_transaction(&raw);
        chain.set_code(from, code);
        sent
    }
}

impl ProtocolChain for Devnet {
    fn contract(&self) -> Address {
        self.contract.get()
    }

    fn verifier(&self) -> Address {
        self.verifier
    }

    fn extension(&self) -> Address {
        self.extension
    }

    /// `cargo stylus deploy`'s path for a program with a constructor: one transaction to the
    /// StylusDeployer, which deploys, activates and constructs.
    fn construct(&self, deployer: Address, calldata: &[u8]) -> Result<(), Revert> {
        let call = StylusDeployer::deployCall {
            bytecode: init_code(&compress(&self.contract_wasm)).into(),
            initData: calldata.to_vec().into(),
            initValue: U256::ZERO,
            salt: B256::ZERO,
        };
        let hash = self
            .transact(
                deployer,
                TxKind::Call(STYLUS_DEPLOYER),
                activation_value(),
                call.abi_encode(),
            )
            .expect("the deployment transaction is accepted");
        let chain = self.chain.borrow();
        let tx = chain.transaction(&hash).unwrap();
        if !tx.success {
            return Err(Revert {
                data: tx.output.to_vec(),
            });
        }
        let deployed = tx
            .logs
            .iter()
            .find(|l| l.topics.first() == Some(&StylusDeployer::ContractDeployed::SIGNATURE_HASH))
            .and_then(|l| StylusDeployer::ContractDeployed::abi_decode_data(&l.data).ok())
            .expect("ContractDeployed");
        self.contract.set(deployed.0);
        Ok(())
    }

    fn now(&self) -> u64 {
        self.chain.borrow().now()
    }

    fn set_balance(&self, account: Address, wei: U256) {
        self.chain.borrow_mut().set_balance(account, wei);
    }

    fn balance(&self, account: Address) -> U256 {
        self.chain.borrow().balance(&account)
    }

    fn reject_payments(&self, account: Address, reject: bool) {
        let code = if reject {
            self.refusing_code.clone()
        } else {
            Bytes::new()
        };
        self.chain.borrow_mut().set_code(account, code);
    }

    fn advance(&self, seconds: u64) {
        self.chain
            .borrow_mut()
            .increase_time(seconds)
            .expect("test time jumps stay in range");
    }

    fn send_raw(&self, from: Address, value: U256, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        let hash = self
            .transact(
                from,
                TxKind::Call(self.contract()),
                value,
                calldata.to_vec(),
            )
            .unwrap_or_else(|e| panic!("the devnet refused a transaction: {e}"));
        let chain = self.chain.borrow();
        let tx = chain.transaction(&hash).unwrap();
        self.last_fee
            .set(U256::from(tx.gas_used) * U256::from(tx.effective_gas_price));
        *self.last_logs.borrow_mut() = tx
            .logs
            .iter()
            .map(|l| contract_harness::Log {
                address: l.address,
                topics: l.topics.clone(),
                data: l.data.to_vec(),
            })
            .collect();
        if tx.success {
            Ok(tx.output.to_vec())
        } else {
            Err(Revert {
                data: tx.output.to_vec(),
            })
        }
    }

    fn view_raw(&self, calldata: &[u8]) -> Result<Vec<u8>, Revert> {
        let request = CallRequest {
            to: Some(self.contract()),
            data: Bytes::copy_from_slice(calldata),
            ..Default::default()
        };
        let result = self.chain.borrow_mut().call(&request).unwrap();
        match result.outcome {
            Outcome::Success => Ok(result.output),
            _ => Err(Revert {
                data: result.output,
            }),
        }
    }

    fn last_logs(&self) -> Vec<contract_harness::Log> {
        self.last_logs.borrow().clone()
    }

    fn contract_state(&self) -> B256 {
        let chain = self.chain.borrow();
        let slots: Vec<(U256, B256)> = chain
            .storage_of(&self.contract())
            .into_iter()
            .map(|(slot, value)| (U256::from_be_bytes(slot.0), value))
            .collect();
        state_digest(&slots, chain.balance(&self.contract()))
    }
}

/// The programs, built once per test binary.
pub fn programs() -> &'static Programs {
    static PROGRAMS: std::sync::OnceLock<Programs> = std::sync::OnceLock::new();
    PROGRAMS.get_or_init(|| devnet::testnet::build_programs().expect("release WASM builds"))
}
