//! Inclusion / non-inclusion proofs and their standalone verification.

use crate::common::*;
use xa_storage::{
    EMPTY_ROOT, HashAlgo, ProofSibling, StateLayout, StateProof, Store, StoreOptions, verify_proof,
};

/// A store with 40 keys at version 0 and a few changes at version 1.
fn populated(algo: HashAlgo) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), algo).unwrap();
    let mut w = Writes::new();
    for i in 0..40 {
        w.insert(
            format!("notary/{i}").into_bytes(),
            Some(format!("val-{i}").into_bytes()),
        );
    }
    commit(&store, 0, w);
    commit(
        &store,
        1,
        writes(&[("notary/3", Some("changed")), ("notary/4", None)]),
    );
    (dir, store)
}

fn tamper_sibling(proof: &StateProof) -> StateProof {
    let mut bad = proof.clone();
    assert!(!bad.siblings.is_empty(), "test needs a proof with siblings");
    let last = bad.siblings.len() - 1;
    bad.siblings[last] = match &bad.siblings[last] {
        ProofSibling::Null => ProofSibling::Internal {
            left: [1; 32],
            right: [2; 32],
        },
        ProofSibling::Internal { left, right } => {
            let mut left = *left;
            left[0] ^= 1;
            ProofSibling::Internal {
                left,
                right: *right,
            }
        }
        ProofSibling::Leaf(leaf) => {
            let mut leaf = *leaf;
            leaf.value_hash[0] ^= 1;
            ProofSibling::Leaf(leaf)
        }
    };
    bad
}

#[test]
fn inclusion_and_tampering() {
    for algo in ALGOS {
        let (_dir, store) = populated(algo);
        let root = store.state_root(1).unwrap().unwrap();
        let (value, proof) = store.get_with_proof(b"notary/7", 1).unwrap();
        assert_eq!(value.as_deref(), Some(&b"val-7"[..]));
        verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            b"notary/7",
            Some(b"val-7"),
            &proof,
        )
        .unwrap();

        // Tampered value.
        let err = verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            b"notary/7",
            Some(b"val-8"),
            &proof,
        )
        .unwrap_err();
        assert_eq!(err.code(), "proof.invalid");
        // Tampered sibling.
        let bad = tamper_sibling(&proof);
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &root,
                b"notary/7",
                Some(b"val-7"),
                &bad
            )
            .is_err()
        );
        // Wrong root (the previous version's root, and a random one).
        let old_root = store.state_root(0).unwrap().unwrap();
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &old_root,
                b"notary/7",
                Some(b"val-7"),
                &proof
            )
            .is_err()
        );
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &[9; 32],
                b"notary/7",
                Some(b"val-7"),
                &proof
            )
            .is_err()
        );
        let (_, p3) = store.get_with_proof(b"notary/3", 1).unwrap();
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &old_root,
                b"notary/3",
                Some(b"changed"),
                &p3
            )
            .is_err()
        );
        verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            b"notary/3",
            Some(b"changed"),
            &p3,
        )
        .unwrap();
        // Wrong key for the proof.
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &root,
                b"notary/8",
                Some(b"val-7"),
                &proof
            )
            .is_err()
        );
        // The other algorithm does not verify it.
        let other = if algo == HashAlgo::Sha256 {
            HashAlgo::Sm3
        } else {
            HashAlgo::Sha256
        };
        assert!(
            verify_proof(
                other,
                StateLayout::Shared,
                &root,
                b"notary/7",
                Some(b"val-7"),
                &proof
            )
            .is_err()
        );
    }
}

#[test]
fn non_inclusion() {
    for algo in ALGOS {
        let (_dir, store) = populated(algo);
        let root = store.state_root(1).unwrap().unwrap();
        // Never-present key.
        let (value, proof) = store.get_with_proof(b"notary/absent", 1).unwrap();
        assert_eq!(value, None);
        verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            b"notary/absent",
            None,
            &proof,
        )
        .unwrap();
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &root,
                b"notary/absent",
                Some(b"x"),
                &proof
            )
            .is_err()
        );
        // Deleted at version 1, present at version 0.
        let (value, proof) = store.get_with_proof(b"notary/4", 1).unwrap();
        assert_eq!(value, None);
        verify_proof(algo, StateLayout::Shared, &root, b"notary/4", None, &proof).unwrap();
        let root0 = store.state_root(0).unwrap().unwrap();
        let (value0, proof0) = store.get_with_proof(b"notary/4", 0).unwrap();
        assert_eq!(value0.as_deref(), Some(&b"val-4"[..]));
        verify_proof(
            algo,
            StateLayout::Shared,
            &root0,
            b"notary/4",
            Some(b"val-4"),
            &proof0,
        )
        .unwrap();

        // Claiming absence of a present key fails, with its own or another key's proof.
        let (_, present) = store.get_with_proof(b"notary/9", 1).unwrap();
        let err = verify_proof(
            algo,
            StateLayout::Shared,
            &root,
            b"notary/9",
            None,
            &present,
        )
        .unwrap_err();
        assert_eq!(err.code(), "proof.invalid");
        assert!(verify_proof(algo, StateLayout::Shared, &root, b"notary/9", None, &proof).is_err());
    }
}

