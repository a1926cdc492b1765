//! The worker binary on the devnet with the real contract and the real relay: it joins, takes a
//! task, runs a tiny Llama, submits the score, is killed and restarted while the relay is down,
//! uploads the result without executing again once the relay is back, and is paid to the wei. A
//! second task with parameters the model cannot run is reported with reportTaskError. The
//! operator commands (join, pause, resume, status, quit) are the binary's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use client::relay_client::RelayClient;
use devnet::testnet::{public_key, TestConfig, Testnet};
use node_worker::engines::tiny_model::{TinyLlama, TinyStableDiffusion};
use node_worker::record::{Record, TxState};
use protocol::bindings::ITaskContractInstance;
use protocol::sampling::{sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::text_result::text_score;
use protocol::vrf::VrfSecretKey;
use tokio::sync::oneshot;

const MODEL: &str = "tiny/llama-test";
const IMAGE_MODEL: &str = "tiny/stable-diffusion";
const GPU: &str = "NVIDIA GeForce RTX 4090";
const STAKE: u64 = 1000;

struct RelayHandle {
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_relay(
    addr: SocketAddr,
    data: &Path,
    as_relay: ITaskContractInstance<DynProvider>,
) -> RelayHandle {
    let store = Arc::new(relay::store::Store::open(data).unwrap());
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(relay::service::serve(
        listener,
        store,
        as_relay,
        relay::service::RelayOptions::with_report_interval(Duration::from_millis(100)),
        async move {
            let _ = stopped.await;
        },
    ));
    RelayHandle { stop, done }
}

impl RelayHandle {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.unwrap().unwrap();
    }
}

/// A TCP proxy in front of the devnet's RPC endpoint that can be cut (an RPC outage): stopping
/// it closes the listener and every open connection.
struct RpcProxy {
    tasks: tokio::task::JoinSet<()>,
}

impl RpcProxy {
    async fn start(listen: SocketAddr, upstream: SocketAddr) -> RpcProxy {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        RpcProxy { tasks }
    }

    async fn stop(mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// The worker's command line for one node.
struct WorkerCli {
    args: Vec<String>,
    log_dir: PathBuf,
}

impl WorkerCli {
    fn command(&self, sub: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_node-worker"));
        cmd.args(sub).args(&self.args);
        cmd
    }

    async fn run_once(&self, sub: &[&str]) -> String {
        let mut cmd = self.command(sub);
        let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "node-worker {sub:?} failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    fn spawn_run(&self, name: &str) -> Child {
        let log = std::fs::File::create(self.log_dir.join(name)).unwrap();
        self.command(&["run"])
            .env("RUST_LOG", "info,node_worker=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_dir.join(name)).unwrap_or_default()
    }
}

async fn wait_status(
    c: &ITaskContractInstance<DynProvider>,
    task: B256,
    want: TaskStatus,
    cli: &WorkerCli,
) {
    for _ in 0..1200 {
        let info = c.getTask(task).call().await.unwrap();
        if info.status == want.as_u8() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let info = c.getTask(task).call().await.unwrap();
    panic!(
        "task {task} is {:?}, expected {want}; worker logs:\n{}\n{}",
        TaskStatus::from_u8(info.status),
        cli.log("run-1.log"),
        cli.log("run-2.log")
    );
}

/// A task the application created, with what it needs to upload the parameters.
#[derive(Clone)]
struct Created {
    commitment: B256,
    secret: TaskSecret,
    params: String,
}

/// Creates queued text tasks with `params` until one is not sampled for group validation
/// (aborting the others), so that the test can validate it on its own.
async fn create_unsampled_task(
    app: &ITaskContractInstance<DynProvider>,
    vrf: &VrfSecretKey,
    fee: u64,
    params: &str,
) -> Created {
    create_unsampled(app, vrf, fee, 1, &format!("base:{MODEL}"), params).await
}

/// Creates a task as the application, committed to `params`.
async fn create_task(
    app: &ITaskContractInstance<DynProvider>,
    fee: u64,
    task_type: u8,
    model_id: &str,
    params: &str,
) -> Created {
    let secret = TaskSecret::random();
    let receipt = app
        .createTask(
            task_type,
            secret.commitment(),
            secret.nonce,
            vec![model_id.to_string()],
            0,
            GPU.into(),
            24,
            [1, 0, 0],
            1,
            secret.params_commitment(params.as_bytes()),
        )
        .value(U256::from(fee))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    Created {
        commitment: secret.commitment(),
        secret,
        params: params.to_string(),
    }
}

async fn create_unsampled(
    app: &ITaskContractInstance<DynProvider>,
    vrf: &VrfSecretKey,
    fee: u64,
    task_type: u8,
    model_id: &str,
    params: &str,
) -> Created {
    loop {
        let t = create_task(app, fee, task_type, model_id, params).await;
        let info = app.getTask(t.commitment).call().await.unwrap();
        assert_eq!(
            info.status,
            TaskStatus::Queued.as_u8(),
            "no node is available yet"
        );
        if !sample(vrf, &info.samplingSeed, info.terms.samplingRate).sampled {
            return t;
        }
        assert!(app
            .abortTask(t.commitment, 1)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
            .status());
    }
}

async fn validate_single(
    app: &ITaskContractInstance<DynProvider>,
    vrf: &VrfSecretKey,
    c: B256,
    app_signer: &PrivateKeySigner,
) -> U256 {
    let info = app.getTask(c).call().await.unwrap();
    let proof = sample(vrf, &info.samplingSeed, info.terms.samplingRate);
    let receipt = app
        .validateSingleTask(
            c,
            proof.proof.to_vec().into(),
            public_key(app_signer).into(),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price)
}

async fn upload_params(relay: &RelayClient, t: &Created) {
    for _ in 0..600 {
        match relay
            .upload_params(t.commitment, &t.params, t.secret.params_salt())
            .await
        {
            Ok(()) => return,
            Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("uploading parameters: {e}"),
        }
    }
    panic!("the relay never accepted the parameters");
}

/// What the node paid in gas for the transactions in its record since `since_nonce`.
async fn node_gas_spent(provider: &DynProvider, record: &Record, actions: &[&str]) -> U256 {
    let mut total = U256::ZERO;
    for action in actions {
        for tx in record.txs_for(None, action).unwrap() {
            let r = provider
                .get_transaction_receipt(tx.hash)
                .await
                .unwrap()
                .unwrap();
            total += U256::from(r.gas_used) * U256::from(r.effective_gas_price);
        }
    }
    total
}

async fn task_gas_spent(provider: &DynProvider, record: &Record, task: B256) -> U256 {
    let mut total = U256::ZERO;
    for action in ["submitTaskScore", "reportTaskError", "abortTask"] {
        for tx in record.txs_for(Some(&task), action).unwrap() {
            if tx.state == TxState::Dropped {
                continue;
            }
            let r = provider
                .get_transaction_receipt(tx.hash)
                .await
                .unwrap()
                .unwrap();
            total += U256::from(r.gas_used) * U256::from(r.effective_gas_price);
        }
    }
    total
}

/// A devnet with the contract, a relay address (not started), an RPC proxy address (not
/// started), and one node's files and command line.
struct Net {
    testnet: Testnet,
    app_signer: PrivateKeySigner,
    node_signer: PrivateKeySigner,
    app: ITaskContractInstance<DynProvider>,
    provider: DynProvider,
    vrf: VrfSecretKey,
    as_relay: ITaskContractInstance<DynProvider>,
    relay_data: tempfile::TempDir,
    addr: SocketAddr,
    devnet_addr: SocketAddr,
    proxy_addr: SocketAddr,
    app_relay: RelayClient,
    data_dir: PathBuf,
    cli: WorkerCli,
    _node_dir: tempfile::TempDir,
}

async fn network() -> Net {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let signers = testnet.signers.clone();
    let config = TestConfig::with_dev_accounts(&signers, U256::from(STAKE));
    let contract = testnet.deploy_task_contract(&config).await.unwrap();
    let app_signer = signers[2].clone();
    let node_signer = signers[3].clone();
    let app = testnet.contract_as(&app_signer, contract).await.unwrap();
    let provider = app.provider().clone();
    let vrf = VrfSecretKey::from_bytes(&app_signer.credential().to_bytes()).unwrap();

    // A paused node of the same GPU: tasks created before the worker joins wait in the queue
    // (a task that no joined node could run is refused).
    let placeholder = testnet.contract_as(&signers[4], contract).await.unwrap();
    let receipt = testnet
        .join(&signers[4], contract, &[], U256::from(STAKE))
        .await
        .unwrap();
    assert!(receipt.status());
    assert!(placeholder
        .pause()
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .status());

    let relay_data = tempfile::tempdir().unwrap();
    let as_relay = testnet.contract_as(&signers[8], contract).await.unwrap();
    let addr = free_addr();
    let devnet_addr: SocketAddr = testnet.url.trim_start_matches("http://").parse().unwrap();
    let proxy_addr = free_addr();
    let relay_url = format!("http://{addr}");
    let app_relay = RelayClient::new(&relay_url, app_signer.clone());

    // The node's files: key, data dir, a model cache with the tiny models.
    let node_dir = tempfile::tempdir().unwrap();
    let key_file = node_dir.path().join("node.key");
    std::fs::write(
        &key_file,
        format!("0x{}", hex::encode(node_signer.credential().to_bytes())),
    )
    .unwrap();
    let cache = node_dir.path().join("models");
    TinyLlama::default().install(&cache, MODEL).unwrap();
    TinyStableDiffusion::default()
        .install(&cache, IMAGE_MODEL)
        .unwrap();
    let data_dir = node_dir.path().join("data");
    let cli = WorkerCli {
        args: vec![
            "--rpc-url".into(),
            format!("http://{proxy_addr}"),
            "--chain-id".into(),
            devnet::testnet::CHAIN_ID.to_string(),
            "--contract".into(),
            contract.to_string(),
            "--relay-url".into(),
            relay_url.clone(),
            "--private-key-file".into(),
            key_file.display().to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--model-cache-dir".into(),
            cache.display().to_string(),
            "--gpu-name".into(),
            GPU.into(),
            "--gpu-vram-gb".into(),
            "24".into(),
            "--stake".into(),
            STAKE.to_string(),
            "--poll-interval-ms".into(),
            "100".into(),
        ],
        log_dir: node_dir.path().to_path_buf(),
    };

    Net {
        testnet,
        app_signer,
        node_signer,
        app,
        provider,
        vrf,
        as_relay,
        relay_data,
        addr,
        devnet_addr,
        proxy_addr,
        app_relay,
        data_dir,
        cli,
        _node_dir: node_dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_runs_a_task_survives_a_kill_and_a_relay_outage_and_is_paid() {
    let Net {
        testnet: _testnet,
        app_signer,
        node_signer,
        app,
        provider,
        vrf,
        as_relay,
        relay_data,
        addr,
        devnet_addr,
        proxy_addr,
        app_relay,
        data_dir,
        cli,
        _node_dir,
    } = network().await;
    let mut rpc_proxy = Some(RpcProxy::start(proxy_addr, devnet_addr).await);
    let mut relay = Some(start_relay(addr, relay_data.path(), as_relay.clone()).await);

    // A task waits in the queue; the node joins and takes it.
    let fee = 600u64;
    let params = serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "generation_config": {"max_new_tokens": 12}, "seed": 3})
    .to_string();
    let created = create_unsampled_task(&app, &vrf, fee, &params).await;
    let task = created.commitment;
    let node_before_join = provider.get_balance(node_signer.address()).await.unwrap();
    let out = cli.run_once(&["join"]).await;
    assert!(out.contains("joined"), "{out}");
    let info = app.getTask(task).call().await.unwrap();
    assert_eq!(info.status, TaskStatus::Started.as_u8());
    assert_eq!(info.selectedNode, node_signer.address());
    let status: serde_json::Value =
        serde_json::from_str(&cli.run_once(&["status", "--json"]).await).unwrap();
    assert_eq!(status["status"], "Busy");
    assert_eq!(status["stake"], STAKE.to_string());
    assert_eq!(status["current_task"], task.to_string());

    let mut worker = cli.spawn_run("run-1.log");
    upload_params(&app_relay, &created).await;
    wait_status(&app, task, TaskStatus::ScoreReady, &cli).await;

    // Killed after its score is on chain, and restarted while both the RPC endpoint and the
    // relay are down; the RPC comes back first, then the relay.
    worker.kill().unwrap();
    worker.wait().unwrap();
    relay.take().unwrap().stop().await;
    rpc_proxy.take().unwrap().stop().await;
    validate_single(&app, &vrf, task, &app_signer).await;
    let mut worker = cli.spawn_run("run-2.log");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker waits for the RPC endpoint"
    );
    rpc_proxy = Some(RpcProxy::start(proxy_addr, devnet_addr).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let info = app.getTask(task).call().await.unwrap();
    assert_eq!(
        info.status,
        TaskStatus::Validated.as_u8(),
        "nothing can be uploaded while the relay is down"
    );
    // The RPC endpoint goes away again while the worker runs.
    rpc_proxy.take().unwrap().stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        worker.try_wait().unwrap().is_none(),
        "an RPC outage is survived"
    );
    rpc_proxy = Some(RpcProxy::start(proxy_addr, devnet_addr).await);
    relay = Some(start_relay(addr, relay_data.path(), as_relay.clone()).await);
    wait_status(&app, task, TaskStatus::EndSuccess, &cli).await;

    // The result on the relay hashes to the score on chain.
    let info = app.getTask(task).call().await.unwrap();
    let files = app_relay.download_result(task).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(text_score(&files[0]).to_vec(), info.score.to_vec());

    // Executed once, one score transaction, though the worker ran twice.
    let record = Record::open(&data_dir.join("worker.sqlite")).unwrap();
    let task_record = record.task(&task).unwrap().unwrap();
    assert_eq!(task_record.executions, 1);
    let submits = record.txs_for(Some(&task), "submitTaskScore").unwrap();
    assert_eq!(submits.len(), 1);
    assert_eq!(submits[0].state, TxState::Mined);
    let log2 = cli.log("run-2.log");
    assert!(!log2.contains("executing"), "{log2}");
    assert!(log2.contains("uploaded"), "{log2}");

    // Paid to the wei: the node's balance moved by -stake, +fee, -gas.
    let gas = node_gas_spent(&provider, &record, &["join"]).await
        + task_gas_spent(&provider, &record, task).await;
    let node_now = provider.get_balance(node_signer.address()).await.unwrap();
    assert_eq!(
        node_now,
        node_before_join - U256::from(STAKE) + U256::from(fee) - gas
    );

    // A task whose prompt does not fit the model's context: reported, validated, aborted and
    // refunded. The node is paused while the task is created, so it waits in the queue.
    let out = cli.run_once(&["pause"]).await;
    assert!(out.contains("paused"), "{out}");
    let too_long = serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "user", "content": "Hello"}],
        "generation_config": {"max_new_tokens": 600}, "seed": 1})
    .to_string();
    let bad_task = create_unsampled_task(&app, &vrf, 500, &too_long).await;
    let bad = bad_task.commitment;
    cli.run_once(&["resume"]).await;
    wait_status(&app, bad, TaskStatus::Started, &cli).await;
    upload_params(&app_relay, &bad_task).await;
    wait_status(&app, bad, TaskStatus::ErrorReported, &cli).await;
    let info = app.getTask(bad).call().await.unwrap();
    assert_eq!(info.taskError, 1);
    let app_before = provider.get_balance(app_signer.address()).await.unwrap();
    let gas = validate_single(&app, &vrf, bad, &app_signer).await;
    let info = app.getTask(bad).call().await.unwrap();
    assert_eq!(info.status, TaskStatus::EndAborted.as_u8());
    assert_eq!(
        provider.get_balance(app_signer.address()).await.unwrap(),
        app_before + U256::from(500u64) - gas,
        "the fee is refunded"
    );

    // Quit returns the stake.
    worker.kill().unwrap();
    worker.wait().unwrap();
    let before_quit = provider.get_balance(node_signer.address()).await.unwrap();
    cli.run_once(&["quit"]).await;
    let quit_gas = node_gas_spent(&provider, &record, &["quit"]).await;
    assert_eq!(
        provider.get_balance(node_signer.address()).await.unwrap(),
        before_quit + U256::from(STAKE) - quit_gas
    );
    relay.take().unwrap().stop().await;
    rpc_proxy.take().unwrap().stop().await;
    eprintln!(
        "--- first run ---\n{}\n--- second run ---\n{}",
        cli.log("run-1.log"),
        cli.log("run-2.log")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_runs_an_image_task_with_stable_diffusion() {
    let net = network().await;
    let _rpc = RpcProxy::start(net.proxy_addr, net.devnet_addr).await;
    let relay = start_relay(net.addr, net.relay_data.path(), net.as_relay.clone()).await;
    let fee = 700u64;
    let params = serde_json::json!({
        "version": "1.0", "base_model": {"name": IMAGE_MODEL},
        "prompt": "a lighthouse at dusk",
        "task_config": {"steps": 2, "cfg": 0, "seed": 4, "image_width": 64,
                        "image_height": 64, "num_images": 2}})
    .to_string();
    let image_model = format!("base:{IMAGE_MODEL}");
    let created = create_unsampled(&net.app, &net.vrf, fee, 0, &image_model, &params).await;
    let task = created.commitment;
    let out = net.cli.run_once(&["join"]).await;
    assert!(out.contains("joined"), "{out}");
    let node = net
        .app
        .getNodeInfo(net.node_signer.address())
        .call()
        .await
        .unwrap();
    assert_eq!(
        node.localModelIDHashes.len(),
        2,
        "both tiny models are reported"
    );
    let mut worker = net.cli.spawn_run("run-1.log");
    upload_params(&net.app_relay, &created).await;
    wait_status(&net.app, task, TaskStatus::ScoreReady, &net.cli).await;
    validate_single(&net.app, &net.vrf, task, &net.app_signer).await;
    wait_status(&net.app, task, TaskStatus::EndSuccess, &net.cli).await;
    let info = net.app.getTask(task).call().await.unwrap();
    let files = net.app_relay.download_result(task).await.unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(
        protocol::image_score::score_pngs(&files).unwrap(),
        info.score.to_vec()
    );
    let record = Record::open(&net.data_dir.join("worker.sqlite")).unwrap();
    assert_eq!(record.task(&task).unwrap().unwrap().executions, 1);

    // A task the application never validates: once its validation deadline has passed, the
    // worker ends it itself (reason Timeout, its QoS untouched) and is free again; the fee goes
    // back to the application.
    let stuck_task = create_task(&net.app, fee, 0, &image_model, &params).await;
    let stuck = stuck_task.commitment;
    wait_status(&net.app, stuck, TaskStatus::Started, &net.cli).await;
    upload_params(&net.app_relay, &stuck_task).await;
    wait_status(&net.app, stuck, TaskStatus::ScoreReady, &net.cli).await;
    let scores_before = net
        .app
        .getNodeInfo(net.node_signer.address())
        .call()
        .await
        .unwrap()
        .recentTaskScores;
    let provider = net.app.provider();
    let wait = net
        .app
        .getTask(stuck)
        .call()
        .await
        .unwrap()
        .terms
        .validationTimeout
        + 1;
    provider
        .raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (wait,))
        .await
        .unwrap();
    provider
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .unwrap();
    wait_status(&net.app, stuck, TaskStatus::EndAborted, &net.cli).await;
    let info = net.app.getTask(stuck).call().await.unwrap();
    assert_eq!(
        info.abortReason,
        protocol::task_status::AbortReason::Timeout.as_u8()
    );
    // The chain shows the abort as soon as it is mined; the worker records the receipt a moment
    // later.
    let start = std::time::Instant::now();
    let aborts = loop {
        let aborts = record.txs_for(Some(&stuck), "abortTask").unwrap();
        if aborts.iter().all(|t| t.state == TxState::Mined) || start.elapsed().as_secs() > 30 {
            break aborts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(aborts.len(), 1, "the worker sent the abort");
    assert_eq!(aborts[0].state, TxState::Mined);
    let node = net
        .app
        .getNodeInfo(net.node_signer.address())
        .call()
        .await
        .unwrap();
    assert_eq!(node.currentTask, B256::ZERO);
    assert_eq!(node.recentTaskScores, scores_before);
    worker.kill().unwrap();
    worker.wait().unwrap();
    relay.stop().await;
}
