//! The node's view of the chain: committed storage, speculative execution of unfinalized
//! blocks, the mempool, and commit notifications.
//!
//! Proposals and verifications execute a block on top of its parent's state, which may itself be
//! unfinalized: such results live in `pending` (keyed by block hash) as layers over the committed
//! store, until the finalizer commits the finalized one and drops the rest.

use crate::block::{BlockCfg, ChainBlock};
use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use xa_execution::{
    BlockContext, ExecutionError, Executor, KeyVersion, Mode, StateError, StateView,
};
use xa_mempool::Mempool;
use xa_storage::{BlockCommit, BlockVersions, PendingState, Store};
use xa_types::{
    Block, Genesis, Hash, Header, Receipt, Suite, Transaction, decode, encode, merkle,
    modules::accounts::{Account, account_key},
    modules::history::{self, HistoryHead},
};

/// Errors of the chain layer.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] xa_storage::StorageError),
    /// Execution failed.
    #[error("execution: {0}")]
    Execution(#[from] ExecutionError),
    /// The block is invalid.
    #[error("invalid block: {0}")]
    Invalid(String),
    /// The stored chain belongs to another genesis.
    #[error("data directory holds another chain (genesis {stored}, expected {expected})")]
    WrongGenesis {
        /// Stored genesis hash.
        stored: String,
        /// Configured genesis hash.
        expected: String,
    },
}

/// The result of executing one block speculatively.
pub struct Executed {
    /// The block.
    pub block: ChainBlock,
    /// Its state layer over its parent's.
    pub state: Arc<PendingState>,
    /// Its receipts (shared with the commit announcement, not copied).
    pub receipts: Arc<Vec<Receipt>>,
    /// The per-transaction versions of tracked keys it wrote more than once, stored with it on
    /// commit (see [`add_history`]).
    pub key_versions: Vec<(Vec<u8>, BlockVersions)>,
}

/// A block just committed, as announced to listeners.
pub struct Committed {
    /// The block.
    pub block: Arc<Block>,
    /// Its hash.
    pub hash: Hash,
    /// Its receipts.
    pub receipts: Arc<Vec<Receipt>>,
}

type Listener = Box<dyn Fn(&Committed) + Send + Sync>;

/// Shared chain state of one node.
pub struct Chain {
    /// The genesis this node runs.
    pub genesis: Genesis,
    /// The chain's suite.
    pub suite: Suite,
    /// Durable storage.
    pub store: Store,
    /// The module registry.
    pub executor: Executor,
    /// Pending transactions.
    pub mempool: Mempool,
    /// Decoding limits for blocks.
    pub block_cfg: BlockCfg,
    pending: Mutex<HashMap<Hash, Arc<Executed>>>,
    tip: Mutex<(u64, Hash)>,
    tip_block: Mutex<Option<ChainBlock>>,
    listeners: Mutex<Vec<Listener>>,
    gossip: Mutex<Option<futures::channel::mpsc::UnboundedSender<Vec<Transaction>>>>,
    gossip_received: GossipReceived,
    halted: Mutex<Option<String>>,
    consensus: Mutex<crate::orchestrator::ConsensusStatus>,
    /// Measured cost of building or verifying one transaction (ns, moving average): bounds how
    /// many a proposal takes, see [`BUILD_BUDGET`].
    cost_per_tx_ns: std::sync::atomic::AtomicU64,
}

/// Counts of transaction gossip received from peers.
#[derive(Default)]
struct GossipReceived {
    messages: AtomicU64,
    txs: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Time a proposer may spend building a block: well inside the leader timeout (1 s), which
/// must also cover sending it and the first votes.
pub const BUILD_BUDGET: std::time::Duration = std::time::Duration::from_millis(350);
/// Fewest transactions the build budget ever allows (so a slow sample cannot starve blocks).
/// Above the block sizes the seeded deterministic-runtime tests use, so their blocks never
/// depend on the wall clock and every seed replays exactly.
pub const MIN_BUDGET_TXS: usize = 500;

/// Reads state through a chain of uncommitted layers (nearest first) onto the store.
struct View<'a> {
    store: &'a Store,
    layers: &'a [Arc<PendingState>],
}

