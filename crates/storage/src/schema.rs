//! Keyspace (partition) names and key/value encodings. All integers are big-endian so that
//! lexicographic key order equals numeric order.

use crate::StorageError;
use jmt::storage::NodeKey;

/// `"latest"` → `height u64 ‖ block hash [32]`; `"algo"` → `[tag u8]`.
pub(crate) const CHAIN: &str = "chain";
/// `version u64 ‖ borsh(NibblePath)` → `borsh(jmt::storage::Node)`.
pub(crate) const JMT_NODES: &str = "jmt_nodes";
/// `key hash [32] ‖ version u64` → `0x00` (deleted) or `0x01 ‖ value`.
pub(crate) const JMT_VALUES: &str = "jmt_values";
/// `meta` key of the state layout a store was created with ([`crate::StateLayout::tag`], one
/// byte; absent: layout 1, stores from before it was recorded).
pub(crate) const META_STATE_LAYOUT: &str = "store.state_layout";
/// raw state key → current value (absent when deleted).
pub(crate) const STATE_LATEST: &str = "state_latest";
/// `height u64` → state root `[32]`.
pub(crate) const STATE_ROOTS: &str = "state_roots";
/// `height u64` → block bytes.
pub(crate) const BLOCKS: &str = "blocks";
/// `height u64` → block hash `[32]`.
pub(crate) const BLOCK_HASHES: &str = "block_hashes";
/// block hash `[32]` → `height u64`.
pub(crate) const BLOCK_HEIGHTS: &str = "block_heights";
/// `height u64` → finalization certificate bytes.
pub(crate) const FINALIZATIONS: &str = "finalizations";
/// tx hash `[32]` → `height u64 ‖ index u32`.
pub(crate) const TX_INDEX: &str = "tx_index";
/// tx hash `[32]` → receipt bytes.
pub(crate) const RECEIPTS: &str = "receipts";
/// `name length u16 ‖ name (utf-8) ‖ key` → value.
pub(crate) const INDEXES: &str = "indexes";
/// utf-8 key → value (node-local, not consensus state).
pub(crate) const META: &str = "meta";
/// `meta` key of the memtable size the store was created with (u64, big-endian).
pub(crate) const META_MEMTABLE_BYTES: &str = "store.memtable_bytes";
/// `key hash [32] ‖ height u64` → `borsh(Vec<(tx hash [32], Option<value>)>)`: the versions one
/// block wrote of one key, in block order ([`crate::BlockCommit::key_versions`]).
pub(crate) const KEY_VERSIONS: &str = "key_versions";
/// `level u8 ‖ index u64` → root `[32]` of the perfect subtree of the block-hash history tree
/// over leaves `index·2^level ..< (index+1)·2^level` (level 0: leaf hash `H(0x00 ‖ block hash)`).
pub(crate) const HISTORY: &str = "history";

pub(crate) fn history_key(level: u32, index: u64) -> [u8; 9] {
    let mut out = [0u8; 9];
    out[0] = level as u8;
    out[1..].copy_from_slice(&index.to_be_bytes());
    out
}

/// Key of the latest-commit pointer in [`CHAIN`].
pub(crate) const CHAIN_LATEST: &[u8] = b"latest";
/// Key of the hash algorithm tag in [`CHAIN`].
pub(crate) const CHAIN_ALGO: &[u8] = b"algo";

pub(crate) fn height_key(h: u64) -> [u8; 8] {
    h.to_be_bytes()
}

pub(crate) fn node_key(key: &NodeKey) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::with_capacity(8 + 8 + 4 + 32);
    out.extend_from_slice(&key.version().to_be_bytes());
    borsh::to_writer(&mut out, key.nibble_path())
        .map_err(|e| StorageError::Corrupt(format!("encode node key: {e}")))?;
    Ok(out)
}

pub(crate) fn value_key(key_hash: &[u8; 32], version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(key_hash);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

pub(crate) fn encode_value(v: Option<&[u8]>) -> Vec<u8> {
    match v {
        None => vec![0],
        Some(v) => {
            let mut out = Vec::with_capacity(v.len() + 1);
            out.push(1);
            out.extend_from_slice(v);
            out
        }
    }
}

pub(crate) fn decode_value(raw: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
    match raw.split_first() {
        Some((0, [])) => Ok(None),
        Some((1, rest)) => Ok(Some(rest.to_vec())),
        _ => Err(StorageError::Corrupt("bad value record tag".into())),
    }
}

pub(crate) fn latest_record(height: u64, hash: &[u8; 32]) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..8].copy_from_slice(&height.to_be_bytes());
    out[8..].copy_from_slice(hash);
    out
}

pub(crate) fn decode_latest(raw: &[u8]) -> Result<(u64, [u8; 32]), StorageError> {
    if raw.len() != 40 {
        return Err(StorageError::Corrupt("bad latest record".into()));
    }
    let (h, hash) = raw.split_at(8);
    Ok((decode_u64(h)?, to_hash(hash)?))
}

pub(crate) fn tx_location(height: u64, index: u32) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&height.to_be_bytes());
    out[8..].copy_from_slice(&index.to_be_bytes());
    out
}

pub(crate) fn decode_tx_location(raw: &[u8]) -> Result<(u64, u32), StorageError> {
    if raw.len() != 12 {
        return Err(StorageError::Corrupt("bad tx location".into()));
    }
    let (h, i) = raw.split_at(8);
    let i: [u8; 4] = i
        .try_into()
        .map_err(|_| StorageError::Corrupt("bad tx index".into()))?;
    Ok((decode_u64(h)?, u32::from_be_bytes(i)))
}

pub(crate) fn index_key(name: &str, key: &[u8]) -> Result<Vec<u8>, StorageError> {
    let len = u16::try_from(name.len())
        .map_err(|_| StorageError::InvalidInput(format!("index name too long: {}", name.len())))?;
    let mut out = Vec::with_capacity(2 + name.len() + key.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(key);
    Ok(out)
}

pub(crate) fn decode_u64(raw: &[u8]) -> Result<u64, StorageError> {
    let b: [u8; 8] = raw
        .try_into()
        .map_err(|_| StorageError::Corrupt("bad u64".into()))?;
    Ok(u64::from_be_bytes(b))
}

pub(crate) fn to_hash(raw: &[u8]) -> Result<[u8; 32], StorageError> {
    raw.try_into()
        .map_err(|_| StorageError::Corrupt("bad 32-byte hash".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_roundtrip() {
        assert_eq!(decode_value(&encode_value(None)).unwrap(), None);
        assert_eq!(
            decode_value(&encode_value(Some(b""))).unwrap(),
            Some(vec![])
        );
        assert_eq!(
            decode_value(&encode_value(Some(b"xy"))).unwrap(),
            Some(b"xy".to_vec())
        );
        assert!(decode_value(&[]).is_err());
        assert!(decode_value(&[0, 1]).is_err());
    }

    #[test]
    fn records_roundtrip() {
        let h = [7u8; 32];
        assert_eq!(decode_latest(&latest_record(9, &h)).unwrap(), (9, h));
        assert_eq!(decode_tx_location(&tx_location(5, 3)).unwrap(), (5, 3));
        assert_eq!(index_key("ab", b"k").unwrap(), b"\x00\x02abk".to_vec());
        // Prefix-freeness between names: ("a", "bk") vs ("ab", "k").
        assert_ne!(
            index_key("a", b"bk").unwrap(),
            index_key("ab", b"k").unwrap()
        );
    }
}
