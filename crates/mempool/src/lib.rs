//! Hold verified pending transactions in nonce order until a block includes them.
//!
//! # Rules
//! - A transaction enters only after the stateless checks ([`xa_execution::Executor::check_stateless`])
//!   and signature verification (batched, [`xa_crypto::verify_batch`]).
//! - Its sender must be a registered, active account and every signing key an active key of the
//!   sender or of a co-signing account ([`xa_execution::resolve_signers`], the same check and
//!   codes as execution: `UNKNOWN_ACCOUNT`, `ACCOUNT_FROZEN`, `KEY_REVOKED`, `BAD_SIGNATURE`),
//!   so that nobody takes pool space, or squats another account's nonces, without a valid
//!   identity.
//! - Its nonce must not be below the sender's next committed nonce (`STALE_NONCE`) nor more than
//!   [`Config::max_nonce_ahead`] above it (`NONCE_TOO_HIGH`); the same hash twice is
//!   `DUPLICATE_TRANSACTION`.
//! - Bounded by count and bytes. A sender's pending nonces that run without a hole from its
//!   next committed nonce are *ready*; those behind a missing nonce are *gapped*: no block can
//!   include them until the hole is filled. When the pool is full, a ready transaction takes the
//!   place of the newest gapped one; a gapped transaction, or a ready one when nothing is gapped,
//!   gets `MEMPOOL_FULL` (back-pressure). Without the eviction, a pool filled with gapped
//!   transactions (clients that went on with later nonces after a refusal under load, or anyone
//!   queueing far ahead) refused everything, the missing nonces too, and the chain stopped
//!   committing until they expired (seen: a 10-minute `xachain bench` at 2,000 tx/s ended with
//!   200,000 gapped transactions and empty blocks). Expired transactions are dropped after each
//!   commit.
//! - Selection for a proposal is in arrival order, each sender's nonces ascending and contiguous
//!   from its next nonce on the parent state; a sender's transactions behind a missing nonce wait
//!   without taking space in proposals, and those already in uncommitted ancestor blocks are
//!   skipped.
//!
//! The mempool is node-local: nothing here is consensus-critical, so it may use hash maps.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use xa_execution::{Executor, StateView, check_expiry, check_nonce, resolve_signers};
use xa_types::{Address, ErrorCode, Hash, Suite, Transaction, TxError};

/// Mempool limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most encoded bytes held.
    pub max_bytes: usize,
    /// How far ahead of the committed nonce a sender may queue.
    pub max_nonce_ahead: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_txs: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_nonce_ahead: 1_024,
        }
    }
}

struct Entry {
    tx: Arc<Transaction>,
    hash: Hash,
    size: usize,
}

/// One sender's pending transactions.
#[derive(Default)]
struct SenderQueue {
    /// The sender's next committed nonce, as last seen (on admission or after a commit).
    base: u64,
    /// The first nonce from `base` on that is not pending: nonces `base..ready_end` are ready,
    /// pending nonces above it are gapped (their arrival numbers are in [`Inner::gapped`]).
    ready_end: u64,
    /// Nonce -> (arrival, entry).
    nonces: BTreeMap<u64, (u64, Entry)>,
}

#[derive(Default)]
struct Inner {
    /// Arrival order -> (sender, nonce).
    queue: BTreeMap<u64, (Address, u64)>,
    by_sender: HashMap<Address, SenderQueue>,
    /// Arrival numbers of the gapped transactions, so the newest can make room for a ready one.
    gapped: BTreeSet<u64>,
    /// Gapped transactions dropped to make room, ever.
    evicted: u64,
    hashes: HashSet<Hash>,
    /// (expiry height, arrival): what [`Mempool::prune_expired`] drops, oldest expiry first.
    by_expiry: BTreeSet<(u64, u64)>,
    next_seq: u64,
    bytes: usize,
}

/// The pool of pending transactions.
pub struct Mempool {
    config: Config,
    suite: Suite,
    inner: Mutex<Inner>,
}

/// A transaction that passed admission, with its hash.
pub type Admitted = (Hash, Arc<Transaction>);