#[test]
fn empty_tree_proof() {
    for algo in ALGOS {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), algo).unwrap();
        commit(&store, 0, Writes::new());
        let (value, proof) = store.get_with_proof(b"k", 0).unwrap();
        assert_eq!(value, None);
        assert_eq!(store.state_root(0).unwrap(), Some(EMPTY_ROOT));
        verify_proof(algo, StateLayout::Shared, &EMPTY_ROOT, b"k", None, &proof).unwrap();
        assert!(
            verify_proof(
                algo,
                StateLayout::Shared,
                &EMPTY_ROOT,
                b"k",
                Some(b"v"),
                &proof
            )
            .is_err()
        );
        assert_eq!(
            store.get_with_proof(b"k", 1).unwrap_err().code(),
            "storage.version_not_found"
        );
    }
}

#[test]
fn proof_serialization_roundtrip() {
    let algo = HashAlgo::Sm3;
    let (_dir, store) = populated(algo);
    let root = store.state_root(1).unwrap().unwrap();
    let (_, proof) = store.get_with_proof(b"notary/11", 1).unwrap();
    let json = serde_json::to_string(&proof).unwrap();
    let from_json: StateProof = serde_json::from_str(&json).unwrap();
    assert_eq!(from_json, proof);
    let bytes = borsh::to_vec(&proof).unwrap();
    let from_borsh: StateProof = borsh::from_slice(&bytes).unwrap();
    assert_eq!(from_borsh, proof);
    verify_proof(
        algo,
        StateLayout::Shared,
        &root,
        b"notary/11",
        Some(b"val-11"),
        &from_json,
    )
    .unwrap();
    // Hashes are hex strings in JSON.
    let leaf = proof.leaf.unwrap();
    assert!(json.contains(&hex::encode(leaf.key_hash)));
}

/// A key and its history head share one leaf: each is proven with the other as the proof's
/// partner, a changed partner or a missing one does not verify, a deleted key whose head stays
/// is proven absent through the shared leaf, and reads, versions and proofs see two keys.
#[test]
fn a_key_and_its_history_head_share_a_leaf() {
    for algo in ALGOS {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), algo).unwrap();
        commit(
            &store,
            0,
            writes(&[
                ("notary/a", Some("record-a")),
                ("history/notary/a", Some("head-a-1")),
                ("notary/b", Some("record-b")),
                ("accounts/x", Some("nonce-1")),
            ]),
        );
        // The record deleted, its head moved on; the account written alone.
        commit(
            &store,
            1,
            writes(&[
                ("notary/a", None),
                ("history/notary/a", Some("head-a-2")),
                ("accounts/x", Some("nonce-2")),
            ]),
        );
        // Only the head written (its key's value is read for the leaf).
        commit(&store, 2, writes(&[("history/notary/b", Some("head-b-1"))]));
        for h in 0..=2 {
            let root = store.state_root(h).unwrap().unwrap();
            for key in [
                "notary/a",
                "history/notary/a",
                "notary/b",
                "history/notary/b",
                "accounts/x",
                "history/accounts/x",
                "notary/none",
            ] {
                let (value, proof) = store.get_with_proof(key.as_bytes(), h).unwrap();
                assert_eq!(value, store.get(key.as_bytes(), h).unwrap(), "{key}@{h}");
                let check = |v: Option<&[u8]>, p: &StateProof| {
                    verify_proof(algo, StateLayout::Shared, &root, key.as_bytes(), v, p)
                };
                check(value.as_deref(), &proof).unwrap_or_else(|e| panic!("{key}@{h}: {e}"));
                // The other value, or a changed or dropped partner, does not verify.
                assert!(check(Some(&b"other"[..]), &proof).is_err());
                let mut bad = proof.clone();
                bad.partner = match &proof.partner {
                    Some(p) => {
                        let mut p = p.clone();
                        p.push(b'!');
                        Some(p)
                    }
                    None => Some(b"invented".to_vec()),
                };
                assert!(
                    check(value.as_deref(), &bad).is_err(),
                    "{key}@{h} with a changed partner"
                );
                if proof.partner.is_some() {
                    let mut bad = proof.clone();
                    bad.partner = None;
                    assert!(
                        check(value.as_deref(), &bad).is_err(),
                        "{key}@{h} without its partner"
                    );
                }
            }
        }
        assert_eq!(store.get(b"notary/a", 1).unwrap(), None);
        assert_eq!(
            store.get(b"history/notary/a", 1).unwrap().as_deref(),
            Some(&b"head-a-2"[..])
        );
        let (_, p) = store.get_with_proof(b"notary/a", 1).unwrap();
        assert_eq!(p.partner.as_deref(), Some(&b"head-a-2"[..]));
        assert_eq!(
            store.get(b"history/notary/b", 2).unwrap().as_deref(),
            Some(&b"head-b-1"[..])
        );
        assert_eq!(
            store.get(b"notary/b", 2).unwrap().as_deref(),
            Some(&b"record-b"[..])
        );
        assert_eq!(
            store.get_latest(b"notary/b").unwrap().as_deref(),
            Some(&b"record-b"[..])
        );
        // Versions of each half: the heights at which that half changed.
        assert_eq!(
            store.versions(b"history/notary/a", 2).unwrap(),
            vec![
                (0, Some(b"head-a-1".to_vec())),
                (1, Some(b"head-a-2".to_vec()))
            ]
        );
        assert_eq!(
            store.versions(b"notary/a", 2).unwrap(),
            vec![(0, Some(b"record-a".to_vec())), (1, None)]
        );
        assert_eq!(
            store.versions(b"notary/b", 2).unwrap(),
            vec![(0, Some(b"record-b".to_vec()))]
        );
        // A proof from JSON keeps its partner.
        let (_, p) = store.get_with_proof(b"history/notary/a", 1).unwrap();
        let back: StateProof = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.partner, None, "the record was deleted at 1");
    }
}

