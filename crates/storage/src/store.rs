//! The [`Store`] handle.

use crate::hash::with_hasher;
use crate::leaf::{self, StateLayout};
use crate::schema::{self, height_key};
use crate::tree::{self, EMPTY_ROOT, OverlayReader, PendingState};
use crate::{HashAlgo, StateProof, StorageError};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

/// Key writes (`None` = delete), in key order.
type KeyWrites = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// One committed version of a key: `(height, value)`, `None` for a deletion.
pub type Version = (u64, Option<Vec<u8>>);

/// The versions one block wrote of one key, in block order: `(writing transaction's hash,
/// value)`, `None` for a deletion.
pub type BlockVersions = Vec<([u8; 32], Option<Vec<u8>>)>;

/// Everything written for one block by [`Store::commit_block`], in one atomic, durable batch.
#[derive(Debug, Clone)]
pub struct BlockCommit {
    /// Block height; equals the state version.
    pub height: u64,
    /// Hash of the block (computed by the caller).
    pub block_hash: [u8; 32],
    /// Encoded block (opaque to this crate).
    pub block: Vec<u8>,
    /// Encoded finalization certificate (opaque to this crate).
    pub finalization: Vec<u8>,
    /// The state produced by [`Store::prepare`] for `height` on top of the committed latest state.
    pub state: Arc<PendingState>,
    /// Transactions in block order: `(tx hash, receipt bytes)`; the position is the tx index.
    pub txs: Vec<([u8; 32], Vec<u8>)>,
    /// Extra secondary-index entries `(index name, key, value)`, read back with [`Store::index_get`].
    pub indexes: Vec<(String, Vec<u8>, Vec<u8>)>,
    /// Per-transaction versions of keys this block wrote more than once, `(key, versions in
    /// block order)`, read back with [`Store::block_versions`]. The state keeps only a block's
    /// final value of a key; these are the intermediate ones (the caller chooses the keys).
    pub key_versions: Vec<(Vec<u8>, BlockVersions)>,
}

/// How much the store buffers in memory before fjall writes tables: node-local tuning, never part
/// of the state, so validators of one chain may differ.
///
/// The defaults are fjall's. Validators that share a machine write the same data at the same
/// rate, so with equal sizes they flush at the same moment and together take every core for a
/// second or two; `xachain init` gives each validator different sizes so that their flushes
/// spread out (ARCHITECTURE.md, "Validators on one machine flush at different times").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Bytes one keyspace buffers (its memtable) before it is flushed to a table on disk. Fixed
    /// when the store is created (fjall keeps it per keyspace); a later value only logs a
    /// warning ([`Store::memtable_bytes`] gives the size in use).
    pub memtable_bytes: u64,
    /// Bytes of journal kept before every keyspace is flushed, so that the journal can be
    /// trimmed; at least [`MIN_JOURNAL_BYTES`]. Applies at every open.
    pub journal_bytes: u64,
    /// How state keys map to tree leaves. Unlike the sizes above this is the chain's, from its
    /// genesis: a new store is created in it, and an existing store in another is refused
    /// ([`StorageError::Layout`]). Default: [`StateLayout::Shared`].
    pub layout: StateLayout,
}

/// fjall's smallest journal limit (it refuses less).
pub const MIN_JOURNAL_BYTES: u64 = 64 << 20;
/// The smallest memtable a store accepts: 1 MiB.
pub const MIN_MEMTABLE_BYTES: u64 = 1 << 20;

impl Default for StoreOptions {
    /// fjall's defaults: 64 MiB memtables, a 512 MiB journal. 16 MiB memtables shortened the
    /// flushes that make the latency tail of a one-machine network but cost more CPU over
    /// six-minute runs (ARCHITECTURE.md, "The tail is background storage work").
    fn default() -> Self {
        StoreOptions {
            memtable_bytes: 64 << 20,
            journal_bytes: 512 << 20,
            layout: StateLayout::Shared,
        }
    }
}

