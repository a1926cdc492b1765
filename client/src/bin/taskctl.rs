//! `taskctl`: the application's command line.

use clap::{Parser, Subcommand};
use client::tools;

#[derive(Parser)]
#[command(
    name = "taskctl",
    version,
    about = "Application client of the GPU task network"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ECVRF-SECP256K1-SHA256-TAI (draft-04) proofs, as the contract checks them.
    Vrf {
        #[command(subcommand)]
        command: VrfCommand,
    },
    /// Signs relay request fields; prints the 65-byte signature r || s || v as 0x hex.
    Sign {
        #[arg(long)]
        private_key: String,
        /// Unix time in seconds.
        #[arg(long)]
        timestamp: u64,
        /// The request's fields as a JSON object (without timestamp and signature).
        #[arg(long)]
        fields: String,
    },
    /// Prints the pHash of a PNG image as 16 hex digits (equal to Python imagehash.phash).
    Phash { file: String },
}

#[derive(Subcommand)]
enum VrfCommand {
    /// Prints the 81-byte proof for alpha.
    Prove {
        #[arg(long)]
        secret_key: String,
        #[arg(long)]
        alpha: String,
    },
    /// Verifies a proof and prints beta.
    Verify {
        /// 64 bytes X || Y.
        #[arg(long)]
        public_key: String,
        #[arg(long)]
        alpha: String,
        #[arg(long)]
        proof: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Vrf {
            command: VrfCommand::Prove { secret_key, alpha },
        } => tools::vrf_prove(secret_key, alpha),
        Command::Vrf {
            command:
                VrfCommand::Verify {
                    public_key,
                    alpha,
                    proof,
                },
        } => tools::vrf_verify(public_key, alpha, proof),
        Command::Sign {
            private_key,
            timestamp,
            fields,
        } => tools::relay_sign(private_key, *timestamp, fields),
        Command::Phash { file } => tools::phash_file(file),
    };
    match result {
        Ok(value) => {
            println!("{value}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("taskctl: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
