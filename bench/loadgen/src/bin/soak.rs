//! `soak`: the soak workload against a running portal (`make soak`; see `loadgen::soak`).
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = loadgen::soak::cli::Args::parse();
    loadgen::soak::cli::main(args).await
}
