//! Block store, atomic commit, durability across reopen, metadata.

use crate::common::*;
use std::sync::Arc;
use xa_storage::{HashAlgo, MIN_JOURNAL_BYTES, MIN_MEMTABLE_BYTES, Store, StoreOptions};

#[test]
fn block_store_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), HashAlgo::Sha256).unwrap();
    for h in 0..3 {
        commit(&store, h, chain_writes(h));
    }
    for h in 0..3 {
        assert_eq!(store.block_by_height(h).unwrap(), Some(block_bytes(h)));
        assert_eq!(store.block_hash(h).unwrap(), Some(block_hash(h)));
        assert_eq!(store.height_of_block(&block_hash(h)).unwrap(), Some(h));
        assert_eq!(
            store.finalization(h).unwrap(),
            Some(format!("cert-{h}").into_bytes())
        );
        for i in 0..2 {
            assert_eq!(store.tx_location(&tx_hash(h, i)).unwrap(), Some((h, i)));
            assert_eq!(
                store.receipt(&tx_hash(h, i)).unwrap(),
                Some(format!("receipt-{h}-{i}").into_bytes())
            );
        }
        assert_eq!(
            store.index_get("by_height", &h.to_be_bytes()).unwrap(),
            Some(format!("idx-{h}").into_bytes())
        );
    }
    assert_eq!(store.block_by_height(3).unwrap(), None);
    assert_eq!(store.block_hash(3).unwrap(), None);
    assert_eq!(store.height_of_block(&[0; 32]).unwrap(), None);
    assert_eq!(store.tx_location(&[0; 32]).unwrap(), None);
    assert_eq!(store.receipt(&[0; 32]).unwrap(), None);
    assert_eq!(store.index_get("other", &0u64.to_be_bytes()).unwrap(), None);
    assert_eq!(store.finalization(9).unwrap(), None);
}

#[test]
fn wrong_height_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), HashAlgo::Sha256).unwrap();

    // An empty store accepts only 0 or 1 first.
    let p = Arc::new(store.prepare(&[], writes(&[("k", Some("v"))]), 1).unwrap());
    let err = store.commit_block(block_commit(2, p)).unwrap_err();
    assert_eq!(err.code(), "storage.height_mismatch");
    assert_eq!(store.latest().unwrap(), None);

    commit(&store, 0, writes(&[("k", Some("0"))]));
    let p2 = Arc::new(store.prepare(&[], writes(&[("k", Some("2"))]), 1).unwrap());
    // Height 2 while latest is 0: rejected, nothing written.
    let err = store.commit_block(block_commit(2, p2.clone())).unwrap_err();
    assert_eq!(err.code(), "storage.height_mismatch");
    // Re-committing height 0: rejected.
    let err = store.commit_block(block_commit(0, p2.clone())).unwrap_err();
    assert_eq!(err.code(), "storage.height_mismatch");
    // Right height, but the state is for another version.
    let mut c = block_commit(1, p2.clone());
    c.state = Arc::new(
        store
            .prepare(std::slice::from_ref(&p2), Writes::new(), 2)
            .unwrap(),
    );
    assert_eq!(
        store.commit_block(c).unwrap_err().code(),
        "storage.state_mismatch"
    );
    // Duplicate block hash.
    let mut dup = block_commit(1, p2.clone());
    dup.block_hash = block_hash(0);
    assert_eq!(
        store.commit_block(dup).unwrap_err().code(),
        "storage.duplicate_block"
    );

    for h in [1, 2] {
        assert_eq!(store.block_by_height(h).unwrap(), None);
        assert_eq!(store.block_hash(h).unwrap(), None);
        assert_eq!(store.finalization(h).unwrap(), None);
        assert_eq!(store.state_root(h).unwrap(), None);
        assert_eq!(store.tx_location(&tx_hash(h, 0)).unwrap(), None);
        assert_eq!(store.receipt(&tx_hash(h, 0)).unwrap(), None);
        assert_eq!(
            store.index_get("by_height", &h.to_be_bytes()).unwrap(),
            None
        );
    }
    assert_eq!(store.height_of_block(&block_hash(2)).unwrap(), None);
    assert_eq!(store.latest().unwrap(), Some((0, block_hash(0))));
    assert_eq!(store.get_latest(b"k").unwrap(), Some(b"0".to_vec()));

    // The correct commit still works afterwards.
    store.commit_block(block_commit(1, p2)).unwrap();
    assert_eq!(store.get_latest(b"k").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn durable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut roots = Vec::new();
    {
        let store = Store::open(dir.path(), HashAlgo::Sm3).unwrap();
        for h in 0..4 {
            roots.push(commit(&store, h, chain_writes(h)).root);
        }
        store.meta_put("genesis", b"hash-of-genesis").unwrap();
        // A prepared but uncommitted state is not persisted.
        store.prepare(&[], chain_writes(4), 4).unwrap();
    }
    let store = Store::open(dir.path(), HashAlgo::Sm3).unwrap();
    assert_eq!(store.latest().unwrap(), Some((3, block_hash(3))));
    for h in 0..4 {
        assert_eq!(store.state_root(h).unwrap(), Some(roots[h as usize]));
        assert_eq!(store.block_by_height(h).unwrap(), Some(block_bytes(h)));
        assert_eq!(store.tx_location(&tx_hash(h, 1)).unwrap(), Some((h, 1)));
    }
    assert_eq!(store.state_root(4).unwrap(), None);
    assert_eq!(
        store.get(b"h/2", 3).unwrap(),
        Some(2u64.to_le_bytes().to_vec())
    );
    assert_eq!(store.get_latest(b"acct/3").unwrap(), Some(b"v3".to_vec()));
    assert_eq!(
        store.meta_get("genesis").unwrap(),
        Some(b"hash-of-genesis".to_vec())
    );
    assert_eq!(store.meta_get("other").unwrap(), None);
    // The tree continues from the reopened state.
    let r4 = commit(&store, 4, chain_writes(4)).root;
    let ref_dir = tempfile::tempdir().unwrap();
    let reference = Store::open(ref_dir.path(), HashAlgo::Sm3).unwrap();
    for h in 0..5 {
        commit(&reference, h, chain_writes(h));
    }
    assert_eq!(reference.state_root(4).unwrap(), Some(r4));
    drop(store);

    // Opening with another algorithm is refused.
    let err = Store::open(dir.path(), HashAlgo::Sha256).unwrap_err();
    assert_eq!(err.code(), "storage.algo_mismatch");
}

