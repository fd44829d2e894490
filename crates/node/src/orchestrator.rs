//! Epochs: one simplex engine per epoch, driven by committed state.
//!
//! # How an epoch change happens
//! The validator set is chain state ([`xa_types::modules::validators`]): in the state after block
//! `h`, `validators/set` is the set of epoch `epoch_of(h + 1)`. When this node commits the last
//! block of epoch `e` (the *boundary block*), the committer tells the [`Orchestrator`], which
//! reads the set of epoch `e + 1` from that committed state and:
//! 1. registers the epoch's certificate scheme in [`EpochSchemes`], the provider marshal verifies
//!    every epoch's certificates with (old epochs are kept, so backfill of old blocks verifies);
//! 2. tracks the peers this node must talk to (see [`peers_at`]);
//! 3. starts a simplex engine for `e + 1` on the epoch's own sub-channels of the votes,
//!    certificates and resolver channels, rooted at the boundary block. It signs if this node's
//!    key is in the set, and otherwise runs verify-only: it then never votes, but still receives
//!    the epoch's certificates and reports finalizations to marshal, so the node follows the chain;
//! 4. retires the engine of epoch `e` after [`RETIRE_GRACE`], so that peers still finishing `e`
//!    get its last votes and certificates, and then deletes that engine's journal (its partition
//!    is dead: no engine of a past epoch ever starts again). Meanwhile that engine no longer
//!    proposes ([`EpochAutomaton`]).
//!
//! A node that lags (its engine is still in an older epoch) receives messages on sub-channels it
//! has not registered; the muxers' backup channels hand them to the orchestrator, which hints
//! marshal to fetch the finalization of the current epoch's boundary block from that peer.
//! Committing it moves the node to the next epoch, and so on.
//!
//! # Restart
//! [`Orchestrator::run`] starts from the committed tip `h`: epoch `epoch_of(h + 1)`, its set from
//! `validators/set` at `h`, rooted at the previous epoch's boundary block. Simplex replays the
//! epoch's journal, so it never votes twice in a view. Journals of earlier epochs that a crash
//! left behind are deleted first: the store's meta record [`JOURNALS_FROM`] holds the lowest
//! epoch whose journal may still exist, so startup never probes more than the few epochs since.
//!
//! # Determinism
//! Everything consensus-critical here is read from committed state at explicit heights, so every
//! node derives the same scheme for the same epoch.

use crate::{
    app::{App, Ctx},
    block::ChainBlock,
    chain::Chain,
    engine::MarshalMailbox,
};
use commonware_codec::DecodeExt as _;
use commonware_consensus::{
    Handoff,
    marshal::standard::Inline,
    simplex::{self, ForwardPolicy, SkipBudget, SkipPolicy, elector::RoundRobin, scheme::ed25519},
    types::{Epoch, FixedEpocher, Height, Round, ViewDelta},
};
use commonware_cryptography::{
    Sha256,
    certificate::{Provider, Scheme as _, Scoped},
    ed25519::{PrivateKey, PublicKey},
    sha256::Digest,
};
use commonware_p2p::{
    Blocker, Receiver, Sender,
    utils::mux::{Builder as _, MuxHandle, Muxer},
};
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_utils::{NZDuration, NZUsize, channel::oneshot, ordered::Set, vec::NonEmptyVec};
use futures::{StreamExt as _, channel::mpsc};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::Duration,
};
use xa_types::{
    decode,
    modules::validators::{
        self, NEXT_KEY, SET_KEY, ValidatorInfo, ValidatorSet, epoch_of, last_height_of,
    },
};

/// The signing scheme of one epoch.
pub type Scheme = ed25519::Scheme;

/// How long the engine of an epoch keeps running after the next epoch's engine started, so that
/// peers still finishing the old epoch receive its last votes and certificates.
pub const RETIRE_GRACE: Duration = Duration::from_secs(10);

/// Node-local meta key (in the store, not consensus state): the lowest epoch whose simplex
/// journal may still be on disk (big-endian u64; absent = 0).
pub const JOURNALS_FROM: &str = "consensus.journals_from";

/// The storage partition of `epoch`'s simplex journal. Epoch 0 keeps the name nodes used before
/// epochs existed.
fn journal_partition(prefix: &str, epoch: u64) -> String {
    match epoch {
        0 => format!("{prefix}-consensus"),
        e => format!("{prefix}-consensus-{e}"),
    }
}

