//! The relay over real HTTP, with its SQLite store in a temporary directory, against the real
//! contract on the devnet: authentication failures, stale timestamps, replays, wrong roles,
//! oversized bodies, invalid parameters, the on-chain reports, and results checked against the
//! score on chain.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::{ITaskContract, ITaskContractInstance};
use protocol::relay_signature::{
    file_fields, sign, signed_body, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use protocol::sampling::{params_hash, sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role};
use protocol::text_result::{Choice, TextResult, Usage};
use protocol::vrf::VrfSecretKey;
use relay::api::system_clock;
use relay::service::serve;
use relay::store::Store;
use serde_json::{json, Value};

mod backend;

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
        Network::with_report_interval(Duration::from_millis(100)).await
    }

    /// The relay's reporter passes once at start, then every `interval`.
    async fn with_report_interval(interval: Duration) -> Network {
        let testnet = Testnet::spawn(&[]).await.unwrap();
        let signers = testnet.signers.clone();
        let config = TestConfig::with_dev_accounts(&signers, U256::from(1000u64));
        let contract = testnet.deploy_task_contract(&config).await.unwrap();

        // The relay, with the relay account's key, its store in a temporary directory.
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(backend::open_store(data.path()).await);
        let as_relay = testnet.contract_as(&signers[8], contract).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(
            listener,
            store.clone(),
            as_relay,
            relay::service::RelayOptions::with_report_interval(interval),
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
        self.create_with(creator, secret, &params_json()).await
    }

    /// Creates a task committed to the parameters `params`.
    async fn create_with(&self, creator: &PrivateKeySigner, secret: &TaskSecret, params: &str) {
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
                secret.params_commitment(params.as_bytes()),
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

    /// PUTs one result file under `sha256` (normally the file's own hash), signed by `signer`.
    async fn put_file_as(
        &self,
        signer: &PrivateKeySigner,
        c: B256,
        sha256: B256,
        bytes: &[u8],
    ) -> (u16, Value) {
        let t = now();
        let fields = file_fields(c, sha256, Some(bytes.len() as u64));
        let resp = self
            .http
            .put(format!("{}/v1/result/{c}/files/{sha256}", self.relay_url))
            .header(TIMESTAMP_HEADER, t.to_string())
            .header(SIGNATURE_HEADER, sign(signer, &fields, t).unwrap())
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    async fn put_file(&self, signer: &PrivateKeySigner, c: B256, bytes: &[u8]) -> (u16, Value) {
        self.put_file_as(signer, c, sha(bytes), bytes).await
    }

    /// GETs one result file; the body's bytes, or the error answer.
    async fn get_file(
        &self,
        signer: &PrivateKeySigner,
        c: B256,
        sha256: B256,
    ) -> (u16, Result<Vec<u8>, Value>) {
        let t = now();
        let fields = file_fields(c, sha256, None);
        let resp = self
            .http
            .get(format!("{}/v1/result/{c}/files/{sha256}", self.relay_url))
            .header(TIMESTAMP_HEADER, t.to_string())
            .header(SIGNATURE_HEADER, sign(signer, &fields, t).unwrap())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap().to_vec();
        if status == 200 {
            (status, Ok(bytes))
        } else {
            (status, Err(serde_json::from_slice(&bytes).unwrap()))
        }
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

fn sha(bytes: &[u8]) -> B256 {
    use sha2::Digest;
    B256::from_slice(&sha2::Sha256::digest(bytes))
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
    // Four nodes: the first task, a task with invalid parameters, and a group's two siblings.
    let (creator, nodes) = (net.signers[2].clone(), net.signers[3..7].to_vec());
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
    // A body without the signing fields is malformed (400), not an authentication failure.
    assert_eq!((code, error_code(&answer)), (400, "malformed_request"));
    let upload = json!({"task_id_commitment": c1, "task_args": params_json(),
                        "params_salt": first.params_salt()});
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
    let bad_args = params_json().replace("\"max_new_tokens\":8", "\"max_new_tokens\":0");
    let bad_task = TaskSecret::random();
    net.create_with(&creator, &bad_task, &bad_args).await;
    let bad = json!({"task_id_commitment": bad_task.commitment(), "task_args": bad_args,
                     "params_salt": bad_task.params_salt()});
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
    // Parameters the task did not commit to, or the right ones with another salt, are refused:
    // a validation group can only compare nodes that ran the very same parameters.
    for (args, salt) in [
        (
            params_json().replace("France", "Spain"),
            first.params_salt(),
        ),
        (params_json(), first.sibling().params_salt()),
    ] {
        let other = json!({"task_id_commitment": c1, "task_args": args, "params_salt": salt});
        let (code, answer) = net.post("/v1/params/upload", &creator, other, now()).await;
        assert_eq!(
            (code, error_code(&answer)),
            (400, "params_mismatch"),
            "{answer}"
        );
    }
    let no_salt = json!({"task_id_commitment": c1, "task_args": params_json()});
    let (code, answer) = net
        .post("/v1/params/upload", &creator, no_salt, now())
        .await;
    assert_eq!((code, error_code(&answer)), (400, "malformed_request"));
    // Oversized bodies are refused before anything else.
    let huge = json!({"task_id_commitment": c1, "task_args": "x".repeat(600 * 1024)});
    let (code, answer) = net.post("/v1/params/upload", &creator, huge, now()).await;
    assert_eq!((code, error_code(&answer)), (413, "body_too_large"));
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
    assert_eq!(answer["params_salt"], first.params_salt().to_string());

    // The node executes and submits its score; no result upload before validation.
    let result = text_result("Paris.");
    let file = result.canonical_bytes();
    let files = json!([sha(&file)]);
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
    let (code, answer) = net.put_file(&node1, c1, &file).await;
    assert_eq!(
        (code, error_code(&answer)),
        (409, "illegal_task_state"),
        "{answer}"
    );

    // The creator validates: alone, or with two siblings when the VRF samples the task.
    let vrf_key = VrfSecretKey::from_bytes(&creator.credential().to_bytes()).unwrap();
    let info = net.task(c1).await;
    let sampling = sample(&vrf_key, &info.samplingSeed, info.terms.samplingRate);
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
                    json!({"task_id_commitment": c, "task_args": params_json(),
                           "params_salt": s.params_salt()}),
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
                params_hash(params_json().as_bytes()),
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

    // A file listed before it is uploaded, a file whose bytes are not the hash it is sent under,
    // and a file sent by another signer are refused.
    let (code, answer) = net
        .post("/v1/result/upload", &node1, result_upload.clone(), now())
        .await;
    assert_eq!(
        (code, error_code(&answer)),
        (400, "file_not_uploaded"),
        "{answer}"
    );
    let (code, answer) = net.put_file_as(&node1, c1, sha(b"other"), &file).await;
    assert_eq!(
        (code, error_code(&answer)),
        (400, "file_mismatch"),
        "{answer}"
    );
    let (code, answer) = net.put_file(&creator, c1, &file).await;
    assert_eq!((code, error_code(&answer)), (403, "wrong_role"), "{answer}");
    // A result that does not hash to the score on chain is refused; so is another signer.
    let lyon = text_result("Lyon.").canonical_bytes();
    let (code, answer) = net.put_file(&node1, c1, &lyon).await;
    assert_eq!(code, 200, "{answer}");
    let wrong = json!({"task_id_commitment": c1, "files": [sha(&lyon)]});
    let (code, answer) = net.post("/v1/result/upload", &node1, wrong, now()).await;
    assert_eq!(
        (code, error_code(&answer)),
        (400, "score_mismatch"),
        "{answer}"
    );
    let (code, answer) = net.put_file(&node1, c1, &file).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["size"], file.len());
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
    assert_eq!(
        answer["files"],
        json!([{"sha256": sha(&file), "size": file.len()}])
    );
    let (code, answer) = net.get_file(&node1, c1, sha(&file)).await;
    assert_eq!(code, 403, "{answer:?}");
    // The other file uploaded for this task is not part of its result.
    let (code, answer) = net.get_file(&creator, c1, sha(&lyon)).await;
    assert_eq!(
        (code, answer.unwrap_err()["error"]["code"].as_str().unwrap()),
        (404, "file_not_found")
    );
    let (code, bytes) = net.get_file(&creator, c1, sha(&file)).await;
    assert_eq!(code, 200);
    let bytes = bytes.unwrap();
    assert_eq!(bytes, file);
    // After the commit no more files are accepted.
    let (code, answer) = net.put_file(&node1, c1, b"late").await;
    assert_eq!(code, 409, "{answer}");
    assert_eq!(
        protocol::text_result::text_score(&bytes).to_vec(),
        net.task(c1).await.score.to_vec()
    );

    // Nothing is left in the outbox, and the public status view agrees.
    for _ in 0..50 {
        if net.store.pending_reports().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(net.store.pending_reports().await.unwrap().is_empty());
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

    // The reporter's work shows in the metrics.
    let text = net
        .http
        .get(format!("{}/metrics", net.relay_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    assert!(
        series("relay_reports_settled_total{kind=\"parameters\",outcome=\"confirmed\"}") >= 1.0
    );
    assert!(series("relay_reports_settled_total{kind=\"result\",outcome=\"confirmed\"}") >= 1.0);
    assert!(series("relay_reports_sent_total{kind=\"result\"}") >= 1.0);
    assert_eq!(series("relay_reports_pending"), 0.0);
    assert_eq!(series("relay_reporter_leader"), 1.0);
}

/// Attack 2, the relay's half: a creator who validated a task must not get the result before the
/// relay's report has paid the node (it could abort in between). The result is served only once
/// the task is EndSuccess / EndGroupSuccess, and never after an abort.
#[tokio::test(flavor = "multi_thread")]
async fn a_result_is_served_only_once_the_task_is_settled() {
    // The relay's reporter stays idle: the test sends the relay's reports itself, so that the
    // window between the upload and the report stays open.
    let net = Network::with_report_interval(Duration::from_secs(3600)).await;
    let creator = net.signers[2].clone();
    let node = net.signers[3].clone();
    net.join(&node).await;
    let vrf_key = VrfSecretKey::from_bytes(&creator.credential().to_bytes()).unwrap();
    let as_node = net.as_account(&node).await;
    let as_relay = net.as_account(&net.signers[8]).await;
    let result = text_result("Paris.");
    let file = result.canonical_bytes();
    let files = json!([sha(&file)]);

    // Two validated tasks with their results on the relay, the reports not sent yet.
    let mut tasks = Vec::new();
    while tasks.len() < 2 {
        let secret = TaskSecret::random();
        net.create(&creator, &secret).await;
        let c = secret.commitment();
        let upload = json!({"task_id_commitment": c, "task_args": params_json(),
                            "params_salt": secret.params_salt()});
        let (code, answer) = net.post("/v1/params/upload", &creator, upload, now()).await;
        assert_eq!(code, 200, "{answer}");
        for call in [as_relay.reportTaskParametersUploaded(c)] {
            assert!(call
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
                .status());
        }
        let r = as_node
            .submitTaskScore(c, result.score().to_vec().into())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        let info = net.task(c).await;
        let sampling = sample(&vrf_key, &info.samplingSeed, info.terms.samplingRate);
        if sampling.sampled {
            // Not the case under test: end it once its validation deadline has passed.
            let wait = info.terms.validationTimeout + 1;
            increase_time(&net, wait).await;
            assert!(net
                .as_account(&creator)
                .await
                .abortTask(c, 1)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap()
                .status());
            continue;
        }
        let r = net
            .as_account(&creator)
            .await
            .validateSingleTask(
                c,
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
        let (code, answer) = net.put_file(&node, c, &file).await;
        assert_eq!(code, 200, "{answer}");
        let upload = json!({"task_id_commitment": c, "files": files});
        let (code, answer) = net.post("/v1/result/upload", &node, upload, now()).await;
        assert_eq!(code, 200, "{answer}");
        tasks.push(c);
        // One task at a time on the only node: settle this one before the next, below.
        if tasks.len() == 1 {
            let ask = json!({"task_id_commitment": c});
            // Uploaded, not yet settled: not served, and the creator cannot abort meanwhile.
            let (code, answer) = net
                .post("/v1/result/download", &creator, ask.clone(), now())
                .await;
            assert_eq!((code, error_code(&answer)), (404, "not_ready"), "{answer}");
            // Nor is the file itself, fetched directly.
            let (code, answer) = net.get_file(&creator, c, sha(&file)).await;
            assert_eq!(
                (code, answer.unwrap_err()["error"]["code"].as_str().unwrap()),
                (404, "not_ready")
            );
            let Err(abort) = net.as_account(&creator).await.abortTask(c, 1).call().await else {
                panic!("the creator aborted an uploaded task before its report");
            };
            assert!(matches!(
                abort.as_decoded_interface_error::<ITaskContract::ITaskContractErrors>(),
                Some(ITaskContract::ITaskContractErrors::DeadlineNotReached(_))
            ));
            // The report lands: the node is paid and the result is served.
            let r = as_relay
                .reportTaskResultUploaded(c)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            assert!(r.status());
            assert_eq!(net.task(c).await.status, TaskStatus::EndSuccess.as_u8());
            let (code, answer) = net.post("/v1/result/download", &creator, ask, now()).await;
            assert_eq!(code, 200, "{answer}");
            let (code, bytes) = net.get_file(&creator, c, sha(&file)).await;
            assert_eq!((code, bytes.unwrap()), (200, file.clone()));
        }
    }

    // The second task's report never lands; once the upload deadline passes the creator aborts
    // it and gets the fee back, but not the result.
    let c = tasks[1];
    let wait = net.task(c).await.terms.uploadTimeout + 1;
    increase_time(&net, wait).await;
    assert!(net
        .as_account(&creator)
        .await
        .abortTask(c, 1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    let ask = json!({"task_id_commitment": c});
    let (code, answer) = net.post("/v1/result/download", &creator, ask, now()).await;
    assert_eq!(
        (code, error_code(&answer)),
        (409, "illegal_task_state"),
        "{answer}"
    );
    let (code, answer) = net.get_file(&creator, c, sha(&file)).await;
    assert_eq!(
        (code, answer.unwrap_err()["error"]["code"].as_str().unwrap()),
        (409, "illegal_task_state")
    );
}

/// Moves the devnet's clock on and mines a block.
async fn increase_time(net: &Network, seconds: u64) {
    use alloy::providers::Provider;
    let c = net.as_account(&net.signers[0]).await;
    let provider = c.provider();
    provider
        .raw_request::<_, Value>("evm_increaseTime".into(), (seconds,))
        .await
        .unwrap();
    provider
        .raw_request::<_, Value>("evm_mine".into(), ())
        .await
        .unwrap();
}
