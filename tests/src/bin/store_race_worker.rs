//! One contender of the cross-process SQLite race in `tests/store_contract.rs`.
//!
//! Usage: `store_race_worker DB_PATH PK SK WORKER_ID`. Opens the SQLite store at `DB_PATH` (many
//! workers open the same new file at once), prints `READY`, waits for one line on stdin (the start
//! signal, sent to every worker at once), then tries `put(.., Condition::NotExists)` on `PK/SK` with
//! attribute `worker = WORKER_ID` and prints `WON` or `LOST`. Any other outcome prints `ERROR ...`
//! and exits non-zero, so the test can tell a broken store from a lost race.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use shared::store::sqlite::SqliteStore;
use shared::store::{Condition, Item, Key, Store, StoreError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, pk, sk, worker] = args.as_slice() else {
        eprintln!("usage: store_race_worker DB_PATH PK SK WORKER_ID");
        return ExitCode::from(64);
    };
    match run(path, pk, sk, worker).await {
        Ok(outcome) => {
            println!("{outcome}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("ERROR {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(path: &str, pk: &str, sk: &str, worker: &str) -> Result<&'static str, String> {
    let store = SqliteStore::open(path).map_err(|e| format!("open {path}: {e}"))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "READY")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    let mut go = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut go)
        .map_err(|e| format!("stdin: {e}"))?;
    if go.trim() != "go" {
        return Err(format!("expected `go` on stdin, got {go:?}"));
    }
    let item = Item::new(Key::new(pk, sk)).with("worker", worker);
    match store.put(item, Condition::NotExists).await {
        Ok(None) => Ok("WON"),
        Ok(Some(old)) => Err(format!("put succeeded over a live item {old:?}")),
        Err(StoreError::ConditionFailed { .. }) => Ok("LOST"),
        Err(e) => Err(format!("put: {e}")),
    }
}
