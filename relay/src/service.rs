//! The whole relay on one listener: the on-chain reporter in the background and the HTTP API.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alloy::providers::DynProvider;
use protocol::bindings::ITaskContractInstance;

use crate::api::{router, system_clock, RelayState};
use crate::http_server::{serve_router, ServerLimits};
use crate::metrics::Metrics;
use crate::reporter::Reporter;
use crate::store::Store;

/// How one relay replica runs.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Pause between two passes of the reporter over the outbox.
    pub report_interval: Duration,
    pub limits: ServerLimits,
    /// Largest result file accepted.
    pub max_result_file_bytes: u64,
    /// This replica's name in the reporter's lease.
    pub replica: String,
    /// How long the other replicas wait before taking over the reports of one that stopped.
    pub reporter_lease: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            report_interval: Duration::from_secs(1),
            limits: ServerLimits::default(),
            max_result_file_bytes: crate::api::DEFAULT_MAX_RESULT_FILE_BYTES,
            replica: crate::reporter::replica_name(),
            reporter_lease: Duration::from_secs(10),
        }
    }
}

impl RelayOptions {
    pub fn with_report_interval(report_interval: Duration) -> Self {
        RelayOptions {
            report_interval,
            ..RelayOptions::default()
        }
    }
}

/// Serves the relay on `listener` until `shutdown` completes. `contract` must sign with the
/// relay's account: the reporter sends the relay's reports with it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    contract: ITaskContractInstance<DynProvider>,
    options: RelayOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let metrics = Arc::new(Metrics::new());
    let reporter = tokio::spawn(
        Reporter {
            metrics: metrics.clone(),
            store: store.clone(),
            contract: contract.clone(),
            poll_interval: options.report_interval,
            replica: options.replica.clone(),
            lease: options.reporter_lease,
        }
        .run(),
    );
    let state = RelayState {
        store,
        contract,
        clock: Arc::new(system_clock),
        max_result_file_bytes: options.max_result_file_bytes,
        metrics,
    };
    let served = serve_router(listener, router(state), options.limits, shutdown).await;
    reporter.abort();
    served
}
