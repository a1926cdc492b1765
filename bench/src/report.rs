//! The benchmark's one table (stdout) and its JSON.

use serde_json::json;

use crate::devnet_tps::Throughput;
use crate::gas::CallGas;
use crate::phash_rate::PhashRate;
use crate::relay_throughput::{RelayFigures, CLIENTS, FILE_BYTES};
use crate::sizes::{ProgramSize, LIMIT};
use crate::worker_overhead::{WorkerOverhead, POLL_MS};

pub struct Report {
    pub gas: Vec<CallGas>,
    /// The same scenario with the three programs cached.
    pub cached: Vec<CallGas>,
    /// L1 poster gas by kind of transaction, at the devnet's default L1 price.
    pub l1: std::collections::BTreeMap<&'static str, Vec<u64>>,
    pub sizes: Vec<ProgramSize>,
    pub worker: Option<WorkerOverhead>,
    pub phash: PhashRate,
    pub tps: Vec<Throughput>,
    pub relay: Vec<RelayFigures>,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn gas_cell(g: &CallGas) -> String {
    if g.min() == g.max() {
        thousands(g.min())
    } else if g.call.starts_with("createTask") {
        format!("{} (median)", thousands(g.median()))
    } else {
        format!("{}-{}", thousands(g.min()), thousands(g.max()))
    }
}

impl Report {
    /// A Markdown table, as the README shows it.
    pub fn table(&self) -> String {
        let mut t = String::from(
            "| measure | this system | programs cached | original Solidity contracts |\n|---|---|---|---|\n",
        );
        for g in &self.gas {
            let cached = self
                .cached
                .iter()
                .find(|c| c.call == g.call)
                .map_or_else(|| "-".to_string(), gas_cell);
            t += &format!(
                "| gas: {} ({} samples) | {} | {} | {} |\n",
                g.call,
                g.samples.len(),
                gas_cell(g),
                cached,
                g.solidity
            );
        }
        for (kind, samples) in &self.l1 {
            let g = CallGas {
                call: kind.to_string(),
                samples: samples.clone(),
                solidity: "-",
            };
            t += &format!(
                "| L1 poster gas of one {kind} transaction at {} gwei per unit ({} transactions) | {} | - | - |\n",
                devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT as f64 / 1e9,
                samples.len(),
                gas_cell(&g)
            );
        }
        for s in &self.sizes {
            t += &format!(
                "| size: {} WASM raw / deployed (prefix + brotli) | {} B / {} B of {} ({:.1}%) | - | - |\n",
                s.program,
                thousands(s.raw as u64),
                thousands(s.deployed as u64),
                thousands(LIMIT as u64),
                100.0 * s.deployed as f64 / LIMIT as f64
            );
        }
        match &self.worker {
            Some(w) => {
                t += &format!(
                    "| worker overhead per task outside inference ({} tasks) | mean {:.1} ms, median {:.1} ms, max {:.1} ms, plus half the poll interval ({POLL_MS} ms here) | - | - |\n",
                    w.tasks, w.mean_ms, w.median_ms, w.max_ms
                )
            }
            None => t += "| worker overhead per task | not measured (--node-worker not given) | - | - |\n",
        }
        t += &format!(
            "| pHash of a {}x{} RGB PNG, decode included ({} images) | {:.1} ms = {:.0} images/s | - | - |\n",
            self.phash.side,
            self.phash.side,
            self.phash.images,
            self.phash.ms_per_image,
            1000.0 / self.phash.ms_per_image
        );
        for x in &self.tps {
            t += &format!(
                "| devnet: {} sent one after another ({}) | {:.0} transactions/s | - | - |\n",
                x.kind, x.transactions, x.per_second
            );
        }
        if self.relay.is_empty() {
            t += "| relay throughput and memory | not measured (--relay not given) | - | - |\n";
        }
        for r in &self.relay {
            let mib = FILE_BYTES >> 20;
            t += &format!(
                "| relay on {}: {mib} MiB result file uploads, {CLIENTS} clients ({} files) | {:.0} uploads/s | - | - |\n",
                r.backend, r.requests, r.uploads_per_s
            );
            t += &format!(
                "| relay on {}: {mib} MiB result file downloads, {CLIENTS} clients ({} files) | {:.0} downloads/s | - | - |\n",
                r.backend, r.requests, r.downloads_per_s
            );
            t += &format!(
                "| relay on {}: resident memory during one {} MiB upload ({:.1} s) | peak {:.0} MiB (idle {:.0} MiB) | - | - |\n",
                r.backend, r.big_upload_mib, r.big_upload_s, r.rss_peak_mib, r.rss_before_mib
            );
        }
        t
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "gas": self.gas.iter().map(|g| json!({
                "call": g.call, "samples": g.samples, "min": g.min(), "median": g.median(),
                "max": g.max(), "solidity": g.solidity,
                "cached_samples": self.cached.iter().find(|c| c.call == g.call).map(|c| &c.samples),
            })).collect::<Vec<_>>(),
            "l1_gas": self.l1,
            "l1_price_per_unit_wei": devnet::l1_pricing::DEFAULT_PRICE_PER_UNIT.to_string(),
            "program_sizes": self.sizes.iter().map(|s| json!({
                "program": s.program, "raw_bytes": s.raw, "deployed_bytes": s.deployed,
                "limit_bytes": LIMIT,
            })).collect::<Vec<_>>(),
            "worker_overhead_ms": self.worker.as_ref().map(|w| json!({
                "tasks": w.tasks, "mean": w.mean_ms, "median": w.median_ms, "max": w.max_ms,
                "poll_interval_ms": POLL_MS,
            })),
            "phash": json!({
                "side": self.phash.side, "images": self.phash.images,
                "ms_per_image": self.phash.ms_per_image,
            }),
            "relay": self.relay.iter().map(|r| json!({
                "backend": r.backend, "clients": CLIENTS, "file_bytes": FILE_BYTES,
                "requests": r.requests, "uploads_per_s": r.uploads_per_s,
                "downloads_per_s": r.downloads_per_s, "big_upload_mib": r.big_upload_mib,
                "big_upload_s": r.big_upload_s, "rss_idle_mib": r.rss_before_mib,
                "rss_peak_mib": r.rss_peak_mib,
            })).collect::<Vec<_>>(),
            "devnet_tps": self.tps.iter().map(|x| json!({
                "kind": x.kind, "transactions": x.transactions, "per_second": x.per_second,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(283_711), "283,711");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
