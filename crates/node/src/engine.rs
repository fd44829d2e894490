//! Wire consensus (simplex), block dissemination (buffered broadcast), backfill (resolver) and
//! marshal around the [`App`](crate::app::App), over any p2p network and any runtime.

use crate::{
    app::{App, Finalizer, committer},
    block::ChainBlock,
    chain::Chain,
    orchestrator::{EpochSchemes, Orchestrator, PeerTracker, SimplexParams},
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{
        self,
        core::{Actor, Mailbox},
        resolver::p2p as marshal_resolver,
        standard::{Inline, Standard},
    },
    simplex::scheme::ed25519::Scheme,
    types::{FixedEpocher, ViewDelta},
};
use commonware_cryptography::{Digested, Digestible as _, Signer as _, ed25519};
use commonware_p2p::{Blocker, Provider, Receiver, Recipients, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{Clock, Handle, Metrics, Spawner, Storage, buffer::paged::CacheRef};
use commonware_storage::archive::immutable;
use commonware_utils::{NZDuration, NZU16, NZU64, NZUsize};
use futures::StreamExt as _;
use std::{sync::Arc, time::Duration};

/// Marshal's mailbox for our block type.
pub type MarshalMailbox = Mailbox<Scheme, Standard<ChainBlock>>;

/// Consensus timing and identity. The validator set of each epoch comes from committed state.
#[derive(Clone)]
pub struct EngineConfig {
    /// This node's consensus key (it votes in the epochs whose set includes it).
    pub signer: ed25519::PrivateKey,
    /// Namespace separating this chain's consensus signatures from any other's.
    pub namespace: Vec<u8>,
    /// Prefix of every storage partition of this node.
    pub partition_prefix: String,
    /// How long to wait for a leader's proposal.
    pub leader_timeout: Duration,
    /// How long to wait for a notarized proposal to certify.
    pub certification_timeout: Duration,
}

/// What [`start`] returns.
pub struct Started {
    /// Marshal's mailbox.
    pub marshal: MarshalMailbox,
    /// The orchestrator task (it supervises every epoch's consensus engine).
    pub orchestrator: Handle<()>,
    /// The certificate schemes of every epoch this node knows.
    pub schemes: EpochSchemes,
}

/// The p2p channels the engine runs on (each a sender/receiver pair).
pub struct Channels<S, R> {
    /// Consensus votes.
    pub votes: (S, R),
    /// Consensus certificates.
    pub certificates: (S, R),
    /// Consensus certificate backfill.
    pub resolver: (S, R),
    /// Block broadcast.
    pub blocks: (S, R),
    /// Marshal's finalized-block backfill.
    pub backfill: (S, R),
    /// Transaction gossip between mempools.
    pub txs: (S, R),
}

/// Channel ids used on the authenticated network.
pub mod channel {
    /// Votes.
    pub const VOTES: u64 = 0;
    /// Certificates.
    pub const CERTIFICATES: u64 = 1;
    /// Consensus resolver.
    pub const RESOLVER: u64 = 2;
    /// Block broadcast.
    pub const BLOCKS: u64 = 3;
    /// Marshal backfill.
    pub const BACKFILL: u64 = 4;
    /// Transaction gossip.
    pub const TXS: u64 = 5;
}

/// Largest message any channel carries: a block at its bound plus framing.
pub fn max_message_size(chain: &Chain) -> u32 {
    (chain.block_cfg.max_bytes + 64 * 1024).min(u32::MAX as usize) as u32
}

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: &CacheRef,
    codec_config: C,
) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 1024,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 1024,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 64 * 1024 * 1024,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(4096),
        codec_config,
        replay_buffer: NZUsize!(1024 * 1024),
        freezer_key_write_buffer: NZUsize!(1024 * 1024),
        freezer_value_write_buffer: NZUsize!(1024 * 1024),
        ordinal_write_buffer: NZUsize!(1024 * 1024),
    }
}

/// Page size of Commonware's paged journals and archives (marshal's caches and archives,
/// simplex's journal). Every small append followed by a sync rewrites the whole last page, so
/// on an idle chain the page size, not the data, decides the bytes written: with 16 KiB pages
/// each node wrote ~1.5 MB per empty block, with 4 KiB ~0.7 MB. Part of the on-disk format of
/// `consensus/`.
const JOURNAL_PAGE_BYTES: u16 = 4_096;
/// Pages one page cache holds (160 MiB).
const JOURNAL_CACHE_PAGES: usize = 40_000;

/// A page cache for Commonware's journals and archives, in [`JOURNAL_PAGE_BYTES`] pages.
pub(crate) fn journal_page_cache() -> CacheRef {
    CacheRef::new(NZU16!(JOURNAL_PAGE_BYTES), NZUsize!(JOURNAL_CACHE_PAGES))
}