impl StoreOptions {
    fn check(&self) -> Result<(), StorageError> {
        if self.memtable_bytes < MIN_MEMTABLE_BYTES {
            return Err(StorageError::InvalidInput(format!(
                "memtable_bytes: {} is less than {MIN_MEMTABLE_BYTES}",
                self.memtable_bytes
            )));
        }
        if self.journal_bytes < MIN_JOURNAL_BYTES {
            return Err(StorageError::InvalidInput(format!(
                "journal_bytes: {} is less than {MIN_JOURNAL_BYTES}",
                self.journal_bytes
            )));
        }
        Ok(())
    }
}

struct Keyspaces {
    chain: Keyspace,
    nodes: Keyspace,
    values: Keyspace,
    state_latest: Keyspace,
    state_roots: Keyspace,
    blocks: Keyspace,
    block_hashes: Keyspace,
    block_heights: Keyspace,
    finalizations: Keyspace,
    tx_index: Keyspace,
    receipts: Keyspace,
    indexes: Keyspace,
    meta: Keyspace,
    history: Keyspace,
    key_versions: Keyspace,
}

struct Inner {
    db: Database,
    ks: Keyspaces,
    algo: HashAlgo,
    layout: StateLayout,
    /// Cached commit pointer; updated only after a successful durable commit.
    latest: RwLock<Option<(u64, [u8; 32])>>,
    /// Serializes commits (height check + write).
    commit_lock: Mutex<()>,
}

/// A handle to one node's storage: authenticated state plus block store on one fjall database.
///
/// Cheap to clone (an `Arc` inside); `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("algo", &self.inner.algo)
            .field("latest", &self.latest().ok().flatten().map(|l| l.0))
            .finish()
    }
}

/// The pending ancestors that are not yet committed, after validation against the store.
struct Chain<'p> {
    layers: &'p [Arc<PendingState>],
    /// Version the next state (on top of `layers`) must have, `None` = 0 or 1 (empty store).
    next_version: Option<u64>,
    /// Root of the state the next version builds on.
    parent_root: [u8; 32],
}

impl Store {
    /// Open (or create) the store at `path` with tree hash `algo` and default [`StoreOptions`].
    ///
    /// The algorithm is recorded on first open; reopening with another one fails with
    /// [`StorageError::AlgoMismatch`].
    pub fn open(path: &Path, algo: HashAlgo) -> Result<Store, StorageError> {
        Self::open_with(path, algo, StoreOptions::default())
    }

