//! Binary Merkle tree over a list of leaf hashes (RFC 6962 layout), with inclusion proofs,
//! consistency proofs (RFC 9162 section 2.1.4) and an append-only [`Frontier`].
//!
//! Hand-written on purpose: the layout is part of the frozen proof format (docs/proofs.md), it
//! must run with either suite's hash (SHA-256 or SM3), and it is small. Leaves and inner
//! nodes are domain-separated (0x00 / 0x01) so an inner node can never pass for a leaf.
//!
//! # Perfect subtrees
//! Proofs over a large, growing tree (the block-hash history) are generated from *perfect
//! subtrees*: `(level, index)` names the root of the aligned subtree over leaves
//! `index * 2^level .. (index + 1) * 2^level`. Level 0 nodes are leaf hashes ([`leaf`]). A store
//! keeps each perfect subtree once it is complete, so any proof needs `O(log n)` lookups.

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

/// Largest power of two strictly less than `n` (n >= 2); no overflow for any `n`, since proof
/// sizes come from untrusted input.
fn split(n: usize) -> usize {
    1usize << (usize::BITS - 1 - (n.max(2) - 1).leading_zeros())
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

/// A proof that a tree of `size1` leaves is a prefix of a tree of `size2` leaves.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Leaves in the older tree.
    pub size1: u64,
    /// Leaves in the newer tree.
    pub size2: u64,
    /// The RFC 9162 consistency path, deepest node first.
    pub path: Vec<Hash>,
}

/// Root of the (possibly imperfect) subtree over leaves `start .. start + len`, where the range
/// is one the RFC 6962 recursion produces, from perfect subtree roots given by `perfect`.
pub fn range_root<E>(
    suite: Suite,
    start: u64,
    len: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    if len == 0 {
        return Ok(suite.hash(&[]));
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        return perfect(len.trailing_zeros(), start / len);
    }
    let k = split(len as usize) as u64;
    let left = range_root(suite, start, k, perfect)?;
    let right = range_root(suite, start + k, len - k, perfect)?;
    Ok(node(suite, &left, &right))
}