/// The lowest epoch whose journal may still exist (see [`JOURNALS_FROM`]).
fn journals_from(chain: &Chain) -> u64 {
    match chain.store.meta_get(JOURNALS_FROM) {
        Ok(Some(raw)) => <[u8; 8]>::try_from(raw.as_slice()).map_or(0, u64::from_be_bytes),
        Ok(None) => 0,
        Err(e) => {
            tracing::warn!("cannot read {JOURNALS_FROM}: {e}");
            0
        }
    }
}

/// Delete the journals of every epoch before `to` that may still exist (from [`JOURNALS_FROM`];
/// a missing one is fine: it was deleted before) and record `to`. Only ever called for epochs
/// whose engine has stopped and will never start again.
async fn remove_journals<E: Storage>(context: &E, chain: &Chain, prefix: &str, to: u64) {
    let from = journals_from(chain);
    for epoch in from..to {
        let partition = journal_partition(prefix, epoch);
        match context.remove(&partition, None).await {
            Ok(()) => tracing::debug!(epoch, %partition, "deleted the journal of a past epoch"),
            Err(commonware_runtime::Error::PartitionMissing(_)) => {}
            Err(e) => {
                // Leave the record where it is, so that the next start tries again.
                tracing::warn!(epoch, %partition, "cannot delete a past epoch's journal: {e}");
                return;
            }
        }
    }
    if to > from
        && let Err(e) = chain.store.meta_put(JOURNALS_FROM, &to.to_be_bytes())
    {
        tracing::warn!("cannot record {JOURNALS_FROM}: {e}");
    }
}

/// Makes the p2p layer dial and accept a peer set: `(id, [(consensus key, p2p address)])`.
/// Ids increase (they are committed heights).
pub type PeerTracker = Box<dyn FnMut(u64, Vec<(PublicKey, String)>) + Send>;

/// What the node knows about its current epoch (for the API and tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConsensusStatus {
    /// The epoch whose engine runs.
    pub epoch: u64,
    /// The epoch's validators (consensus keys, sorted).
    pub validators: Vec<PublicKey>,
    /// Whether this node votes in it.
    pub voting: bool,
}

/// The certificate provider marshal uses: every epoch's scheme this node has learned, from
/// committed state. Old epochs are kept, so certificates of old blocks still verify.
#[derive(Clone, Default)]
pub struct EpochSchemes {
    inner: Arc<Mutex<BTreeMap<u64, EpochScheme>>>,
}

/// One epoch's scheme and whether this node signs with it.
type EpochScheme = (Arc<Scheme>, bool);

impl EpochSchemes {
    /// Register the scheme of `epoch` (`signing` if this node's key is in it).
    pub fn register(&self, epoch: u64, scheme: Scheme, signing: bool) {
        lock(&self.inner).insert(epoch, (Arc::new(scheme), signing));
    }

    /// The participants of `epoch`, if known.
    pub fn participants(&self, epoch: u64) -> Option<Vec<PublicKey>> {
        lock(&self.inner)
            .get(&epoch)
            .map(|(s, _)| s.participants().iter().cloned().collect())
    }

