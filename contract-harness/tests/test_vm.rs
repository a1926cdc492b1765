//! The contract on stylus-sdk's test VM (`stylus_sdk::testing::TestVM`): the program's own router
//! and storage code, with the VM holding storage, sender, value, block and logs, and answering the
//! payments the contract pushes (the VM's mocked calls decide whether a payment is refused).
//!
//! The VM does not roll back a reverted call, moves no balances, and hands back the data of the
//! call mocked last rather than of the call made (stylus-test 0.10.10), so the two queries whose
//! answers matter are answered here: ArbSys from the VM's block number, and the VRF verifier by
//! the protocol crate's ECVRF verifier (independent of the verifier program). Reverts, rollback
//! and real balances are asserted on the harness chain (the other tests here) and on the devnet.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_sol_types::{sol, SolCall, SolError, SolEvent};
use common::{node_status, status, ETH, MIN_STAKE, QUEUE_LIMIT, TIMEOUT};
use contract_harness::{ITaskContract, Key};
use stylus_sdk::stylus_core::host::{
    AccountAccess, BlockAccess, MessageAccess, RawLogAccess, StorageAccess, UnsafeCallAccess,
};
use stylus_sdk::testing::TestVM;
use task_contract::chain::{ARB_BLOCK_HASH, ARB_BLOCK_NUMBER, ARB_SYS};

sol! {
    function verify(bytes public_key, bytes alpha, bytes proof) returns (bytes32);
}

const CONTRACT: Address = Address::repeat_byte(0xC0);
const VERIFIER: Address = Address::repeat_byte(0xFE);

/// The contract's host over a test VM: what the VM offers, plus ArbSys and the verifier.
struct VmHost {
    vm: TestVM,
    /// Payments the contract pushed: recipient, amount, whether the VM let it through.
    payments: Rc<RefCell<Vec<(Address, U256, bool)>>>,
}

impl task_contract::Host for VmHost {
    fn sender(&self) -> Address {
        self.vm.msg_sender()
    }
    fn value(&self) -> U256 {
        self.vm.msg_value()
    }
    fn timestamp(&self) -> u64 {
        self.vm.block_timestamp()
    }
    fn address(&self) -> Address {
        self.vm.contract_address()
    }
    fn load(&self, slot: &[u8; 32]) -> [u8; 32] {
        self.vm.storage_load_bytes32(U256::from_be_bytes(*slot)).0
    }
    fn store(&self, slot: &[u8; 32], word: &[u8; 32]) {
        // SAFETY: the VM's storage is a map; nothing borrows into it.
        unsafe {
            self.vm
                .storage_cache_bytes32(U256::from_be_bytes(*slot), B256::new(*word))
        }
    }
    fn emit_log(&self, topics_then_data: &[u8], topics: usize) {
        self.vm.emit_log(topics_then_data, topics)
    }
    fn send_value(&self, to: &Address, value: &U256, gas: Option<u64>) -> bool {
        let amount = value.to_be_bytes::<32>();
        let mut outs_len = 0;
        // SAFETY: the pointers are to live locals of the lengths the VM reads.
        let status = unsafe {
            self.vm.call_contract(
                to.as_ptr(),
                [].as_ptr(),
                0,
                amount.as_ptr(),
                gas.unwrap_or(u64::MAX),
                &mut outs_len,
            )
        };
        self.payments.borrow_mut().push((*to, *value, status == 0));
        status == 0
    }
    fn static_call(&self, to: &Address, calldata: &[u8]) -> Option<Vec<u8>> {
        if *to == ARB_SYS {
            let number = self.vm.block_number();
            if calldata == ARB_BLOCK_NUMBER {
                return Some(U256::from(number).to_be_bytes_vec());
            }
            let asked = calldata
                .strip_prefix(&ARB_BLOCK_HASH)
                .map(U256::from_be_slice)?;
            return (asked < U256::from(number))
                .then(|| keccak256(asked.to_be_bytes::<32>()).to_vec());
        }
        if *to == VERIFIER {
            let call = verifyCall::abi_decode(calldata).ok()?;
            let beta = protocol::vrf::verify(&call.public_key, &call.alpha, &call.proof).ok()?;
            return Some(beta.to_vec());
        }
        None
    }
}

/// An initialised contract on a fresh VM.
struct Vm {
    vm: TestVM,
    payments: Rc<RefCell<Vec<(Address, U256, bool)>>>,
    owner: Key,
    relay: Key,
    treasury: Address,
    app: Key,
    nodes: Vec<Key>,
}

