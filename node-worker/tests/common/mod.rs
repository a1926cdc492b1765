//! What the worker's devnet tests share: a devnet with the contract and a paused placeholder
//! node, the relay in process, an RPC proxy that can be cut, the worker's command line, and the
//! application's side of a task.

// Each test file uses a different part of it.
#![allow(dead_code)]

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
use protocol::vrf::VrfSecretKey;
use tokio::sync::oneshot;

pub const MODEL: &str = "tiny/llama-test";
pub const IMAGE_MODEL: &str = "tiny/stable-diffusion";
pub const GPU: &str = "NVIDIA GeForce RTX 4090";
pub const STAKE: u64 = 1000;

pub struct RelayHandle {
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn start_relay(
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
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.done.await.unwrap().unwrap();
    }
}

/// A TCP proxy in front of the devnet's RPC endpoint that can be cut (an RPC outage): stopping
/// it closes the listener and every open connection.
pub struct RpcProxy {
    tasks: tokio::task::JoinSet<()>,
}

impl RpcProxy {
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> RpcProxy {
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

    pub async fn stop(mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

pub fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// The worker's command line for one node.
pub struct WorkerCli {
    pub args: Vec<String>,
    pub log_dir: PathBuf,
}

impl WorkerCli {
    pub fn command(&self, sub: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_node-worker"));
        cmd.args(sub).args(&self.args);
        cmd
    }

    pub async fn run_once(&self, sub: &[&str]) -> String {
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

    pub fn spawn_run(&self, name: &str) -> Child {
        let log = std::fs::File::create(self.log_dir.join(name)).unwrap();
        self.command(&["run"])
            .env("RUST_LOG", "info,node_worker=debug")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_dir.join(name)).unwrap_or_default()
    }
}

pub async fn wait_status(
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
pub struct Created {
    pub commitment: B256,
    pub secret: TaskSecret,
    pub params: String,
}

/// Creates queued text tasks with `params` until one is not sampled for group validation
/// (aborting the others), so that the test can validate it on its own.
pub async fn create_unsampled_task(
    app: &ITaskContractInstance<DynProvider>,
    vrf: &VrfSecretKey,
    fee: u64,
    params: &str,
) -> Created {
    create_unsampled(app, vrf, fee, 1, &format!("base:{MODEL}"), params).await
}

/// Creates a task as the application, committed to `params`.
pub async fn create_task(
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

pub async fn create_unsampled(
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

pub async fn validate_single(
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

pub async fn upload_params(relay: &RelayClient, t: &Created) {
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
pub async fn node_gas_spent(provider: &DynProvider, record: &Record, actions: &[&str]) -> U256 {
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

pub async fn task_gas_spent(provider: &DynProvider, record: &Record, task: B256) -> U256 {
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
pub struct Net {
    pub testnet: Testnet,
    pub app_signer: PrivateKeySigner,
    pub node_signer: PrivateKeySigner,
    pub app: ITaskContractInstance<DynProvider>,
    pub provider: DynProvider,
    pub vrf: VrfSecretKey,
    pub as_relay: ITaskContractInstance<DynProvider>,
    pub relay_data: tempfile::TempDir,
    pub addr: SocketAddr,
    pub devnet_addr: SocketAddr,
    pub proxy_addr: SocketAddr,
    pub app_relay: RelayClient,
    pub data_dir: PathBuf,
    pub cli: WorkerCli,
    pub _node_dir: tempfile::TempDir,
}

pub async fn network() -> Net {
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