impl StateView for View<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        // `layers` was checked to lead to the committed tip when the view was made
        // (`Chain::layers`), and `Store::prepare` checks it again before any root is computed.
        self.store
            .read_layered(self.layers, key)
            .map_err(|e| StateError(e.to_string()))
    }
}

impl Chain {
    /// Open the chain on `store`, committing the genesis block on first start.
    pub fn open(
        genesis: Genesis,
        store: Store,
        mempool_cfg: xa_mempool::Config,
    ) -> Result<Arc<Self>, ChainError> {
        Self::open_with_modules(genesis, store, mempool_cfg, Vec::new())
    }

    /// [`Chain::open`] with `modules` registered on the executor besides the built-in ones.
    /// Every node of a chain must register the same modules.
    pub fn open_with_modules(
        genesis: Genesis,
        store: Store,
        mempool_cfg: xa_mempool::Config,
        modules: Vec<Box<dyn xa_execution::Module>>,
    ) -> Result<Arc<Self>, ChainError> {
        let suite = genesis.suite;
        let mut executor = Executor::new(&genesis);
        for m in modules {
            executor.register(m);
        }
        let block_cfg = BlockCfg {
            suite,
            max_bytes: (genesis.params.max_block_txs as usize)
                .saturating_mul(genesis.params.max_tx_bytes as usize)
                .saturating_add(64 * 1024)
                .min(64 * 1024 * 1024),
        };
        let layout = xa_storage::StateLayout::of_genesis(genesis.state_layout);
        if store.layout() != layout {
            return Err(ChainError::Invalid(format!(
                "the store is in state {}, the genesis names {layout}: open it with the \
                 genesis's layout (xa_storage::StoreOptions::layout)",
                store.layout()
            )));
        }
        let genesis_hash = genesis.hash();
        match store.meta_get("genesis")? {
            Some(stored) if stored != genesis_hash.0 => {
                return Err(ChainError::WrongGenesis {
                    stored: hex::encode(stored),
                    expected: genesis_hash.to_string(),
                });
            }
            Some(_) => {}
            None => store.meta_put("genesis", &genesis_hash.0)?,
        }
        if store.latest()?.is_none() {
            let mut writes = Executor::genesis_writes(&genesis);
            let view = View {
                store: &store,
                layers: &[],
            };
            // Genesis writes each key once, by the chain itself (zero transaction hash).
            let versions: Vec<KeyVersion> = writes
                .iter()
                .filter(|(k, _)| history::is_tracked(k))
                .map(|(k, v)| KeyVersion {
                    key: k.clone(),
                    tx_hash: Hash::default(),
                    value: v.clone(),
                })
                .collect();
            add_history(suite, &view, &mut writes, versions, 0)?;
            let state = Arc::new(store.prepare(&[], writes, 0)?);
            let block = genesis_block(&genesis, Hash(state.root));
            let cb = ChainBlock::new(suite, block);
            store.commit_block(BlockCommit {
                height: 0,
                block_hash: cb.hash().0,
                block: cb.bytes().to_vec(),
                finalization: Vec::new(),
                state,
                txs: Vec::new(),
                indexes: Vec::new(),
                key_versions: Vec::new(),
            })?;
        }
        let (h, hash) = store
            .latest()?
            .ok_or_else(|| ChainError::Invalid("no genesis block after commit".into()))?;
        Ok(Arc::new(Self {
            suite,
            store,
            mempool: Mempool::new(mempool_cfg, suite),
            executor,
            block_cfg,
            pending: Mutex::new(HashMap::new()),
            tip: Mutex::new((h, Hash(hash))),
            tip_block: Mutex::new(None),
            listeners: Mutex::new(Vec::new()),
            gossip: Mutex::new(None),
            gossip_received: GossipReceived::default(),
            halted: Mutex::new(None),
            consensus: Mutex::new(Default::default()),
            cost_per_tx_ns: std::sync::atomic::AtomicU64::new(0),
            genesis,
        }))
    }

    /// The genesis block as stored at height 0.
    pub fn genesis_block(&self) -> Result<ChainBlock, ChainError> {
        self.block_at(0)?
            .ok_or_else(|| ChainError::Invalid("genesis block missing".into()))
    }