    /// The epochs registered so far.
    pub fn epochs(&self) -> Vec<u64> {
        lock(&self.inner).keys().copied().collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Provider for EpochSchemes {
    type Scope = Epoch;
    type Scheme = Scheme;

    fn scoped(&self, scope: Epoch) -> Option<Scoped<Scheme>> {
        lock(&self.inner)
            .get(&scope.get())
            .map(|(s, signing)| match signing {
                true => Scoped::scheme(s.clone()),
                false => Scoped::verifier(s.clone()),
            })
    }

    /// Marshal reads a notarization's codec bounds from the full scheme; a verify-only scheme has
    /// the same participants, so it is returned too (marshal never signs with it).
    fn scheme(&self, scope: Epoch) -> Option<Arc<Scheme>> {
        lock(&self.inner).get(&scope.get()).map(|(s, _)| s.clone())
    }
}

/// What the orchestrator reacts to.
pub enum Event {
    /// The committer durably committed this height.
    Committed(u64),
    /// A peer sent consensus traffic for an epoch this node runs no engine for.
    Unregistered {
        /// The epoch of the message.
        epoch: u64,
        /// The sender.
        from: PublicKey,
    },
}

/// The consensus keys of a validator set, skipping (and logging) undecodable ones. Every node
/// skips the same ones, so the result is deterministic.
pub fn keys_of(validators: &[ValidatorInfo]) -> Set<PublicKey> {
    Set::from_iter_dedup(validators.iter().filter_map(|v| {
        match PublicKey::decode(v.consensus_key.clone()) {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::error!(name = %v.name, "validator set entry has an invalid consensus key: {e}");
                None
            }
        }
    }))
}

/// The validator set in force for `epoch`, read from committed state.
pub fn set_of_epoch(chain: &Chain, epoch: u64) -> Result<Vec<ValidatorInfo>, String> {
    let l = chain.genesis.params.epoch_length;
    let at = match epoch.checked_sub(1) {
        None => 0,
        Some(prev) => last_height_of(prev, l).ok_or("epoch out of range")?,
    };
    read_set(chain, at)
}

fn read_set(chain: &Chain, height: u64) -> Result<Vec<ValidatorInfo>, String> {
    let bytes = chain
        .store
        .get(SET_KEY, height)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no validator set in the state at height {height}"))?;
    let set: ValidatorSet = decode(&bytes).map_err(|e| format!("corrupt validators/set: {e}"))?;
    Ok(set.validators)
}

/// The peers a node tracks after committing `height`: the set in force for the next height, a
/// decided next set (so a joining validator can connect and catch up before its first epoch), and
/// the previous epoch's set (so validators removed at the last boundary, and peers still
/// finishing that epoch, are served until the next boundary).
pub fn peers_at(chain: &Chain, height: u64) -> Result<Vec<(PublicKey, String)>, String> {
    let l = chain.genesis.params.epoch_length;
    let epoch = epoch_of(height.saturating_add(1), l);
    let mut all: Vec<ValidatorInfo> = read_set(chain, height)?;
    if let Some(bytes) = chain
        .store
        .get(NEXT_KEY, height)
        .map_err(|e| e.to_string())?
    {
        let next: ValidatorSet =
            decode(&bytes).map_err(|e| format!("corrupt validators/next: {e}"))?;
        all.extend(next.validators);
    }
    if epoch > 0 {
        all.extend(set_of_epoch(chain, epoch - 1)?);
    }
    let mut out: BTreeMap<PublicKey, String> = BTreeMap::new();
    for v in all {
        if let Ok(k) = PublicKey::decode(v.consensus_key.clone()) {
            out.entry(k).or_insert(v.p2p_address);
        }
    }
    Ok(out.into_iter().collect())
}

/// Consensus timing and identity shared by every epoch's engine.
#[derive(Clone)]
pub struct SimplexParams {
    /// This node's consensus key.
    pub signer: PrivateKey,
    /// Namespace of this chain's consensus signatures.
    pub namespace: Vec<u8>,
    /// Prefix of this node's storage partitions.
    pub partition_prefix: String,
    /// How long to wait for a leader's proposal.
    pub leader_timeout: Duration,
    /// How long to wait for a notarized proposal to certify.
    pub certification_timeout: Duration,
}

/// The application wrapper every epoch's engine drives.
pub type Automaton<E> = Inline<E, Scheme, App<E>, ChainBlock, FixedEpocher>;

/// What an epoch's engine proposes and verifies through: marshal's [`Inline`] automaton, except
/// that it declines to propose in an epoch whose last block this node has committed.
///
/// After the boundary block, marshal answers every proposal request of that epoch with the
/// boundary block again (a re-proposal, which lets a boundary block that missed its
/// finalization get one in a later view). Re-proposals cost no execution, so the old engine,
/// kept running for [`RETIRE_GRACE`] after the next epoch started, went through views as fast
/// as votes travel: measured on a 4-validator devnet at 1,000 tx/s, ~85 views a second for the
/// whole grace period (each with its votes, certificates and journal syncs), ~0.7 of the
/// machine's two cores for 10 s at every boundary, competing with the new epoch's first blocks.
///
/// Once this node has committed the boundary block, a finalization of it exists, so it has no
/// use for further views of that epoch. Declining (closing the response) makes this node's
/// turns as leader time out like a crashed leader's, so the old engine moves at one view per
/// leader timeout. A peer that has not finalized the boundary block can still do so: it
/// re-proposes in its own turns, and this node's engine still verifies and votes, and the
/// peer's marshal can fetch the finalization like any other. Not proposing is always safe;
/// only the liveness of an epoch that is already over is given up.
pub struct EpochAutomaton<E: Clock + Send + Sync + 'static> {
    inner: Automaton<E>,
    chain: Arc<Chain>,
}

