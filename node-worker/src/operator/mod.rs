//! What the node operator watches: notices sent on trouble, Prometheus metrics and health, the
//! live log tail, and the local web dashboard that shows them with the node's history.

pub mod dashboard;
pub mod log_tail;
pub mod metrics;
pub mod notices;
