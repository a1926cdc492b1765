//! The worker's Prometheus metrics (`GET /metrics` on the dashboard address) and its health:
//!
//! | metric | kind | labels | meaning |
//! |---|---|---|---|
//! | `worker_tasks_total` | counter | `outcome` | tasks that ended (final state, or `FailedLocally`) |
//! | `worker_task_execution_seconds` | histogram | | time from parameters to score |
//! | `worker_rpc_errors_total` | counter | | rounds that failed on the RPC endpoint |
//! | `worker_relay_errors_total` | counter | | rounds that failed on the relay |
//! | `worker_notices_total` | counter | `kind`, `delivered` | notices sent (slashed, kicked_out, task_failed, low_balance) |
//! | `worker_stake_wei` | gauge | | the node's stake on chain |
//! | `worker_balance_wei` | gauge | | the account's balance |
//! | `worker_qos_score` | gauge | | the node's QoS score on chain |
//! | `worker_last_round_timestamp_seconds` | gauge | | when the task loop last completed a round |

use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus::{
    Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct WorkerMetrics {
    registry: Registry,
    pub tasks: IntCounterVec,
    pub execution_seconds: Histogram,
    pub rpc_errors: IntCounter,
    pub relay_errors: IntCounter,
    pub notices: IntCounterVec,
    pub stake_wei: Gauge,
    pub balance_wei: Gauge,
    pub qos_score: Gauge,
    pub last_round: Gauge,
    health: Mutex<Health>,
}

/// The task loop's last success and failure.
#[derive(Debug, Clone)]
struct Health {
    last_success: Option<Instant>,
    last_error: Option<String>,
    started: Instant,
}

/// What `/health` answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthReport {
    pub healthy: bool,
    /// Seconds since the task loop last completed a round (None: not yet).
    pub last_round_seconds_ago: Option<f64>,
    pub last_error: Option<String>,
}

impl WorkerMetrics {
    pub fn new() -> WorkerMetrics {
        let registry = Registry::new();
        fn register<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, m: T) -> T {
            r.register(Box::new(m.clone())).expect("unique metric");
            m
        }
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(
                &registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let counter = |name: &str, help: &str| {
            register(
                &registry,
                IntCounter::new(name, help).expect("valid metric"),
            )
        };
        let gauge = |name: &str, help: &str| {
            register(&registry, Gauge::new(name, help).expect("valid metric"))
        };
        WorkerMetrics {
            tasks: counter_vec(
                "worker_tasks_total",
                "Tasks that ended, by outcome",
                &["outcome"],
            ),
            execution_seconds: register(
                &registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "worker_task_execution_seconds",
                        "Time from the parameters to the score",
                    )
                    .buckets(vec![
                        0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
                    ]),
                )
                .expect("valid metric"),
            ),
            rpc_errors: counter(
                "worker_rpc_errors_total",
                "Task-loop rounds that failed on the RPC endpoint",
            ),
            relay_errors: counter(
                "worker_relay_errors_total",
                "Task-loop rounds that failed on the relay",
            ),
            notices: counter_vec(
                "worker_notices_total",
                "Notices sent, by kind and whether every hook took them",
                &["kind", "delivered"],
            ),
            stake_wei: gauge("worker_stake_wei", "The node's stake on chain"),
            balance_wei: gauge("worker_balance_wei", "The account's balance"),
            qos_score: gauge("worker_qos_score", "The node's QoS score on chain"),
            last_round: gauge(
                "worker_last_round_timestamp_seconds",
                "When the task loop last completed a round (Unix time)",
            ),
            registry,
            health: Mutex::new(Health {
                last_success: None,
                last_error: None,
                started: Instant::now(),
            }),
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }

    pub fn round_succeeded(&self) {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        h.last_success = Some(Instant::now());
        h.last_error = None;
        self.last_round
            .set(crate::history::now_ms() as f64 / 1000.0);
    }

    pub fn round_failed(&self, error: String) {
        let mut h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        h.last_error = Some(error);
    }

    /// Healthy while rounds complete: the last one within `grace` (and, before the first, while
    /// the worker is younger than `grace`).
    pub fn health(&self, grace: Duration) -> HealthReport {
        let h = self.health.lock().unwrap_or_else(|p| p.into_inner());
        let since = h.last_success.map(|t| t.elapsed());
        let healthy = match since {
            Some(age) => age <= grace,
            None => h.started.elapsed() <= grace && h.last_error.is_none(),
        };
        HealthReport {
            healthy,
            last_round_seconds_ago: since.map(|d| d.as_secs_f64()),
            last_error: h.last_error.clone(),
        }
    }
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_documented_names_and_tracks_health() {
        let m = WorkerMetrics::new();
        m.tasks.with_label_values(&["EndSuccess"]).inc();
        m.execution_seconds.observe(1.5);
        let text = m.render();
        assert!(
            text.contains("worker_tasks_total{outcome=\"EndSuccess\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("worker_task_execution_seconds_count 1"),
            "{text}"
        );
        assert!(m.health(Duration::from_secs(60)).healthy);
        m.round_failed("RPC: connection refused".into());
        let h = m.health(Duration::from_secs(60));
        assert!(!h.healthy);
        assert_eq!(h.last_error.as_deref(), Some("RPC: connection refused"));
        m.round_succeeded();
        assert!(m.health(Duration::from_secs(60)).healthy);
        assert!(!m.health(Duration::ZERO).healthy);
    }
}
