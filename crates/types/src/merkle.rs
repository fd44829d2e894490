//! Binary Merkle tree over a list of leaf hashes (RFC 6962 layout).
//!
//! Hand-written on purpose: the layout is part of the frozen proof format (docs/proofs.md), it
//! must run with either suite's hash (SHA-256 or SM3), and it is twenty lines. Leaves and inner
//! nodes are domain-separated (0x00 / 0x01) so an inner node can never pass for a leaf.

use crate::{Hash, Suite};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Hash of a leaf: `H(0x00 || leaf)`.
pub fn leaf(suite: Suite, leaf: &Hash) -> Hash {
    suite.hash_parts(&[&[0u8], &leaf.0])
}

/// Hash of an inner node: `H(0x01 || left || right)`.
pub fn node(suite: Suite, left: &Hash, right: &Hash) -> Hash {
    suite.hash_parts(&[&[1u8], &left.0, &right.0])
}

/// Root of `leaves`; the root of no leaves is `H("")`.
pub fn root(suite: Suite, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => suite.hash(&[]),
        1 => leaf(suite, &leaves[0]),
        n => {
            let k = split(n);
            node(
                suite,
                &root(suite, &leaves[..k]),
                &root(suite, &leaves[k..]),
            )
        }
    }
}

/// Largest power of two strictly less than `n` (n >= 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// An audit path proving one leaf's place under a root.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Leaf index.
    pub index: u64,
    /// Number of leaves in the tree.
    pub size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

/// Build the audit path of leaf `index`, or `None` if out of range.
pub fn prove(suite: Suite, leaves: &[Hash], index: usize) -> Option<InclusionProof> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    collect_path(suite, leaves, index, &mut path);
    Some(InclusionProof {
        index: index as u64,
        size: leaves.len() as u64,
        path,
    })
}

fn collect_path(suite: Suite, leaves: &[Hash], index: usize, path: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    if index < k {
        collect_path(suite, &leaves[..k], index, path);
        path.push(root(suite, &leaves[k..]));
    } else {
        collect_path(suite, &leaves[k..], index - k, path);
        path.push(root(suite, &leaves[..k]));
    }
}

/// Check that `leaf_hash` is leaf `proof.index` of a tree of `proof.size` leaves with `root`.
pub fn verify(suite: Suite, root_hash: &Hash, leaf_hash: &Hash, proof: &InclusionProof) -> bool {
    if proof.index >= proof.size {
        return false;
    }
    match fold(suite, leaf_hash, proof.index, proof.size, &proof.path) {
        Some((computed, rest)) => rest.is_empty() && computed == *root_hash,
        None => false,
    }
}

/// Recompute the root of a subtree of `size` leaves containing the leaf at `index`, consuming
/// siblings from the end of `path` (the root-most sibling is last). Returns the remaining path.
fn fold<'a>(
    suite: Suite,
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    path: &'a [Hash],
) -> Option<(Hash, &'a [Hash])> {
    if size == 1 {
        return Some((leaf(suite, leaf_hash), path));
    }
    let (sibling, rest) = path.split_last()?;
    let k = split(size as usize) as u64;
    if index < k {
        let (left, rest2) = fold(suite, leaf_hash, index, k, rest)?;
        Some((node(suite, &left, sibling), rest2))
    } else {
        let (right, rest2) = fold(suite, leaf_hash, index - k, size - k, rest)?;
        Some((node(suite, sibling, &right), rest2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| Hash([i as u8; 32])).collect()
    }

    #[test]
    fn every_leaf_proves_and_tampering_fails() {
        for suite in [Suite::Ed25519, Suite::Sm2] {
            for n in 1..=9 {
                let l = leaves(n);
                let r = root(suite, &l);
                for i in 0..n {
                    let p = prove(suite, &l, i).expect("in range");
                    assert!(verify(suite, &r, &l[i], &p), "n={n} i={i}");
                    assert!(!verify(suite, &r, &Hash([0xee; 32]), &p));
                    let mut bad = p.clone();
                    bad.index = (bad.index + 1) % n as u64;
                    if n > 1 {
                        assert!(!verify(suite, &r, &l[i], &bad));
                    }
                    if let Some(first) = p.path.first() {
                        let mut bad = p.clone();
                        bad.path[0] = Hash([first.0[0] ^ 1; 32]);
                        assert!(!verify(suite, &r, &l[i], &bad));
                    }
                }
                assert!(prove(suite, &l, n).is_none());
            }
        }
    }

    /// Frozen roots of leaves `[i; 32]` for i in 0..n, computed independently (Python
    /// hashlib / OpenSSL) with the RFC 6962 layout and 0x00/0x01 domain bytes.
    #[test]
    fn root_vectors() {
        let cases = [
            (
                0,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b",
            ),
            (
                1,
                "7f9c9e31ac8256ca2f258583df262dbc7d6f68f2a03043d5c99a4ae5a7396ce9",
                "8fa0dd2c798c5bbada415e5d1167a37072ee65558a2cea408bc5214c9fd28f3c",
            ),
            (
                2,
                "28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444",
                "5c7633eb2815ff2dfee77f8c67eeb49013606d10ec966818265ab0e7dae2276f",
            ),
            (
                3,
                "ba8d94b7fbcecae7b81c4c80574fe24734a6917bf9c1ecd66ff3e0c34ead4620",
                "2f8993f13ebb8e194c8d6e684f834a0cdf839603dfb28aa4754ce3343eb6c313",
            ),
            (
                5,
                "85e20cac1f02fda7bcdb2fc3f908568c57018c77815f1fa361acad13994f08bf",
                "79dfa0cfc884c5e3f0339390a260bb7eb9bcaad7228ecc26dada4b51e24f398a",
            ),
        ];
        for (n, sha, sm3) in cases {
            assert_eq!(
                root(Suite::Ed25519, &leaves(n)).to_string(),
                sha,
                "sha256 n={n}"
            );
            assert_eq!(root(Suite::Sm2, &leaves(n)).to_string(), sm3, "sm3 n={n}");
        }
    }
}
