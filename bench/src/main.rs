//! `bench`: the benchmark report of `scripts/bench.sh`, from one run. Prints one Markdown table
//! and writes the same figures as JSON.

mod devnet_tps;
mod gas;
mod phash_rate;
mod relay_throughput;
mod report;
mod sizes;
mod worker_overhead;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

#[derive(Parser)]
#[command(
    about = "Benchmark report: gas per protocol call, program sizes, worker overhead, pHash and devnet throughput"
)]
struct Args {
    /// Available nodes at which createTask's gas is measured.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    nodes: Vec<usize>,
    /// The node-worker binary for the worker overhead (skipped without it).
    #[arg(long)]
    node_worker: Option<PathBuf>,
    /// Tasks for the worker overhead.
    #[arg(long, default_value_t = 10)]
    tasks: usize,
    /// Transactions per devnet throughput run.
    #[arg(long, default_value_t = 1000)]
    transactions: usize,
    /// The relay binary for the relay's throughput and memory (skipped without it). Measured on
    /// SQLite + files, and also on PostgreSQL + S3 when RELAY_BENCH_DATABASE_URL and
    /// RELAY_BENCH_BLOB_STORE name servers (scripts/bench.sh starts them).
    #[arg(long)]
    relay: Option<PathBuf>,
    /// Uploads and downloads of 1 MiB per relay throughput run.
    #[arg(long, default_value_t = 256)]
    relay_requests: usize,
    /// Size of the file whose upload the relay's memory is measured during, in MiB.
    #[arg(long, default_value_t = 500)]
    relay_big_mib: u64,
    /// Where the JSON goes.
    #[arg(long, default_value = "target/bench/report.json")]
    json: PathBuf,
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = Args::parse();
    args.nodes.sort_unstable();
    eprintln!("bench: program sizes");
    let sizes = sizes::measure().context("program sizes")?;
    eprintln!("bench: gas per call ({:?} available nodes)", args.nodes);
    let gas = gas::measure(&args.nodes, false).await.context("gas")?;
    let l1 = gas::take_l1_gas();
    eprintln!("bench: gas per call with the programs cached");
    let cached = gas::measure(&args.nodes, true)
        .await
        .context("gas with the programs cached")?;
    let worker = match &args.node_worker {
        Some(exe) => {
            eprintln!("bench: worker overhead ({} tasks)", args.tasks);
            Some(
                worker_overhead::measure(exe, args.tasks)
                    .await
                    .context("worker overhead")?,
            )
        }
        None => None,
    };
    eprintln!("bench: pHash");
    let phash = phash_rate::measure().context("pHash")?;
    eprintln!("bench: devnet throughput");
    let tps = devnet_tps::measure(args.transactions)
        .await
        .context("devnet throughput")?;
    let mut relay = Vec::new();
    if let Some(exe) = &args.relay {
        let mut backends = vec![relay_throughput::Backend {
            name: "SQLite + files",
            database_url: None,
            blob_store: None,
        }];
        if let (Ok(db), Ok(blobs)) = (
            std::env::var("RELAY_BENCH_DATABASE_URL"),
            std::env::var("RELAY_BENCH_BLOB_STORE"),
        ) {
            backends.push(relay_throughput::Backend {
                name: "PostgreSQL + S3 (moto)",
                database_url: Some(db),
                blob_store: Some(blobs),
            });
        }
        for backend in &backends {
            eprintln!("bench: relay on {}", backend.name);
            relay.push(
                relay_throughput::measure(exe, backend, args.relay_requests, args.relay_big_mib)
                    .await
                    .with_context(|| format!("relay on {}", backend.name))?,
            );
        }
    }
    let report = report::Report {
        relay,
        gas,
        cached,
        l1,
        sizes,
        worker,
        phash,
        tps,
    };
    print!("{}", report.table());
    if let Some(dir) = args.json.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&report.json())? + "\n";
    std::fs::write(&args.json, text).with_context(|| format!("writing {}", args.json.display()))?;
    eprintln!("bench: wrote {}", args.json.display());
    Ok(())
}