    /// [`Store::open`] with write-buffer sizes of its own; sizes out of range fail with
    /// [`StorageError::InvalidInput`] naming the field, before anything is opened.
    pub fn open_with(
        path: &Path,
        algo: HashAlgo,
        options: StoreOptions,
    ) -> Result<Store, StorageError> {
        options.check()?;
        // fjall's flush and compaction workers start here, at a lower CPU and I/O priority than
        // the block pipeline's threads (crate::priority).
        let db = crate::priority::with_lowered_priority(crate::priority::BACKGROUND_NICE, || {
            Database::builder(path)
                .max_journaling_size(options.journal_bytes)
                .open()
        })
        .map_err(fjall::Error::from)??;
        // fjall keeps a keyspace's memtable size from its creation and ignores the option later.
        let fresh = !db.keyspace_exists(schema::CHAIN);
        let open = |name: &str| {
            db.keyspace(name, || {
                KeyspaceCreateOptions::default().max_memtable_size(options.memtable_bytes)
            })
        };
        let ks = Keyspaces {
            chain: open(schema::CHAIN)?,
            nodes: open(schema::JMT_NODES)?,
            values: open(schema::JMT_VALUES)?,
            state_latest: open(schema::STATE_LATEST)?,
            state_roots: open(schema::STATE_ROOTS)?,
            blocks: open(schema::BLOCKS)?,
            block_hashes: open(schema::BLOCK_HASHES)?,
            block_heights: open(schema::BLOCK_HEIGHTS)?,
            finalizations: open(schema::FINALIZATIONS)?,
            tx_index: open(schema::TX_INDEX)?,
            receipts: open(schema::RECEIPTS)?,
            indexes: open(schema::INDEXES)?,
            meta: open(schema::META)?,
            history: open(schema::HISTORY)?,
            key_versions: open(schema::KEY_VERSIONS)?,
        };
        match ks.chain.get(schema::CHAIN_ALGO)? {
            Some(raw) => {
                let stored = raw
                    .first()
                    .copied()
                    .and_then(HashAlgo::from_tag)
                    .ok_or_else(|| StorageError::Corrupt("bad algo record".into()))?;
                if stored != algo {
                    return Err(StorageError::AlgoMismatch {
                        stored,
                        requested: algo,
                    });
                }
            }
            None => {
                let mut batch = db.batch().durability(Some(PersistMode::SyncAll));
                batch.insert(&ks.chain, schema::CHAIN_ALGO, vec![algo.tag()]);
                batch.commit()?;
            }
        }
        let latest = match ks.chain.get(schema::CHAIN_LATEST)? {
            Some(raw) => Some(schema::decode_latest(&raw)?),
            None => None,
        };
        tracing::debug!(path = %path.display(), %algo, ?latest, "opened store");
        let store = Store {
            inner: Arc::new(Inner {
                db,
                ks,
                algo,
                layout: options.layout,
                latest: RwLock::new(latest),
                commit_lock: Mutex::new(()),
            }),
        };
        if fresh {
            store.meta_put(
                schema::META_MEMTABLE_BYTES,
                &options.memtable_bytes.to_be_bytes(),
            )?;
            store.meta_put(schema::META_STATE_LAYOUT, &[options.layout.tag()])?;
        } else {
            // Stores from before the layout was recorded are layout 1.
            let stored = match store.meta_get(schema::META_STATE_LAYOUT)? {
                None => StateLayout::Separate,
                Some(raw) => raw
                    .first()
                    .copied()
                    .and_then(StateLayout::from_tag)
                    .ok_or_else(|| StorageError::Corrupt("bad state layout record".into()))?,
            };
            if stored != options.layout {
                return Err(StorageError::Layout(format!(
                    "{} holds state in {stored}, the chain's genesis names {}; a data directory \
                     belongs to one chain: use the one made for this genesis, or remove it and \
                     let the node catch up from the network",
                    path.display(),
                    options.layout,
                )));
            }
            let created = store.memtable_bytes()?;
            if created != options.memtable_bytes {
                tracing::warn!(
                    path = %path.display(),
                    configured = options.memtable_bytes,
                    in_use = created,
                    "the memtable size is fixed when a store is created: this store keeps the \
                     size it was created with"
                );
            }
        }
        Ok(store)
    }

    /// The memtable size this store's keyspaces were created with, which fjall keeps for good
    /// (fjall's default for stores created before it was recorded).
    pub fn memtable_bytes(&self) -> Result<u64, StorageError> {
        match self.meta_get(schema::META_MEMTABLE_BYTES)? {
            Some(raw) => schema::decode_u64(&raw),
            None => Ok(StoreOptions::default().memtable_bytes),
        }
    }

    /// The tree hash algorithm of this store.
    pub fn algo(&self) -> HashAlgo {
        self.inner.algo
    }

    /// How this store maps state keys to tree leaves (from its creation).
    pub fn layout(&self) -> StateLayout {
        self.inner.layout
    }

    /// The root of an empty state tree (the root "before" the first block).
    pub fn empty_root() -> [u8; 32] {
        EMPTY_ROOT
    }

    // ---- state ----