#[test]
fn clones_share_state_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), HashAlgo::Sha256).unwrap();
    commit(&store, 0, chain_writes(0));
    let reader = store.clone();
    let handle = std::thread::spawn(move || {
        for _ in 0..50 {
            if let Some((h, _)) = reader.latest().unwrap() {
                assert!(reader.block_by_height(h).unwrap().is_some());
                assert!(reader.state_root(h).unwrap().is_some());
            }
        }
    });
    for h in 1..10 {
        commit(&store, h, chain_writes(h));
    }
    handle.join().unwrap();
}

#[test]
fn key_versions_are_kept_per_block_and_survive_reopen() {
    for algo in ALGOS {
        let dir = tempfile::tempdir().unwrap();
        let versions = vec![
            ([1u8; 32], Some(b"first".to_vec())),
            ([2u8; 32], None),
            ([3u8; 32], Some(b"third".to_vec())),
        ];
        {
            let store = Store::open(dir.path(), algo).unwrap();
            commit(&store, 0, chain_writes(0));
            let p = Arc::new(
                store
                    .prepare(&[], writes(&[("rec/1", Some("third"))]), 1)
                    .unwrap(),
            );
            let mut c = block_commit(1, p);
            c.key_versions = vec![(b"rec/1".to_vec(), versions.clone())];
            store.commit_block(c).unwrap();
            // A rejected commit writes no versions.
            let p = Arc::new(store.prepare(&[], writes(&[("rec/2", None)]), 2).unwrap());
            let mut bad = block_commit(3, p);
            bad.key_versions = vec![(b"rec/2".to_vec(), versions.clone())];
            assert!(store.commit_block(bad).is_err());
            assert_eq!(store.block_versions(b"rec/2", 3).unwrap(), None);
        }
        let store = Store::open(dir.path(), algo).unwrap();
        assert_eq!(store.block_versions(b"rec/1", 1).unwrap(), Some(versions));
        // Other heights and keys (a prefix, an extension) hold none.
        assert_eq!(store.block_versions(b"rec/1", 0).unwrap(), None);
        assert_eq!(store.block_versions(b"rec/1", 2).unwrap(), None);
        assert_eq!(store.block_versions(b"rec/", 1).unwrap(), None);
        assert_eq!(store.block_versions(b"rec/10", 1).unwrap(), None);
        // The state keeps the block's final value only.
        assert_eq!(store.get(b"rec/1", 1).unwrap(), Some(b"third".to_vec()));
    }
}

/// Write-buffer sizes are node-local tuning: a store written with small memtables (so that it
/// flushes tables while it runs) reopens with other sizes and reads the same state, and sizes out
/// of range are refused by name before anything is opened.
#[test]
fn store_options_change_buffering_not_contents() {
    let dir = tempfile::tempdir().unwrap();
    let small = StoreOptions {
        memtable_bytes: MIN_MEMTABLE_BYTES,
        journal_bytes: MIN_JOURNAL_BYTES,
        ..StoreOptions::default()
    };
    let mut root = None;
    {
        let store = Store::open_with(dir.path(), HashAlgo::Sha256, small).unwrap();
        for h in 0..8u64 {
            let w: Writes = (0..500u64)
                .map(|i| {
                    let k = format!("key/{h}/{i}").into_bytes();
                    (k, Some(vec![(h + i) as u8; 600]))
                })
                .collect();
            root = Some(commit(&store, h, w).root);
        }
    }
    let store = Store::open(dir.path(), HashAlgo::Sha256).unwrap();
    // fjall keeps the memtable size a store was created with; the store says which.
    assert_eq!(store.memtable_bytes().unwrap(), MIN_MEMTABLE_BYTES);
    assert_eq!(store.latest().unwrap().map(|l| l.0), Some(7));
    assert_eq!(store.state_root(7).unwrap(), root);
    assert_eq!(store.get_latest(b"key/3/7").unwrap(), Some(vec![10u8; 600]));

    let other = tempfile::tempdir().unwrap();
    for (options, field) in [
        (
            StoreOptions {
                memtable_bytes: MIN_MEMTABLE_BYTES - 1,
                ..small
            },
            "memtable_bytes",
        ),
        (
            StoreOptions {
                journal_bytes: MIN_JOURNAL_BYTES - 1,
                ..small
            },
            "journal_bytes",
        ),
    ] {
        let err = Store::open_with(other.path(), HashAlgo::Sha256, options).unwrap_err();
        assert_eq!(err.code(), "storage.invalid_input");
        assert!(err.to_string().contains(field), "{err}");
    }
}
