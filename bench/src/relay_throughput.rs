//! The relay's throughput and memory on one backend: the real `relay` binary against the devnet,
//! 16 concurrent clients uploading distinct 1 MiB result files to a validated task, then
//! downloading a settled task's 1 MiB result, and the relay's resident memory while one 500 MiB
//! file streams in.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context, Result};
use client::relay_client::RelayClient;
use devnet::testnet::{public_key, TestConfig, Testnet};
use protocol::bindings::ITaskContractInstance;
use protocol::relay_signature::{file_fields, sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use protocol::sampling::{sample, TaskSecret};
use protocol::task_status::TaskStatus;
use protocol::text_params::{ChatMessage, Role};
use protocol::text_result::{Choice, TextResult, Usage};
use protocol::vrf::VrfSecretKey;
use sha2::{Digest, Sha256};

pub const CLIENTS: usize = 16;
pub const FILE_BYTES: usize = 1 << 20;
const MODEL: &str = "base:bench/model";
const CHUNK: usize = 1 << 20;

/// Where the relay under test keeps its state.
#[derive(Debug, Clone)]
pub struct Backend {
    pub name: &'static str,
    /// `--database-url` and `--blob-store`, none for SQLite + files.
    pub database_url: Option<String>,
    pub blob_store: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RelayFigures {
    pub backend: &'static str,
    pub requests: usize,
    pub uploads_per_s: f64,
    pub downloads_per_s: f64,
    pub big_upload_mib: u64,
    pub big_upload_s: f64,
    pub rss_before_mib: f64,
    pub rss_peak_mib: f64,
}

struct RelayProcess(Child);

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn now() -> u64 {
    relay::api::system_clock()
}

fn sha(bytes: &[u8]) -> B256 {
    B256::from_slice(&Sha256::digest(bytes))
}

/// The `i`-th MiB of a pseudo-random file (xorshift64): the same bytes each time it is asked for,
/// cheap enough that generating it twice (hash, then send) costs little next to the upload.
fn big_chunk(i: u64) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(CHUNK);
    while out.len() < CHUNK {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

fn text_result(bytes: usize) -> TextResult {
    TextResult {
        model: "bench/model".into(),
        choices: vec![Choice {
            index: 0,
            message: ChatMessage {
                role: Role::Assistant,
                content: "x".repeat(bytes),
            },
            finish_reason: "stop".into(),
        }],
        usage: Usage {
            prompt_tokens: 1,
            completion_tokens: 1,
            total_tokens: 2,
        },
    }
}

struct Setup {
    testnet: Testnet,
    creator: PrivateKeySigner,
    node: PrivateKeySigner,
    as_creator: ITaskContractInstance<DynProvider>,
    as_node: ITaskContractInstance<DynProvider>,
    app_relay: RelayClient,
}

async fn wait_status(
    contract: &ITaskContractInstance<DynProvider>,
    c: B256,
    status: TaskStatus,
) -> Result<()> {
    for _ in 0..600 {
        if contract.getTask(c).call().await?.status == status.as_u8() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("task {c} never reached {status}")
}

impl Setup {
    /// A task of the creator's, run by the node up to Validated with `score`.
    async fn validated_task(&self, score: &[u8]) -> Result<B256> {
        let secret = TaskSecret::random();
        let c = secret.commitment();
        let params = serde_json::json!({"version": "1.0", "model": "bench/model",
            "messages": [{"role": "user", "content": "hi"}],
            "generation_config": {"max_new_tokens": 8}, "seed": 1})
        .to_string();
        let created = self
            .as_creator
            .createTask(
                1,
                c,
                secret.nonce,
                vec![MODEL.into()],
                0,
                "GPU".into(),
                24,
                [1, 0, 0],
                1,
                secret.params_commitment(params.as_bytes()),
            )
            .value(U256::from(500u64))
            .send()
            .await?
            .get_receipt()
            .await?;
        if !created.status() {
            bail!("createTask reverted");
        }
        self.app_relay
            .upload_params(c, &params, secret.params_salt())
            .await?;
        wait_status(&self.as_creator, c, TaskStatus::ParametersUploaded).await?;
        self.as_node
            .submitTaskScore(c, score.to_vec().into())
            .send()
            .await?
            .get_receipt()
            .await?;
        let info = self.as_creator.getTask(c).call().await?;
        let key = VrfSecretKey::from_bytes(&self.creator.credential().to_bytes())?;
        let sampling = sample(&key, &info.samplingSeed, info.terms.samplingRate);
        if sampling.sampled {
            bail!("task sampled at rate 1/{}", info.terms.samplingRate);
        }
        self.as_creator
            .validateSingleTask(
                c,
                sampling.proof.to_vec().into(),
                public_key(&self.creator).into(),
            )
            .send()
            .await?
            .get_receipt()
            .await?;
        wait_status(&self.as_creator, c, TaskStatus::Validated).await?;
        Ok(c)
    }
}

/// PUTs a file (whole, or streamed from `stream`) signed by `node`.
async fn put_file(
    http: &reqwest::Client,
    url: &str,
    node: &PrivateKeySigner,
    c: B256,
    sha256: B256,
    size: u64,
    body: reqwest::Body,
) -> Result<()> {
    let t = now();
    let signature = sign(node, &file_fields(c, sha256, Some(size)), t)?;
    let response = http
        .put(format!("{url}/v1/result/{c}/files/{sha256}"))
        .header(TIMESTAMP_HEADER, t.to_string())
        .header(SIGNATURE_HEADER, signature)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(body)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("upload refused: {}", response.text().await?);
    }
    Ok(())
}

pub async fn measure(
    relay_exe: &Path,
    backend: &Backend,
    requests: usize,
    big_mib: u64,
) -> Result<RelayFigures> {
    if !relay_exe.is_file() {
        bail!("{} is missing: build the relay first", relay_exe.display());
    }
    let testnet = Testnet::spawn(&[]).await?;
    let signers = testnet.signers.clone();
    let mut config = TestConfig::with_dev_accounts(&signers, U256::from(1000u64));
    // Single validations only: a sampled task would need a group of three.
    config.sampling_rate = 1_000_000;
    let contract = testnet.deploy_task_contract(&config).await?;

    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("relay.key");
    std::fs::write(
        &key_file,
        format!("0x{}", hex::encode(signers[8].credential().to_bytes())),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(relay_exe);
    command
        .args([
            "--contract",
            &contract.to_string(),
            "--rpc-url",
            &testnet.url,
        ])
        .arg("--private-key-file")
        .arg(&key_file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env("RUST_LOG", "warn");
    if let Some(db) = &backend.database_url {
        command.args(["--database-url", db]);
    }
    if let Some(blobs) = &backend.blob_store {
        command.args(["--blob-store", blobs]);
    }
    let relay = RelayProcess(command.spawn().context("starting the relay")?);
    let pid = relay.0.id();
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..300 {
        if http.get(format!("{url}/v1/now")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready {
        bail!("the relay did not start ({})", backend.name);
    }

    let (creator, node) = (signers[2].clone(), signers[3].clone());
    let setup = Setup {
        as_creator: testnet.contract_as(&creator, contract).await?,
        as_node: testnet.contract_as(&node, contract).await?,
        app_relay: RelayClient::new(&url, creator.clone()),
        creator,
        node: node.clone(),
        testnet,
    };
    let joined = setup
        .as_node
        .join(
            "GPU".into(),
            24,
            [1, 0, 0],
            public_key(&node).into(),
            vec![MODEL.into()],
        )
        .value(U256::from(1000u64))
        .send()
        .await?
        .get_receipt()
        .await?;
    if !joined.status() {
        bail!("join reverted");
    }
    let _ = &setup.testnet;

    // Uploads: distinct 1 MiB files to one validated task, 16 clients at once.
    let result = text_result(FILE_BYTES - 200);
    let result_bytes = result.canonical_bytes();
    let c = setup.validated_task(&result.score()).await?;
    let files: Vec<Vec<u8>> = (0..requests)
        .map(|i| {
            let mut f = vec![0u8; FILE_BYTES];
            f[..8].copy_from_slice(&(i as u64).to_le_bytes());
            f
        })
        .collect();
    let files = Arc::new(files);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, node, files, next) = (
            http.clone(),
            url.clone(),
            setup.node.clone(),
            files.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                if i >= files.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                let f = files[i].clone();
                put_file(&http, &url, &node, c, sha(&f), f.len() as u64, f.into()).await?;
            }
        }));
    }
    for w in workers {
        w.await??;
    }
    let uploads_per_s = requests as f64 / start.elapsed().as_secs_f64();

    // The task's real result, committed and settled, then downloaded by 16 clients at once.
    RelayClient::new(&url, setup.node.clone())
        .upload_result(c, std::slice::from_ref(&result_bytes))
        .await?;
    wait_status(&setup.as_creator, c, TaskStatus::EndSuccess).await?;
    let file_sha = sha(&result_bytes);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, creator, next) = (
            http.clone(),
            url.clone(),
            setup.creator.clone(),
            next.clone(),
        );
        let expected = result_bytes.len();
        workers.push(tokio::spawn(async move {
            while (next.fetch_add(1, Ordering::SeqCst) as usize) < requests {
                let t = now();
                let signature = sign(&creator, &file_fields(c, file_sha, None), t)?;
                let response = http
                    .get(format!("{url}/v1/result/{c}/files/{file_sha}"))
                    .header(TIMESTAMP_HEADER, t.to_string())
                    .header(SIGNATURE_HEADER, signature)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("download refused: {}", response.text().await?);
                }
                let got = response.bytes().await?.len();
                if got != expected {
                    bail!("downloaded {got} bytes of {expected}");
                }
            }
            Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let downloads_per_s = requests as f64 / start.elapsed().as_secs_f64();

    // One big file streamed in while the relay's resident memory is sampled.
    let big = setup.validated_task(&result.score()).await?;
    let mut hasher = Sha256::new();
    for i in 0..big_mib {
        hasher.update(big_chunk(i));
    }
    let big_sha = B256::from_slice(&hasher.finalize());
    let rss_before = rss_kib(pid).unwrap_or(0);
    let peak = Arc::new(AtomicU64::new(rss_before));
    let sampling = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let body = reqwest::Body::wrap_stream(futures::stream::iter(
        (0..big_mib).map(|i| Ok::<_, std::io::Error>(big_chunk(i))),
    ));
    let start = Instant::now();
    put_file(
        &http,
        &url,
        &setup.node,
        big,
        big_sha,
        big_mib * CHUNK as u64,
        body,
    )
    .await?;
    let big_upload_s = start.elapsed().as_secs_f64();
    sampling.abort();
    if let Some(kib) = rss_kib(pid) {
        peak.fetch_max(kib, Ordering::SeqCst);
    }
    drop(relay);
    Ok(RelayFigures {
        backend: backend.name,
        requests,
        uploads_per_s,
        downloads_per_s,
        big_upload_mib: big_mib,
        big_upload_s,
        rss_before_mib: rss_before as f64 / 1024.0,
        rss_peak_mib: peak.load(Ordering::SeqCst) as f64 / 1024.0,
    })
}
