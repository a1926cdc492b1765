//! Notices: the operator's hook for trouble. A slash, a kick-out, a task that failed and a low
//! balance are each POSTed as JSON to the configured webhook and/or passed to the configured
//! command (`sh -c`, with NOTICE_KIND, NOTICE_MESSAGE and NOTICE_JSON set), recorded in the
//! node's history and counted in the metrics. Delivery runs in the background and never holds up
//! the task loop; a failed delivery is logged and counted.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use serde::Serialize;

use crate::config::NoticeSettings;
use crate::operator::metrics::WorkerMetrics;
use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Slashed,
    KickedOut,
    TaskFailed,
    LowBalance,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Slashed => "slashed",
            NoticeKind::KickedOut => "kicked_out",
            NoticeKind::TaskFailed => "task_failed",
            NoticeKind::LowBalance => "low_balance",
        }
    }
}

/// One notice, as the webhook receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub node: Address,
    pub task: Option<B256>,
    pub message: String,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
}

pub struct Notifier {
    settings: NoticeSettings,
    node: Address,
    record: Arc<Record>,
    metrics: Arc<WorkerMetrics>,
    http: reqwest::Client,
}

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

impl Notifier {
    pub fn new(
        settings: NoticeSettings,
        node: Address,
        record: Arc<Record>,
        metrics: Arc<WorkerMetrics>,
    ) -> Notifier {
        Notifier {
            settings,
            node,
            record,
            metrics,
            http: reqwest::Client::new(),
        }
    }

    pub fn settings(&self) -> &NoticeSettings {
        &self.settings
    }

    /// Records the notice and delivers it in the background.
    pub fn send(&self, kind: NoticeKind, task: Option<B256>, message: String) {
        let notice = Notice {
            kind,
            node: self.node,
            task,
            message,
            at_ms: crate::history::now_ms(),
        };
        if let Err(e) = self.record.add_node_event(
            "notice",
            task.as_ref(),
            &format!("{}: {}", kind.as_str(), notice.message),
        ) {
            tracing::warn!("recording a notice: {e}");
        }
        let (webhook, command) = (self.settings.webhook.clone(), self.settings.command.clone());
        let (http, metrics) = (self.http.clone(), self.metrics.clone());
        tokio::spawn(async move {
            let mut delivered = true;
            if let Some(url) = webhook {
                if let Err(e) = post(&http, &url, &notice).await {
                    tracing::warn!("notice webhook {url}: {e}");
                    delivered = false;
                }
            }
            if let Some(command) = command {
                if let Err(e) = run_command(&command, &notice).await {
                    tracing::warn!("notice command: {e}");
                    delivered = false;
                }
            }
            metrics
                .notices
                .with_label_values(&[notice.kind.as_str(), if delivered { "yes" } else { "no" }])
                .inc();
        });
    }
}

async fn post(http: &reqwest::Client, url: &str, notice: &Notice) -> Result<(), String> {
    let response = http
        .post(url)
        .timeout(DELIVERY_TIMEOUT)
        .json(notice)
        .send()
        .await
        .map_err(|e| protocol::error_report::one_line(&e))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    Ok(())
}

async fn run_command(command: &str, notice: &Notice) -> Result<(), String> {
    let json = serde_json::to_string(notice).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("NOTICE_KIND", notice.kind.as_str())
        .env("NOTICE_MESSAGE", &notice.message)
        .env("NOTICE_JSON", json)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting `sh -c {command}`: {e}"))?;
    match tokio::time::timeout(DELIVERY_TIMEOUT * 3, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("`{command}` exited with {status}")),
        Ok(Err(e)) => Err(format!("`{command}`: {e}")),
        Err(_) => Err(format!("`{command}` took longer than 30 s; killed")),
    }
}
