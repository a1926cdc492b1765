//! Hostile and broken requests against a running relay (over real sockets, on the devnet's
//! contract): every refusal is the documented `{"error": {"code", "message"}}` body with the
//! right status, and stalled clients are disconnected without keeping others out.

use std::time::Duration;

use alloy::primitives::{B256, U256};
use devnet::testnet::{TestConfig, Testnet};
use relay::http_server::ServerLimits;
use relay::service::{serve, RelayOptions};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod backend;

struct Relay {
    addr: std::net::SocketAddr,
    _testnet: Testnet,
    _data: tempfile::TempDir,
}

async fn start(limits: ServerLimits) -> Relay {
    let testnet = Testnet::spawn(&[]).await.unwrap();
    let signers = testnet.signers.clone();
    let contract = testnet
        .deploy_task_contract(&TestConfig::with_dev_accounts(
            &signers,
            U256::from(1000u64),
        ))
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(backend::open_store(data.path()).await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let as_relay = testnet.contract_as(&signers[8], contract).await.unwrap();
    let options = RelayOptions {
        limits,
        ..RelayOptions::with_report_interval(Duration::from_secs(3600))
    };
    tokio::spawn(serve(
        listener,
        store,
        as_relay,
        options,
        std::future::pending(),
    ));
    Relay {
        addr,
        _testnet: testnet,
        _data: data,
    }
}

/// Sends raw bytes, reads the answer until the server closes; returns the status and the body.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the relay answers and closes")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let body = serde_json::from_str(body)
        .unwrap_or_else(|_| panic!("HTTP {status}: body is not JSON: {body:?}"));
    (status, body)
}

fn request(method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn assert_refusal(answer: &(u16, Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
    assert!(
        answer.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        answer.1
    );
    assert_eq!(answer.1.as_object().unwrap().len(), 1, "{}", answer.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_uses_the_documented_error_body() {
    let relay = start(ServerLimits::default()).await;
    let json = Some("application/json");
    let post = |path: &str, ct: Option<&str>, body: &[u8]| request("POST", path, ct, body);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            post("/v1/params/upload", json, b"{not json"),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, b"{\"a\": \"\xff\xfe\"}"),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, "[".repeat(10_000).as_bytes()),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, b""),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, b"[1, 2]"),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, b"{\"signature\": \"0x\"}"),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, b"{\"timestamp\": 1}"),
            400,
            "malformed_request",
        ),
        (
            post("/v1/params/upload", json, &vec![b' '; 600 * 1024]),
            413,
            "body_too_large",
        ),
        (
            post("/v1/params/upload", Some("text/plain"), b"{}"),
            415,
            "unsupported_media_type",
        ),
        (
            post("/v1/params/upload", None, b"{}"),
            415,
            "unsupported_media_type",
        ),
        (
            request("GET", "/v1/params/upload", None, b""),
            405,
            "method_not_allowed",
        ),
        (
            request("DELETE", "/v1/now", None, b""),
            405,
            "method_not_allowed",
        ),
        (
            request("GET", "/v1/../../etc/passwd", None, b""),
            404,
            "not_found",
        ),
        (
            request("GET", "/v1/%2e%2e/%2e%2e/etc/passwd", None, b""),
            404,
            "not_found",
        ),
        (request("GET", "/", None, b""), 404, "not_found"),
        (
            request("GET", "/v1/tasks/0x12/status", None, b""),
            400,
            "malformed_request",
        ),
        (
            request("GET", "/v1/tasks/%ff%fe/status", None, b""),
            400,
            "malformed_request",
        ),
        (
            request(
                "GET",
                &format!("/v1/tasks/{}/status", B256::repeat_byte(7)),
                None,
                b"",
            ),
            404,
            "task_not_found",
        ),
    ];
    for (i, (bytes, status, code)) in cases.iter().enumerate() {
        let answer = raw(relay.addr, bytes).await;
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned();
        assert!(
            answer.0 == *status && answer.1["error"]["code"] == *code,
            "case {i} ({shown:?}): expected {status} {code}, got {} {}",
            answer.0,
            answer.1
        );
        assert_refusal(&answer, *status, code);
    }
}