impl<E: Spawner + Metrics + Clock + Send + Sync + 'static> Clone for EpochAutomaton<E> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            chain: self.chain.clone(),
        }
    }
}

impl<E: Clock + Send + Sync + 'static> EpochAutomaton<E> {
    /// `inner`, declining proposals in the epochs `chain` has committed to their end.
    pub fn new(inner: Automaton<E>, chain: Arc<Chain>) -> Self {
        Self { inner, chain }
    }

    /// Whether this node has committed the last block of `epoch`.
    fn finished(&self, epoch: Epoch) -> bool {
        last_height_of(epoch.get(), self.chain.genesis.params.epoch_length)
            .is_some_and(|last| self.chain.tip().0 >= last)
    }

    /// A response that is already closed: the request is declined.
    fn declined<T>(&self, context: &Ctx) -> oneshot::Receiver<T> {
        tracing::trace!(round = %context.round, "declining to propose in a finished epoch");
        oneshot::channel().1
    }
}

impl<E> commonware_consensus::Automaton for EpochAutomaton<E>
where
    E: Spawner + Metrics + Clock + Send + Sync + 'static,
{
    type Context = Ctx;
    type Digest = Digest;

    async fn propose(&mut self, context: Ctx) -> oneshot::Receiver<Digest> {
        if self.finished(context.round.epoch()) {
            return self.declined(&context);
        }
        self.inner.propose(context).await
    }

    async fn verify(&mut self, context: Ctx, payload: Digest) -> oneshot::Receiver<bool> {
        self.inner.verify(context, payload).await
    }
}

impl<E> commonware_consensus::CertifiableAutomaton for EpochAutomaton<E>
where
    E: Spawner + Metrics + Clock + Send + Sync + 'static,
{
    async fn prepare(&mut self, context: Ctx) -> oneshot::Receiver<Handoff<Digest>> {
        if self.finished(context.round.epoch()) {
            return self.declined(&context);
        }
        self.inner.prepare(context).await
    }

    async fn certify(&mut self, round: Round, payload: Digest) -> oneshot::Receiver<bool> {
        self.inner.certify(round, payload).await
    }
}

struct Active {
    epoch: u64,
    handle: Handle<()>,
}

/// Runs one simplex engine per epoch; see the [module docs](self).
pub struct Orchestrator<E, B, S>
where
    E: Spawner + Clock + Storage + Metrics + rand_core::CryptoRng + Send + Sync + 'static,
    S: Sender<PublicKey = PublicKey>,
{
    context: E,
    chain: Arc<Chain>,
    params: SimplexParams,
    schemes: EpochSchemes,
    app: Automaton<E>,
    marshal: MarshalMailbox,
    blocker: B,
    tracker: PeerTracker,
    votes: MuxHandle<S>,
    certificates: MuxHandle<S>,
    resolver: MuxHandle<S>,
    page_cache: CacheRef,
    active: Option<Active>,
    tracked: Option<Vec<(PublicKey, String)>>,
    hinted: BTreeSet<(u64, PublicKey)>,
}

