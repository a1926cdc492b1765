//! The relay over real HTTP, with its SQLite store in a temporary directory, against the real
//! contract on the devnet: authentication failures, stale timestamps, replays, wrong roles,
//! oversized bodies, invalid parameters, the on-chain reports, and results checked against the
//! score on chain.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use base64::Engine;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::relay_signature::signed_body;
use protocol::sampling::{sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role};
use protocol::text_result::{Choice, TextResult, Usage};
use protocol::vrf::VrfSecretKey;
use relay::api::system_clock;
use relay::service::serve;
use relay::store::Store;
use serde_json::{json, Value};

const GPU: &str = "NVIDIA GeForce RTX 4090";
const MODEL: &str = "base:HuggingFaceTB/SmolLM2-135M-Instruct";

struct Network {
    testnet: Testnet,
    signers: Vec<PrivateKeySigner>,
    contract: Address,
    relay_url: String,
    http: reqwest::Client,
    store: Arc<Store>,
    _data: tempfile::TempDir,
}

impl Network {
    async fn start() -> Network {
        let testnet = Testnet::spawn(&[]).await.unwrap();
        let signers = testnet.signers.clone();
        let config = TestConfig::with_dev_accounts(&signers, U256::from(1000u64));
        let contract = testnet.deploy_task_contract(&config).await.unwrap();

        // The relay, with the relay account's key, its store in a temporary directory.
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(data.path()).unwrap());
        let as_relay = testnet.contract_as(&signers[8], contract).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_url = format!("http://{}", listener.local_addr().unwrap());
        let interval = Duration::from_millis(100);
        tokio::spawn(serve(
            listener,
            store.clone(),
            as_relay,
            interval,
            std::future::pending(),
        ));
        Network {
            testnet,
            signers,
            contract,
            relay_url,
            http: reqwest::Client::new(),
            store,
            _data: data,
        }
    }

    async fn as_account(&self, signer: &PrivateKeySigner) -> ITaskContractInstance<DynProvider> {
        self.testnet
            .contract_as(signer, self.contract)
            .await
            .unwrap()
    }

    async fn join(&self, node: &PrivateKeySigner) {
        let c = self.as_account(node).await;
        let r = c
            .join(
                GPU.into(),
                24,
                [1, 0, 0],
                public_key(node).into(),
                vec![MODEL.into()],
            )
            .value(U256::from(1000u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
    }

    async fn create(&self, creator: &PrivateKeySigner, secret: &TaskSecret) {
        let c = self.as_account(creator).await;
        let r = c
            .createTask(
                1,
                secret.commitment(),
                secret.nonce,
                vec![MODEL.into()],
                0,
                GPU.into(),
                24,
                [1, 0, 0],
                1,
            )
            .value(U256::from(500u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
    }

    async fn task(&self, c: B256) -> ITaskContract::TaskInfo {
        self.as_account(&self.signers[0])
            .await
            .getTask(c)
            .call()
            .await
            .unwrap()
    }

    /// POSTs `fields` signed by `signer` at `timestamp`; returns the status and the JSON answer.
    async fn post(
        &self,
        path: &str,
        signer: &PrivateKeySigner,
        fields: Value,
        timestamp: u64,
    ) -> (u16, Value) {
        let Value::Object(fields) = fields else {
            panic!("fields must be an object")
        };
        let body = signed_body(signer, fields, timestamp).unwrap();
        self.post_raw(path, &Value::Object(body)).await
    }

    async fn post_raw(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.relay_url))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn wait_status(&self, c: B256, status: TaskStatus) {
        for _ in 0..100 {
            if self.task(c).await.status == status.as_u8() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "task {c} never reached {status}; it is {}",
            self.task(c).await.status
        );
    }
}

fn now() -> u64 {
    system_clock()
}

fn params_json() -> String {
    json!({"version": "1.0", "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
           "messages": [{"role": "user", "content": "What is the capital of France?"}],
           "generation_config": {"max_new_tokens": 8}, "seed": 42})
    .to_string()
}

fn text_result(content: &str) -> TextResult {
    TextResult {
        model: "HuggingFaceTB/SmolLM2-135M-Instruct".into(),
        choices: vec![Choice {
            index: 0,
            message: ChatMessage {
                role: Role::Assistant,
                content: content.into(),
            },
            finish_reason: "stop".into(),
        }],
        usage: Usage {
            prompt_tokens: 9,
            completion_tokens: 2,
            total_tokens: 11,
        },
    }
}

fn error_code(answer: &Value) -> &str {
    answer["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error answer: {answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn parameters_and_results_flow_through_the_relay_with_every_check() {
    let net = Network::start().await;
    let (creator, nodes) = (net.signers[2].clone(), net.signers[3..6].to_vec());
    for node in &nodes {
        net.join(node).await;
    }
    let first = TaskSecret::random();
    net.create(&creator, &first).await;
    let c1 = first.commitment();
    let info = net.task(c1).await;
    assert_eq!(info.status, TaskStatus::Started.as_u8());
    let node1 = nodes
        .iter()
        .find(|n| n.address() == info.selectedNode)
        .unwrap()
        .clone();

    let (code, answer) = net
        .post_raw("/v1/params/upload", &json!({"task_id_commitment": c1}))
        .await;
    assert_eq!((code, error_code(&answer)), (401, "malformed_request"));
    let upload = json!({"task_id_commitment": c1, "task_args": params_json()});
    // Signed by the node instead of the creator.
    let (code, answer) = net
        .post("/v1/params/upload", &node1, upload.clone(), now())
        .await;
    assert_eq!((code, error_code(&answer)), (403, "wrong_role"), "{answer}");
    // Stale and future timestamps.
    for t in [now() - 120, now() + 120] {
        let (code, answer) = net
            .post("/v1/params/upload", &creator, upload.clone(), t)
            .await;
        assert_eq!(
            (code, error_code(&answer)),
            (401, "expired_timestamp"),
            "{answer}"
        );
    }
    // A tampered body recovers another signer.
    let mut tampered =
        Value::Object(signed_body(&creator, upload.as_object().unwrap().clone(), now()).unwrap());
    tampered["task_args"] = params_json().replace("France", "Spain").into();
    let (code, answer) = net.post_raw("/v1/params/upload", &tampered).await;
    assert_eq!((code, error_code(&answer)), (403, "wrong_role"), "{answer}");
    // Invalid parameters name the field.
    let bad = json!({"task_id_commitment": c1, "task_args": params_json().replace("\"max_new_tokens\":8", "\"max_new_tokens\":0")});
    let (code, answer) = net.post("/v1/params/upload", &creator, bad, now()).await;
    assert_eq!(
        (code, error_code(&answer)),
        (400, "invalid_parameters"),
        "{answer}"
    );
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("generation_config.max_new_tokens"));
    // Oversized bodies are refused before anything else.
    let huge = json!({"task_id_commitment": c1, "task_args": "x".repeat(600 * 1024)});
    let (code, _) = net.post("/v1/params/upload", &creator, huge, now()).await;
    assert_eq!(code, 413);
    // The node cannot download before the upload.
    let ask = json!({"task_id_commitment": c1});
    let (code, answer) = net
        .post("/v1/params/download", &node1, ask.clone(), now())
        .await;
    assert_eq!((code, error_code(&answer)), (404, "not_ready"));

    // The upload, then its replay.
    let t = now();
    let (code, answer) = net
        .post("/v1/params/upload", &creator, upload.clone(), t)
        .await;
    assert_eq!(code, 200, "{answer}");
    let (code, answer) = net
        .post("/v1/params/upload", &creator, upload.clone(), t)
        .await;
    assert_eq!(
        (code, error_code(&answer)),
        (409, "replayed_request"),
        "{answer}"
    );
    // The relay reports it on chain from its own account.
    net.wait_status(c1, TaskStatus::ParametersUploaded).await;
    // A new signature (another timestamp) of the same upload: refused for the task's state.
    let (code, answer) = net
        .post("/v1/params/upload", &creator, upload.clone(), t + 1)
        .await;
    assert_eq!(
        (code, error_code(&answer)),
        (409, "illegal_task_state"),
        "{answer}"
    );

    // Only the selected node downloads the parameters.
    let (code, answer) = net
        .post("/v1/params/download", &creator, ask.clone(), now())
        .await;
    assert_eq!((code, error_code(&answer)), (403, "wrong_role"));
    let (code, answer) = net
        .post("/v1/params/download", &node1, ask.clone(), now())
        .await;
    assert_eq!(code, 200);
    assert_eq!(answer["task_args"], params_json());

    // The node executes and submits its score; no result upload before validation.
    let result = text_result("Paris.");
    let files = json!([base64::engine::general_purpose::STANDARD.encode(result.canonical_bytes())]);
    let as_node1 = net.as_account(&node1).await;
    assert!(as_node1
        .submitTaskScore(c1, result.score().to_vec().into())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    let result_upload = json!({"task_id_commitment": c1, "files": files});
    let (code, answer) = net
        .post("/v1/result/upload", &node1, result_upload.clone(), now())
        .await;
    assert_eq!(
        (code, error_code(&answer)),
        (409, "illegal_task_state"),
        "{answer}"
    );

    // The creator validates: alone, or with two siblings when the VRF samples the task.
    let vrf_key = VrfSecretKey::from_bytes(&creator.credential().to_bytes()).unwrap();
    let sampling = sample(&vrf_key, &net.task(c1).await.samplingSeed);
    let as_creator = net.as_account(&creator).await;
    eprintln!("task sampled for group validation: {}", sampling.sampled);
    if sampling.sampled {
        let siblings = [first.sibling(), first.sibling()];
        for s in &siblings {
            net.create(&creator, s).await;
            let c = s.commitment();
            let selected = net.task(c).await.selectedNode;
            let node = nodes
                .iter()
                .find(|n| n.address() == selected)
                .unwrap()
                .clone();
            let (code, _) = net
                .post(
                    "/v1/params/upload",
                    &creator,
                    json!({"task_id_commitment": c, "task_args": params_json()}),
                    now(),
                )
                .await;
            assert_eq!(code, 200);
            net.wait_status(c, TaskStatus::ParametersUploaded).await;
            let as_node = net.as_account(&node).await;
            assert!(as_node
                .submitTaskScore(c, result.score().to_vec().into())
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
                .status());
        }
        let r = as_creator
            .validateTaskGroup(
                c1,
                siblings[0].commitment(),
                siblings[1].commitment(),
                first.task_guid,
                sampling.proof.to_vec().into(),
                public_key(&creator).into(),
            )
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        assert_eq!(
            net.task(c1).await.status,
            TaskStatus::GroupValidated.as_u8()
        );
    } else {
        let r = as_creator
            .validateSingleTask(
                c1,
                sampling.proof.to_vec().into(),
                public_key(&creator).into(),
            )
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        assert_eq!(net.task(c1).await.status, TaskStatus::Validated.as_u8());
    }

    // A result that does not hash to the score on chain is refused; so is another signer.
    let wrong = json!({"task_id_commitment": c1, "files": [base64::engine::general_purpose::STANDARD.encode(text_result("Lyon.").canonical_bytes())]});
    let (code, answer) = net.post("/v1/result/upload", &node1, wrong, now()).await;
    assert_eq!(
        (code, error_code(&answer)),
        (400, "score_mismatch"),
        "{answer}"
    );
    let (code, answer) = net
        .post("/v1/result/upload", &creator, result_upload.clone(), now())
        .await;
    assert_eq!((code, error_code(&answer)), (403, "wrong_role"));
    let (code, answer) = net
        .post("/v1/result/upload", &node1, result_upload.clone(), now())
        .await;
    assert_eq!(code, 200, "{answer}");
    let success = if sampling.sampled {
        TaskStatus::EndGroupSuccess
    } else {
        TaskStatus::EndSuccess
    };
    net.wait_status(c1, success).await;

    // Only the creator downloads the result, and it hashes to the score on chain.
    let (code, _) = net
        .post("/v1/result/download", &node1, ask.clone(), now())
        .await;
    assert_eq!(code, 403);
    let (code, answer) = net
        .post("/v1/result/download", &creator, ask.clone(), now())
        .await;
    assert_eq!(code, 200);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer["files"][0].as_str().unwrap())
        .unwrap();
    assert_eq!(
        protocol::text_result::text_score(&bytes).to_vec(),
        net.task(c1).await.score.to_vec()
    );

    // Nothing is left in the outbox, and the public status view agrees.
    for _ in 0..50 {
        if net.store.pending_reports().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(net.store.pending_reports().unwrap().is_empty());
    let status: Value = net
        .http
        .get(format!("{}/v1/tasks/{c1}/status", net.relay_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["parameters_uploaded"], true);
    assert_eq!(status["result_uploaded"], true);
    assert_eq!(status["on_chain_status"], success.to_string());
}
