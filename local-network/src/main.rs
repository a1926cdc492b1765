//! `local-network`: runs the whole network on this machine (see the `network` module).

use clap::Parser;
use local_network::network::{run, Args};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tokio::select! {
        result = run(args) => match result {
            Ok(_) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                protocol::error_report::print(e.as_ref());
                std::process::ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => {
            // Dropping `run` kills the node processes; the devnet and relay end with us.
            eprintln!("interrupted: stopping everything");
            std::process::ExitCode::from(130)
        }
    }
}
