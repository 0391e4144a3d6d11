//! The `soak` command line: reads the portal's configuration from the environment as the
//! functions and `portal-admin` do (`PORTAL_STORE`, `PORTAL_DATA_DIR`, `PORTAL_ISSUER`, …), runs
//! the soak, prints its report.

use std::process::ExitCode;
use std::time::Duration;

use shared::config::Config;

use super::{run, Options};

/// Runs the soak workload against a running portal, then checks the invariants of its store.
#[derive(clap::Parser, Debug)]
#[command(name = "soak", version)]
pub struct Args {
    /// The portal's base URL (default: `PORTAL_ISSUER`).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Concurrent patients, each with its own app session.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 120)]
    pub seconds: u64,
    /// Seed of the patients' random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the soak the arguments describe; success only when it passed.
pub async fn main(args: Args) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("soak: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        base_url: args
            .base_url
            .unwrap_or_else(|| config.issuer_str().trim_end_matches('/').to_owned()),
        clients: args.clients,
        duration: Duration::from_secs(args.seconds),
        seed: args.seed,
    };
    println!(
        "== soak: {} patients for {} s against {}",
        options.clients, args.seconds, options.base_url
    );
    match run(&config, &options).await {
        Ok(outcome) => {
            print!("{}", outcome.report());
            if outcome.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}