    /// The committed block at `height`.
    pub fn block_at(&self, height: u64) -> Result<Option<ChainBlock>, ChainError> {
        match self.store.block_by_height(height)? {
            Some(bytes) => {
                let block: Block = decode(&bytes)
                    .map_err(|e| ChainError::Invalid(format!("stored block {height}: {e}")))?;
                Ok(Some(ChainBlock::new(self.suite, block)))
            }
            None => Ok(None),
        }
    }

    /// The last committed block (cached; read from storage on first use).
    pub fn tip_block(&self) -> Result<ChainBlock, ChainError> {
        let (height, hash) = self.tip();
        if let Some(b) = lock(&self.tip_block).as_ref()
            && b.hash() == hash
        {
            return Ok(b.clone());
        }
        let b = self
            .block_at(height)?
            .ok_or_else(|| ChainError::Invalid(format!("tip block {height} missing")))?;
        *lock(&self.tip_block) = Some(b.clone());
        Ok(b)
    }

    /// Height and hash of the last committed block.
    pub fn tip(&self) -> (u64, Hash) {
        *lock(&self.tip)
    }

    /// Register a function called after every commit (from the finalizer's thread).
    pub fn on_commit(&self, f: impl Fn(&Committed) + Send + Sync + 'static) {
        lock(&self.listeners).push(Box::new(f));
    }

    /// The committed account of `sender` (default if none).
    pub fn account(&self, sender: &Hash) -> Account {
        self.store
            .get_latest(&account_key(sender))
            .ok()
            .flatten()
            .and_then(|b| decode::<Account>(&b).ok())
            .unwrap_or_default()
    }

