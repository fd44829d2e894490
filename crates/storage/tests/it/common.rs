//! Shared helpers.

use std::collections::BTreeMap;
use std::sync::Arc;
use xa_storage::{BlockCommit, HashAlgo, PendingState, Store};

pub const ALGOS: [HashAlgo; 2] = [HashAlgo::Sha256, HashAlgo::Sm3];

pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Build a write set from `(key, Some(value) | None)` pairs.
pub fn writes(pairs: &[(&str, Option<&str>)]) -> Writes {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

pub fn block_bytes(height: u64) -> Vec<u8> {
    format!("block-{height}").into_bytes()
}

pub fn block_hash(height: u64) -> [u8; 32] {
    HashAlgo::Sha256.hash(&block_bytes(height))
}

pub fn tx_hash(height: u64, i: u32) -> [u8; 32] {
    HashAlgo::Sha256.hash(format!("tx-{height}-{i}").as_bytes())
}

/// A deterministic block commit for `height` carrying `state`.
pub fn block_commit(height: u64, state: Arc<PendingState>) -> BlockCommit {
    BlockCommit {
        height,
        block_hash: block_hash(height),
        block: block_bytes(height),
        finalization: format!("cert-{height}").into_bytes(),
        state,
        txs: (0..2)
            .map(|i| {
                (
                    tx_hash(height, i),
                    format!("receipt-{height}-{i}").into_bytes(),
                )
            })
            .collect(),
        indexes: vec![(
            "by_height".to_string(),
            height.to_be_bytes().to_vec(),
            format!("idx-{height}").into_bytes(),
        )],
        key_versions: vec![],
    }
}

/// Prepare `writes` on top of the committed state and commit it as block `height`.
pub fn commit(store: &Store, height: u64, writes: Writes) -> Arc<PendingState> {
    let state = Arc::new(store.prepare(&[], writes, height).expect("prepare"));
    store
        .commit_block(block_commit(height, state.clone()))
        .expect("commit");
    state
}

/// The deterministic state writes of block `height` used by the crash test.
pub fn chain_writes(height: u64) -> Writes {
    let mut w = Writes::new();
    w.insert(
        format!("acct/{}", height % 17).into_bytes(),
        Some(format!("v{height}").into_bytes()),
    );
    w.insert(
        format!("h/{height}").into_bytes(),
        Some(height.to_le_bytes().to_vec()),
    );
    if height.is_multiple_of(3) {
        w.insert(format!("acct/{}", (height + 5) % 17).into_bytes(), None);
    }
    w
}
