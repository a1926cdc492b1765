//! The local dashboard: a page that shows the node's state, its history and the live log
//! (`GET /`, refreshed every two seconds from `GET /api/state`), with Prometheus metrics at
//! `GET /metrics` and `GET /health`. Served only when `dashboard_listen` is set, meant for
//! 127.0.0.1: it has no authentication and shows nothing secret.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::chain::node::Node;
use crate::operator::log_tail::LogTail;
use crate::operator::metrics::WorkerMetrics;

/// Tasks and events the page lists.
const LISTED: usize = 50;

#[derive(Clone)]
pub struct Dashboard {
    pub node: Arc<Node>,
    pub metrics: Arc<WorkerMetrics>,
    pub tail: Arc<LogTail>,
    /// How long the task loop may go without a completed round before /health fails.
    pub grace: Duration,
}

pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/state", get(state))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(dashboard)
}

/// Binds `listen` and serves until the process ends; the bound address.
pub async fn serve(listen: SocketAddr, dashboard: Dashboard) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(dashboard)).await {
            tracing::error!("the dashboard stopped: {e}");
        }
    });
    Ok(bound)
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn metrics(State(d): State<Dashboard>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        d.metrics.render(),
    )
        .into_response()
}

async fn health(State(d): State<Dashboard>) -> Response {
    let report = d.metrics.health(d.grace);
    let code = if report.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(report)).into_response()
}

/// Everything the page shows; the chain part is `null` with an error while the chain is
/// unreachable (the history and the log are local).
async fn state(State(d): State<Dashboard>) -> Response {
    let (node, chain_error) =
        match tokio::time::timeout(Duration::from_secs(5), d.node.status()).await {
            Ok(Ok(report)) => (Some(report.to_json()), None),
            Ok(Err(e)) => (None, Some(protocol::error_report::one_line(e.as_ref()))),
            Err(_) => (
                None,
                Some("the RPC endpoint did not answer in 5 s".to_string()),
            ),
        };
    let record = &d.node.record;
    let local = (|| -> Result<_, crate::record::RecordError> {
        Ok((
            record.history(LISTED)?,
            record.node_events(LISTED)?,
            record.history_summary()?,
        ))
    })();
    let (history, events, summary) = match local {
        Ok(parts) => parts,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": e.to_string() })),
            )
                .into_response()
        }
    };
    Json(json!({
        "node": node,
        "chain_error": chain_error,
        "health": d.metrics.health(d.grace),
        "summary": summary,
        "history": history,
        "events": events,
        "log": d.tail.lines(),
    }))
    .into_response()
}

/// The page: static HTML whose script renders `/api/state`.
const PAGE: &str = include_str!("dashboard.html");