impl Vm {
    fn new() -> Vm {
        let vm = TestVM::new();
        vm.set_contract_address(CONTRACT);
        vm.set_block_number(1_000);
        vm.set_block_timestamp(1_700_000_000);
        let net = Vm {
            vm,
            payments: Rc::default(),
            owner: Key::from_seed(1),
            relay: Key::from_seed(2),
            treasury: Key::from_seed(3).address,
            app: Key::from_seed(4),
            nodes: (0..3).map(|i| Key::from_seed(100 + i)).collect(),
        };
        let init = ITaskContract::initializeCall {
            owner: net.owner.address,
            relay: net.relay.address,
            treasury: net.treasury,
            vrf_verifier: VERIFIER,
            min_stake: U256::from(MIN_STAKE),
            task_timeout: TIMEOUT,
            distance_threshold: 24,
            queue_size_limit: QUEUE_LIMIT,
        };
        net.send(net.owner.address, U256::ZERO, init)
            .expect("initialize");
        net
    }

    /// `call` from `from` with `value`, through the contract's router; the decoded return or
    /// the revert data.
    fn send<C: SolCall>(&self, from: Address, value: U256, call: C) -> Result<C::Return, Vec<u8>> {
        self.vm.set_sender(from);
        self.vm.set_value(value);
        let host = VmHost {
            vm: self.vm.clone(),
            payments: self.payments.clone(),
        };
        let out = task_contract::call(host, &call.abi_encode())?;
        Ok(C::abi_decode_returns(&out).expect("return data decodes"))
    }

    fn view<C: SolCall>(&self, call: C) -> C::Return {
        self.send(Address::ZERO, U256::ZERO, call).expect("view")
    }

    fn join(&self, node: &Key) {
        let join = ITaskContract::joinCall {
            gpu_name: "RTX 4090".into(),
            gpu_vram: 24,
            version: [1, 0, 0],
            public_key: Bytes::copy_from_slice(&node.public_key),
            model_ids: vec!["sd15".into()],
        };
        self.send(node.address, U256::from(MIN_STAKE), join)
            .expect("join");
    }

    /// Creates an SD task paying `fee` whose sampling the application's VRF decides as `sampled`.
    fn create(&self, fee: u128, sampled: bool) -> B256 {
        for n in 0u64.. {
            let nonce = keccak256(n.to_be_bytes());
            let commitment =
                keccak256([B256::repeat_byte(7).as_slice(), nonce.as_slice()].concat());
            let create = ITaskContract::createTaskCall {
                task_type: 0,
                task_id_commitment: commitment,
                nonce,
                model_ids: vec!["sd15".into()],
                minimum_vram: 8,
                required_gpu: String::new(),
                required_gpu_vram: 0,
                task_version: [1, 0, 0],
                task_size: 1,
            };
            // The seed depends on the commitment: try nonces until the VRF samples as wanted.
            let seed = self.seed_of(commitment);
            if self.app.samples(seed.as_slice()) == sampled {
                self.send(self.app.address, U256::from(fee), create)
                    .expect("createTask");
                assert_eq!(self.task(commitment).samplingSeed, seed);
                return commitment;
            }
        }
        unreachable!()
    }

    /// The sampling seed createTask gives a task: keccak(previous block hash || commitment),
    /// with the block hash ArbSys answers on this VM.
    fn seed_of(&self, commitment: B256) -> B256 {
        let previous = keccak256(U256::from(self.vm.block_number() - 1).to_be_bytes::<32>());
        keccak256([previous.as_slice(), commitment.as_slice()].concat())
    }

    fn task(&self, commitment: B256) -> ITaskContract::TaskInfo {
        self.view(ITaskContract::getTaskCall {
            task_id_commitment: commitment,
        })
    }

    /// The task through parameters, score and single validation, up to the result upload.
    fn run_until_validated(&self, commitment: B256) -> Address {
        let node = self.task(commitment).selectedNode;
        let params = ITaskContract::reportTaskParametersUploadedCall {
            task_id_commitment: commitment,
        };
        self.send(self.relay.address, U256::ZERO, params).unwrap();
        let score = ITaskContract::submitTaskScoreCall {
            task_id_commitment: commitment,
            task_score: Bytes::from(vec![1u8; 8]),
        };
        self.send(node, U256::ZERO, score).unwrap();
        let (proof, _) = self
            .app
            .prove(self.task(commitment).samplingSeed.as_slice());
        let validate = ITaskContract::validateSingleTaskCall {
            task_id_commitment: commitment,
            vrf_proof: proof.into(),
            public_key: Bytes::copy_from_slice(&self.app.public_key),
        };
        self.send(self.app.address, U256::ZERO, validate).unwrap();
        node
    }

    fn upload_result(&self, commitment: B256) {
        let uploaded = ITaskContract::reportTaskResultUploadedCall {
            task_id_commitment: commitment,
        };
        self.send(self.relay.address, U256::ZERO, uploaded).unwrap();
    }

    /// The logs of event `E` emitted so far (the VM keeps them all).
    fn events<E: SolEvent>(&self) -> Vec<E> {
        self.vm
            .get_emitted_logs()
            .iter()
            .filter(|(topics, _)| topics.first() == Some(&E::SIGNATURE_HASH))
            .map(|(topics, data)| E::decode_raw_log(topics.iter().copied(), data).unwrap())
            .collect()
    }
}

