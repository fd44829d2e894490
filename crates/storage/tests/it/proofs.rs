//! Inclusion / non-inclusion proofs and their standalone verification.

use crate::common::*;
use xa_storage::{EMPTY_ROOT, HashAlgo, ProofSibling, StateProof, Store, verify_proof};

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
        verify_proof(algo, &root, b"notary/7", Some(b"val-7"), &proof).unwrap();

        // Tampered value.
        let err = verify_proof(algo, &root, b"notary/7", Some(b"val-8"), &proof).unwrap_err();
        assert_eq!(err.code(), "proof.invalid");
        // Tampered sibling.
        let bad = tamper_sibling(&proof);
        assert!(verify_proof(algo, &root, b"notary/7", Some(b"val-7"), &bad).is_err());
        // Wrong root (the previous version's root, and a random one).
        let old_root = store.state_root(0).unwrap().unwrap();
        assert!(verify_proof(algo, &old_root, b"notary/7", Some(b"val-7"), &proof).is_err());
        assert!(verify_proof(algo, &[9; 32], b"notary/7", Some(b"val-7"), &proof).is_err());
        let (_, p3) = store.get_with_proof(b"notary/3", 1).unwrap();
        assert!(verify_proof(algo, &old_root, b"notary/3", Some(b"changed"), &p3).is_err());
        verify_proof(algo, &root, b"notary/3", Some(b"changed"), &p3).unwrap();
        // Wrong key for the proof.
        assert!(verify_proof(algo, &root, b"notary/8", Some(b"val-7"), &proof).is_err());
        // The other algorithm does not verify it.
        let other = if algo == HashAlgo::Sha256 {
            HashAlgo::Sm3
        } else {
            HashAlgo::Sha256
        };
        assert!(verify_proof(other, &root, b"notary/7", Some(b"val-7"), &proof).is_err());
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
        verify_proof(algo, &root, b"notary/absent", None, &proof).unwrap();
        assert!(verify_proof(algo, &root, b"notary/absent", Some(b"x"), &proof).is_err());
        // Deleted at version 1, present at version 0.
        let (value, proof) = store.get_with_proof(b"notary/4", 1).unwrap();
        assert_eq!(value, None);
        verify_proof(algo, &root, b"notary/4", None, &proof).unwrap();
        let root0 = store.state_root(0).unwrap().unwrap();
        let (value0, proof0) = store.get_with_proof(b"notary/4", 0).unwrap();
        assert_eq!(value0.as_deref(), Some(&b"val-4"[..]));
        verify_proof(algo, &root0, b"notary/4", Some(b"val-4"), &proof0).unwrap();

        // Claiming absence of a present key fails, with its own or another key's proof.
        let (_, present) = store.get_with_proof(b"notary/9", 1).unwrap();
        let err = verify_proof(algo, &root, b"notary/9", None, &present).unwrap_err();
        assert_eq!(err.code(), "proof.invalid");
        assert!(verify_proof(algo, &root, b"notary/9", None, &proof).is_err());
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
        verify_proof(algo, &EMPTY_ROOT, b"k", None, &proof).unwrap();
        assert!(verify_proof(algo, &EMPTY_ROOT, b"k", Some(b"v"), &proof).is_err());
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
    verify_proof(algo, &root, b"notary/11", Some(b"val-11"), &from_json).unwrap();
    // Hashes are hex strings in JSON.
    let leaf = proof.leaf.unwrap();
    assert!(json.contains(&hex::encode(leaf.key_hash)));
}
