//! Key history: a per-key hash chain in authenticated state, so that a key's complete history
//! (every version, with the transaction that wrote it) can be proven by one state proof.
//!
//! # Layout
//! For every key with a tracked prefix ([`TRACKED`]), the state also holds, under
//! [`head_key`]`(key)`, a [`HistoryHead`]: the number of versions, the head of the chain, and
//! the height and transaction of the last version. Every transaction that writes the key (set or
//! delete) appends one link, in block order, with the value it left; a block in which three
//! transactions write the key appends three links at that height:
//!
//! ```text
//! link_0 = 32 zero bytes
//! link_i = H("XA-HISTORY-V1" ‖ link_{i-1} ‖ u64_le(height_i) ‖ tx_hash_i ‖ value_tag_i)
//! value_tag = 0x00 for a deletion, 0x01 ‖ H(value) for a value
//! ```
//!
//! A verifier given every version recomputes the chain and compares count and head with the
//! proven [`HistoryHead`]: an omitted, duplicated, altered or reordered version changes the head.
//! Versions are therefore ordered by height, and within a height by the writing transactions'
//! order in the block; the node appends them from the executor's per-transaction writes of
//! tracked keys. Writes made by the chain itself (genesis, epoch changes) carry the zero hash and
//! come after the block's transactions.

use crate::{Hash, Suite};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Prefix of the history heads in state.
pub const PREFIX: &[u8] = b"history/";
/// Domain tag of a history link.
pub const HISTORY_DOMAIN: &[u8] = b"XA-HISTORY-V1";
/// State-key prefixes whose history is kept: records, not counters.
/// Accounts are not tracked: their nonce changes with every transaction they send. Tenders
/// (with their bids, shares, opening, scores, objections), contracts and payment requests (with
/// each transfer line, `payment/request/{id}/line/{n}`) are tracked so an auditor can prove a
/// tender's or a contract's whole trail, down to one worker's line.
pub const TRACKED: &[&[u8]] = &[
    b"notary/",
    b"validators/set",
    b"identity/org/",
    b"identity/personal/",
    b"policy/",
    b"governance/proposal/",
    b"tender/t/",
    b"payment/contract/",
    b"payment/request/",
];

/// Whether `key`'s history is kept.
pub fn is_tracked(key: &[u8]) -> bool {
    TRACKED.iter().any(|p| key.starts_with(p))
}

/// State key of the history head of `key`.
pub fn head_key(key: &[u8]) -> Vec<u8> {
    [PREFIX, key].concat()
}

/// The head of a key's history chain, as stored under [`head_key`].
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct HistoryHead {
    /// Number of versions.
    pub count: u64,
    /// The last link.
    pub head: Hash,
    /// Height of the last version.
    pub height: u64,
    /// Transaction of the last version (zero for writes by the chain itself).
    pub tx_hash: Hash,
}

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Version {
    /// Height of the block that wrote it (several versions may share a height: one per
    /// transaction of that block that wrote the key).
    pub height: u64,
    /// The transaction that wrote it (zero for writes by the chain itself).
    pub tx_hash: Hash,
    /// The value, `None` for a deletion (hex in JSON).
    #[serde(with = "crate::hexser::option")]
    pub value: Option<Vec<u8>>,
}

/// The link after `prev` for one version.
pub fn link(suite: Suite, prev: &Hash, height: u64, tx_hash: &Hash, value: Option<&[u8]>) -> Hash {
    let value_hash = value.map(|v| suite.hash(v));
    let tag: Vec<u8> = match &value_hash {
        None => vec![0],
        Some(h) => [&[1u8][..], &h.0].concat(),
    };
    suite.hash_parts(&[
        HISTORY_DOMAIN,
        &prev.0,
        &height.to_le_bytes(),
        &tx_hash.0,
        &tag,
    ])
}

impl HistoryHead {
    /// The head after appending one version.
    pub fn next(&self, suite: Suite, height: u64, tx_hash: Hash, value: Option<&[u8]>) -> Self {
        Self {
            count: self.count + 1,
            head: link(suite, &self.head, height, &tx_hash, value),
            height,
            tx_hash,
        }
    }

    /// The head of a chain of `versions`, oldest first (the default head for none).
    pub fn of(suite: Suite, versions: &[Version]) -> Self {
        versions.iter().fold(Self::default(), |h, v| {
            h.next(suite, v.height, v.tx_hash, v.value.as_deref())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Freezes the link layout (docs/proofs.md); computed independently with Python hashlib.
    #[test]
    fn link_vector() {
        let versions = [
            Version {
                height: 3,
                tx_hash: Hash([1; 32]),
                value: Some(b"a".to_vec()),
            },
            Version {
                height: 5,
                tx_hash: Hash([2; 32]),
                value: None,
            },
        ];
        let h = HistoryHead::of(Suite::Ed25519, &versions);
        assert_eq!(h.count, 2);
        assert_eq!(h.height, 5);
        assert_eq!(
            h.head.to_string(),
            "d6ecace3a8577cb6bc9c0be5ba9eeee73975d8f53fcc7c6f8b9bc4da558151e2"
        );
    }
}