/// Start every consensus actor for one node: block broadcast, backfill, marshal, the committer,
/// transaction gossip, and the [`Orchestrator`] that runs one simplex engine per epoch.
/// `tracker` makes the p2p layer accept the peers committed state names (see
/// [`crate::orchestrator::peers_at`]).
pub async fn start<E, P, B, S, R>(
    context: E,
    chain: Arc<Chain>,
    cfg: EngineConfig,
    peers: P,
    blocker: B,
    tracker: PeerTracker,
    channels: Channels<S, R>,
) -> Started
where
    E: Spawner + Clock + Storage + Metrics + rand_core::CryptoRng + Send + Sync + 'static,
    P: Provider<PublicKey = ed25519::PublicKey>,
    B: Blocker<PublicKey = ed25519::PublicKey>,
    S: Sender<PublicKey = ed25519::PublicKey>,
    R: Receiver<PublicKey = ed25519::PublicKey>,
{
    let me = cfg.signer.public_key();
    let schemes = EpochSchemes::default();
    let epocher = epocher(&chain);
    let page_cache = journal_page_cache();
    let prefix = cfg.partition_prefix.clone();
    let genesis = chain
        .genesis_block()
        .expect("genesis block is committed when the chain opens");
    // Block dissemination.
    let (broadcast_engine, buffer) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: NZUsize!(1024),
            deque_size: 16,
            priority: false,
            codec_config: chain.block_cfg.clone(),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    // Backfill of finalized blocks.
    let resolver = marshal_resolver::init(
        context.child("backfill"),
        marshal_resolver::Config {
            public_key: me.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    // Marshal's archives of finalized certificates and blocks.
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            &prefix,
            "finalizations",
            &page_cache,
            <Scheme as commonware_cryptography::certificate::Verifier>::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .expect("finalizations archive opens");
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config(&prefix, "blocks", &page_cache, chain.block_cfg.clone()),
    )
    .await
    .expect("blocks archive opens");

    let (actor, mailbox, _floor) = Actor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: schemes.clone(),
            epocher: epocher.clone(),
            start: marshal::Start::Genesis(Digested::precomputed(
                genesis.clone(),
                genesis.digest(),
            )),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size: NZUsize!(1024),
            view_retention: ViewDelta::new(64),
            prunable_items_per_section: NZU64!(64),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1024 * 1024),
            key_write_buffer: NZUsize!(1024 * 1024),
            value_write_buffer: NZUsize!(1024 * 1024),
            block_codec_config: chain.block_cfg.clone(),
            max_repair: NZUsize!(16),
            max_pending_acks: NZUsize!(4),
            strategy: Sequential,
        },
    )
    .await;
    let (finalizer, finalized) = Finalizer::new();
    actor.start(finalizer, buffer, resolver);
    let (events_tx, events_rx) = futures::channel::mpsc::unbounded();
    context.child("committer").dedicated().spawn({
        let chain = chain.clone();
        let mailbox = mailbox.clone();
        let events = events_tx.clone();
        move |_| committer(chain, mailbox, finalized, events)
    });

    // Transaction gossip: what clients submit here goes to every other validator's mempool.
    let (gossip_tx, mut gossip_rx) = futures::channel::mpsc::unbounded::<Vec<u8>>();
    chain.set_gossip(gossip_tx);
    let (mut tx_sender, mut tx_receiver) = channels.txs;
    context.child("gossip_out").spawn(move |_| async move {
        while let Some(bytes) = gossip_rx.next().await {
            tx_sender.send(Recipients::All, bytes, false);
        }
    });
    // Admission verifies signatures: keep it off the threads consensus runs on.
    context.child("gossip_in").dedicated().spawn({
        let chain = chain.clone();
        move |_| async move {
            while let Ok((_peer, bytes)) = tx_receiver.recv().await {
                chain.submit_gossiped(bytes.as_ref());
            }
        }
    });

    // Consensus: one simplex engine per epoch.
    let app = Inline::new(
        context.child("application"),
        App::<E>::new(chain.clone()),
        mailbox.clone(),
        epocher,
    );
    let orchestrator = Orchestrator::start(
        context.child("orchestrator"),
        chain,
        SimplexParams {
            signer: cfg.signer,
            namespace: cfg.namespace,
            partition_prefix: prefix,
            leader_timeout: cfg.leader_timeout,
            certification_timeout: cfg.certification_timeout,
        },
        schemes.clone(),
        app,
        mailbox.clone(),
        blocker,
        tracker,
        (channels.votes, channels.certificates, channels.resolver),
        (events_tx, events_rx),
    );
    Started {
        marshal: mailbox,
        orchestrator,
        schemes,
    }
}

/// The chain's epoch layout (Commonware's fixed epochs of `params.epoch_length` heights).
pub fn epocher(chain: &Chain) -> FixedEpocher {
    FixedEpocher::new(
        std::num::NonZeroU64::new(chain.genesis.params.epoch_length.max(2)).unwrap_or(NZU64!(2)),
    )
}