    /// A view of the committed state (what the mempool checks senders, keys and nonces
    /// against).
    pub fn committed_view(&self) -> impl StateView + '_ {
        View {
            store: &self.store,
            layers: &[],
        }
    }

    /// The committed next nonce of `sender`.
    pub fn next_nonce(&self, sender: &Hash) -> u64 {
        self.account(sender).next_nonce
    }

    /// Record that this node can no longer commit (a finalized block failed to commit). The
    /// API reports it and refuses new transactions; the operator must intervene.
    pub fn halt(&self, reason: String) {
        *lock(&self.halted) = Some(reason);
    }

    /// The epoch this node's consensus runs, its validators, and whether this node votes.
    pub fn consensus_status(&self) -> crate::orchestrator::ConsensusStatus {
        lock(&self.consensus).clone()
    }

    /// Record the epoch consensus runs (by the orchestrator).
    pub fn set_consensus_status(&self, status: crate::orchestrator::ConsensusStatus) {
        *lock(&self.consensus) = status;
    }

    /// Why this node stopped committing, if it did.
    pub fn halted(&self) -> Option<String> {
        lock(&self.halted).clone()
    }

    /// Submit transactions from a client to the mempool, and gossip the admitted ones to the
    /// other validators so that whichever leads next can include them.
    pub fn submit(&self, txs: Vec<Transaction>) -> Vec<Result<Hash, xa_types::TxError>> {
        if let Some(reason) = self.halted() {
            let e = xa_types::TxError::new(
                xa_types::ErrorCode::Unavailable,
                format!("node: not accepting transactions ({reason})"),
            );
            return txs.iter().map(|_| Err(e.clone())).collect();
        }
        let gossip = lock(&self.gossip).clone();
        let copies = gossip.as_ref().map(|_| txs.clone());
        let results = self.mempool.submit(
            &self.executor,
            txs,
            self.tip().0 + 1,
            &self.committed_view(),
        );
        if let (Some(gossip), Some(copies)) = (gossip, copies) {
            let admitted: Vec<Transaction> = copies
                .into_iter()
                .zip(&results)
                .filter(|(_, r)| r.is_ok())
                .map(|(t, _)| t)
                .collect();
            if !admitted.is_empty() {
                let _ = gossip.unbounded_send(admitted);
            }
        }
        results
    }

    /// Admit transactions gossiped by peers, several messages at once so that their signatures
    /// are checked in one batch (verified like any other; not forwarded again). A message that
    /// does not decode, or carries more than [`MAX_GOSSIP_BATCH`] transactions, is dropped
    /// whole. Returns how many were admitted.
    pub fn submit_gossiped(&self, messages: &[impl AsRef<[u8]>]) -> usize {
        let mut txs = Vec::new();
        for bytes in messages {
            match decode::<Vec<Transaction>>(bytes.as_ref()) {
                Ok(batch) if batch.len() <= MAX_GOSSIP_BATCH => txs.extend(batch),
                _ => {}
            }
        }
        self.gossip_received
            .messages
            .fetch_add(messages.len() as u64, Ordering::Relaxed);
        self.gossip_received
            .txs
            .fetch_add(txs.len() as u64, Ordering::Relaxed);
        if txs.is_empty() {
            return 0;
        }
        self.mempool
            .submit(
                &self.executor,
                txs,
                self.tip().0 + 1,
                &self.committed_view(),
            )
            .iter()
            .filter(|r| r.is_ok())
            .count()
    }

    /// Gossip received so far: `(messages, transactions)`.
    pub fn gossip_received(&self) -> (u64, u64) {
        (
            self.gossip_received.messages.load(Ordering::Relaxed),
            self.gossip_received.txs.load(Ordering::Relaxed),
        )
    }

    /// Route client-submitted transactions to `sender` for gossip.
    pub fn set_gossip(&self, sender: futures::channel::mpsc::UnboundedSender<Vec<Transaction>>) {
        *lock(&self.gossip) = Some(sender);
    }

    /// The speculative result for a block hash, if executed.
    pub fn executed(&self, hash: &Hash) -> Option<Arc<Executed>> {
        lock(&self.pending).get(hash).cloned()
    }

    /// The committed tip's height and the state layers from `parent` down to it, nearest first;
    /// `None` if some ancestor is not executed yet, or the parent is not on the committed chain.
    #[allow(clippy::type_complexity)]
    fn layers(
        &self,
        parent: &Hash,
        parent_height: u64,
    ) -> Result<Option<(u64, Vec<Arc<Executed>>)>, ChainError> {
        // Lock order: pending, then tip. Commit updates both under the same order, so this
        // sees a consistent snapshot; a layer committed after we return is harmless, since
        // storage skips a pending ancestor that was meanwhile committed with the same root.
        let pending = lock(&self.pending);
        let (tip_h, tip_hash) = self.tip();
        let mut out = Vec::new();
        let (mut cur, mut h) = (*parent, parent_height);
        loop {
            if h <= tip_h {
                let committed = if h == tip_h {
                    tip_hash
                } else {
                    match self.store.block_hash(h)? {
                        Some(x) => Hash(x),
                        None => return Ok(None),
                    }
                };
                if committed != cur {
                    return Err(ChainError::Invalid(format!(
                        "parent chain leaves the finalized chain at height {h}"
                    )));
                }
                if h < tip_h {
                    // Built on an ancestor of our tip: only possible for stale proposals.
                    return Err(ChainError::Invalid(format!(
                        "parent at height {h} is below the finalized tip {tip_h}"
                    )));
                }
                return Ok(Some((tip_h, out)));
            }
            match pending.get(&cur) {
                Some(e) => {
                    cur = e.block.block().header.parent;
                    h -= 1;
                    out.push(e.clone());
                }
                None => return Ok(None),
            }
        }
    }

    /// Whether `hash` is known: committed at its height, or executed speculatively.
    pub fn is_known(&self, hash: &Hash, height: u64) -> bool {
        if lock(&self.pending).contains_key(hash) {
            return true;
        }
        matches!(self.store.block_hash(height), Ok(Some(h)) if Hash(h) == *hash)
    }

    /// Fold one build or verification into the per-transaction cost estimate (blocks of fewer
    /// than 100 transactions say too little to count).
    fn record_cost(&self, elapsed: std::time::Duration, txs: usize) {
        use std::sync::atomic::Ordering;
        if txs < 100 {
            return;
        }
        let sample = (elapsed.as_nanos() / txs as u128).min(u64::MAX as u128) as u64;
        let old = self.cost_per_tx_ns.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            (old * 3 + sample) / 4
        };
        self.cost_per_tx_ns.store(new, Ordering::Relaxed);
    }

    /// How many transactions this node can build (and its peers verify) within
    /// [`BUILD_BUDGET`], by the measured cost; unbounded until measured. A proposal that takes
    /// longer than the leader timeout is dropped by consensus and the work is lost, so under a
    /// backlog a smaller block on time beats a full one too late. Only the proposer's choice
    /// depends on this clock; verification does not, so determinism is untouched.
    fn budget_txs(&self) -> usize {
        let cost = self
            .cost_per_tx_ns
            .load(std::sync::atomic::Ordering::Relaxed);
        if cost == 0 {
            return usize::MAX;
        }
        ((BUILD_BUDGET.as_nanos() / cost as u128) as usize).max(MIN_BUDGET_TXS)
    }

    /// The most transactions a block on `view` may hold: the `max_block_txs` chain parameter in
    /// state (governance may lower it), never above genesis' bound.
    fn max_block_txs(&self, view: &dyn StateView) -> Result<usize, ChainError> {
        let bound = self.genesis.params.max_block_txs;
        let set = view
            .get(xa_types::modules::governance::PARAMS_KEY)
            .map_err(|e| ChainError::Execution(ExecutionError::State(e)))?
            .and_then(|b| decode::<xa_types::ChainParams>(&b).ok())
            .map(|p| p.max_block_txs)
            .unwrap_or(bound);
        Ok(set.clamp(1, bound) as usize)
    }

    /// Whether the mempool holds a transaction a block on `parent` could include next (a
    /// sender's next nonce on the parent's state, not already in an ancestor). `false` also when
    /// the parent is not executed yet.
    pub fn has_includable(&self, parent: &ChainBlock) -> bool {
        if self.mempool.is_empty() {
            return false;
        }
        let ph = &parent.block().header;
        let Ok(Some((_, layers))) = self.layers(&parent.hash(), ph.height) else {
            return false;
        };
        let states: Vec<Arc<PendingState>> = layers.iter().map(|e| e.state.clone()).collect();
        !self.select_on(&layers, &states, 1).is_empty()
    }

    /// Up to `max` mempool transactions a block on the state `states` (the layers of `layers`,
    /// nearest first, over the committed tip) can include: each sender's run from its next
    /// nonce on that state, none already in those blocks.
    fn select_on(
        &self,
        layers: &[Arc<Executed>],
        states: &[Arc<PendingState>],
        max: usize,
    ) -> Vec<xa_mempool::Admitted> {
        let exclude: HashSet<Hash> = layers
            .iter()
            .flat_map(|e| e.receipts.iter().map(|r| r.tx_hash))
            .collect();
        let view = View {
            store: &self.store,
            layers: states,
        };
        self.mempool
            .select(max, &exclude, &mut |s| next_nonce_in(&view, s))
    }

    /// Build a block on `parent` from the mempool.
    pub fn build(
        &self,
        parent: &ChainBlock,
        epoch: u64,
        view: u64,
        parent_view: u64,
        proposer: Vec<u8>,
        now_ms: u64,
    ) -> Result<Option<ChainBlock>, ChainError> {
        let started = std::time::Instant::now();
        let ph = parent.block().header.clone();
        let Some((tip_h, layers)) = self.layers(&parent.hash(), ph.height)? else {
            return Ok(None);
        };
        let history_root = self.history_root(tip_h, &layers)?;
        let states: Vec<Arc<PendingState>> = layers.iter().map(|e| e.state.clone()).collect();
        let view_ = View {
            store: &self.store,
            layers: &states,
        };
        let max_txs = self.max_block_txs(&view_)?.min(self.budget_txs());
        let candidates = self.select_on(&layers, &states, max_txs);
        let txs: Vec<Transaction> = candidates.iter().map(|(_, t)| (**t).clone()).collect();
        let hashes: Vec<Hash> = candidates.iter().map(|(h, _)| *h).collect();
        let height = ph.height + 1;
        let time_ms = now_ms.max(ph.time_ms + 1);
        let outcome = self.executor.execute_hashed(
            &view_,
            BlockContext { height, time_ms },
            &txs,
            &hashes,
            Mode::Build,
        )?;
        // Drop permanently invalid transactions; a stale nonce may belong to an ancestor that
        // does not finalize, so those wait for the commit-time prune.
        let dead: Vec<(Hash, u64)> = outcome
            .excluded
            .iter()
            .filter(|(_, e)| {
                !matches!(
                    e.code,
                    xa_types::ErrorCode::StaleNonce | xa_types::ErrorCode::NonceTooHigh
                )
            })
            .map(|(i, _)| (txs[*i].body.sender, txs[*i].body.nonce))
            .collect();
        self.mempool.remove(&dead);
        let included: Vec<Transaction> = outcome.included.iter().map(|i| txs[*i].clone()).collect();
        let included_hashes: Vec<Hash> = outcome.included.iter().map(|i| hashes[*i]).collect();
        let mut writes = outcome.writes;
        let key_versions = add_history(self.suite, &view_, &mut writes, outcome.versions, height)?;
        let state = Arc::new(self.store.prepare(&states, writes, height)?);
        let header = Header {
            height,
            parent: parent.hash(),
            epoch,
            view,
            parent_view,
            proposer,
            time_ms,
            tx_count: included.len() as u32,
            tx_root: merkle::root(self.suite, &included_hashes),
            receipts_root: Receipt::root(self.suite, &outcome.receipts),
            state_root: Hash(state.root),
            history_root,
        };
        let block = ChainBlock::new(
            self.suite,
            Block {
                header,
                txs: included,
            },
        );
        self.record_cost(started.elapsed(), txs.len());
        tracing::debug!(
            height,
            txs = block.block().txs.len(),
            excluded = outcome.excluded.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "built block"
        );
        self.remember(&block, state, outcome.receipts, key_versions);
        Ok(Some(block))
    }

    /// Verify `block` against its parent and execute it on the parent's state. `Ok(false)`
    /// means permanently invalid. The parent must already be executed or committed (callers
    /// ensure it through [`Chain::is_known`]); otherwise this returns an error.
    pub fn verify(
        &self,
        block: &ChainBlock,
        parent: &ChainBlock,
        now_ms: u64,
    ) -> Result<bool, ChainError> {
        if self.executed(&block.hash()).is_some() {
            return Ok(true);
        }
        let started = std::time::Instant::now();
        let h = &block.block().header;
        let ph = &parent.block().header;
        let reject = |why: String| {
            tracing::warn!(height = h.height, block = %block.hash(), "rejecting block: {why}");
            Ok(false)
        };
        if h.height != ph.height + 1 || h.parent != parent.hash() {
            return reject("does not extend its parent".into());
        }
        let epoch =
            xa_types::modules::validators::epoch_of(h.height, self.genesis.params.epoch_length);
        if h.epoch != epoch {
            return reject(format!(
                "epoch {} is not the epoch {epoch} of height {}",
                h.epoch, h.height
            ));
        }
        if h.time_ms <= ph.time_ms {
            return reject(format!(
                "time {} is not after the parent's {}",
                h.time_ms, ph.time_ms
            ));
        }
        if h.time_ms > now_ms + MAX_CLOCK_DRIFT_MS {
            return reject(format!(
                "time {} is in the future (now {now_ms})",
                h.time_ms
            ));
        }
        let txs = &block.block().txs;
        if txs.len() != h.tx_count as usize
            || txs.len() > self.genesis.params.max_block_txs as usize
        {
            return reject("tx_count does not match or exceeds the limit".into());
        }
        if merkle::root(self.suite, block.tx_hashes()) != h.tx_root {
            return reject("tx_root does not match the transactions".into());
        }
        // Signatures: those we admitted to our mempool were verified then.
        let bodies: Vec<(usize, Vec<u8>)> = txs
            .iter()
            .enumerate()
            .filter(|(_, tx)| !self.mempool.is_verified(tx))
            .map(|(i, tx)| (i, tx.body.signing_bytes()))
            .collect();
        let mut items = Vec::new();
        for (i, body) in &bodies {
            for s in &txs[*i].signatures {
                items.push((&s.public_key, body.as_slice(), &s.signature));
            }
        }
        if !xa_crypto::verify_batch(&items).into_iter().all(|ok| ok) {
            return reject("a transaction signature does not verify".into());
        }
        let Some((tip_h, layers)) = self.layers(&parent.hash(), ph.height)? else {
            return Err(ChainError::Invalid("parent not executed".into()));
        };
        if self.history_root(tip_h, &layers)? != h.history_root {
            return reject("history_root does not match the chain of block hashes".into());
        }
        let states: Vec<Arc<PendingState>> = layers.iter().map(|e| e.state.clone()).collect();
        let view_ = View {
            store: &self.store,
            layers: &states,
        };
        let max_txs = self.max_block_txs(&view_)?;
        if block.block().txs.len() > max_txs {
            return reject(format!(
                "{} transactions exceed the chain's max_block_txs {max_txs}",
                block.block().txs.len()
            ));
        }
        let outcome = match self.executor.execute_hashed(
            &view_,
            BlockContext {
                height: h.height,
                time_ms: h.time_ms,
            },
            txs,
            block.tx_hashes(),
            Mode::Verify,
        ) {
            Ok(o) => o,
            Err(ExecutionError::Invalid { index, error }) => {
                return reject(format!("transaction {index}: {error}"));
            }
            Err(e) => return Err(e.into()),
        };
        if Receipt::root(self.suite, &outcome.receipts) != h.receipts_root {
            return reject("receipts_root does not match execution".into());
        }
        let mut writes = outcome.writes;
        let key_versions =
            add_history(self.suite, &view_, &mut writes, outcome.versions, h.height)?;
        let state = Arc::new(self.store.prepare(&states, writes, h.height)?);
        if Hash(state.root) != h.state_root {
            return reject("state_root does not match execution".into());
        }
        self.record_cost(started.elapsed(), txs.len());
        tracing::debug!(
            height = h.height,
            txs = txs.len(),
            checked_signatures = items.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "verified block"
        );
        self.remember(block, state, outcome.receipts, key_versions);
        Ok(true)
    }

    /// The history root of a child of the last of `layers` (nearest first) over the committed
    /// chain up to `tip_h`: the root over the hashes of blocks `0 ..= parent`.
    fn history_root(&self, tip_h: u64, layers: &[Arc<Executed>]) -> Result<Hash, ChainError> {
        let mut frontier = merkle::Frontier::from_perfect(tip_h + 1, &mut |level, index| {
            self.store.require_history_node(level, index).map(Hash)
        })?;
        for e in layers.iter().rev() {
            frontier.push(self.suite, &e.block.hash());
        }
        Ok(frontier.root(self.suite))
    }

    /// Keep a speculative execution result until its height is committed.
    fn remember(
        &self,
        block: &ChainBlock,
        state: Arc<PendingState>,
        receipts: Vec<Receipt>,
        key_versions: Vec<(Vec<u8>, BlockVersions)>,
    ) {
        lock(&self.pending).insert(
            block.hash(),
            Arc::new(Executed {
                block: block.clone(),
                state,
                receipts: Arc::new(receipts),
                key_versions,
            }),
        );
    }

    /// Commit a finalized block (idempotent per height). Executes it first if needed.
    pub fn commit(&self, block: &ChainBlock, finalization: Vec<u8>) -> Result<(), ChainError> {
        let height = block.block().header.height;
        let (tip_h, _) = self.tip();
        if height <= tip_h {
            return Ok(());
        }
        let executed = match self.executed(&block.hash()) {
            Some(e) => e,
            None => {
                let parent = self
                    .block_at(height - 1)?
                    .ok_or_else(|| ChainError::Invalid(format!("parent of {height} missing")))?;
                // Finalized by a quorum: its signatures were checked by it, and we check again.
                if !self.verify(block, &parent, u64::MAX / 2)? {
                    return Err(ChainError::Invalid(format!(
                        "finalized block {height} does not execute to its header"
                    )));
                }
                self.executed(&block.hash())
                    .ok_or_else(|| ChainError::Invalid("executed block vanished".into()))?
            }
        };
        let started = std::time::Instant::now();
        let txs: Vec<([u8; 32], Vec<u8>)> = executed
            .receipts
            .iter()
            .map(|r| (r.tx_hash.0, encode(r)))
            .collect();
        self.store.commit_block(BlockCommit {
            height,
            block_hash: block.hash().0,
            block: block.bytes().to_vec(),
            finalization,
            state: executed.state.clone(),
            txs,
            indexes: Vec::new(),
            key_versions: executed.key_versions.clone(),
        })?;
        {
            let mut pending = lock(&self.pending);
            *lock(&self.tip) = (height, block.hash());
            *lock(&self.tip_block) = Some(block.clone());
            pending.retain(|_, e| e.block.block().header.height > height);
        }
        // Prune the mempool: every sender in this block now has a higher committed nonce.
        let mut senders: Vec<Hash> = block.block().txs.iter().map(|t| t.body.sender).collect();
        senders.sort();
        senders.dedup();
        for s in senders {
            let next = self.next_nonce(&s);
            self.mempool.prune_sender(&s, next);
        }
        self.mempool.prune_expired(height + 1);
        tracing::debug!(
            height,
            txs = block.block().txs.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "committed block"
        );
        let committed = Committed {
            block: block.shared(),
            hash: block.hash(),
            receipts: executed.receipts.clone(),
        };
        for l in lock(&self.listeners).iter() {
            l(&committed);
        }
        Ok(())
    }
}

