//! State: versions, historical reads, roots, determinism, pending chains and forks.

use crate::common::*;
use std::sync::Arc;
use xa_storage::{EMPTY_ROOT, HashAlgo, Store};

fn open(algo: HashAlgo) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), algo).unwrap();
    (dir, store)
}

#[test]
fn empty_store() {
    for algo in ALGOS {
        let (_dir, store) = open(algo);
        assert_eq!(store.algo(), algo);
        assert_eq!(store.latest().unwrap(), None);
        assert_eq!(store.state_root(0).unwrap(), None);
        assert_eq!(store.get_latest(b"a").unwrap(), None);
        assert_eq!(
            store.get(b"a", 0).unwrap_err().code(),
            "storage.version_not_found"
        );
        let p = store.prepare(&[], Writes::new(), 0).unwrap();
        assert_eq!(p.root, EMPTY_ROOT);
        assert_eq!(Store::empty_root(), EMPTY_ROOT);
        // Versions other than 0/1 are rejected on an empty store.
        let err = store.prepare(&[], Writes::new(), 2).unwrap_err();
        assert_eq!(err.code(), "storage.height_mismatch");
    }
}

#[test]
fn commit_and_read_across_versions() {
    for algo in ALGOS {
        let (_dir, store) = open(algo);
        let s0 = commit(&store, 0, writes(&[("a", Some("1")), ("b", Some("2"))]));
        let s1 = commit(
            &store,
            1,
            writes(&[("a", Some("10")), ("b", None), ("c", Some("3"))]),
        );
        let s2 = commit(&store, 2, Writes::new());
        let s3 = commit(&store, 3, writes(&[("missing", None)]));

        assert_eq!(store.latest().unwrap(), Some((3, block_hash(3))));
        assert_ne!(s0.root, EMPTY_ROOT);
        assert_ne!(s0.root, s1.root);
        assert_eq!(s1.root, s2.root, "no writes keeps the root");
        assert_eq!(s2.root, s3.root, "deleting an absent key keeps the root");
        for (v, s) in [(0, &s0), (1, &s1), (2, &s2), (3, &s3)] {
            assert_eq!(store.state_root(v).unwrap(), Some(s.root));
        }

        let g = |k: &str, v| store.get(k.as_bytes(), v).unwrap();
        assert_eq!(g("a", 0), Some(b"1".to_vec()));
        assert_eq!(g("b", 0), Some(b"2".to_vec()));
        assert_eq!(g("c", 0), None);
        assert_eq!(g("a", 1), Some(b"10".to_vec()));
        assert_eq!(g("b", 1), None);
        assert_eq!(g("c", 1), Some(b"3".to_vec()));
        assert_eq!(g("a", 3), Some(b"10".to_vec()));
        assert_eq!(g("b", 3), None);

        assert_eq!(store.get_latest(b"a").unwrap(), Some(b"10".to_vec()));
        assert_eq!(store.get_latest(b"b").unwrap(), None);
        assert_eq!(store.get_latest(b"c").unwrap(), Some(b"3".to_vec()));

        let err = store.get(b"a", 4).unwrap_err();
        assert_eq!(err.code(), "storage.version_not_found");
    }
}

#[test]
fn same_writes_same_root_on_separate_stores() {
    let mut per_algo = Vec::new();
    for algo in ALGOS {
        let (_d1, a) = open(algo);
        let (_d2, b) = open(algo);
        let mut roots = Vec::new();
        for h in 0..6 {
            let ra = commit(&a, h, chain_writes(h)).root;
            let rb = commit(&b, h, chain_writes(h)).root;
            assert_eq!(ra, rb, "{algo} height {h}");
            roots.push(ra);
        }
        per_algo.push(roots);
    }
    assert_ne!(per_algo[0], per_algo[1], "sha256 and sm3 trees differ");
}

