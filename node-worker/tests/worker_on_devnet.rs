//! The worker binary on the devnet with the real contract and the real relay: it joins, takes a
//! task, runs a tiny Llama, submits the score, is killed and restarted while the relay is down,
//! uploads the result without executing again once the relay is back, and is paid to the wei. A
//! second task with parameters the model cannot run is reported with reportTaskError. The
//! operator commands (join, pause, resume, status, quit) are the binary's.

mod common;

use std::time::Duration;

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use common::*;
use node_worker::record::{Record, TxState};
use protocol::task_status::TaskStatus;
use protocol::text_result::text_score;

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