/// `sender`'s next nonce on the state `view` shows; `None` for an account it does not hold.
fn next_nonce_in(view: &View<'_>, sender: &Hash) -> Option<u64> {
    view.get(&account_key(sender))
        .ok()
        .flatten()
        .and_then(|b| decode::<Account>(&b).ok())
        .map(|a| a.next_nonce)
}

/// Append one history link per version in `versions` (the executor's writes of tracked keys, in
/// block order; see [`xa_types::modules::history`]) and write each key's new head into `writes`,
/// reading the previous heads through `view`. Part of the state transition: proposers and
/// voters both call it on the executor's output before computing the state root.
///
/// Returns, for each key written more than once in the block, its versions in block order: the
/// state keeps only the block's final value, so these are stored beside the block
/// ([`BlockCommit::key_versions`]) for the key's history to be listed in full. A key written once
/// costs nothing more: its version is the head's transaction and the state's value.
fn add_history(
    suite: Suite,
    view: &View<'_>,
    writes: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    versions: Vec<KeyVersion>,
    height: u64,
) -> Result<Vec<(Vec<u8>, BlockVersions)>, ChainError> {
    // Group by key; the sort is stable, so block order is kept within a key.
    let mut versions = versions;
    versions.sort_by(|a, b| a.key.cmp(&b.key));
    let mut multi = Vec::new();
    let mut it = versions.into_iter().peekable();
    while let Some(first) = it.next() {
        let key = first.key;
        let head_key = history::head_key(&key);
        let prev = match view.get(&head_key).map_err(|e| ChainError::Invalid(e.0))? {
            Some(b) => decode::<HistoryHead>(&b)
                .map_err(|e| ChainError::Invalid(format!("corrupt history head: {e}")))?,
            None => HistoryHead::default(),
        };
        let mut head = prev.next(suite, height, first.tx_hash, first.value.as_deref());
        let mut last = (first.tx_hash.0, first.value);
        let mut earlier: BlockVersions = Vec::new();
        while let Some(v) = it.next_if(|v| v.key == key) {
            head = head.next(suite, height, v.tx_hash, v.value.as_deref());
            earlier.push(std::mem::replace(&mut last, (v.tx_hash.0, v.value)));
        }
        debug_assert_eq!(
            writes.get(&key),
            Some(&last.1),
            "the last version of a key is the block's value"
        );
        writes.insert(head_key, Some(encode(&head)));
        if !earlier.is_empty() {
            earlier.push(last);
            multi.push((key, earlier));
        }
    }
    Ok(multi)
}

/// Most transactions accepted in one gossip message.
pub const MAX_GOSSIP_BATCH: usize = 20_000;

/// How far ahead of a voter's clock a proposal's time may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 5_000;

/// The block at height 0 for `genesis`, committing to the genesis state root.
pub fn genesis_block(genesis: &Genesis, state_root: Hash) -> Block {
    let suite = genesis.suite;
    Block {
        header: Header {
            height: 0,
            parent: genesis.hash(),
            epoch: 0,
            view: 0,
            parent_view: 0,
            proposer: Vec::new(),
            time_ms: genesis.genesis_time_ms,
            tx_count: 0,
            tx_root: merkle::root(suite, &[]),
            receipts_root: merkle::root(suite, &[]),
            state_root,
            history_root: merkle::root(suite, &[]),
        },
        txs: Vec::new(),
    }
}

/// The state tree's hash for a suite.
pub fn hash_algo(suite: Suite) -> xa_storage::HashAlgo {
    match suite {
        Suite::Ed25519 => xa_storage::HashAlgo::Sha256,
        Suite::Sm2 => xa_storage::HashAlgo::Sm3,
    }
}