#[test]
fn root_depends_only_on_contents() {
    for algo in ALGOS {
        // Genesis at 0 with no state, then writes at 1 ...
        let (_d1, a) = open(algo);
        commit(&a, 0, Writes::new());
        let ra = commit(&a, 1, writes(&[("x", Some("1")), ("y", Some("2"))])).root;
        // ... equals a store whose first block is height 1 ...
        let (_d2, b) = open(algo);
        let rb = commit(&b, 1, writes(&[("x", Some("1")), ("y", Some("2"))])).root;
        assert_eq!(ra, rb);
        assert_eq!(b.state_root(0).unwrap(), None);
        assert_eq!(b.get(b"x", 1).unwrap(), Some(b"1".to_vec()));
        let rb2 = commit(&b, 2, writes(&[("z", Some("3"))])).root;
        // ... and equals writing the same set in different steps.
        let (_d3, c) = open(algo);
        let rc = commit(
            &c,
            0,
            writes(&[("z", Some("3")), ("y", Some("2")), ("x", Some("1"))]),
        )
        .root;
        assert_eq!(rb2, rc);
    }
}

#[test]
fn pending_chain_matches_one_by_one() {
    for algo in ALGOS {
        let (_d1, seq) = open(algo);
        let (_d2, piped) = open(algo);
        let mut expected = Vec::new();
        for h in 0..5 {
            expected.push(commit(&seq, h, chain_writes(h)).root);
        }

        commit(&piped, 0, chain_writes(0));
        let p1 = Arc::new(piped.prepare(&[], chain_writes(1), 1).unwrap());
        let p2 = Arc::new(
            piped
                .prepare(std::slice::from_ref(&p1), chain_writes(2), 2)
                .unwrap(),
        );
        let p3 = Arc::new(
            piped
                .prepare(&[p2.clone(), p1.clone()], chain_writes(3), 3)
                .unwrap(),
        );
        assert_eq!([p1.root, p2.root, p3.root], expected[1..4]);

        // read_through sees uncommitted ancestors, nearest first.
        let chain = [p3.clone(), p2.clone(), p1.clone()];
        assert_eq!(
            piped.read_through(&chain, b"h/2").unwrap(),
            Some(2u64.to_le_bytes().to_vec())
        );
        assert_eq!(
            piped.read_through(&chain, b"acct/3").unwrap(),
            Some(b"v3".to_vec())
        );
        // acct/8 is deleted at height 3.
        assert_eq!(
            piped
                .read_through(&[p2.clone(), p1.clone()], b"acct/8")
                .unwrap(),
            seq.get(b"acct/8", 2).unwrap()
        );
        assert_eq!(piped.read_through(&chain, b"acct/8").unwrap(), None);
        // read_layered reads the same values, without re-validating the chain on every read.
        for key in [&b"h/2"[..], b"acct/3", b"acct/8", b"nope"] {
            for layers in [&chain[..], &chain[1..], &chain[2..], &[]] {
                assert_eq!(
                    piped.read_layered(layers, key).unwrap(),
                    piped.read_through(layers, key).unwrap()
                );
            }
        }
        assert_eq!(p3.get(b"acct/8"), Some(None));
        assert_eq!(p3.get(b"nope"), None);
        assert_eq!(
            piped.get_latest(b"h/2").unwrap(),
            None,
            "nothing written yet"
        );

        // Commit in order; a prepare whose oldest ancestors are now committed still works.
        piped.commit_block(block_commit(1, p1.clone())).unwrap();
        let p4 = piped
            .prepare(&[p3.clone(), p2.clone(), p1.clone()], chain_writes(4), 4)
            .unwrap();
        assert_eq!(p4.root, expected[4]);
        piped.commit_block(block_commit(2, p2.clone())).unwrap();
        piped.commit_block(block_commit(3, p3.clone())).unwrap();
        piped.commit_block(block_commit(4, Arc::new(p4))).unwrap();
        for h in 0..5 {
            assert_eq!(piped.state_root(h).unwrap(), Some(expected[h as usize]));
        }
        for h in 0..5 {
            let k = format!("h/{h}");
            assert_eq!(
                piped.get(k.as_bytes(), 4).unwrap(),
                seq.get(k.as_bytes(), 4).unwrap()
            );
        }
    }
}

