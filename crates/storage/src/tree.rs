//! The Jellyfish Merkle tree glue: a [`TreeReader`] that layers uncommitted ancestors' node
//! batches over the database, and generic per-hasher operations.

use crate::schema;
use crate::{HashAlgo, StorageError};
use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, SimpleHasher, Version};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The root hash of an empty tree (jmt's placeholder hash).
pub const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// The result of [`crate::Store::prepare`]: the state at `version` computed on top of its parent,
/// not yet written. Commit it with [`crate::Store::commit_block`] or drop it (e.g. a losing fork).
#[derive(Clone)]
pub struct PendingState {
    /// The version (block height) this state is for.
    pub version: u64,
    /// The state root after applying the writes.
    pub root: [u8; 32],
    pub(crate) algo: HashAlgo,
    pub(crate) parent_root: [u8; 32],
    pub(crate) nodes: NodeBatch,
    pub(crate) writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl PendingState {
    /// The write this state makes to `key`: `None` = untouched here, `Some(None)` = deleted here,
    /// `Some(Some(v))` = set to `v` here.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.writes.get(key).map(|v| v.as_deref())
    }

    /// The root of the state this one was built on.
    pub fn parent_root(&self) -> [u8; 32] {
        self.parent_root
    }

    /// The key writes applied at this version (`None` = delete).
    pub fn writes(&self) -> &BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        &self.writes
    }
}

impl std::fmt::Debug for PendingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingState")
            .field("version", &self.version)
            .field("root", &hex::encode(self.root))
            .field("parent_root", &hex::encode(self.parent_root))
            .field("algo", &self.algo)
            .field("writes", &self.writes.len())
            .field("new_nodes", &self.nodes.nodes().len())
            .finish()
    }
}

/// Reads jmt nodes and values from uncommitted layers (nearest first), then from the database.
pub(crate) struct OverlayReader<'a> {
    pub(crate) nodes: &'a fjall::Keyspace,
    pub(crate) values: &'a fjall::Keyspace,
    pub(crate) layers: &'a [Arc<PendingState>],
    /// When the store is empty and the first version is 1, the (absent) root at version 0 is
    /// presented as the empty tree.
    pub(crate) empty_root_version: Option<Version>,
}

impl OverlayReader<'_> {
    pub(crate) fn db_value(
        values: &fjall::Keyspace,
        max_version: Version,
        key_hash: &[u8; 32],
    ) -> Result<Option<Option<Vec<u8>>>, StorageError> {
        let lo = schema::value_key(key_hash, 0);
        let hi = schema::value_key(key_hash, max_version);
        match values.range(lo..=hi).next_back() {
            None => Ok(None),
            Some(guard) => {
                let v = guard.value()?;
                Ok(Some(schema::decode_value(&v)?))
            }
        }
    }
}

impl TreeReader for OverlayReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        for layer in self.layers {
            if let Some(node) = layer.nodes.get_node(node_key) {
                return Ok(Some(node.clone()));
            }
        }
        let key = schema::node_key(node_key)?;
        if let Some(raw) = self.nodes.get(key)? {
            let node: Node = borsh::from_slice(&raw)
                .map_err(|e| StorageError::Corrupt(format!("jmt node: {e}")))?;
            return Ok(Some(node));
        }
        if node_key.nibble_path().is_empty() && Some(node_key.version()) == self.empty_root_version
        {
            return Ok(Some(Node::Null));
        }
        Ok(None)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        for layer in self.layers {
            if layer.version <= max_version
                && let Some(v) = layer.nodes.values().get(&(layer.version, key_hash))
            {
                return Ok(v.clone());
            }
        }
        Ok(Self::db_value(self.values, max_version, &key_hash.0)?.flatten())
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("get_rightmost_leaf is not supported by xa-storage")
    }
}

fn tree_err(e: anyhow::Error) -> StorageError {
    StorageError::Tree(format!("{e:#}"))
}

/// Apply `writes` at `version` and return the new root and update batch.
pub(crate) fn put<H: SimpleHasher>(
    reader: &OverlayReader<'_>,
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: Version,
) -> Result<([u8; 32], jmt::storage::TreeUpdateBatch), StorageError> {
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
    // The tree's shape and hashes depend only on the resulting key set, not on how it was
    // updated, so both paths below give the same root and nodes. `batch_put_value_sets` visits
    // each touched node once and hashes it once (the per-key path rewrites and rehashes the
    // whole path for every key): several times cheaper for blocks of thousands of writes. It
    // takes no deletions and no empty set, so those blocks use the per-key path.
    let (root, batch) = if !writes.is_empty() && writes.values().all(Option::is_some) {
        let set: Vec<(KeyHash, OwnedValue)> = writes
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (KeyHash::with::<H>(k), v.clone())))
            .collect();
        let (roots, batch) = tree
            .batch_put_value_sets(vec![set], None, version)
            .map_err(tree_err)?;
        let root = roots
            .first()
            .copied()
            .ok_or_else(|| StorageError::Tree("batch update returned no root".into()))?;
        (root, batch)
    } else {
        let set = writes
            .iter()
            .map(|(k, v)| (KeyHash::with::<H>(k), v.clone()));
        tree.put_value_set(set, version).map_err(tree_err)?
    };
    Ok((root.0, batch))
}

/// Look up the leaf of base key `key` at `version` with a proof (the leaf's raw value; the
/// caller splits it, [`crate::leaf`]).
pub(crate) fn get_with_proof<H: SimpleHasher>(
    reader: &OverlayReader<'_>,
    key: &[u8],
    version: Version,
) -> Result<(Option<Vec<u8>>, crate::StateProof), StorageError> {
    let tree = JellyfishMerkleTree::<_, H>::new(reader);
    let (value, proof) = tree
        .get_with_proof(KeyHash::with::<H>(key), version)
        .map_err(tree_err)?;
    let proof = crate::StateProof::from_jmt(&proof).map_err(StorageError::Tree)?;
    Ok((value, proof))
}