impl Mempool {
    /// An empty pool.
    pub fn new(config: Config, suite: Suite) -> Self {
        Self {
            config,
            suite,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.lock().hashes.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many transactions were ever admitted: changes exactly when one arrives, so a
    /// proposer waiting for something to include re-checks only then.
    pub fn arrivals(&self) -> u64 {
        self.lock().next_seq
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.lock().hashes.contains(hash)
    }

    /// How many pending transactions wait behind a missing nonce of their sender.
    pub fn gapped_len(&self) -> usize {
        self.lock().gapped.len()
    }

    /// How many gapped transactions were ever dropped to make room for ready ones.
    pub fn evicted(&self) -> u64 {
        self.lock().evicted
    }

    /// The next nonce `sender` should use, counting its pending transactions that follow
    /// `committed_next` without a gap.
    pub fn pending_next_nonce(&self, sender: &Address, committed_next: u64) -> u64 {
        self.lock()
            .by_sender
            .get(sender)
            .map_or(committed_next, |q| Self::run_end(q, committed_next))
    }

    /// Whether `count` transactions of `bytes` in all leave room for one more of `size` bytes.
    fn has_room(&self, count: usize, bytes: usize, size: usize) -> bool {
        count < self.config.max_txs && bytes + size <= self.config.max_bytes
    }

    /// Whether exactly `tx` (same body and same signatures) is pending, and so had its
    /// signatures verified on admission.
    pub fn is_verified(&self, tx: &Transaction) -> bool {
        let inner = self.lock();
        inner
            .by_sender
            .get(&tx.body.sender)
            .and_then(|q| q.nonces.get(&tx.body.nonce))
            .is_some_and(|(_, e)| *e.tx == *tx)
    }

    /// Check and admit a batch of transactions. `committed` is the committed state (senders,
    /// keys, nonces are checked against it); `next_height` is the height of the next block.
    /// Returns one result per input, in order.
    pub fn submit(
        &self,
        executor: &Executor,
        txs: Vec<Transaction>,
        next_height: u64,
        committed: &dyn StateView,
    ) -> Vec<Result<Hash, TxError>> {
        // Stateless checks first, then one batched signature verification for the survivors.
        let mut results: Vec<Result<Hash, TxError>> = Vec::with_capacity(txs.len());
        let mut candidates = Vec::new();
        for (i, tx) in txs.into_iter().enumerate() {
            match executor
                .check_stateless(&tx)
                .and_then(|()| check_expiry(&tx, next_height))
            {
                Ok(()) => {
                    let hash = tx.hash(self.suite);
                    results.push(Ok(hash));
                    candidates.push((i, hash, tx));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        let bodies: Vec<Vec<u8>> = candidates
            .iter()
            .map(|(_, _, tx)| tx.body.signing_bytes())
            .collect();
        let mut items = Vec::new();
        let mut owner = Vec::new();
        for (c, (_, _, tx)) in candidates.iter().enumerate() {
            for s in &tx.signatures {
                items.push((&s.public_key, bodies[c].as_slice(), &s.signature));
                owner.push(c);
            }
        }
        let verdicts = xa_crypto::verify_batch(&items);
        let mut valid = vec![true; candidates.len()];
        for (ok, c) in verdicts.iter().zip(owner) {
            if !ok {
                valid[c] = false;
            }
        }
        let mut inner = self.lock();
        for ((i, hash, tx), ok) in candidates.into_iter().zip(valid) {
            if !ok {
                results[i] = Err(TxError::new(
                    ErrorCode::BadSignature,
                    "signatures: a signature does not verify over the body",
                ));
                continue;
            }
            if let Err(e) = self.admit(&mut inner, hash, tx, committed) {
                results[i] = Err(e);
            }
        }
        results
    }

    fn admit(
        &self,
        inner: &mut Inner,
        hash: Hash,
        tx: Transaction,
        committed: &dyn StateView,
    ) -> Result<(), TxError> {
        if inner.hashes.contains(&hash) {
            return Err(TxError::new(
                ErrorCode::DuplicateTransaction,
                format!("transaction {hash} is already pending"),
            ));
        }
        let sender = tx.body.sender;
        let nonce = tx.body.nonce;
        // Only registered, active keys of the sender may queue its nonces (else anyone could
        // squat them).
        let next = resolve_signers(committed, &tx)?.sender.next_nonce;
        if nonce < next {
            check_nonce(next, nonce)?;
        }
        if nonce > next.saturating_add(self.config.max_nonce_ahead) {
            return Err(TxError::new(
                ErrorCode::NonceTooHigh,
                format!(
                    "body.nonce: {nonce} is more than {} ahead of the next nonce {next}",
                    self.config.max_nonce_ahead
                ),
            ));
        }
        if inner
            .by_sender
            .get(&sender)
            .is_some_and(|q| q.nonces.contains_key(&nonce))
        {
            return Err(TxError::new(
                ErrorCode::DuplicateTransaction,
                format!("body.nonce: sender already has a pending transaction with nonce {nonce}"),
            ));
        }
        let size = tx.encoded_len();
        // Where the sender's ready run ends once the committed nonce is taken into account.
        let ready_end = match inner.by_sender.get(&sender) {
            Some(q) if q.base >= next => q.ready_end,
            Some(q) => Self::run_end(q, next),
            None => next,
        };
        if !self.has_room(inner.hashes.len(), inner.bytes, size) {
            if nonce != ready_end {
                return Err(TxError::new(
                    ErrorCode::MempoolFull,
                    format!(
                        "mempool: full, retry later; body.nonce {nonce} waits behind the sender's \
                         missing nonce {ready_end}, so it cannot take a waiting transaction's place"
                    ),
                ));
            }
            // A ready transaction takes the place of the newest gapped ones; check first that
            // they make enough room, so a refusal leaves the pool as it was.
            let mut room_txs = inner.hashes.len();
            let mut room_bytes = inner.bytes;
            let mut victims = Vec::new();
            for seq in inner.gapped.iter().rev() {
                if self.has_room(room_txs, room_bytes, size) {
                    break;
                }
                let Some((s, n)) = inner.queue.get(seq).copied() else {
                    continue;
                };
                if let Some((_, e)) = inner.by_sender.get(&s).and_then(|q| q.nonces.get(&n)) {
                    room_txs -= 1;
                    room_bytes -= e.size;
                    victims.push((s, n));
                }
            }
            if !self.has_room(room_txs, room_bytes, size) {
                return Err(TxError::new(
                    ErrorCode::MempoolFull,
                    "mempool: full of transactions blocks can include, retry later",
                ));
            }
            for (s, n) in victims {
                Self::remove_one(inner, &s, n);
                inner.evicted += 1;
            }
        }
        let seq = inner.next_seq;
        inner.next_seq += 1;
        inner.queue.insert(seq, (sender, nonce));
        inner.by_expiry.insert((tx.body.expiry_height, seq));
        let q = inner.by_sender.entry(sender).or_default();
        q.nonces.insert(
            nonce,
            (
                seq,
                Entry {
                    tx: Arc::new(tx),
                    hash,
                    size,
                },
            ),
        );
        inner.hashes.insert(hash);
        inner.bytes += size;
        if nonce > ready_end {
            inner.gapped.insert(seq);
        }
        Self::set_base(inner, &sender, next);
        Ok(())
    }

    /// The first nonce from `from` on that `q` does not hold.
    fn run_end(q: &SenderQueue, from: u64) -> u64 {
        let mut end = from;
        for n in q.nonces.range(from..).map(|(n, _)| *n) {
            if n != end {
                break;
            }
            end += 1;
        }
        end
    }

    /// Record that `sender`'s next committed nonce is `next` (never lowered) and extend its
    /// ready run: transactions it now reaches are no longer gapped.
    fn set_base(inner: &mut Inner, sender: &Address, next: u64) {
        let Some(q) = inner.by_sender.get_mut(sender) else {
            return;
        };
        q.base = q.base.max(next);
        let mut end = q.ready_end.max(q.base);
        while let Some((seq, _)) = q.nonces.get(&end) {
            inner.gapped.remove(seq);
            end += 1;
        }
        q.ready_end = end;
    }

    /// Pick up to `max` transactions for a proposal on a parent state, in arrival order, each
    /// sender's nonces ascending and without gaps: a sender's run starts at `next_nonce(sender)`,
    /// its next nonce on the parent state (`None`: none can be included), and stops at the first
    /// missing nonce. Transactions in `exclude` (already in uncommitted ancestors) are never
    /// picked.
    ///
    /// Transactions behind a gap stay pending (the missing nonce may still arrive) but take no
    /// place in the proposal: before this rule the first `max` transactions in arrival order
    /// were picked whatever their nonces, so enough gapped ones at the head of the queue (a
    /// load generator's leftovers, or anyone's 1,024 nonces ahead) made every block empty
    /// while valid transactions waited behind them.
    pub fn select(
        &self,
        max: usize,
        exclude: &HashSet<Hash>,
        next_nonce: &mut dyn FnMut(&Address) -> Option<u64>,
    ) -> Vec<Admitted> {
        let inner = self.lock();
        let mut out = Vec::with_capacity(max.min(inner.hashes.len()));
        // Per sender: the next nonce this proposal can take, or `None` once it hit a gap.
        let mut expected: HashMap<Address, Option<u64>> = HashMap::new();
        for (sender, nonce) in inner.queue.values() {
            if out.len() >= max {
                break;
            }
            let Some(nonces) = inner.by_sender.get(sender).map(|q| &q.nonces) else {
                continue;
            };
            let slot = expected
                .entry(*sender)
                .or_insert_with(|| next_nonce(sender));
            let Some(from) = *slot else {
                continue;
            };
            if *nonce < from {
                continue;
            }
            // Emit this sender's nonces from `from` up to and including `nonce`, so a later
            // arrival with a lower nonce still goes first.
            let mut want = from;
            while want <= *nonce && out.len() < max {
                match nonces.get(&want) {
                    Some((_, entry)) if !exclude.contains(&entry.hash) => {
                        out.push((entry.hash, entry.tx.clone()));
                        want += 1;
                    }
                    _ => break,
                }
            }
            *slot = if want <= *nonce && out.len() < max {
                None // a gap (or an excluded nonce): nothing further from this sender
            } else {
                Some(want)
            };
        }
        out
    }

    /// Remove transactions by hash (committed, or permanently invalid).
    pub fn remove(&self, txs: &[(Address, u64)]) {
        let mut inner = self.lock();
        for (sender, nonce) in txs {
            Self::remove_one(&mut inner, sender, *nonce);
        }
    }

    fn remove_one(inner: &mut Inner, sender: &Address, nonce: u64) {
        let Some(q) = inner.by_sender.get_mut(sender) else {
            return;
        };
        if let Some((seq, entry)) = q.nonces.remove(&nonce) {
            inner.queue.remove(&seq);
            inner.gapped.remove(&seq);
            inner.by_expiry.remove(&(entry.tx.body.expiry_height, seq));
            inner.hashes.remove(&entry.hash);
            inner.bytes -= entry.size;
            // A hole in the ready run: what followed it now waits behind it.
            if q.base <= nonce && nonce < q.ready_end {
                for (_, (later, _)) in q.nonces.range(nonce + 1..q.ready_end) {
                    inner.gapped.insert(*later);
                }
                q.ready_end = nonce;
            }
        }
        if q.nonces.is_empty() {
            inner.by_sender.remove(sender);
        }
    }

    /// After a commit: drop every pending transaction that no block from `next_height` on may
    /// include (`expiry_height` below it). Returns how many were dropped.
    ///
    /// Execution drops an expired transaction when a proposal picks it, but one waiting behind
    /// a missing nonce is never picked ([`Mempool::select`]); without this it would hold its
    /// place in the pool for good.
    pub fn prune_expired(&self, next_height: u64) -> usize {
        let mut inner = self.lock();
        let expired: Vec<(Address, u64)> = inner
            .by_expiry
            .range(..(next_height, 0))
            .filter_map(|(_, seq)| inner.queue.get(seq).copied())
            .collect();
        for (sender, nonce) in &expired {
            Self::remove_one(&mut inner, sender, *nonce);
        }
        expired.len()
    }

    /// After a commit: drop every pending transaction of `sender` below `next_nonce`, which is
    /// now its next committed nonce (what waited behind nonces committed from elsewhere is ready).
    pub fn prune_sender(&self, sender: &Address, next_nonce: u64) {
        let mut inner = self.lock();
        // The base first, so removing the committed nonces below it opens no hole.
        Self::set_base(&mut inner, sender, next_nonce);
        let stale: Vec<u64> = inner
            .by_sender
            .get(sender)
            .map(|q| q.nonces.range(..next_nonce).map(|(n, _)| *n).collect())
            .unwrap_or_default();
        for n in stale {
            Self::remove_one(&mut inner, sender, n);
        }
    }
}

#[cfg(test)]
mod tests;