#[test]
fn joins_and_a_task_dispatched_on_the_test_vm() {
    let net = Vm::new();
    for node in &net.nodes {
        net.join(node);
    }
    let joined = net.events::<ITaskContract::NodeJoined>();
    assert_eq!(joined.len(), 3);
    assert!(joined.iter().all(|e| e.stake == U256::from(MIN_STAKE)));

    let c = net.create(ETH, false);
    let task = net.task(c);
    assert_eq!(task.status, status::STARTED);
    assert_eq!(task.taskFee, U256::from(ETH));
    let node = task.selectedNode;
    assert!(net.nodes.iter().any(|k| k.address == node));
    let started = net.events::<ITaskContract::TaskStarted>();
    assert_eq!(started.len(), 1);
    assert_eq!(
        (started[0].taskIDCommitment, started[0].selectedNode),
        (c, node)
    );
    let info = net.view(ITaskContract::getNodeInfoCall { node });
    assert_eq!(info.status, node_status::BUSY);
    let current = net.view(ITaskContract::getNodeTaskCall { node });
    assert_eq!(current, c);
}

#[test]
fn a_single_task_is_validated_with_a_real_vrf_proof_and_paid_on_the_test_vm() {
    let net = Vm::new();
    net.join(&net.nodes[0]);
    let c = net.create(2 * ETH, false);
    let node = net.run_until_validated(c);
    assert_eq!(net.task(c).status, status::VALIDATED);
    assert_eq!(net.events::<ITaskContract::TaskValidated>().len(), 1);

    net.upload_result(c);
    assert_eq!(net.task(c).status, status::END_SUCCESS);
    assert_eq!(
        *net.payments.borrow(),
        vec![(node, U256::from(2 * ETH), true)]
    );
    let sent = net.events::<ITaskContract::PaymentSent>();
    assert_eq!((sent[0].to, sent[0].amount), (node, U256::from(2 * ETH)));
    let info = net.view(ITaskContract::getNodeInfoCall { node });
    assert_eq!(info.status, node_status::AVAILABLE);
}

#[test]
fn a_proof_of_another_key_is_refused_on_the_test_vm() {
    let net = Vm::new();
    net.join(&net.nodes[0]);
    let c = net.create(ETH, false);
    let node = net.task(c).selectedNode;
    let params = ITaskContract::reportTaskParametersUploadedCall {
        task_id_commitment: c,
    };
    net.send(net.relay.address, U256::ZERO, params).unwrap();
    let score = ITaskContract::submitTaskScoreCall {
        task_id_commitment: c,
        task_score: Bytes::from(vec![1u8; 8]),
    };
    net.send(node, U256::ZERO, score).unwrap();
    // The application's public key with a proof made by a node's key.
    let (proof, _) = net.nodes[0].prove(net.task(c).samplingSeed.as_slice());
    let validate = ITaskContract::validateSingleTaskCall {
        task_id_commitment: c,
        vrf_proof: proof.into(),
        public_key: Bytes::copy_from_slice(&net.app.public_key),
    };
    let Err(revert) = net.send(net.app.address, U256::ZERO, validate) else {
        panic!("a proof of another key must revert");
    };
    assert_eq!(revert, ITaskContract::InvalidVRFProof {}.abi_encode());
    assert_eq!(net.task(c).status, status::SCORE_READY);
}

#[test]
fn a_payment_the_vm_refuses_becomes_a_credit_and_is_withdrawn() {
    let net = Vm::new();
    net.join(&net.nodes[0]);
    let c = net.create(2 * ETH, false);
    let node = net.run_until_validated(c);
    // The VM answers the contract's payment to the node with a revert.
    let fee = U256::from(2 * ETH);
    net.vm.mock_call(node, Vec::new(), fee, Err(Vec::new()));
    net.upload_result(c);
    assert_eq!(net.task(c).status, status::END_SUCCESS);
    assert_eq!(net.view(ITaskContract::creditOfCall { account: node }), fee);
    let credited = net.events::<ITaskContract::PaymentCredited>();
    assert_eq!((credited[0].to, credited[0].amount), (node, fee));

    net.vm.mock_call(node, Vec::new(), fee, Ok(Vec::new()));
    net.send(node, U256::ZERO, ITaskContract::withdrawCall {})
        .unwrap();
    assert_eq!(
        net.view(ITaskContract::creditOfCall { account: node }),
        U256::ZERO
    );
    let withdrawn = net.events::<ITaskContract::CreditWithdrawn>();
    assert_eq!((withdrawn[0].to, withdrawn[0].amount), (node, fee));
    assert_eq!(
        net.payments.borrow().as_slice(),
        &[(node, fee, false), (node, fee, true)]
    );
}
