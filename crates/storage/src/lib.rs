//! Persist blocks and authenticated state for one node, durably and atomically.
//!
//! `xa-storage` keeps two things in **one** [fjall] database:
//!
//! 1. an authenticated key-value **state**: a Jellyfish Merkle tree ([jmt]) with one root per
//!    version, where version = block height. Values can be read at any committed version, with
//!    inclusion / non-inclusion proofs ([`StateProof`], checked by [`verify_proof`]);
//! 2. a **block store**: encoded blocks (opaque bytes), their hashes, finalization certificates,
//!    transaction locations, receipts and generic secondary indexes.
//!
//! # Terminology
//!
//! - *Version*: a block height; the state after executing block `h` is version `h`.
//! - *Pending state*: the result of [`Store::prepare`]: the jmt node batch, the raw writes and the
//!   new root for a version, held in memory until [`Store::commit_block`] writes it. Pending
//!   states can be chained (a child prepared on top of uncommitted ancestors, which are layered
//!   over the database by an overlay reader); competing forks produce competing pending states,
//!   and only the committed one is ever written.
//! - *Hash algorithm*: [`HashAlgo::Sha256`] or [`HashAlgo::Sm3`], chosen when the store is created
//!   and used for node hashes, key hashes (`KeyHash = hash(key)`) and value hashes.
//!
//! # Layout
//!
//! One fjall keyspace (partition) per table. Integers are big-endian, so key order is numeric.
//!
//! | keyspace        | key                                   | value                                  |
//! |-----------------|---------------------------------------|----------------------------------------|
//! | `chain`         | `"latest"` / `"algo"`                 | `height u64 ‖ block hash` / `tag u8`    |
//! | `jmt_nodes`     | `version u64 ‖ borsh(NibblePath)`     | `borsh(jmt Node)`                      |
//! | `jmt_values`    | `base key hash [32] ‖ version u64`    | `0x00` (no leaf) or `0x01 ‖ leaf`      |
//! | `jmt_stale`     | `stale-since u64 ‖ node key`          | empty; no longer written (no pruning)  |
//! | `state_latest`  | raw state key                         | current value (absent = deleted)       |
//! | `state_roots`   | `height u64`                          | state root `[32]`                      |
//! | `blocks`        | `height u64`                          | block bytes                            |
//! | `block_hashes`  | `height u64`                          | block hash `[32]`                      |
//! | `block_heights` | block hash `[32]`                     | `height u64`                           |
//! | `finalizations` | `height u64`                          | certificate bytes                      |
//! | `tx_index`      | tx hash `[32]`                        | `height u64 ‖ index u32`               |
//! | `receipts`      | tx hash `[32]`                        | receipt bytes                          |
//! | `indexes`       | `len u16 ‖ index name ‖ key`          | value                                  |
//! | `meta`          | utf-8 key                             | value (node-local, not consensus)      |
//! | `history`       | `level u8 ‖ index u64`                | perfect subtree root `[32]`            |
//! | `key_versions`  | `key hash [32] ‖ height u64`          | `borsh(Vec<(tx hash [32], Option<value>)>)` |
//!
//! The `history` keyspace holds the block-hash history tree (RFC 6962 layout, leaf `i` = hash of
//! block `i`): each perfect subtree is written once, in the batch of the block that completes it
//! (about two entries per block). Any root, inclusion proof or consistency proof over the first
//! `n` blocks is computed from `O(log n)` of them. It is kept only for stores whose first block is
//! height 0.
//!
//! The state tree keeps one value per key and height: a block's final value. `key_versions` keeps
//! what it cannot, the per-transaction versions of a key that one block wrote more than once
//! ([`BlockCommit::key_versions`], [`Store::block_versions`]), so a key's history can list every
//! version with the transaction that wrote it. The caller decides which keys (the node: tracked
//! keys written by two or more transactions of the block); a block that writes a key once stores
//! nothing here.
//!
//! In the [`StateLayout::Shared`] layout (a chain's genesis fixes it) the tree has one leaf per
//! *base key*: a key and its history head (`history/‖key`) share it, and the leaf's value holds
//! both halves ([`PAIRED_PREFIX`]; `docs/proofs.md`, "State proofs"). `state_latest` and every
//! read above the tree still see two keys; a proof of one carries the other half
//! ([`StateProof::partner`]). In [`StateLayout::Separate`] every key is a leaf of its own.
//!
//! Historical reads ([`Store::get`]) take the newest `jmt_values` entry for the base key's hash at or
//! below the version (one reverse range scan); proofs walk the tree. [`Store::get_latest`] reads
//! `state_latest` only.
//!
//! The empty tree's root is jmt's placeholder hash ([`Store::empty_root`]). The first committed
//! height may be **0** (genesis) or **1**; after that heights are strictly consecutive.
//!
//! # Durability
//!
//! Everything for one block (tree nodes, values, latest values, state root,
//! block, hashes, certificate, tx index, receipts, extra indexes, key versions and the
//! `chain/latest` pointer)
//! is written by [`Store::commit_block`] in **one** fjall write batch, which fjall journals as a
//! single checksummed record and which is fsynced (`PersistMode::SyncAll`) before the call
//! returns. On recovery fjall truncates a torn journal tail, so after a crash (even `kill -9` or
//! power loss) every block whose `commit_block` returned `Ok` is present, and a block whose commit
//! was interrupted is either entirely present or entirely absent: never half-written. Readers never observe a partially applied batch (fjall
//! publishes the batch's sequence number only after applying all of it). [`Store::meta_put`] is
//! also fsynced.

#![warn(missing_docs)]

mod error;
mod hash;
mod leaf;
pub mod priority;
mod proof;
mod schema;
mod store;
mod tree;

pub use error::{ProofError, StorageError};
pub use hash::HashAlgo;
pub use leaf::{PAIRED_PREFIX, StateLayout};
pub use proof::{ProofLeaf, ProofSibling, StateProof, verify_proof};
pub use store::{
    BlockCommit, BlockVersions, MIN_JOURNAL_BYTES, MIN_MEMTABLE_BYTES, Store, StoreOptions, Version,
};
pub use tree::{EMPTY_ROOT, PendingState};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_sync() {
        assert_send_sync::<Store>();
        assert_send_sync::<PendingState>();
        assert_send_sync::<BlockCommit>();
    }
}