impl<E, B, S> Orchestrator<E, B, S>
where
    E: Spawner + Clock + Storage + Metrics + rand_core::CryptoRng + Send + Sync + 'static,
    B: Blocker<PublicKey = PublicKey>,
    S: Sender<PublicKey = PublicKey>,
{
    /// Wrap the consensus channels in per-epoch muxers and spawn the orchestrator. `events`
    /// receives [`Event::Committed`] from the committer.
    #[allow(clippy::too_many_arguments)]
    pub fn start<R>(
        context: E,
        chain: Arc<Chain>,
        params: SimplexParams,
        schemes: EpochSchemes,
        app: Automaton<E>,
        marshal: MarshalMailbox,
        blocker: B,
        tracker: PeerTracker,
        channels: ((S, R), (S, R), (S, R)),
        events: (mpsc::UnboundedSender<Event>, mpsc::UnboundedReceiver<Event>),
    ) -> Handle<()>
    where
        R: Receiver<PublicKey = PublicKey>,
    {
        let ((vs, vr), (cs, cr), (rs, rr)) = channels;
        let (vote_mux, votes, vote_backup) = Muxer::builder(context.child("vote_mux"), vs, vr)
            .with_backup()
            .build();
        vote_mux.start();
        let (cert_mux, certificates, cert_backup) =
            Muxer::builder(context.child("certificate_mux"), cs, cr)
                .with_backup()
                .build();
        cert_mux.start();
        let (res_mux, resolver) = Muxer::new(context.child("resolver_mux"), rs, rr);
        res_mux.start();

        // Messages for epochs without a local engine: a hint that this node lags.
        let (tx, rx) = events;
        for (name, mut backup) in [("vote_backup", vote_backup), ("cert_backup", cert_backup)] {
            let tx = tx.clone();
            context.child(name).spawn(move |_| async move {
                while let Some((epoch, (from, _))) = backup.recv().await {
                    if tx
                        .unbounded_send(Event::Unregistered { epoch, from })
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        let page_cache = crate::engine::journal_page_cache();
        let orchestrator = Self {
            context: context.child("orchestrator"),
            chain,
            params,
            schemes,
            app,
            marshal,
            blocker,
            tracker,
            votes,
            certificates,
            resolver,
            page_cache,
            active: None,
            tracked: None,
            hinted: BTreeSet::new(),
        };
        context.child("epochs").spawn(move |_| orchestrator.run(rx))
    }

    async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let (tip, _) = self.chain.tip();
        let l = self.chain.genesis.params.epoch_length;
        let epoch = epoch_of(tip.saturating_add(1), l);
        // Schemes of earlier epochs: marshal may still verify their certificates.
        for e in 0..epoch {
            match set_of_epoch(&self.chain, e) {
                Ok(set) => {
                    self.register(e, &set);
                }
                Err(err) => tracing::warn!(epoch = e, "cannot rebuild the epoch's scheme: {err}"),
            }
        }
        self.track(tip);
        let prefix = self.params.partition_prefix.clone();
        remove_journals(&self.context, &self.chain, &prefix, epoch).await;
        if let Err(e) = self.enter(epoch).await {
            tracing::error!(epoch, "cannot start consensus: {e}; this node stops voting");
            return;
        }
        while let Some(event) = events.next().await {
            match event {
                Event::Committed(height) => {
                    self.track(height);
                    let next = epoch_of(height, l) + 1;
                    let behind = self.active.as_ref().is_some_and(|a| a.epoch < next);
                    if validators::is_last_in_epoch(height, l)
                        && behind
                        && let Err(e) = self.enter(next).await
                    {
                        tracing::error!(
                            epoch = next,
                            "cannot start consensus: {e}; this node stops voting"
                        );
                        return;
                    }
                }
                Event::Unregistered { epoch, from } => self.hint(epoch, from),
            }
        }
    }

    /// Register `epoch`'s scheme; returns it and whether this node signs in it.
    fn register(&self, epoch: u64, set: &[ValidatorInfo]) -> Option<(Scheme, bool)> {
        let keys = keys_of(set);
        if keys.is_empty() {
            return None;
        }
        let ns = &self.params.namespace;
        let (scheme, signing) = match Scheme::signer(ns, keys.clone(), self.params.signer.clone()) {
            Some(s) => (s, true),
            None => (Scheme::verifier(ns, keys), false),
        };
        self.schemes.register(epoch, scheme.clone(), signing);
        Some((scheme, signing))
    }

    /// Track the peers implied by the state at `height`, if they changed.
    fn track(&mut self, height: u64) {
        match peers_at(&self.chain, height) {
            Ok(peers) if self.tracked.as_ref() != Some(&peers) => {
                tracing::info!(height, peers = peers.len(), "tracking peer set");
                (self.tracker)(height, peers.clone());
                self.tracked = Some(peers);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(height, "cannot compute the peer set: {e}"),
        }
    }

    /// Messages for a later epoch than ours: fetch our epoch's boundary finalization from the
    /// sender, which lets marshal (and then this node) move on.
    fn hint(&mut self, epoch: u64, from: PublicKey) {
        let Some(active) = &self.active else { return };
        if epoch <= active.epoch || !self.hinted.insert((active.epoch, from.clone())) {
            return;
        }
        let Some(boundary) = last_height_of(active.epoch, self.chain.genesis.params.epoch_length)
        else {
            return;
        };
        tracing::debug!(
            epoch,
            ours = active.epoch,
            boundary,
            "peer is ahead: fetching our epoch's boundary"
        );
        self.marshal
            .hint_finalized(Height::new(boundary), NonEmptyVec::new(from));
    }

    /// Start the engine of `epoch` (rooted at the previous epoch's boundary block) and retire the
    /// running one after [`RETIRE_GRACE`].
    async fn enter(&mut self, epoch: u64) -> Result<(), String> {
        let l = self.chain.genesis.params.epoch_length;
        let set = set_of_epoch(&self.chain, epoch)?;
        let (scheme, signing) = self
            .register(epoch, &set)
            .ok_or_else(|| format!("the validator set of epoch {epoch} is empty"))?;
        let root_height = match epoch.checked_sub(1) {
            None => 0,
            Some(prev) => last_height_of(prev, l).ok_or("epoch out of range")?,
        };
        let root = self
            .chain
            .block_at(root_height)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("boundary block {root_height} is not committed"))?;
        let was_voting = self.chain.consensus_status().voting;
        self.chain.set_consensus_status(ConsensusStatus {
            epoch,
            validators: scheme.participants().iter().cloned().collect(),
            voting: signing,
        });
        if signing {
            tracing::info!(
                epoch,
                validators = set.len(),
                "entering epoch as a validator"
            );
        } else if was_voting {
            tracing::warn!(
                epoch,
                "this node's key is not in the validator set of epoch {epoch}: it stops voting \
                 and follows the chain as a non-voting replica while its peers still serve it \
                 (until the end of epoch {epoch})"
            );
        } else {
            tracing::info!(
                epoch,
                validators = set.len(),
                "entering epoch as a non-voting replica (this node's key is not in the set)"
            );
        }

        let sub = epoch;
        let votes = self.votes.register(sub).await.map_err(|e| e.to_string())?;
        let certificates = self
            .certificates
            .register(sub)
            .await
            .map_err(|e| e.to_string())?;
        let resolver = self
            .resolver
            .register(sub)
            .await
            .map_err(|e| e.to_string())?;
        let partition = journal_partition(&self.params.partition_prefix, epoch);
        let lt = self.params.leader_timeout;
        let engine = simplex::Engine::new(
            self.context
                .child("consensus")
                .with_attribute("epoch", epoch),
            simplex::Config {
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                blocker: self.blocker.clone(),
                automaton: EpochAutomaton::new(self.app.clone(), self.chain.clone()),
                relay: self.app.clone(),
                reporter: self.app.clone(),
                partition,
                mailbox_size: NZUsize!(1024),
                epoch: Epoch::new(epoch),
                floor: simplex::Floor::Genesis(crate::block::to_digest(&root.hash())),
                replay_buffer: NZUsize!(1024 * 1024),
                write_buffer: NZUsize!(1024 * 1024),
                leader_timeout: lt,
                certification_timeout: self.params.certification_timeout,
                timeout_retry: Duration::from_secs(3),
                fetch_timeout: NZDuration!(Duration::from_secs(1)),
                fetch_retry_delay: Duration::from_millis(100),
                view_retention: ViewDelta::new(64),
                skip: SkipPolicy::Enabled {
                    // Above the certification timeout and the 3 s retry, as simplex requires
                    // (both timeouts are node config: `config::ConsensusSettings`).
                    timeout: (lt * 5)
                        .max(self.params.certification_timeout * 2)
                        .max(Duration::from_secs(4)),
                    budget: SkipBudget::Participants,
                },
                page_cache: self.page_cache.clone(),
                strategy: commonware_parallel::Sequential,
                forward: ForwardPolicy::Disabled,
                track_historical_votes: false,
            },
        );
        let handle = engine.start(votes, certificates, resolver);
        if let Some(old) = self.active.replace(Active { epoch, handle }) {
            let old_epoch = old.epoch;
            let chain = self.chain.clone();
            let prefix = self.params.partition_prefix.clone();
            self.context
                .child("retire")
                .spawn(move |context| async move {
                    context.sleep(RETIRE_GRACE).await;
                    tracing::debug!(epoch = old_epoch, "retiring the engine of a past epoch");
                    old.handle.abort();
                    // Wait until the engine has stopped (an aborted task resolves to an error).
                    let _ = old.handle.await;
                    // Earlier epochs were retired the same way or at startup; starting from the
                    // record retries any deletion that failed.
                    remove_journals(&context, &chain, &prefix, old_epoch + 1).await;
                });
        }
        self.hinted.clear();
        Ok(())
    }
}
