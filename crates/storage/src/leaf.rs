//! How state keys map to tree leaves in [`StateLayout::Shared`]: a key and its history head
//! share one leaf. ([`StateLayout::Separate`], layout 1, gives every key a leaf of its own.)
//!
//! The node keeps, beside every tracked key `K`, a history head under `history/K` (the count
//! and hash chain of `K`'s versions; `xa_types::modules::history`). Both are written by the same
//! transaction, always, so storing them as two leaves doubled the tree's work for every record
//! for nothing (`cargo bench -p xa-storage --bench growth` with and without the heads:
//! ~150 against ~82 µs of storage per notary anchor past 300,000 anchors; ARCHITECTURE.md).
//!
//! So in layout 2 the tree has one leaf per *base key*: a key `history/K` (where `K` does not itself start
//! with `history/`) is the [`Side::Head`] of base `K`; every other key is the [`Side::Value`] of
//! itself. The leaf's value is [`encode`]`(value of K, value of history/K)`, present while either
//! is; its key hash is the hash of `K`. Reads and writes above the tree (`state_latest`,
//! execution, the API) still see two keys; a proof of one carries the other's value
//! ([`crate::StateProof::partner`]) so that the leaf can be rebuilt and checked.
//!
//! The layout is written by hand because it is ours: no crate knows which keys belong together.

use crate::StorageError;

/// Prefix of the keys that share their base key's leaf. Equal to
/// `xa_types::modules::history::PREFIX` (checked by a test in `xa-node`).
pub const PAIRED_PREFIX: &[u8] = b"history/";

/// First byte of every leaf value: the layout's version.
const LEAF_FORMAT: u8 = 1;

/// How state keys map to tree leaves; fixed per chain at genesis (a chain's state roots depend
/// on it), recorded in the store and given to every proof check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateLayout {
    /// Layout 1: one leaf per key, a history head a key of its own (chains whose genesis
    /// names no layout, created before 2026-11-25).
    Separate,
    /// Layout 2: a key and its history head (`history/‖key`) share one leaf.
    Shared,
}

impl StateLayout {
    /// The layout's number (1 or 2), as genesis and the store record it.
    pub fn tag(self) -> u8 {
        match self {
            StateLayout::Separate => 1,
            StateLayout::Shared => 2,
        }
    }

    /// The layout a genesis's `state_layout` field names: layout 1 when it names none (chains
    /// created before layout 2), layout 2 for 2. Genesis validation refuses other numbers.
    pub fn of_genesis(field: Option<u8>) -> StateLayout {
        match field {
            None => StateLayout::Separate,
            Some(tag) => StateLayout::from_tag(tag).unwrap_or(StateLayout::Shared),
        }
    }

    /// The layout numbered `tag`, `None` for an unknown number.
    pub fn from_tag(tag: u8) -> Option<StateLayout> {
        match tag {
            1 => Some(StateLayout::Separate),
            2 => Some(StateLayout::Shared),
            _ => None,
        }
    }
}

impl std::fmt::Display for StateLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "layout {}", self.tag())
    }
}

/// A leaf's two halves, or a key's half and its partner: `(one, other)`.
pub(crate) type Halves = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Which half of a leaf a key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// The base key's own value.
    Value,
    /// The base key's history head (`history/K`).
    Head,
}

/// The base key whose leaf holds `key` in the [`StateLayout::Shared`] layout, and which half
/// of it `key` is.
pub(crate) fn split(key: &[u8]) -> (&[u8], Side) {
    match key.strip_prefix(PAIRED_PREFIX) {
        Some(base) if !base.starts_with(PAIRED_PREFIX) => (base, Side::Head),
        _ => (key, Side::Value),
    }
}

/// The key of the other half of `base`'s leaf from `side`: `None` when that half cannot exist
/// (a base starting with `history/` has no head).
pub(crate) fn partner_key(base: &[u8], side: Side) -> Option<Vec<u8>> {
    match side {
        Side::Head => Some(base.to_vec()),
        Side::Value if base.starts_with(PAIRED_PREFIX) => None,
        Side::Value => Some([PAIRED_PREFIX, base].concat()),
    }
}