/// A chain of layout 1 (genesis without a layout, before 2026-11-25) keeps its layout: one
/// leaf per key, proofs without partners, checked in layout 1 only; a store is opened only in
/// the layout it was created in, and one from before the layout was recorded is layout 1.
#[test]
fn layout_one_stores_keep_one_leaf_per_key() {
    let separate = StoreOptions {
        layout: StateLayout::Separate,
        ..StoreOptions::default()
    };
    for algo in ALGOS {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(dir.path(), algo, separate).unwrap();
        assert_eq!(store.layout(), StateLayout::Separate);
        let w = writes(&[
            ("notary/a", Some("record-a")),
            ("history/notary/a", Some("head-a")),
        ]);
        commit(&store, 0, w.clone());
        let root = store.state_root(0).unwrap().unwrap();
        for (key, value) in [("notary/a", "record-a"), ("history/notary/a", "head-a")] {
            let (v, proof) = store.get_with_proof(key.as_bytes(), 0).unwrap();
            assert_eq!(v.as_deref(), Some(value.as_bytes()));
            assert_eq!(proof.partner, None);
            verify_proof(
                algo,
                StateLayout::Separate,
                &root,
                key.as_bytes(),
                v.as_deref(),
                &proof,
            )
            .unwrap();
            // The same proof read in the other layout does not verify.
            assert!(
                verify_proof(
                    algo,
                    StateLayout::Shared,
                    &root,
                    key.as_bytes(),
                    v.as_deref(),
                    &proof
                )
                .is_err()
            );
        }
        // The two layouts give different roots for the same writes.
        let other = tempfile::tempdir().unwrap();
        let shared = Store::open(other.path(), algo).unwrap();
        commit(&shared, 0, w);
        assert_ne!(shared.state_root(0).unwrap().unwrap(), root);
        drop(shared);
        // A layout-2 proof read in layout 1 fails too.
        let shared = Store::open(other.path(), algo).unwrap();
        let shared_root = shared.state_root(0).unwrap().unwrap();
        let (v, p) = shared.get_with_proof(b"history/notary/a", 0).unwrap();
        assert!(
            verify_proof(
                algo,
                StateLayout::Separate,
                &shared_root,
                b"history/notary/a",
                v.as_deref(),
                &p
            )
            .is_err()
        );
        drop(store);
        // Opened in the other layout: refused by name.
        let err = Store::open(dir.path(), algo).unwrap_err();
        assert_eq!(err.code(), "storage.layout");
        assert!(err.to_string().contains("layout 1"), "{err}");
        // A store from before the layout was recorded is layout 1.
        {
            let store = Store::open_with(dir.path(), algo, separate).unwrap();
            store.meta_put("store.state_layout", &[]).unwrap();
        }
        let err = Store::open_with(dir.path(), algo, separate).unwrap_err();
        assert_eq!(
            err.code(),
            "storage.corrupt",
            "an empty record is not a layout"
        );
    }
}