/// 1,000 clients that connect and stall (half never finish their headers, half declare a body
/// they never send) are all disconnected after the read timeouts, and a normal request is served
/// meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn stalled_connections_are_closed_and_others_still_served() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(2),
        max_connections: 1024,
    };
    let relay = start(limits).await;
    let mut stalled = Vec::new();
    for i in 0..1000 {
        let mut s = TcpStream::connect(relay.addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /v1/params/upload HTTP/1.1\r\nHost: relay\r\n")
                .await
                .unwrap();
        } else {
            s.write_all(
                b"POST /v1/params/upload HTTP/1.1\r\nHost: relay\r\n\
                  Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"",
            )
            .await
            .unwrap();
        }
        stalled.push(s);
    }
    let now = raw(relay.addr, &request("GET", "/v1/now", None, b"")).await;
    assert_eq!(now.0, 200, "{}", now.1);
    assert!(now.1["now"].as_u64().is_some());
    // Each stalled connection is closed by the relay (EOF or reset), not left open.
    let closed = futures::future::join_all(stalled.into_iter().map(|mut s| async move {
        let mut sink = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut sink))
            .await
            .is_ok()
    }))
    .await;
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(
        open, 0,
        "{open} of 1000 stalled connections were still open"
    );
    let again = raw(relay.addr, &request("GET", "/v1/now", None, b"")).await;
    assert_eq!(again.0, 200);
}

/// With every connection slot held by a stalled client, a new client waits in the backlog and
/// is served once the timeout frees a slot.
#[tokio::test(flavor = "multi_thread")]
async fn the_connection_limit_queues_new_clients_until_a_slot_frees() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        max_connections: 8,
    };
    let relay = start(limits).await;
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(relay.addr).await.unwrap();
        s.write_all(b"GET /v1/now HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    let answer = raw(relay.addr, &request("GET", "/v1/now", None, b"")).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    for mut s in stalled {
        let mut sink = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut sink)).await;
        assert!(read.is_ok(), "a stalled connection was left open");
    }
}

/// The whole HTTP answer to `GET /metrics`, status line included.
async fn metrics_answer(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&request("GET", "/metrics", None, b""))
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8(answer).unwrap()
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_metrics_say_what_happened() {
    let relay = start(ServerLimits::default()).await;
    let health = raw(relay.addr, &request("GET", "/health", None, b"")).await;
    assert_eq!(health.0, 200, "{}", health.1);
    assert_eq!(health.1["status"], "ok");
    assert_eq!(health.1["reports_pending"], 0);
    for _ in 0..3 {
        let refused = raw(
            relay.addr,
            &request("POST", "/v1/params/upload", Some("application/json"), b"{"),
        )
        .await;
        assert_eq!(refused.0, 400);
    }
    raw(relay.addr, &request("GET", "/nowhere/at/all", None, b"")).await;
    let text = metrics_answer(relay.addr).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert_eq!(
        metric(
            &text,
            "relay_requests_total{endpoint=\"/v1/params/upload\",status=\"400\"}"
        ),
        3.0
    );
    // Unknown paths are counted together, never by their raw path.
    assert_eq!(
        metric(
            &text,
            "relay_requests_total{endpoint=\"unmatched\",status=\"404\"}"
        ),
        1.0
    );
    assert!(!text.contains("/nowhere"), "{text}");
    assert_eq!(
        metric(
            &text,
            "relay_requests_total{endpoint=\"/health\",status=\"200\"}"
        ),
        1.0
    );
    assert_eq!(metric(&text, "relay_reports_pending"), 0.0);
    assert_eq!(metric(&text, "relay_chain_errors_total"), 0.0);
}

/// A relay whose RPC endpoint is gone is unhealthy, says why, and counts the chain errors.
#[tokio::test(flavor = "multi_thread")]
async fn health_reports_a_dead_chain() {
    use alloy::providers::{Provider, ProviderBuilder};
    let data = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(backend::open_store(data.path()).await);
    let dead = ProviderBuilder::new()
        .connect_http("http://127.0.0.1:9".parse().unwrap())
        .erased();
    let contract = protocol::bindings::ITaskContract::new(alloy::primitives::Address::ZERO, dead);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = RelayOptions::with_report_interval(Duration::from_secs(3600));
    tokio::spawn(serve(
        listener,
        store,
        contract,
        options,
        std::future::pending(),
    ));
    let health = raw(addr, &request("GET", "/health", None, b"")).await;
    assert_eq!(health.0, 503, "{}", health.1);
    assert_eq!(health.1["status"], "unavailable");
    assert_eq!(health.1["store"], "ok");
    assert!(health.1["chain"].as_str().is_some_and(|e| !e.is_empty()));
    let status = raw(
        addr,
        &request(
            "GET",
            &format!("/v1/tasks/{}/status", B256::repeat_byte(1)),
            None,
            b"",
        ),
    )
    .await;
    assert_refusal(&status, 503, "chain_unavailable");
    let text = metrics_answer(addr).await;
    assert_eq!(metric(&text, "relay_chain_errors_total"), 1.0);
}
