//! State proof generation and verification in a state of 1,000,000 keys, per hash algorithm:
//! median and p99 per proof (plain `Instant`, no criterion). `cargo bench -p xa-storage --bench
//! proofs_1m`. Set `XA_BENCH_KEYS` to change the state size.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use xa_storage::{BlockCommit, HashAlgo, StateLayout, Store, verify_proof};

const PER_BLOCK: u64 = 100_000;
const PROOFS: u64 = 5_000;

fn key(i: u64) -> Vec<u8> {
    format!("notary/record/{i:016}").into_bytes()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn run(algo: HashAlgo, keys: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path(), algo).expect("open");
    let t = Instant::now();
    let blocks = keys.div_ceil(PER_BLOCK);
    for h in 0..blocks {
        let writes: BTreeMap<Vec<u8>, Option<Vec<u8>>> = (h * PER_BLOCK
            ..((h + 1) * PER_BLOCK).min(keys))
            .map(|i| {
                (
                    key(i),
                    Some(format!("record value {i} with some metadata").into_bytes()),
                )
            })
            .collect();
        let state = Arc::new(store.prepare(&[], writes, h).expect("prepare"));
        store
            .commit_block(BlockCommit {
                height: h,
                block_hash: algo.hash(&h.to_be_bytes()),
                block: vec![],
                finalization: vec![],
                state,
                txs: vec![],
                indexes: vec![],
                key_versions: vec![],
            })
            .expect("commit");
    }
    println!(
        "{algo}: built a state of {keys} keys in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let version = blocks - 1;
    let root = store.state_root(version).expect("root").expect("committed");
    let (mut gen_us, mut ver_us, mut sizes) = (Vec::new(), Vec::new(), 0usize);
    for i in 0..PROOFS {
        // Alternate present keys and absent ones (non-inclusion proofs).
        let k = if i % 2 == 0 {
            key(i * 7919 % keys)
        } else {
            key(keys + i)
        };
        let t = Instant::now();
        let (v, p) = store.get_with_proof(&k, version).expect("proof");
        gen_us.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        verify_proof(algo, StateLayout::Shared, &root, &k, v.as_deref(), &p).expect("verify");
        ver_us.push(t.elapsed().as_secs_f64() * 1e6);
        sizes += serde_json::to_vec(&p).expect("json").len();
    }
    gen_us.sort_by(f64::total_cmp);
    ver_us.sort_by(f64::total_cmp);
    println!(
        "{algo}: proof generation median {:.1} us p99 {:.1} us; verification median {:.1} us p99 {:.1} us; {:.0} JSON bytes per proof ({PROOFS} proofs, half non-inclusion)",
        percentile(&gen_us, 0.5),
        percentile(&gen_us, 0.99),
        percentile(&ver_us, 0.5),
        percentile(&ver_us, 0.99),
        sizes as f64 / PROOFS as f64,
    );
}

fn main() {
    let keys = std::env::var("XA_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for algo in [HashAlgo::Sha256, HashAlgo::Sm3] {
        run(algo, keys);
    }
}