/// The audit path of leaf `index` in a tree of `size` leaves, from perfect subtree roots.
/// `None` when `index >= size`.
pub fn prove_with<E>(
    suite: Suite,
    index: u64,
    size: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Option<InclusionProof>, E> {
    if index >= size {
        return Ok(None);
    }
    let mut path = Vec::new();
    // Walk down from the root, collecting siblings root-first, then reverse.
    let (mut start, mut len, mut i) = (0u64, size, index);
    while len > 1 {
        let k = split(len as usize) as u64;
        if i < k {
            path.push(range_root(suite, start + k, len - k, perfect)?);
            len = k;
        } else {
            path.push(range_root(suite, start, k, perfect)?);
            start += k;
            len -= k;
            i -= k;
        }
    }
    path.reverse();
    Ok(Some(InclusionProof { index, size, path }))
}

/// A consistency proof from `size1` to `size2` leaves (RFC 9162 SUBPROOF), from perfect subtree
/// roots. `None` when `size1 > size2`. Sizes 0 and `size1 == size2` give an empty path.
pub fn prove_consistency_with<E>(
    suite: Suite,
    size1: u64,
    size2: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Option<ConsistencyProof>, E> {
    if size1 > size2 {
        return Ok(None);
    }
    let mut path = Vec::new();
    if size1 > 0 && size1 < size2 {
        subproof(suite, size1, 0, size2, true, perfect, &mut path)?;
    }
    Ok(Some(ConsistencyProof { size1, size2, path }))
}

/// RFC 9162 SUBPROOF(m, D[start .. start + n], whole).
fn subproof<E>(
    suite: Suite,
    m: u64,
    start: u64,
    n: u64,
    whole: bool,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
    path: &mut Vec<Hash>,
) -> Result<(), E> {
    if m == n {
        if !whole {
            path.push(range_root(suite, start, n, perfect)?);
        }
        return Ok(());
    }
    let k = split(n as usize) as u64;
    if m <= k {
        subproof(suite, m, start, k, whole, perfect, path)?;
        path.push(range_root(suite, start + k, n - k, perfect)?);
    } else {
        subproof(suite, m - k, start + k, n - k, false, perfect, path)?;
        path.push(range_root(suite, start, k, perfect)?);
    }
    Ok(())
}

/// Perfect subtree roots over an in-memory list of leaves (for tests and small trees).
pub fn perfect_of(suite: Suite, leaves: &[Hash]) -> impl FnMut(u32, u64) -> Result<Hash, ()> {
    move |level, index| {
        let lo = usize::try_from(index << level).map_err(|_| ())?;
        let hi = lo.checked_add(1usize << level).ok_or(())?;
        leaves.get(lo..hi).map(|l| root(suite, l)).ok_or(())
    }
}

/// Check that the tree of `proof.size1` leaves with `root1` is a prefix of the tree of
/// `proof.size2` leaves with `root2` (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    suite: Suite,
    root1: &Hash,
    root2: &Hash,
    proof: &ConsistencyProof,
) -> bool {
    let (size1, size2, path) = (proof.size1, proof.size2, &proof.path);
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return path.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        // Every tree extends the empty one; the empty root is fixed.
        return path.is_empty() && *root1 == suite.hash(&[]);
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(path.len() + 1);
    if size1.is_power_of_two() {
        nodes.push(*root1);
    }
    nodes.extend_from_slice(path);
    let Some((first, rest)) = nodes.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node(suite, c, &fr);
            sr = node(suite, c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node(suite, &sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *root1 && sr == *root2
}

/// The right edge of an append-only tree: the roots of its perfect subtrees, largest first,
/// one per set bit of `size`. Enough to append leaves and compute the root in `O(log n)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Frontier {
    size: u64,
    peaks: Vec<Hash>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves from its perfect subtree roots.
    pub fn from_perfect<E>(
        size: u64,
        perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
    ) -> Result<Self, E> {
        let mut peaks = Vec::new();
        for level in (0..64u32).rev() {
            if size >> level & 1 == 1 {
                peaks.push(perfect(level, (size >> level) - 1)?);
            }
        }
        Ok(Self { size, peaks })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a leaf (the raw leaf value, e.g. a block hash; it is hashed with [`leaf`]).
    /// Returns the perfect subtrees completed by it, lowest level first, as `(level, index, root)`.
    pub fn push(&mut self, suite: Suite, value: &Hash) -> Vec<(u32, u64, Hash)> {
        let mut cur = leaf(suite, value);
        let (mut level, mut index) = (0u32, self.size);
        let mut done = vec![(level, index, cur)];
        while index & 1 == 1 {
            let Some(left) = self.peaks.pop() else { break };
            cur = node(suite, &left, &cur);
            level += 1;
            index >>= 1;
            done.push((level, index, cur));
        }
        self.peaks.push(cur);
        self.size += 1;
        done
    }

    /// The RFC 6962 root of the leaves appended so far (`H("")` for none).
    pub fn root(&self, suite: Suite) -> Hash {
        let mut it = self.peaks.iter().rev();
        let Some(last) = it.next() else {
            return suite.hash(&[]);
        };
        it.fold(*last, |acc, p| node(suite, p, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_and_frontier_agree_with_root() {
        for suite in [Suite::Ed25519, Suite::Sm2] {
            let l = leaves(20);
            let mut f = Frontier::default();
            for n in 0..=l.len() {
                assert_eq!(f.root(suite), root(suite, &l[..n]), "frontier n={n}");
                let from = Frontier::from_perfect(n as u64, &mut perfect_of(suite, &l)).unwrap();
                assert_eq!(from, f);
                if n < l.len() {
                    f.push(suite, &l[n]);
                }
                for i in 0..n {
                    let a = prove_with(suite, i as u64, n as u64, &mut perfect_of(suite, &l))
                        .unwrap()
                        .unwrap();
                    assert_eq!(Some(a), prove(suite, &l[..n], i));
                }
            }
            for n2 in 0..=l.len() as u64 {
                let r2 = root(suite, &l[..n2 as usize]);
                for n1 in 0..=n2 {
                    let r1 = root(suite, &l[..n1 as usize]);
                    let p = prove_consistency_with(suite, n1, n2, &mut perfect_of(suite, &l))
                        .unwrap()
                        .unwrap();
                    assert!(verify_consistency(suite, &r1, &r2, &p), "{n1}->{n2}");
                    if n1 > 0 && n1 < n2 {
                        assert!(!verify_consistency(suite, &r2, &r1, &p));
                        for j in 0..p.path.len() {
                            let mut bad = p.clone();
                            bad.path[j].0[0] ^= 1;
                            assert!(
                                !verify_consistency(suite, &r1, &r2, &bad),
                                "{n1}->{n2} j={j}"
                            );
                        }
                        // A fork: the same prefix length, a different later leaf.
                        let mut fork = l[..n2 as usize].to_vec();
                        fork[n1 as usize - 1] = Hash([0xee; 32]);
                        let rf = root(suite, &fork);
                        assert!(!verify_consistency(suite, &r1, &rf, &p));
                    }
                }
            }
        }
    }

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

    /// Frozen consistency proof from 3 to 7 leaves `[i; 32]`, computed independently with
    /// Python hashlib (RFC 9162 SUBPROOF), quoted in docs/proofs.md.
    #[test]
    fn absurd_sizes_are_refused_without_panic() {
        let r = Hash([1; 32]);
        for size in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1] {
            let p = InclusionProof {
                index: size - 1,
                size,
                path: vec![r; 3],
            };
            assert!(!verify(Suite::Ed25519, &r, &r, &p));
            let c = ConsistencyProof {
                size1: size - 1,
                size2: size,
                path: vec![r; 3],
            };
            assert!(!verify_consistency(Suite::Ed25519, &r, &r, &c));
        }
        for n in 2..70usize {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            assert_eq!(split(n), k, "n={n}");
        }
    }

    #[test]
    fn consistency_vectors() {
        let cases = [
            (
                Suite::Ed25519,
                "7318881c41fce3c1de3640df8e8c110c93f43f686b74204a9d1ad5b8c71c2047",
                [
                    "cba8c596120bdb69debbd923d92cba948bde7c7d06a465a1bb7d98d3116038fa",
                    "acaa04663a8547a2f70c60cc18f9378796b13c4f9a08f70d6adae662365b30c6",
                    "28fb81e496897e0ce886f08602392e9239b65c659041e5202163e58ad898f444",
                    "1f3f95843413191fe7521996b6b1e4147d703b1702c475a478ad25a6f6b415b4",
                ],
            ),
            (
                Suite::Sm2,
                "04aea4a1c1fa0c15c88322d0df7b846c580af428a7afaafa7f1e81b19399689f",
                [
                    "55d4bb12d3aebdb60ea195f9a293cd326a576aeebcc7245a5017baf2bc2fa366",
                    "3dfe546add1b22a0f7c48f3bd328a01333c46975e86f8339a2cdf267f52f7aab",
                    "5c7633eb2815ff2dfee77f8c67eeb49013606d10ec966818265ab0e7dae2276f",
                    "1c56ae29af54ef6697a442ad7c1fb667d22d1449f2691d4219f9cb7bb743a2c1",
                ],
            ),
        ];
        let l = leaves(7);
        for (suite, root7, path) in cases {
            assert_eq!(root(suite, &l).to_string(), root7);
            let p = prove_consistency_with(suite, 3, 7, &mut perfect_of(suite, &l))
                .unwrap()
                .unwrap();
            let got: Vec<String> = p.path.iter().map(ToString::to_string).collect();
            assert_eq!(got, path);
            assert!(verify_consistency(
                suite,
                &root(suite, &l[..3]),
                &root(suite, &l),
                &p
            ));
        }
    }
}
