//! The whole relay on one listener: the on-chain reporter in the background and the HTTP API.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use alloy::providers::DynProvider;
use protocol::bindings::ITaskContractInstance;

use crate::api::{router, system_clock, RelayState};
use crate::reporter::Reporter;
use crate::store::Store;

/// Serves the relay on `listener` until `shutdown` completes. `contract` must sign with the
/// relay's account: the reporter sends the relay's reports with it.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    contract: ITaskContractInstance<DynProvider>,
    report_interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let reporter = tokio::spawn(
        Reporter {
            store: store.clone(),
            contract: contract.clone(),
            poll_interval: report_interval,
        }
        .run(),
    );
    let state = RelayState {
        store,
        contract,
        clock: Arc::new(system_clock),
    };
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    reporter.abort();
    served
}
