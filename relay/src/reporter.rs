//! Sends the relay's two on-chain reports for every committed upload, from the store's outbox.
//! A report's transaction hash is persisted before its receipt is awaited; after a restart or an
//! RPC outage the reporter looks at that receipt and at the task's state before sending again, so
//! a report is sent once, and none is lost.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use alloy::providers::{DynProvider, Provider};
use protocol::bindings::ITaskContractInstance;
use protocol::task_status::TaskStatus;

use crate::chain_view::read_task;
use crate::store::{PendingReport, ReportKind, Store};

pub struct Reporter {
    pub store: Arc<Store>,
    /// The contract, through a provider that signs with the relay's key.
    pub contract: ITaskContractInstance<DynProvider>,
    pub poll_interval: Duration,
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
                tracing::warn!(error = %e, "report pass failed; retrying");
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// One pass over the outbox.
    pub async fn pass(&self) -> Result<Vec<(PendingReport, ReportOutcome)>, String> {
        let pending = self.store.pending_reports().map_err(|e| e.to_string())?;
        let mut outcomes = Vec::new();
        for report in pending {
            let outcome = self.settle(&report).await?;
            if outcome != ReportOutcome::Waiting {
                self.store
                    .report_confirmed(report.kind, &report.commitment)
                    .map_err(|e| e.to_string())?;
            }
            tracing::info!(task = %report.commitment, kind = ?report.kind, ?outcome, "report");
            outcomes.push((report, outcome));
        }
        Ok(outcomes)
    }

    async fn settle(&self, report: &PendingReport) -> Result<ReportOutcome, String> {
        let provider = self.contract.provider();
        if let Some(tx) = report.sent_tx {
            match provider
                .get_transaction_receipt(tx)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(receipt) if receipt.status() => return Ok(ReportOutcome::Confirmed),
                // Mined but reverted: the task's state decides below.
                Some(_) => {}
                // Not mined yet: keep waiting rather than send a second one.
                None => return Ok(ReportOutcome::Waiting),
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
            return Ok(ReportOutcome::NotApplicable);
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
        self.store
            .report_sent(report.kind, &report.commitment, &tx)
            .map_err(|e| e.to_string())?;
        let receipt = pending.get_receipt().await.map_err(|e| e.to_string())?;
        Ok(if receipt.status() {
            ReportOutcome::Confirmed
        } else {
            ReportOutcome::NotApplicable
        })
    }
}
