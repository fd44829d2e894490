//! Crash safety: a child process commits blocks in a loop and is killed with SIGKILL.

use crate::common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xa_storage::{HashAlgo, Store};

const CHILD_ENV: &str = "XA_STORAGE_CRASH_DIR";
const ALGO: HashAlgo = HashAlgo::Sm3;

/// Child side: only active when spawned by `kill_minus_nine_keeps_store_consistent`.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = Store::open(std::path::Path::new(&dir), ALGO).unwrap();
    let mut next = store.latest().unwrap().map_or(0, |(h, _)| h + 1);
    loop {
        commit(&store, next, chain_writes(next));
        println!("committed {next}");
        next += 1;
    }
}

/// Spawn the child, wait until it reports its first commit of this run (however loaded the
/// machine, so every round makes progress), let it commit for `run` more, SIGKILL it; return
/// the highest height it reported.
fn run_child(dir: &std::path::Path, run: Duration) -> Option<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::crash_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut last = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(h) = line.strip_prefix("committed ") {
                last = Some(h.trim().parse::<u64>().unwrap());
                let _ = first_tx.send(());
            }
        }
        last
    });
    let start = Instant::now();
    let first = first_rx.recv_timeout(Duration::from_secs(60));
    std::thread::sleep(run);
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();
    let last = reader.join().unwrap();
    assert!(first.is_ok(), "the child committed nothing within 60 s");
    assert!(start.elapsed() < Duration::from_secs(90));
    last
}

#[test]
fn kill_minus_nine_keeps_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let mut previous: Option<u64> = None;
    for round in 0..3 {
        let reported = run_child(dir.path(), Duration::from_millis(300 + 300 * round));
        let store = Store::open(dir.path(), ALGO).unwrap();
        let (h, hash) = store
            .latest()
            .unwrap()
            .expect("child committed at least one block");
        // Every block the child saw committed survived; progress was made this round.
        if let Some(r) = reported {
            assert!(h >= r, "round {round}: latest {h} < reported {r}");
        }
        if let Some(p) = previous {
            assert!(h > p, "round {round}: no progress after restart");
        }
        previous = Some(h);
        assert_eq!(hash, block_hash(h));

        // Every block 0..=H complete, nothing beyond H.
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for height in 0..=h {
            assert_eq!(
                store.block_by_height(height).unwrap(),
                Some(block_bytes(height))
            );
            assert_eq!(store.block_hash(height).unwrap(), Some(block_hash(height)));
            assert!(store.finalization(height).unwrap().is_some());
            assert!(store.state_root(height).unwrap().is_some());
            assert_eq!(
                store.tx_location(&tx_hash(height, 1)).unwrap(),
                Some((height, 1))
            );
            for (k, v) in chain_writes(height) {
                match v {
                    Some(v) => expected.insert(k, v),
                    None => expected.remove(&k),
                };
            }
        }
        assert_eq!(store.block_by_height(h + 1).unwrap(), None);
        assert_eq!(store.state_root(h + 1).unwrap(), None);
        assert_eq!(store.tx_location(&tx_hash(h + 1, 0)).unwrap(), None);

        // The state matches a recomputation from the expected contents.
        for (k, v) in &expected {
            assert_eq!(store.get_latest(k).unwrap().as_ref(), Some(v));
            assert_eq!(store.get(k, h).unwrap().as_ref(), Some(v));
        }
        let ref_dir = tempfile::tempdir().unwrap();
        let reference = Store::open(ref_dir.path(), ALGO).unwrap();
        let all = expected.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let recomputed = reference.prepare(&[], all, 0).unwrap().root;
        assert_eq!(store.state_root(h).unwrap(), Some(recomputed));
        eprintln!("crash round {round}: latest {h}, child reported {reported:?}");
    }
}