/// The leaf value for a base key's two halves; `None` (no leaf) when both are absent.
pub(crate) fn encode(value: Option<&[u8]>, head: Option<&[u8]>) -> Option<Vec<u8>> {
    if value.is_none() && head.is_none() {
        return None;
    }
    let len = 3 + value.map_or(0, |v| v.len() + 4) + head.map_or(0, |h| h.len() + 4);
    let mut out = Vec::with_capacity(len);
    out.push(LEAF_FORMAT);
    for half in [value, head] {
        match half {
            None => out.push(0),
            Some(bytes) => {
                out.push(1);
                // Values are bounded by the block size, far below 4 GiB.
                out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
    Some(out)
}

/// The two halves of a leaf value: `(value, head)`.
pub(crate) fn decode(raw: &[u8]) -> Result<Halves, StorageError> {
    let bad = |what: &str| StorageError::Corrupt(format!("state leaf: {what}"));
    let (&format, mut rest) = raw.split_first().ok_or_else(|| bad("empty"))?;
    if format != LEAF_FORMAT {
        return Err(bad(&format!("unknown format {format}")));
    }
    let mut half = || -> Result<Option<Vec<u8>>, StorageError> {
        let (&tag, after) = rest.split_first().ok_or_else(|| bad("truncated"))?;
        rest = after;
        match tag {
            0 => Ok(None),
            1 => {
                let (len, after) = rest.split_at_checked(4).ok_or_else(|| bad("truncated"))?;
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                let (bytes, after) = after
                    .split_at_checked(len)
                    .ok_or_else(|| bad("truncated"))?;
                rest = after;
                Ok(Some(bytes.to_vec()))
            }
            t => Err(bad(&format!("bad tag {t}"))),
        }
    };
    let value = half()?;
    let head = half()?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    if value.is_none() && head.is_none() {
        return Err(bad("both halves absent"));
    }
    Ok((value, head))
}

/// The half of a decoded leaf that `side` names.
pub(crate) fn pick((value, head): Halves, side: Side) -> Halves {
    match side {
        Side::Value => (value, head),
        Side::Head => (head, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_one_base_and_side() {
        assert_eq!(split(b"notary/x"), (&b"notary/x"[..], Side::Value));
        assert_eq!(split(b"history/notary/x"), (&b"notary/x"[..], Side::Head));
        // A base never starts with the prefix, so no key belongs to two leaves.
        assert_eq!(
            split(b"history/history/x"),
            (&b"history/history/x"[..], Side::Value)
        );
        assert_eq!(split(b"history/"), (&b""[..], Side::Head));
        assert_eq!(
            partner_key(b"notary/x", Side::Value),
            Some(b"history/notary/x".to_vec())
        );
        assert_eq!(
            partner_key(b"notary/x", Side::Head),
            Some(b"notary/x".to_vec())
        );
        assert_eq!(partner_key(b"history/history/x", Side::Value), None);
    }

    #[test]
    fn leaves_round_trip_and_refuse_malformed_bytes() {
        for (v, h) in [
            (Some(&b"record"[..]), Some(&b"head"[..])),
            (Some(b""), None),
            (None, Some(b"h")),
        ] {
            let raw = encode(v, h).expect("a leaf");
            assert_eq!(
                decode(&raw).expect("decodes"),
                (v.map(<[u8]>::to_vec), h.map(<[u8]>::to_vec))
            );
            for cut in 0..raw.len() {
                assert!(decode(&raw[..cut]).is_err(), "prefix of {} bytes", cut);
            }
            let mut longer = raw.clone();
            longer.push(0);
            assert!(decode(&longer).is_err());
        }
        assert_eq!(encode(None, None), None);
        assert!(decode(&[LEAF_FORMAT, 0, 0]).is_err());
        assert!(decode(&[2, 0, 1, 0, 0, 0, 0]).is_err());
    }
}
