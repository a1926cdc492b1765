//! What the node operator sees, on the worker binary with the devnet and the relay: the local
//! dashboard read in real headless Chromium (state, task history with timings and fees, events,
//! live log), Prometheus /metrics and /health, `status` with the history, and notices (a low
//! balance, a task that failed) delivered to a local webhook receiver and to a command.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use common::*;
use fantoccini::{ClientBuilder, Locator};
use protocol::task_status::TaskStatus;
use serde_json::Value;

/// A local webhook receiver: every JSON body POSTed to it, in order.
async fn start_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// Waits until `check` holds, or panics with `what` after `seconds`.
async fn eventually<T>(seconds: u64, what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// chromedriver from Debian's chromium-driver package, on a free port.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    async fn start() -> ChromeDriver {
        let port = free_addr().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is missing: install Debian's chromium and chromium-driver \
                 (scripts/test.sh does)",
            );
        let url = format!("http://127.0.0.1:{port}");
        let addr = format!("127.0.0.1:{port}");
        eventually(20, "chromedriver to listen", async || {
            tokio::net::TcpStream::connect(&addr).await.ok()
        })
        .await;
        ChromeDriver { child, url }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_sees_history_metrics_notices_and_the_dashboard_in_chromium() {
    let mut net = network().await;
    let _rpc = RpcProxy::start(net.proxy_addr, net.devnet_addr).await;
    let relay = start_relay(net.addr, net.relay_data.path(), net.as_relay.clone()).await;
    let (webhook, received) = start_receiver().await;
    let dashboard = free_addr();
    let notices_file = net.cli.log_dir.join("notices.jsonl");
    net.cli.args.extend([
        "--dashboard-listen".to_string(),
        dashboard.to_string(),
        "--notice-webhook".into(),
        webhook,
        "--notice-command".into(),
        format!(
            "printf '%s\\n' \"$NOTICE_JSON\" >> '{}'",
            notices_file.display()
        ),
        // Far above the development account's 10,000 ETH: the notice fires at start.
        "--low-balance".into(),
        "100000eth".into(),
    ]);
    let base = format!("http://{dashboard}");

    // A task runs to the end and is paid.
    let fee = 600u64;
    let params = serde_json::json!({
        "version": "1.0", "model": MODEL,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "generation_config": {"max_new_tokens": 8}, "seed": 5})
    .to_string();
    let done = create_unsampled_task(&net.app, &net.vrf, fee, &params).await;
    net.cli.run_once(&["join"]).await;
    // The worker reads its balance in its first round, before it sends anything.
    let balance_at_start =
        alloy::providers::Provider::get_balance(&net.provider, net.node_signer.address())
            .await
            .unwrap();
    let mut worker = net.cli.spawn_run("run-1.log");
    upload_params(&net.app_relay, &done).await;
    wait_status(&net.app, done.commitment, TaskStatus::ScoreReady, &net.cli).await;
    validate_single(&net.app, &net.vrf, done.commitment, &net.app_signer).await;
    wait_status(&net.app, done.commitment, TaskStatus::EndSuccess, &net.cli).await;

    // The history has the task's states, its fee and its execution time.
    // The worker learns the payment from the logs and the final state from its poll of the
    // task: two reads that may land in either order, so both are awaited.
    let state: Value = eventually(30, "the fee and the outcome in the history", async || {
        let (code, body) = get(&format!("{base}/api/state")).await;
        assert_eq!(code, 200, "{body}");
        let state: Value = serde_json::from_str(&body).unwrap();
        let entry = &state["history"][0];
        let paid = entry["fee_wei"].as_str() == Some(fee.to_string().as_str());
        (paid && !entry["outcome"].is_null()).then_some(state)
    })
    .await;
    let entry = &state["history"][0];
    assert_eq!(entry["task"], done.commitment.to_string());
    assert_eq!(entry["outcome"], "EndSuccess");
    let states: Vec<&str> = entry["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    // The worker polls every 100 ms: it may miss a brief state, never the first or the last.
    assert!(
        matches!(
            states.first().copied(),
            Some("Started" | "ParametersUploaded")
        ),
        "{states:?}"
    );
    assert_eq!(states.last().copied(), Some("EndSuccess"), "{states:?}");
    assert!(entry["execution_ms"].as_i64().unwrap() > 0);
    assert_eq!(state["summary"]["fees_earned_wei"], fee.to_string());

    // Metrics and health.
    let (code, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(code, 200);
    for line in [
        "worker_tasks_total{outcome=\"EndSuccess\"} 1",
        "worker_task_execution_seconds_count 1",
        &format!("worker_stake_wei {STAKE}"),
        "worker_notices_total{delivered=\"yes\",kind=\"low_balance\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }
    let (code, health) = get(&format!("{base}/health")).await;
    assert_eq!(code, 200, "{health}");
    assert_eq!(
        serde_json::from_str::<Value>(&health).unwrap()["healthy"],
        true
    );

    // A task the node cannot run (its model files are gone): a task_failed notice.
    std::fs::remove_dir_all(
        net.cli
            .log_dir
            .join("models")
            .join("models--tiny--llama-test"),
    )
    .unwrap();
    // The node is available: the task starts at once (sampled or not, it is never validated).
    let failing = create_task(&net.app, fee, 1, &format!("base:{MODEL}"), &params).await;
    upload_params(&net.app_relay, &failing).await;
    let notices = eventually(60, "the task_failed notice", async || {
        let notices = received.lock().unwrap().clone();
        notices
            .iter()
            .any(|n| n["kind"] == "task_failed")
            .then_some(notices)
    })
    .await;
    let kinds: Vec<&str> = notices
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["low_balance", "task_failed"]);
    let node = net.node_signer.address().to_string();
    assert_eq!(notices[0]["node"], node.to_lowercase());
    assert_eq!(
        notices[0]["message"],
        format!(
            "the balance of {node} is {}, below 100000 ETH: fund it so the node can pay for its \
             transactions",
            protocol::amount::format_ether(balance_at_start)
        )
    );
    assert_eq!(notices[1]["task"], failing.commitment.to_string());
    assert!(
        notices[1]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("task {} failed locally: ", failing.commitment)),
        "{}",
        notices[1]
    );
    // The command got the same notices, one JSON line each.
    let lines = eventually(10, "the command's notices", async || {
        let text = std::fs::read_to_string(&notices_file).unwrap_or_default();
        (text.lines().count() == 2).then_some(text)
    })
    .await;
    let from_command: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(from_command, notices);

    // What a user sees in Chromium: the node, both tasks, the fee, the events and the log.
    let driver = ChromeDriver::start().await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--window-size=1400,1000"],
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session");
    browser.goto(&format!("{base}/")).await.unwrap();
    let rows = eventually(30, "two tasks on the page", async || {
        let rows = browser
            .find_all(Locator::Css("#history tbody tr"))
            .await
            .ok()?;
        let mut texts = Vec::new();
        for row in rows {
            texts.push(row.text().await.ok()?);
        }
        (texts.len() == 2 && texts[0].contains("FailedLocally")).then_some(texts)
    })
    .await;
    let short = |t: &B256| format!("{}…", &t.to_string()[..10]);
    assert!(rows[0].starts_with(&short(&failing.commitment)), "{rows:?}");
    assert!(rows[0].contains("text"), "{rows:?}");
    assert!(rows[1].starts_with(&short(&done.commitment)), "{rows:?}");
    assert!(rows[1].contains("EndSuccess"), "{rows:?}");
    assert!(rows[1].contains("0.0000000000000006 ETH"), "{rows:?}");
    let text = async |css: &str| {
        browser
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(text("#address").await, node);
    assert_eq!(text("#node-status").await, "Busy");
    assert_eq!(text("#stake").await, "0.000000000000001 ETH");
    assert_eq!(text("#fees").await, "0.0000000000000006 ETH");
    assert_eq!(text("#tasks").await, "2 (EndSuccess 1, FailedLocally 1)");
    assert_eq!(text("#health").await, "ok");
    let events = text("#events").await;
    assert!(
        events.contains("notice low_balance: the balance of"),
        "{events}"
    );
    assert!(events.contains("notice task_failed: task"), "{events}");
    assert!(events.contains("payment received 600 wei"), "{events}");
    let log = text("#log").await;
    assert!(
        log.contains(&format!("task {}: EndSuccess", done.commitment)),
        "{log}"
    );
    assert!(
        log.contains(&format!("dashboard on http://{dashboard}/")),
        "{log}"
    );
    // A picture of the page for the README (target/dashboard.png).
    let png = browser.screenshot().await.unwrap();
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let _ = std::fs::write(target.join("dashboard.png"), png);
    browser.close().await.unwrap();

    // `status` shows the same history.
    let status = net.cli.run_once(&["status"]).await;
    let lines: Vec<&str> = status.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("history "))
        .expect("a history line");
    assert_eq!(
        lines[at],
        "history     2 tasks (EndSuccess 1, FailedLocally 1); fees earned 0.0000000000000006 \
         ETH; 0 slashes, 0 kick-outs"
    );
    assert!(
        lines[at + 1].starts_with(&format!("  {} ", failing.commitment))
            && lines[at + 1].contains("> FailedLocally ("),
        "{status}"
    );
    assert!(
        lines[at + 2].starts_with(&format!("  {} ", done.commitment))
            && lines[at + 2].contains("> EndSuccess (")
            && lines[at + 2].ends_with(" s), earned 0.0000000000000006 ETH"),
        "{status}"
    );
    worker.kill().unwrap();
    worker.wait().unwrap();
    relay.stop().await;
}
