//! What a block costs as the state grows: `cargo bench -p xa-storage --bench growth`.
//!
//! Blocks shaped like a loaded devnet's (per transaction: one new record, one new history head
//! and an update of one of 2,000 accounts), prepared and committed one after another; prints the
//! prepare and commit time per write every `REPORT` blocks. The state outgrows fjall's memtables
//! after a few hundred thousand writes, which is when tree-node reads move to on-disk tables.
//!
//! `GROWTH_BLOCKS=N` sets the number of blocks (default 400). `GROWTH_LAYOUT=1` stores in state
//! layout 1 (a history head a leaf of its own) instead of 2 (a record and its head share a
//! leaf); compare the cost per transaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use xa_storage::{BlockCommit, HashAlgo, StateLayout, Store, StoreOptions};

/// The node's allocator (`bin/xachain`), so that allocation costs what it costs in a node: with
/// glibc's malloc a fifth of this bench's time was the allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TXS_PER_BLOCK: u64 = 1_500;
const BLOCKS: u64 = 400;
const REPORT: u64 = 50;

fn main() {
    let blocks = std::env::var("GROWTH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BLOCKS);
    let layout = match std::env::var("GROWTH_LAYOUT").as_deref() {
        Ok("1") => StateLayout::Separate,
        _ => StateLayout::Shared,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let options = StoreOptions {
        layout,
        ..StoreOptions::default()
    };
    let store = Store::open_with(dir.path(), HashAlgo::Sha256, options).expect("open");
    println!("state {layout}");
    let (mut t_prepare, mut t_commit, mut writes_n) = (0f64, 0f64, 0u64);
    for h in 0..blocks {
        let mut writes = BTreeMap::new();
        for i in 0..TXS_PER_BLOCK {
            let n = h * TXS_PER_BLOCK + i;
            let value = format!("record-{n}-{}", "x".repeat(120)).into_bytes();
            writes.insert(format!("notary/record/{n:016x}").into_bytes(), Some(value));
            writes.insert(
                format!("history/notary/record/{n:016x}").into_bytes(),
                Some(vec![n as u8; 72]),
            );
            writes.insert(
                format!("accounts/{}", n % 2_000).into_bytes(),
                Some(format!("nonce-{n}").into_bytes()),
            );
        }
        writes_n += writes.len() as u64;
        let t = Instant::now();
        let state = Arc::new(store.prepare(&[], writes, h).expect("prepare"));
        t_prepare += t.elapsed().as_secs_f64();
        let t = Instant::now();
        store
            .commit_block(BlockCommit {
                height: h,
                block_hash: HashAlgo::Sha256.hash(&h.to_be_bytes()),
                block: vec![0; 64],
                finalization: vec![0; 64],
                state,
                txs: Vec::new(),
                indexes: Vec::new(),
                key_versions: Vec::new(),
            })
            .expect("commit");
        t_commit += t.elapsed().as_secs_f64();
        if (h + 1) % REPORT == 0 {
            println!(
                "blocks {:>4}..{:<4} state {:>8} keys: prepare {:>5.2} µs/write, commit {:>5.2} \
                 µs/write, {:>6.1} µs/transaction",
                h + 1 - REPORT,
                h + 1,
                (h + 1) * TXS_PER_BLOCK * 2 + 2_000,
                t_prepare / writes_n as f64 * 1e6,
                t_commit / writes_n as f64 * 1e6,
                (t_prepare + t_commit) / (REPORT * TXS_PER_BLOCK) as f64 * 1e6
            );
            (t_prepare, t_commit, writes_n) = (0.0, 0.0, 0);
        }
    }
    drop(store);
    println!(
        "on disk after {blocks} blocks: {:.0} MiB",
        dir_bytes(dir.path()) as f64 / (1 << 20) as f64
    );
}

/// Bytes of the files under `path`.
fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
