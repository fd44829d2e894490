//! Rough throughput numbers (plain `Instant`, no criterion): `cargo bench -p xa-storage`.
//!
//! Measures prepare + commit of blocks with 1,000 updates each, and proof generation and
//! verification, for both hash algorithms.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use xa_storage::{BlockCommit, HashAlgo, StateLayout, Store, verify_proof};

const BLOCKS: u64 = 20;
const UPDATES: u64 = 1_000;
const PROOFS: u64 = 2_000;

fn key(i: u64) -> Vec<u8> {
    format!("account/{i:08}").into_bytes()
}

fn run(algo: HashAlgo) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), algo).expect("open");
    let (mut t_prepare, mut t_commit) = (0f64, 0f64);
    for h in 0..BLOCKS {
        let writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = (0..UPDATES)
            .map(|i| {
                // Half new keys, half updates of existing ones.
                let k = if i % 2 == 0 {
                    h * UPDATES + i
                } else {
                    i * 7 % (h * UPDATES + 1)
                };
                (key(k), Some(format!("value-{h}-{i}").into_bytes()))
            })
            .collect();
        let t = Instant::now();
        let state = Arc::new(store.prepare(&[], writes, h).expect("prepare"));
        t_prepare += t.elapsed().as_secs_f64();
        let hash = algo.hash(&h.to_be_bytes());
        let t = Instant::now();
        store
            .commit_block(BlockCommit {
                height: h,
                block_hash: hash,
                block: vec![0; 4096],
                finalization: vec![0; 256],
                state,
                txs: vec![],
                indexes: vec![],
                key_versions: vec![],
            })
            .expect("commit");
        t_commit += t.elapsed().as_secs_f64();
    }
    let n = (BLOCKS * UPDATES) as f64;
    println!(
        "{algo}: prepare {:.0} updates/s ({:.1} ms/block), commit {:.1} ms/block ({:.0} updates/s incl. fsync)",
        n / t_prepare,
        t_prepare * 1e3 / BLOCKS as f64,
        t_commit * 1e3 / BLOCKS as f64,
        n / t_commit,
    );

    let version = BLOCKS - 1;
    let root = store.state_root(version).expect("root").expect("committed");
    let t = Instant::now();
    let mut proofs = Vec::new();
    for i in 0..PROOFS {
        let k = key(i * 5);
        let (v, p) = store.get_with_proof(&k, version).expect("proof");
        proofs.push((k, v, p));
    }
    let generation = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for (k, v, p) in &proofs {
        verify_proof(algo, StateLayout::Shared, &root, k, v.as_deref(), p).expect("verify");
    }
    let ver = t.elapsed().as_secs_f64();
    let avg_siblings =
        proofs.iter().map(|p| p.2.siblings.len()).sum::<usize>() as f64 / PROOFS as f64;
    println!(
        "{algo}: proof generation {:.0}/s ({:.1} us), verification {:.0}/s ({:.1} us), {:.1} siblings avg over {} keys",
        PROOFS as f64 / generation,
        generation * 1e6 / PROOFS as f64,
        PROOFS as f64 / ver,
        ver * 1e6 / PROOFS as f64,
        avg_siblings,
        BLOCKS * UPDATES / 2 + UPDATES / 2,
    );
}

fn main() {
    for algo in [HashAlgo::Sha256, HashAlgo::Sm3] {
        run(algo);
    }
}