#[test]
fn competing_forks() {
    for algo in ALGOS {
        let (_dir, store) = open(algo);
        commit(&store, 0, writes(&[("a", Some("0"))]));
        let fork_a = Arc::new(store.prepare(&[], writes(&[("a", Some("A"))]), 1).unwrap());
        let fork_b = Arc::new(store.prepare(&[], writes(&[("a", Some("B"))]), 1).unwrap());
        assert_ne!(fork_a.root, fork_b.root);
        let child_b = Arc::new(
            store
                .prepare(
                    std::slice::from_ref(&fork_b),
                    writes(&[("b", Some("1"))]),
                    2,
                )
                .unwrap(),
        );

        store.commit_block(block_commit(1, fork_a.clone())).unwrap();
        assert_eq!(store.get_latest(b"a").unwrap(), Some(b"A".to_vec()));
        assert_eq!(store.get(b"a", 1).unwrap(), Some(b"A".to_vec()));

        // The losing fork can neither be committed nor built upon.
        let err = store.commit_block(block_commit(2, child_b)).unwrap_err();
        assert_eq!(err.code(), "storage.state_mismatch");
        let err = store
            .prepare(std::slice::from_ref(&fork_b), Writes::new(), 2)
            .unwrap_err();
        assert_eq!(err.code(), "storage.invalid_pending");
        let err = store.read_through(&[fork_b], b"a").unwrap_err();
        assert_eq!(err.code(), "storage.invalid_pending");
        assert_eq!(store.latest().unwrap().unwrap().0, 1);
    }
}

#[test]
fn invalid_pending_chains() {
    let (_dir, store) = open(HashAlgo::Sha256);
    commit(&store, 0, Writes::new());
    let p1 = Arc::new(store.prepare(&[], writes(&[("k", Some("1"))]), 1).unwrap());
    let p2 = Arc::new(
        store
            .prepare(std::slice::from_ref(&p1), Writes::new(), 2)
            .unwrap(),
    );
    // Wrong order (oldest first).
    let err = store
        .prepare(&[p1.clone(), p2.clone()], Writes::new(), 3)
        .unwrap_err();
    assert_eq!(err.code(), "storage.invalid_pending");
    // Gap: version must be parent + 1.
    let err = store
        .prepare(std::slice::from_ref(&p1), Writes::new(), 3)
        .unwrap_err();
    assert_eq!(err.code(), "storage.height_mismatch");
    // Missing ancestor.
    let err = store
        .prepare(std::slice::from_ref(&p2), Writes::new(), 3)
        .unwrap_err();
    assert_eq!(err.code(), "storage.invalid_pending");
    // A state from another algorithm.
    let (_d2, sm3) = open(HashAlgo::Sm3);
    commit(&sm3, 0, Writes::new());
    let foreign = Arc::new(sm3.prepare(&[], Writes::new(), 1).unwrap());
    let err = store
        .prepare(std::slice::from_ref(&foreign), Writes::new(), 2)
        .unwrap_err();
    assert_eq!(err.code(), "storage.invalid_pending");
    let err = store.commit_block(block_commit(1, foreign)).unwrap_err();
    assert_eq!(err.code(), "storage.state_mismatch");
}

/// Blocks without deletions take the tree's batched update path, blocks with one the per-key
/// path; both must give the same roots and proofs, or nodes could disagree depending on which
/// blocks carried a deletion.
#[test]
fn batched_and_per_key_tree_updates_agree() {
    for algo in ALGOS {
        let (_a, batched) = open(algo);
        let (_b, per_key) = open(algo);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for height in 0..6u64 {
            let mut w: Writes = (0..400)
                .map(|_| {
                    let k = format!("key/{}", next() % 1_500).into_bytes();
                    (k, Some(format!("v{height}-{}", next()).into_bytes()))
                })
                .collect();
            let root_batched = commit(&batched, height, w.clone()).root;
            // Deleting a key that was never written changes no contents, only the path taken.
            w.insert(b"never/written".to_vec(), None);
            let root_per_key = commit(&per_key, height, w).root;
            assert_eq!(root_batched, root_per_key, "{algo} height {height}");
        }
        for i in (0..1_500).step_by(97) {
            let key = format!("key/{i}").into_bytes();
            let (va, pa) = batched.get_with_proof(&key, 5).unwrap();
            let (vb, pb) = per_key.get_with_proof(&key, 5).unwrap();
            assert_eq!(va, vb);
            assert_eq!(pa, pb);
        }
    }
}
