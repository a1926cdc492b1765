//! Two relay replicas on one store (SQLite + files shared on one machine, or with
//! `RELAY_TEST_BACKEND=servers` one PostgreSQL database and one bucket) against the contract on
//! the devnet: the same signed upload sent to both at once is accepted by exactly one, the result
//! uploaded through one is downloaded through the other, each report goes on chain once, and a
//! reporter that stops between sending a report and its receipt leaves it to the other replica,
//! which finishes it without a second transaction — also with real `relay` processes, one killed
//! with SIGKILL while its report waits for a block.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::ITaskContract;
use protocol::relay_signature::{
    file_fields, sign, signed_body, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use protocol::sampling::{sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role};
use protocol::text_result::{Choice, TextResult, Usage};
use protocol::vrf::VrfSecretKey;
use relay::api::system_clock;
use relay::reporter::{ReportOutcome, Reporter};
use relay::service::{serve, RelayOptions};
use relay::store::{ReportKind, StoreConfig, StoredParams};
use serde_json::{json, Value};

mod backend;

const MODEL: &str = "base:HuggingFaceTB/SmolLM2-135M-Instruct";

fn params_json() -> String {
    json!({"version": "1.0", "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
           "messages": [{"role": "user", "content": "Capital of France?"}],
           "generation_config": {"max_new_tokens": 8}, "seed": 7})
    .to_string()
}

fn text_result() -> TextResult {
    TextResult {
        model: "HuggingFaceTB/SmolLM2-135M-Instruct".into(),
        choices: vec![Choice {
            index: 0,
            message: ChatMessage {
                role: Role::Assistant,
                content: "Paris.".into(),
            },
            finish_reason: "stop".into(),
        }],
        usage: Usage {
            prompt_tokens: 5,
            completion_tokens: 2,
            total_tokens: 7,
        },
    }
}

struct Chain {
    testnet: Testnet,
    signers: Vec<PrivateKeySigner>,
    contract: alloy::primitives::Address,
}

impl Chain {
    async fn start() -> Chain {
        Chain::start_with_block_time(None).await
    }

    async fn start_with_block_time(block_time: Option<u64>) -> Chain {
        let testnet = Testnet::spawn_with_block_time(&[], block_time)
            .await
            .unwrap();
        let signers = testnet.signers.clone();
        let mut config = TestConfig::with_dev_accounts(&signers, U256::from(1000u64));
        // Single-task validation only: a sampled task would need a group.
        config.sampling_rate = 1_000_000;
        let contract = testnet.deploy_task_contract(&config).await.unwrap();
        Chain {
            testnet,
            signers,
            contract,
        }
    }

    async fn as_account(
        &self,
        signer: &PrivateKeySigner,
    ) -> ITaskContract::ITaskContractInstance<alloy::providers::DynProvider> {
        self.testnet
            .contract_as(signer, self.contract)
            .await
            .unwrap()
    }

    /// `node` stakes and joins with one model.
    async fn join(&self, node: &PrivateKeySigner, model: &str) {
        let joined = self
            .as_account(node)
            .await
            .join(
                "GPU".into(),
                24,
                [1, 0, 0],
                public_key(node).into(),
                vec![model.into()],
            )
            .value(U256::from(1000u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(joined.status());
    }

    /// A text task of `creator`'s committed to `params_json()`.
    async fn create_text_task(&self, creator: &PrivateKeySigner, secret: &TaskSecret) {
        let created = self
            .as_account(creator)
            .await
            .createTask(
                1,
                secret.commitment(),
                secret.nonce,
                vec![MODEL.into()],
                0,
                "GPU".into(),
                24,
                [1, 0, 0],
                1,
                secret.params_commitment(params_json().as_bytes()),
            )
            .value(U256::from(500u64))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(created.status());
    }

    async fn relay_nonce(&self) -> u64 {
        self.as_account(&self.signers[0])
            .await
            .provider()
            .get_transaction_count(self.signers[8].address())
            .await
            .unwrap()
    }

    async fn status(&self, c: B256) -> u8 {
        self.as_account(&self.signers[0])
            .await
            .getTask(c)
            .call()
            .await
            .unwrap()
            .status
    }

    async fn wait_status(&self, c: B256, status: TaskStatus) {
        for _ in 0..200 {
            if self.status(c).await == status.as_u8() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("task {c} never reached {status}");
    }
}

/// Starts a replica on `config`; returns its URL.
async fn replica(chain: &Chain, config: &StoreConfig, name: &str) -> String {
    let store = Arc::new(config.open().await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let as_relay = chain.as_account(&chain.signers[8]).await;
    let options = RelayOptions {
        replica: name.into(),
        reporter_lease: Duration::from_secs(2),
        ..RelayOptions::with_report_interval(Duration::from_millis(100))
    };
    tokio::spawn(serve(
        listener,
        store,
        as_relay,
        options,
        std::future::pending(),
    ));
    url
}

async fn post(http: &reqwest::Client, url: String, body: &Value) -> (u16, Value) {
    let r = http.post(url).json(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

fn signed(signer: &PrivateKeySigner, fields: Value) -> Value {
    let Value::Object(fields) = fields else {
        unreachable!()
    };
    Value::Object(signed_body(signer, fields, system_clock()).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_uploads_downloads_and_reports() {
    let chain = Chain::start().await;
    let data = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(data.path()).await;
    let urls = [
        replica(&chain, &config, "replica-a").await,
        replica(&chain, &config, "replica-b").await,
    ];
    let http = reqwest::Client::new();
    let (creator, node) = (chain.signers[2].clone(), chain.signers[3].clone());
    chain.join(&node, MODEL).await;
    let nonce_before = chain.relay_nonce().await;

    let secret = TaskSecret::random();
    let c = secret.commitment();
    let as_creator = chain.as_account(&creator).await;
    chain.create_text_task(&creator, &secret).await;

    // The same signed parameter upload to both replicas at once: exactly one accepts it.
    let upload = signed(
        &creator,
        json!({"task_id_commitment": c, "task_args": params_json(),
               "params_salt": secret.params_salt()}),
    );
    let (a, b) = tokio::join!(
        post(&http, format!("{}/v1/params/upload", urls[0]), &upload),
        post(&http, format!("{}/v1/params/upload", urls[1]), &upload),
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    assert!(
        ["replayed_request", "already_uploaded"]
            .contains(&refused["error"]["code"].as_str().unwrap()),
        "{refused}"
    );
    chain.wait_status(c, TaskStatus::ParametersUploaded).await;

    // The node downloads the parameters from either replica.
    for url in &urls {
        let ask = signed(&node, json!({"task_id_commitment": c}));
        let (code, answer) = post(&http, format!("{url}/v1/params/download"), &ask).await;
        assert_eq!(code, 200, "{answer}");
        assert_eq!(answer["task_args"], params_json());
    }
    let result = text_result();
    assert!(chain
        .as_account(&node)
        .await
        .submitTaskScore(c, result.score().to_vec().into())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());
    let info = as_creator.getTask(c).call().await.unwrap();
    let vrf_key = VrfSecretKey::from_bytes(&creator.credential().to_bytes()).unwrap();
    let sampling = sample(&vrf_key, &info.samplingSeed, info.terms.samplingRate);
    assert!(!sampling.sampled, "sampled at rate 1/1,000,000");
    assert!(as_creator
        .validateSingleTask(
            c,
            sampling.proof.to_vec().into(),
            public_key(&creator).into()
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    // The same signed result upload to both at once: one accepts, the other refuses.
    // Each file through one replica, the list through both at once.
    let bytes = result.canonical_bytes();
    let sha = {
        use sha2::Digest;
        B256::from_slice(&sha2::Sha256::digest(&bytes))
    };
    let t = system_clock();
    let fields = file_fields(c, sha, Some(bytes.len() as u64));
    let put = http
        .put(format!("{}/v1/result/{c}/files/{sha}", urls[0]))
        .header(TIMESTAMP_HEADER, t.to_string())
        .header(SIGNATURE_HEADER, sign(&node, &fields, t).unwrap())
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let upload = signed(&node, json!({"task_id_commitment": c, "files": [sha]}));
    let (a, b) = tokio::join!(
        post(&http, format!("{}/v1/result/upload", urls[0]), &upload),
        post(&http, format!("{}/v1/result/upload", urls[1]), &upload),
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{a:?} {b:?}");
    chain.wait_status(c, TaskStatus::EndSuccess).await;

    // Downloaded through each replica, whichever stored it.
    for url in &urls {
        let ask = signed(&creator, json!({"task_id_commitment": c}));
        let (code, answer) = post(&http, format!("{url}/v1/result/download"), &ask).await;
        assert_eq!(code, 200, "{answer}");
        assert_eq!(
            answer["files"],
            json!([{"sha256": sha, "size": bytes.len()}])
        );
        let t = system_clock();
        let fields = file_fields(c, sha, None);
        let got = http
            .get(format!("{url}/v1/result/{c}/files/{sha}"))
            .header(TIMESTAMP_HEADER, t.to_string())
            .header(SIGNATURE_HEADER, sign(&creator, &fields, t).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    }
    // Two reports for the task, each sent once, by whichever replica held the lease.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(chain.relay_nonce().await, nonce_before + 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reporter_stopped_between_send_and_receipt_is_finished_by_another_replica() {
    let chain = Chain::start().await;
    let data = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(data.path()).await;
    let (creator, node) = (chain.signers[2].clone(), chain.signers[3].clone());
    chain.join(&node, "base:m").await;
    let secret = TaskSecret::random();
    let c = secret.commitment();
    assert!(chain
        .as_account(&creator)
        .await
        .createTask(
            0,
            c,
            secret.nonce,
            vec!["base:m".into()],
            8,
            String::new(),
            0,
            [1, 0, 0],
            1,
            B256::repeat_byte(0x5A)
        )
        .value(U256::from(100u64))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    let as_relay = chain.as_account(&chain.signers[8]).await;
    let reporter = |name: &str, store| Reporter {
        store,
        contract: as_relay.clone(),
        poll_interval: Duration::from_millis(10),
        replica: name.into(),
        lease: Duration::from_secs(2),
        metrics: Default::default(),
    };
    // Replica A holds the lease, sends the report and records its hash, then stops before the
    // receipt (what a kill at that point leaves in the shared store).
    let store_a = Arc::new(config.open().await.unwrap());
    store_a
        .put_params(&c, &StoredParams::new("{}", secret.params_salt()), 1)
        .await
        .unwrap();
    let a = reporter("replica-a", store_a.clone());
    assert!(a.lead().await.unwrap());
    let sent = as_relay
        .reportTaskParametersUploaded(c)
        .send()
        .await
        .unwrap();
    store_a
        .report_sent(ReportKind::Parameters, &c, sent.tx_hash())
        .await
        .unwrap();
    drop(a);
    let nonce_after_send = chain.relay_nonce().await;

    // Replica B waits while A's lease lasts, then takes over and finds the report done.
    let store_b = Arc::new(config.open().await.unwrap());
    let b = reporter("replica-b", store_b.clone());
    assert_eq!(b.pass().await.unwrap(), None, "B reported under A's lease");
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let outcomes = b.pass().await.unwrap().expect("B holds the lease");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, ReportOutcome::Confirmed);
    assert!(store_b.pending_reports().await.unwrap().is_empty());
    assert_eq!(chain.relay_nonce().await, nonce_after_send, "sent twice");
    assert_eq!(
        chain.status(c).await,
        TaskStatus::ParametersUploaded.as_u8()
    );
}

/// A `relay` process of this crate's binary on `config`.
struct RelayProcess(std::process::Child);

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_relay(
    chain: &Chain,
    config: &StoreConfig,
    key_file: &std::path::Path,
    name: &str,
    logs: &std::path::Path,
) -> (RelayProcess, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_relay"));
    command
        .args(["--contract", &chain.contract.to_string()])
        .args(["--rpc-url", &chain.testnet.url])
        .arg("--private-key-file")
        .arg(key_file)
        .arg("--data-dir")
        .arg(&config.data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--reporter-lease", "3"])
        .env("HOSTNAME", name)
        .stdout(std::fs::File::create(logs.join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(logs.join(format!("{name}.err"))).unwrap());
    if let Some(db) = &config.database_url {
        command.args(["--database-url", db]);
    }
    if let Some(blobs) = &config.blob_store {
        command.args(["--blob-store", blobs]);
    }
    (
        RelayProcess(command.spawn().unwrap()),
        format!("http://127.0.0.1:{port}"),
    )
}

async fn wait_ready(http: &reqwest::Client, url: &str) {
    for _ in 0..200 {
        if http.get(format!("{url}/v1/now")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the relay at {url} did not start");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_killed_between_send_and_receipt_leaves_its_report_to_another() {
    // Blocks every 3 s: a report transaction waits in the pool after it is sent.
    let chain = Chain::start_with_block_time(Some(3)).await;
    let data = tempfile::tempdir().unwrap();
    let config = backend::fresh_config(&data.path().join("store")).await;
    let watcher = config.open().await.unwrap();
    let (creator, node) = (chain.signers[2].clone(), chain.signers[3].clone());
    chain.join(&node, MODEL).await;
    let secret = TaskSecret::random();
    let c = secret.commitment();
    chain.create_text_task(&creator, &secret).await;
    let key_file = data.path().join("relay.key");
    std::fs::write(
        &key_file,
        format!(
            "0x{}",
            hex::encode(chain.signers[8].credential().to_bytes())
        ),
    )
    .unwrap();
    let nonce_before = chain.relay_nonce().await;

    let http = reqwest::Client::new();
    let (mut a, url_a) = spawn_relay(&chain, &config, &key_file, "replica-a", data.path());
    wait_ready(&http, &url_a).await;
    let upload = signed(
        &creator,
        json!({"task_id_commitment": c, "task_args": params_json(),
               "params_salt": secret.params_salt()}),
    );
    let (code, answer) = post(&http, format!("{url_a}/v1/params/upload"), &upload).await;
    assert_eq!(code, 200, "{answer}");
    // A sends the report and records its hash; it is killed before the block with its receipt.
    let mut sent = None;
    for _ in 0..400 {
        let pending = watcher.pending_reports().await.unwrap();
        if let Some(tx) = pending.first().and_then(|p| p.sent_tx) {
            sent = Some(tx);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sent = sent.expect("replica A never sent the report");
    a.0.kill().unwrap();
    a.0.wait().unwrap();
    let pending = watcher.pending_reports().await.unwrap();
    assert_eq!(
        pending.len(),
        1,
        "A confirmed the report before it was killed"
    );
    assert_eq!(pending[0].sent_tx, Some(sent));
    assert_eq!(pending[0].kind, ReportKind::Parameters);
    drop(a);

    // B takes the lease once A's expires, finds A's transaction mined and confirms it.
    let (_b, url_b) = spawn_relay(&chain, &config, &key_file, "replica-b", data.path());
    wait_ready(&http, &url_b).await;
    for _ in 0..300 {
        if watcher.pending_reports().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        watcher.pending_reports().await.unwrap().is_empty(),
        "replica B never settled the report"
    );
    chain.wait_status(c, TaskStatus::ParametersUploaded).await;
    // Two more blocks: nothing else from the relay's account arrives.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        chain.relay_nonce().await,
        nonce_before + 1,
        "the report was sent twice"
    );
    // B serves the parameters A stored.
    let ask = signed(&node, json!({"task_id_commitment": c}));
    let (code, answer) = post(&http, format!("{url_b}/v1/params/download"), &ask).await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["task_args"], params_json());
}
