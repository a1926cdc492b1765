//! Sends the relay's two on-chain reports for every committed upload, from the store's outbox.
//! A report's transaction hash is persisted before its receipt is awaited; after a restart or an
//! RPC outage the reporter looks at that receipt and at the task's state before sending again, so
//! a report is sent once, and none is lost.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::ITaskContractInstance;
use protocol::task_status::TaskStatus;

use crate::chain_view::read_task;
use crate::metrics::Metrics;
use crate::store::{PendingReport, ReportKind, Store};

/// The lease's name in the store.
pub const REPORTER_LEASE: &str = "reporter";

pub struct Reporter {
    pub store: Arc<Store>,
    /// The contract, through a provider that signs with the relay's key.
    pub contract: ITaskContractInstance<DynProvider>,
    pub poll_interval: Duration,
    /// This replica's name in the lease (unique among the replicas).
    pub replica: String,
    /// How long a lease lasts without renewal: how long the replicas wait for a dead holder.
    pub lease: Duration,
    pub metrics: Arc<Metrics>,
}

/// A name for this process among replicas: host, process id and a random part.
pub fn replica_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "relay".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        hex::encode(&B256::random()[..4])
    )
}

fn kind_label(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Parameters => "parameters",
        ReportKind::Result => "result",
    }
}

fn outcome_label(outcome: &ReportOutcome) -> &'static str {
    match outcome {
        ReportOutcome::Confirmed => "confirmed",
        ReportOutcome::NotApplicable => "not_applicable",
        ReportOutcome::Waiting => "waiting",
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What became of one pending report in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Confirmed,
    /// The task already left the state the report applies to (reported before, or aborted).
    NotApplicable,
    /// Sent and waiting for its receipt.
    Waiting,
}

impl Reporter {
    /// Runs until the task is cancelled, logging and retrying every failure.
    pub async fn run(self) {
        loop {
            if let Err(e) = self.pass().await {
                self.metrics.reporter_errors.inc();
                tracing::warn!(error = %e, "report pass failed; retrying");
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// Takes or renews the reporter's lease for this replica.
    pub async fn lead(&self) -> Result<bool, String> {
        let now = now_ms();
        let leading = self
            .store
            .try_lease(
                REPORTER_LEASE,
                &self.replica,
                now,
                now + self.lease.as_millis() as u64,
            )
            .await
            .map_err(|e| e.to_string())?;
        self.metrics.reporter_leader.set(i64::from(leading));
        Ok(leading)
    }

    /// One pass over the outbox; `None` when another replica holds the lease.
    pub async fn pass(&self) -> Result<Option<Vec<(PendingReport, ReportOutcome)>>, String> {
        if !self.lead().await? {
            tracing::debug!(replica = %self.replica, "another replica reports");
            return Ok(None);
        }
        let pending = self
            .store
            .pending_reports()
            .await
            .map_err(|e| e.to_string())?;
        self.metrics.reports_pending.set(pending.len() as i64);
        let mut outcomes = Vec::new();
        for report in pending {
            let Some(outcome) = self.settle(&report).await? else {
                break;
            };
            if outcome != ReportOutcome::Waiting {
                self.store
                    .report_confirmed(report.kind, &report.commitment)
                    .await
                    .map_err(|e| e.to_string())?;
                self.metrics.reports_pending.dec();
                self.metrics
                    .reports_settled
                    .with_label_values(&[kind_label(report.kind), outcome_label(&outcome)])
                    .inc();
            }
            tracing::info!(task = %report.commitment, kind = ?report.kind, ?outcome, "report");
            outcomes.push((report, outcome));
        }
        Ok(Some(outcomes))
    }

    /// `None` when the lease was lost before a send: the next holder settles the report.
    async fn settle(&self, report: &PendingReport) -> Result<Option<ReportOutcome>, String> {
        let provider = self.contract.provider();
        if let Some(tx) = report.sent_tx {
            match provider
                .get_transaction_receipt(tx)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(receipt) if receipt.status() => return Ok(Some(ReportOutcome::Confirmed)),
                // Mined but reverted: the task's state decides below.
                Some(_) => {}
                // Not mined yet: keep waiting rather than send a second one.
                None => return Ok(Some(ReportOutcome::Waiting)),
            }
        }
        let task = read_task(&self.contract, report.commitment)
            .await
            .map_err(|e| e.to_string())?;
        let applies = matches!(
            (report.kind, task.map(|t| t.status)),
            (ReportKind::Parameters, Some(TaskStatus::Started))
                | (
                    ReportKind::Result,
                    Some(TaskStatus::Validated | TaskStatus::GroupValidated)
                )
        );
        if !applies {
            return Ok(Some(ReportOutcome::NotApplicable));
        }
        if !self.lead().await? {
            return Ok(None);
        }
        let sent = match report.kind {
            ReportKind::Parameters => {
                self.contract
                    .reportTaskParametersUploaded(report.commitment)
                    .send()
                    .await
            }
            ReportKind::Result => {
                self.contract
                    .reportTaskResultUploaded(report.commitment)
                    .send()
                    .await
            }
        };
        let pending = sent.map_err(|e| e.to_string())?;
        let tx: B256 = *pending.tx_hash();
        self.metrics
            .reports_sent
            .with_label_values(&[kind_label(report.kind)])
            .inc();
        self.store
            .report_sent(report.kind, &report.commitment, &tx)
            .await
            .map_err(|e| e.to_string())?;
        let receipt = pending.get_receipt().await.map_err(|e| e.to_string())?;
        Ok(Some(if receipt.status() {
            ReportOutcome::Confirmed
        } else {
            ReportOutcome::NotApplicable
        }))
    }
}