    /// Latest committed version (height) and its block hash, `None` if nothing committed yet.
    pub fn latest(&self) -> Result<Option<(u64, [u8; 32])>, StorageError> {
        Ok(*self
            .inner
            .latest
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The state root committed at `version`, `None` if that version is not committed.
    pub fn state_root(&self, version: u64) -> Result<Option<[u8; 32]>, StorageError> {
        self.inner
            .ks
            .state_roots
            .get(height_key(version))?
            .map(|raw| schema::to_hash(&raw))
            .transpose()
    }

    fn require_version(&self, version: u64) -> Result<[u8; 32], StorageError> {
        let committed = matches!(self.latest()?, Some((h, _)) if version <= h);
        match self.state_root(version)? {
            Some(root) if committed => Ok(root),
            _ => Err(StorageError::VersionNotFound(version)),
        }
    }

    /// The value of `key` as of committed `version` (`None` = absent).
    ///
    /// Fails with [`StorageError::VersionNotFound`] if `version` is not committed.
    pub fn get(&self, key: &[u8], version: u64) -> Result<Option<Vec<u8>>, StorageError> {
        self.require_version(version)?;
        let (base, side) = self.split(key);
        let key_hash = self.inner.algo.hash(base);
        match OverlayReader::db_value(&self.inner.ks.values, version, &key_hash)?.flatten() {
            None => Ok(None),
            Some(raw) => Ok(self.half(raw, side)?.0),
        }
    }

    /// The value of `key` in the latest committed state (read from the `state_latest` partition,
    /// not the tree).
    pub fn get_latest(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.ks.state_latest.get(key)?.map(|v| v.to_vec()))
    }

    fn reader<'a>(
        &'a self,
        layers: &'a [Arc<PendingState>],
        empty_root_version: Option<u64>,
    ) -> OverlayReader<'a> {
        OverlayReader {
            nodes: &self.inner.ks.nodes,
            values: &self.inner.ks.values,
            layers,
            empty_root_version,
        }
    }

    /// The value of `key` at committed `version` with a proof against
    /// [`state_root(version)`](Store::state_root); verify with [`crate::verify_proof`].
    pub fn get_with_proof(
        &self,
        key: &[u8],
        version: u64,
    ) -> Result<(Option<Vec<u8>>, StateProof), StorageError> {
        self.require_version(version)?;
        let reader = self.reader(&[], None);
        let (base, side) = self.split(key);
        let (raw, mut proof) =
            with_hasher!(self.inner.algo, H => tree::get_with_proof::<H>(&reader, base, version))?;
        let Some(raw) = raw else {
            return Ok((None, proof));
        };
        let (value, partner) = self.half(raw, side)?;
        proof.partner = partner;
        Ok((value, proof))
    }

    /// Validate `pending` (nearest parent first) against the committed state and drop the
    /// entries that are already committed.
    fn chain<'p>(&self, pending: &'p [Arc<PendingState>]) -> Result<Chain<'p>, StorageError> {
        for (i, p) in pending.iter().enumerate() {
            if p.algo != self.inner.algo {
                return Err(StorageError::InvalidPending(format!(
                    "pending state for version {} uses {}",
                    p.version, p.algo
                )));
            }
            if let Some(parent) = pending.get(i + 1)
                && (parent.version.checked_add(1) != Some(p.version)
                    || parent.root != p.parent_root)
            {
                return Err(StorageError::InvalidPending(format!(
                    "pending state for version {} is not a child of the one for version {}",
                    p.version, parent.version
                )));
            }
        }
        let latest = self.latest()?;
        let mut layers = pending;
        if let Some((h, _)) = latest {
            // Drop ancestors that have been committed meanwhile (they must be the committed ones).
            if let Some(j) = pending.iter().position(|p| p.version <= h) {
                let p = &pending[j];
                if self.state_root(p.version)? != Some(p.root) {
                    return Err(StorageError::InvalidPending(format!(
                        "pending state for version {} is on a fork that was not committed",
                        p.version
                    )));
                }
                layers = &pending[..j];
            }
        }
        let committed_root = match latest {
            Some((h, _)) => self
                .state_root(h)?
                .ok_or_else(|| StorageError::Corrupt(format!("missing state root at {h}")))?,
            None => EMPTY_ROOT,
        };
        if let Some(oldest) = layers.last() {
            let ok_version = match latest {
                Some((h, _)) => oldest.version == h + 1,
                None => oldest.version <= 1,
            };
            if !ok_version || oldest.parent_root != committed_root {
                return Err(StorageError::InvalidPending(format!(
                    "oldest pending state (version {}) does not build on the committed state",
                    oldest.version
                )));
            }
        }
        let (next_version, parent_root) = match (layers.first(), latest) {
            (Some(p), _) => (Some(p.version + 1), p.root),
            (None, Some((h, _))) => (Some(h + 1), committed_root),
            (None, None) => (None, EMPTY_ROOT),
        };
        Ok(Chain {
            layers,
            next_version,
            parent_root,
        })
    }

    /// Compute (without writing) the new root for `writes` applied at `version` on top of the
    /// committed state plus the uncommitted ancestors `pending` (nearest parent first; each was
    /// produced by `prepare` for versions version-1, version-2, ... down to latest+1).
    ///
    /// Ancestors that were committed in the meantime are skipped (they must match the committed
    /// roots). On an empty store the first version may be 0 (genesis) or 1.
    pub fn prepare(
        &self,
        pending: &[Arc<PendingState>],
        writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        version: u64,
    ) -> Result<PendingState, StorageError> {
        let chain = self.chain(pending)?;
        let ok = match chain.next_version {
            Some(v) => version == v,
            None => version <= 1,
        };
        if !ok {
            return Err(StorageError::HeightMismatch {
                expected: chain
                    .next_version
                    .map_or_else(|| "0 or 1".to_string(), |v| v.to_string()),
                got: version,
            });
        }
        // On an empty store starting at version 1, present the missing version-0 root as empty.
        let oldest = chain.layers.last().map_or(version, |p| p.version);
        let empty_root_version = if self.latest()?.is_none() && oldest == 1 {
            Some(0)
        } else {
            None
        };
        let leaves = self.leaf_writes(chain.layers, &writes)?;
        let reader = self.reader(chain.layers, empty_root_version);
        let (root, batch) =
            with_hasher!(self.inner.algo, H => tree::put::<H>(&reader, &leaves, version))?;
        Ok(PendingState {
            version,
            root,
            algo: self.inner.algo,
            parent_root: chain.parent_root,
            nodes: batch.node_batch,
            writes,
        })
    }

    /// The base key of `key`'s leaf and which half `key` is, in this store's layout.
    fn split<'k>(&self, key: &'k [u8]) -> (&'k [u8], leaf::Side) {
        match self.inner.layout {
            StateLayout::Separate => (key, leaf::Side::Value),
            StateLayout::Shared => leaf::split(key),
        }
    }

    /// `(the half of a stored leaf value that side names, the other half)`.
    fn half(&self, raw: Vec<u8>, side: leaf::Side) -> Result<leaf::Halves, StorageError> {
        match self.inner.layout {
            StateLayout::Separate => Ok((Some(raw), None)),
            StateLayout::Shared => Ok(leaf::pick(leaf::decode(&raw)?, side)),
        }
    }

    /// The tree's writes for a block's key writes: one leaf per base key ([`crate::leaf`]),
    /// holding both halves. A half the block did not write is read as of the state it builds
    /// on (in practice only for keys without a history head, whose head reads as absent).
    fn leaf_writes<'w>(
        &self,
        layers: &[Arc<PendingState>],
        writes: &'w KeyWrites,
    ) -> Result<std::borrow::Cow<'w, KeyWrites>, StorageError> {
        if self.inner.layout == StateLayout::Separate {
            return Ok(std::borrow::Cow::Borrowed(writes));
        }
        let mut leaves = BTreeMap::new();
        for (key, value) in writes {
            let (base, side) = leaf::split(key);
            if leaves.contains_key(base) {
                continue;
            }
            let partner = match leaf::partner_key(base, side) {
                None => None,
                Some(other) => match writes.get(&other) {
                    Some(v) => v.clone(),
                    None => self.read_layered(layers, &other)?,
                },
            };
            let (v, h) = match side {
                leaf::Side::Value => (value.as_deref(), partner.as_deref()),
                leaf::Side::Head => (partner.as_deref(), value.as_deref()),
            };
            leaves.insert(base.to_vec(), leaf::encode(v, h));
        }
        Ok(std::borrow::Cow::Owned(leaves))
    }

    /// Read a key for execution as seen after the uncommitted ancestors (nearest first) on top of
    /// the committed latest state.
    pub fn read_through(
        &self,
        pending: &[Arc<PendingState>],
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let chain = self.chain(pending)?;
        for p in chain.layers {
            if let Some(v) = p.get(key) {
                return Ok(v.map(<[u8]>::to_vec));
            }
        }
        self.get_latest(key)
    }

    /// [`Store::read_through`] without re-validating `pending` against the committed state on
    /// every read (two fewer database lookups per read). For callers that validated the chain
    /// once (as [`Store::prepare`] does) and read many keys through it.
    ///
    /// Reading stays correct when ancestors commit meanwhile: a layer holds the same writes the
    /// store then has. If a conflicting block commits instead, the reads mix two forks, but a
    /// block built on a chain that lost can itself never commit, so nothing read that way
    /// reaches committed state.
    pub fn read_layered(
        &self,
        pending: &[Arc<PendingState>],
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        for p in pending {
            if let Some(v) = p.get(key) {
                return Ok(v.map(<[u8]>::to_vec));
            }
        }
        self.get_latest(key)
    }

    // ---- commit ----

    /// Atomically and durably write one block: its state (must be the [`PendingState`] for
    /// `height`, whose parent is the currently committed latest), the block bytes, the block's
    /// hash, its finalization certificate bytes, the per-transaction index entries and receipts,
    /// and any extra index entries.
    ///
    /// The first committed height may be 0 (genesis) or 1; afterwards it must be latest+1.
    /// On any validation failure nothing is written. The write is one fjall batch persisted with
    /// [`PersistMode::SyncAll`] before this returns.
    pub fn commit_block(&self, commit: BlockCommit) -> Result<(), StorageError> {
        let inner = &*self.inner;
        let ks = &inner.ks;
        let _guard = inner
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let latest = self.latest()?;
        let (height_ok, expected, parent_root) = match latest {
            Some((h, _)) => (
                h.checked_add(1) == Some(commit.height),
                (h + 1).to_string(),
                self.state_root(h)?
                    .ok_or_else(|| StorageError::Corrupt(format!("missing state root at {h}")))?,
            ),
            None => (commit.height <= 1, "0 or 1".to_string(), EMPTY_ROOT),
        };
        if !height_ok {
            return Err(StorageError::HeightMismatch {
                expected,
                got: commit.height,
            });
        }
        let state = &commit.state;
        if state.version != commit.height {
            return Err(StorageError::StateMismatch(format!(
                "state is for version {}, block height is {}",
                state.version, commit.height
            )));
        }
        if state.algo != inner.algo {
            return Err(StorageError::StateMismatch(format!(
                "state uses {}, store uses {}",
                state.algo, inner.algo
            )));
        }
        if state.parent_root != parent_root {
            return Err(StorageError::StateMismatch(format!(
                "state for version {} was not built on the committed state",
                state.version
            )));
        }
        if ks.block_heights.get(commit.block_hash)?.is_some() {
            return Err(StorageError::DuplicateBlock(hex::encode(commit.block_hash)));
        }
        let index_keys = commit
            .indexes
            .iter()
            .map(|(name, key, _)| schema::index_key(name, key))
            .collect::<Result<Vec<_>, _>>()?;
        let tx_count = u32::try_from(commit.txs.len())
            .map_err(|_| StorageError::InvalidInput("too many transactions".into()))?;

        let h = height_key(commit.height);
        let cap = state.nodes.nodes().len()
            + state.nodes.values().len()
            + state.writes.len()
            + 2 * tx_count as usize
            + commit.indexes.len()
            + commit.key_versions.len()
            + 6;
        let mut batch = fjall::OwnedWriteBatch::with_capacity(inner.db.clone(), cap)
            .durability(Some(PersistMode::SyncAll));
        for (key, node) in state.nodes.nodes() {
            let raw = borsh::to_vec(node)
                .map_err(|e| StorageError::Corrupt(format!("encode node: {e}")))?;
            batch.insert(&ks.nodes, schema::node_key(key)?, raw);
        }
        for ((version, key_hash), value) in state.nodes.values() {
            batch.insert(
                &ks.values,
                schema::value_key(&key_hash.0, *version).to_vec(),
                schema::encode_value(value.as_deref()),
            );
        }
        // The tree's stale-node index (jmt's `stale_node_index_batch`) is not kept: every version is kept, so
        // that any key can be proven at any committed height, and nothing prunes. Writing it
        // cost a quarter of a block's inserts for a pruner that does not exist.
        for (key, value) in &state.writes {
            match value {
                Some(v) => batch.insert(&ks.state_latest, key.clone(), v.clone()),
                None => batch.remove(&ks.state_latest, key.clone()),
            }
        }
        batch.insert(&ks.state_roots, h.to_vec(), state.root.to_vec());
        batch.insert(&ks.blocks, h.to_vec(), commit.block);
        batch.insert(&ks.block_hashes, h.to_vec(), commit.block_hash.to_vec());
        batch.insert(&ks.block_heights, commit.block_hash.to_vec(), h.to_vec());
        batch.insert(&ks.finalizations, h.to_vec(), commit.finalization);
        for (i, (tx_hash, receipt)) in (0u32..).zip(commit.txs) {
            batch.insert(
                &ks.tx_index,
                tx_hash.to_vec(),
                schema::tx_location(commit.height, i).to_vec(),
            );
            batch.insert(&ks.receipts, tx_hash.to_vec(), receipt);
        }
        for (key, (_, _, value)) in index_keys.into_iter().zip(commit.indexes) {
            batch.insert(&ks.indexes, key, value);
        }
        for (key, versions) in &commit.key_versions {
            let raw = borsh::to_vec(versions)
                .map_err(|e| StorageError::Corrupt(format!("encode key versions: {e}")))?;
            batch.insert(
                &ks.key_versions,
                schema::value_key(&inner.algo.hash(key), commit.height).to_vec(),
                raw,
            );
        }
        for (level, index, root) in self.history_append(commit.height, &commit.block_hash)? {
            batch.insert(
                &ks.history,
                schema::history_key(level, index).to_vec(),
                root.to_vec(),
            );
        }
        batch.insert(
            &ks.chain,
            schema::CHAIN_LATEST,
            schema::latest_record(commit.height, &commit.block_hash).to_vec(),
        );
        batch.commit()?;
        *inner
            .latest
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((commit.height, commit.block_hash));
        tracing::debug!(height = commit.height, root = %hex::encode(state.root), "committed block");
        Ok(())
    }

    // ---- block store reads ----

    /// The encoded block at `height`.
    pub fn block_by_height(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .inner
            .ks
            .blocks
            .get(height_key(height))?
            .map(|v| v.to_vec()))
    }

    /// The hash of the block at `height`.
    pub fn block_hash(&self, height: u64) -> Result<Option<[u8; 32]>, StorageError> {
        self.inner
            .ks
            .block_hashes
            .get(height_key(height))?
            .map(|v| schema::to_hash(&v))
            .transpose()
    }

    /// The height of the block with hash `hash`.
    pub fn height_of_block(&self, hash: &[u8; 32]) -> Result<Option<u64>, StorageError> {
        self.inner
            .ks
            .block_heights
            .get(hash)?
            .map(|v| schema::decode_u64(&v))
            .transpose()
    }

    /// The finalization certificate stored with the block at `height`.
    pub fn finalization(&self, height: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .inner
            .ks
            .finalizations
            .get(height_key(height))?
            .map(|v| v.to_vec()))
    }

    /// Where a transaction was committed: `(block height, index in block)`.
    pub fn tx_location(&self, tx_hash: &[u8; 32]) -> Result<Option<(u64, u32)>, StorageError> {
        self.inner
            .ks
            .tx_index
            .get(tx_hash)?
            .map(|v| schema::decode_tx_location(&v))
            .transpose()
    }

    /// The receipt bytes of a committed transaction.
    pub fn receipt(&self, tx_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.ks.receipts.get(tx_hash)?.map(|v| v.to_vec()))
    }

    /// A generic secondary-index entry written through [`BlockCommit::indexes`].
    pub fn index_get(&self, index: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let k = schema::index_key(index, key)?;
        Ok(self.inner.ks.indexes.get(k)?.map(|v| v.to_vec()))
    }

    // ---- block-hash history tree ----

    /// The perfect subtrees completed by appending `block_hash` as leaf `height`, lowest level
    /// first. Empty when the history is not kept (a store whose first block was not height 0).
    fn history_append(
        &self,
        height: u64,
        block_hash: &[u8; 32],
    ) -> Result<Vec<(u32, u64, [u8; 32])>, StorageError> {
        if height > 0 && self.history_node(0, height - 1)?.is_none() {
            return Ok(Vec::new());
        }
        let algo = self.inner.algo;
        // The RFC 6962 layout of `xa_types::merkle`: leaf H(0x00 ‖ x), node H(0x01 ‖ l ‖ r).
        let mut cur = algo.hash(&[&[0u8][..], block_hash].concat());
        let (mut level, mut index) = (0u32, height);
        let mut out = vec![(level, index, cur)];
        while index & 1 == 1 {
            let left = self.history_node(level, index - 1)?.ok_or_else(|| {
                StorageError::Corrupt(format!("history node ({level}, {}) missing", index - 1))
            })?;
            cur = algo.hash(&[&[1u8][..], &left, &cur].concat());
            level += 1;
            index >>= 1;
            out.push((level, index, cur));
        }
        Ok(out)
    }

    /// The root of the perfect subtree `(level, index)` of the block-hash history tree, if
    /// complete and committed. Leaf `i` is the hash of the block at height `i`.
    pub fn history_node(&self, level: u32, index: u64) -> Result<Option<[u8; 32]>, StorageError> {
        if level >= 64 {
            return Ok(None);
        }
        self.inner
            .ks
            .history
            .get(schema::history_key(level, index))?
            .map(|v| schema::to_hash(&v))
            .transpose()
    }

    /// Like [`Store::history_node`], failing with [`StorageError::VersionNotFound`] when absent.
    pub fn require_history_node(&self, level: u32, index: u64) -> Result<[u8; 32], StorageError> {
        self.history_node(level, index)?.ok_or_else(|| {
            StorageError::InvalidInput(format!(
                "history subtree ({level}, {index}) is not committed"
            ))
        })
    }

    /// Every committed version of `key` up to `version`, oldest first: `(version, value)`, with
    /// `None` for a deletion. Versions are the heights at which the key's value changed (a key
    /// shares its leaf with its history head, [`crate::leaf`], so a height that wrote only the
    /// other half is not one; a history head changes with every append).
    pub fn versions(&self, key: &[u8], version: u64) -> Result<Vec<Version>, StorageError> {
        self.require_version(version)?;
        let (base, side) = self.split(key);
        let key_hash = self.inner.algo.hash(base);
        let lo = schema::value_key(&key_hash, 0);
        let hi = schema::value_key(&key_hash, version);
        let mut out: Vec<Version> = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        for guard in self.inner.ks.values.range(lo..=hi) {
            let (k, v) = guard.into_inner()?;
            let height = schema::decode_u64(k.get(32..).unwrap_or_default())?;
            let value = match schema::decode_value(&v)? {
                None => None,
                Some(raw) => self.half(raw, side)?.0,
            };
            if value != last {
                out.push((height, value.clone()));
                last = value;
            }
        }
        Ok(out)
    }

    /// The versions the block at `height` wrote of `key`, as passed in
    /// [`BlockCommit::key_versions`]; `None` when that block stored none for it (it wrote the key
    /// at most once, or not at all).
    pub fn block_versions(
        &self,
        key: &[u8],
        height: u64,
    ) -> Result<Option<BlockVersions>, StorageError> {
        let k = schema::value_key(&self.inner.algo.hash(key), height);
        match self.inner.ks.key_versions.get(k)? {
            None => Ok(None),
            Some(raw) => borsh::from_slice(&raw)
                .map(Some)
                .map_err(|e| StorageError::Corrupt(format!("bad key versions record: {e}"))),
        }
    }

    /// Node-local metadata (not part of consensus state), e.g. the genesis hash.
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.inner.ks.meta.get(key)?.map(|v| v.to_vec()))
    }

    /// Durably (fsync) store node-local metadata.
    pub fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let mut batch = self.inner.db.batch().durability(Some(PersistMode::SyncAll));
        batch.insert(&self.inner.ks.meta, key, value);
        batch.commit()?;
        Ok(())
    }
}
