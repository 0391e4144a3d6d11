//! SQLite only: the race across processes sharing one database file.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shared::store::sqlite::SqliteStore;
use shared::store::{Key, Store};

const WORKERS: usize = 20;
const ROUNDS: usize = 10;
/// Generous: 20 processes start on 2 cores; a stuck worker must fail the test, not hang it.
const PHASE_TIMEOUT: Duration = Duration::from_secs(30);

/// Kills whatever workers are still running when a round ends early (a failed assertion).
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Collects one line from each worker, failing on `ERROR`, on a worker that closes its output
/// before answering, and on the deadline. `closed` remembers across phases who has exited.
fn collect(
    lines: &mpsc::Receiver<(usize, Option<String>)>,
    closed: &mut [bool],
    round: usize,
    phase: &str,
) -> Vec<String> {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    let mut got: Vec<Option<String>> = vec![None; WORKERS];
    while got.iter().any(Option::is_none) {
        if let Some(worker) = (0..WORKERS).find(|w| closed[*w] && got[*w].is_none()) {
            panic!("round {round}: worker {worker} exited before answering during {phase}");
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let (worker, line) = lines
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("round {round}: workers silent during {phase}: {got:?}"));
        let Some(line) = line else {
            closed[worker] = true;
            continue;
        };
        assert!(
            !line.starts_with("ERROR"),
            "round {round}, worker {worker}: {line}"
        );
        assert!(
            got[worker].is_none(),
            "round {round}, worker {worker}: extra line {line}"
        );
        got[worker] = Some(line);
    }
    got.into_iter().flatten().collect()
}

// A plain test: the workers are driven with blocking pipes; only the final read needs a runtime.
#[test]
fn twenty_processes_racing_a_not_exists_put_on_one_file_have_exactly_one_winner_in_each_of_10_rounds(
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for round in 0..ROUNDS {
        // A new file each round, so the 20 processes also race to create the schema.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.db");
        let (sender, lines) = mpsc::channel();
        let mut workers = Workers(Vec::new());
        let mut stdins: Vec<ChildStdin> = Vec::new();
        for worker in 0..WORKERS {
            let mut child = Command::new(env!("CARGO_BIN_EXE_store_race_worker"))
                .arg(&path)
                .arg("RACE")
                .arg(format!("{round:02}"))
                .arg(worker.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start store_race_worker");
            stdins.push(child.stdin.take().unwrap());
            let stdout = child.stdout.take().unwrap();
            workers.0.push(child);
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let _ = sender.send((
                        worker,
                        Some(line.unwrap_or_else(|e| format!("ERROR reading: {e}"))),
                    ));
                }
                let _ = sender.send((worker, None));
            });
        }

        let mut closed = [false; WORKERS];
        let ready = collect(&lines, &mut closed, round, "start-up");
        assert!(
            ready.iter().all(|l| l == "READY"),
            "round {round}: {ready:?}"
        );
        // Every worker has opened the store and waits on its stdin: release them together.
        for stdin in &mut stdins {
            stdin
                .write_all(b"go\n")
                .and_then(|()| stdin.flush())
                .unwrap();
        }
        let outcomes = collect(&lines, &mut closed, round, "the race");
        let winners: Vec<usize> = (0..WORKERS).filter(|w| outcomes[*w] == "WON").collect();
        let losers = outcomes.iter().filter(|l| *l == "LOST").count();
        assert_eq!(winners.len(), 1, "round {round}: outcomes {outcomes:?}");
        assert_eq!(losers, WORKERS - 1, "round {round}: outcomes {outcomes:?}");
        for child in &mut workers.0 {
            assert!(
                child.wait().unwrap().success(),
                "round {round}: a worker failed"
            );
        }

        let store = SqliteStore::open(&path).unwrap();
        let stored = runtime
            .block_on(store.get(&Key::new("RACE", format!("{round:02}"))))
            .unwrap()
            .expect("the winner's item is stored");
        assert_eq!(
            stored.string("worker").unwrap(),
            winners[0].to_string(),
            "round {round}"
        );
    }
}
