//! The `relay` binary's start-up checks, on the devnet: a key that is not the contract's relay, an
//! address without a contract and the wrong chain are each refused with one line on stderr; an
//! unreachable RPC endpoint is waited out with a visible warning, and the relay becomes ready once
//! the endpoint answers.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use devnet::testnet::{TestConfig, Testnet, CHAIN_ID};

struct Setup {
    testnet: Testnet,
    contract: Address,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let config = TestConfig::with_dev_accounts(&testnet.signers, U256::from(1000u64));
    let contract = testnet.deploy_task_contract(&config).await.unwrap();
    Setup {
        testnet,
        contract,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    fn key_file(&self, signer: &PrivateKeySigner) -> std::path::PathBuf {
        let path = self.dir.path().join(format!("{}.key", signer.address()));
        std::fs::write(
            &path,
            format!("0x{}", hex::encode(signer.credential().to_bytes())),
        )
        .unwrap();
        path
    }

    fn relay(
        &self,
        rpc_url: &str,
        contract: Address,
        key: &PrivateKeySigner,
        extra: &[&str],
    ) -> Child {
        Command::new(env!("CARGO_BIN_EXE_relay"))
            .args(["--rpc-url", rpc_url, "--contract", &contract.to_string()])
            .arg("--private-key-file")
            .arg(self.key_file(key))
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RUST_LOG")
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Waits for the process to end (at most 60 s); its exit code and stderr.
fn finished(mut child: Child) -> (Option<i32>, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr);
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the relay kept running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn misconfigurations_are_refused_with_one_line() {
    let s = setup().await;
    let (relay, other) = (s.testnet.signers[8].clone(), s.testnet.signers[5].clone());

    let child = s.relay(&s.testnet.url, s.contract, &other, &[]);
    assert_eq!(
        finished(child),
        (
            Some(1),
            format!(
                "error: the contract's relay is {}, but the relay key holds {}: use the key of {}, \
                 or have the owner call setConfig with {}\n",
                relay.address(),
                other.address(),
                relay.address(),
                other.address()
            )
        )
    );

    let nowhere = Address::repeat_byte(0x42);
    let child = s.relay(&s.testnet.url, nowhere, &relay, &[]);
    assert_eq!(
        finished(child),
        (
            Some(1),
            format!(
                "error: there is no contract at {nowhere} on chain {CHAIN_ID} ({})\n",
                s.testnet.url
            )
        )
    );

    let child = s.relay(&s.testnet.url, s.contract, &relay, &["--chain-id", "1"]);
    assert_eq!(
        finished(child),
        (
            Some(1),
            format!(
                "error: {} is chain {CHAIN_ID}, not the expected chain 1\n",
                s.testnet.url
            )
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_is_waited_out_with_a_warning() {
    let s = setup().await;
    let relay = s.testnet.signers[8].clone();
    // A port with nothing behind it yet; later a proxy to the devnet opens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = s.relay(&url, s.contract, &relay, &[]);
    let mut stderr = child.stderr.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let warned = tokio::task::spawn_blocking(move || {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while stderr.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        String::from_utf8(line).unwrap()
    })
    .await
    .unwrap();
    let expected = format!("warning: the RPC endpoint {url} does not answer (");
    assert!(warned.starts_with(&expected), "{warned}");
    assert!(
        warned.ends_with("retrying every 2 s (attempt 1)"),
        "{warned}"
    );
    assert!(child.try_wait().unwrap().is_none(), "the relay gave up");

    // The endpoint comes back: the relay becomes ready.
    let devnet: std::net::SocketAddr = s.testnet.url["http://".len()..].parse().unwrap();
    let proxy = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        loop {
            let (mut inbound, _) = proxy.accept().await.unwrap();
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(devnet).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    let ready = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let n = stdout.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("relay ready") {
                return String::from_utf8_lossy(&seen).into_owned();
            }
        }
        panic!("no ready line in {:?}", String::from_utf8_lossy(&seen));
    })
    .await
    .unwrap();
    // Plain text when the output is not a terminal.
    assert!(ready.contains(&format!("chain_id={CHAIN_ID}")), "{ready}");
    assert!(
        !ready.contains('\x1b'),
        "ANSI colours in piped output: {ready:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
