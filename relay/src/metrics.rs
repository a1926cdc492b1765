//! The relay's Prometheus metrics, served at `GET /metrics`:
//!
//! | metric | kind | labels | meaning |
//! |---|---|---|---|
//! | `relay_requests_total` | counter | `endpoint`, `status` | HTTP requests answered |
//! | `relay_request_duration_seconds` | histogram | `endpoint` | time to answer |
//! | `relay_chain_errors_total` | counter | | failed reads of a task on chain |
//! | `relay_storage_errors_total` | counter | | failed store operations in requests |
//! | `relay_reports_pending` | gauge | | uploads whose on-chain report is not confirmed (the backlog) |
//! | `relay_reports_sent_total` | counter | `kind` | report transactions sent by this replica |
//! | `relay_reports_settled_total` | counter | `kind`, `outcome` | reports confirmed or dropped as no longer applicable |
//! | `relay_reporter_errors_total` | counter | | reporter passes that failed (RPC, store) |
//! | `relay_reporter_leader` | gauge | | 1 while this replica holds the reporter's lease |

use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub chain_errors: IntCounter,
    pub storage_errors: IntCounter,
    pub reports_pending: IntGauge,
    pub reports_sent: IntCounterVec,
    pub reports_settled: IntCounterVec,
    pub reporter_errors: IntCounter,
    pub reporter_leader: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let request_seconds = HistogramVec::new(
            HistogramOpts::new("relay_request_duration_seconds", "Time to answer a request")
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0,
                ]),
            &["endpoint"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(request_seconds.clone()))
            .expect("unique metric");
        Metrics {
            requests: counter_vec(
                "relay_requests_total",
                "HTTP requests answered",
                &["endpoint", "status"],
            ),
            request_seconds,
            chain_errors: counter(
                "relay_chain_errors_total",
                "Failed reads of a task on chain",
            ),
            storage_errors: counter(
                "relay_storage_errors_total",
                "Failed store operations in requests",
            ),
            reports_pending: gauge(
                "relay_reports_pending",
                "Uploads whose on-chain report is not confirmed",
            ),
            reports_sent: counter_vec(
                "relay_reports_sent_total",
                "Report transactions sent by this replica",
                &["kind"],
            ),
            reports_settled: counter_vec(
                "relay_reports_settled_total",
                "Reports confirmed, or dropped as no longer applicable",
                &["kind", "outcome"],
            ),
            reporter_errors: counter("relay_reporter_errors_total", "Reporter passes that failed"),
            reporter_leader: gauge(
                "relay_reporter_leader",
                "1 while this replica holds the reporter's lease",
            ),
            registry,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# encoding failed: {e}\n"))
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
