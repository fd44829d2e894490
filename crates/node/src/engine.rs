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
use futures::{FutureExt as _, StreamExt as _};
use std::{sync::Arc, time::Duration};
use xa_types::{Transaction, encode};

/// How long transaction gossip waits, after a client's transactions are admitted, for more to
/// send in the same message. Clients that submit one transaction per request would otherwise
/// make one message per transaction: each peer then checks every signature on its own (62 µs
/// for Ed25519 here, against ~20–33 µs in a batch) and the network frames, encrypts and sends
/// each separately. Small next to a block's round (~100 ms and more under load). It also bounds
/// what a node sends each peer on the gossip channel to ~100 messages a second (more only for
/// batches over [`GOSSIP_MESSAGE_TXS`]), far under the peer's inbound quota
/// ([`crate::service::P2P_MESSAGES_PER_SECOND`]); one message per request would have had
/// everything over that quota dropped once clients sent a node more than 1,000 requests a
/// second.
pub const GOSSIP_LINGER: Duration = Duration::from_millis(10);
/// Most transactions one gossip message carries (a receiver takes up to
/// [`crate::chain::MAX_GOSSIP_BATCH`]).
pub const GOSSIP_MESSAGE_TXS: usize = 4_096;
/// Most gossip messages a receiver admits in one signature batch.
const GOSSIP_IN_MESSAGES: usize = 64;

/// Send what clients submitted here to every other validator: the transactions admitted within
/// [`GOSSIP_LINGER`] of the first go out together, in messages of at most
/// [`GOSSIP_MESSAGE_TXS`] transactions and `max_bytes` of them (a block's bound, below the
/// network's message limit).
async fn gossip_out<E: Clock, S: Sender>(
    context: E,
    mut admitted: futures::channel::mpsc::UnboundedReceiver<Vec<Transaction>>,
    mut sender: S,
    max_bytes: usize,
) {
    while let Some(mut txs) = admitted.next().await {
        let deadline = context.current() + GOSSIP_LINGER;
        while txs.len() < GOSSIP_MESSAGE_TXS {
            commonware_macros::select! {
                more = admitted.next() => match more {
                    Some(more) => txs.extend(more),
                    None => break,
                },
                _ = context.sleep_until(deadline) => break,
            }
        }
        for message in split_gossip(&txs, GOSSIP_MESSAGE_TXS, max_bytes) {
            sender.send(Recipients::All, encode(&message), false);
        }
    }
}

/// Split `txs` into consecutive messages of at most `max_txs` transactions and `max_bytes`
/// encoded bytes (a transaction larger than `max_bytes` goes alone).
fn split_gossip(txs: &[Transaction], max_txs: usize, max_bytes: usize) -> Vec<&[Transaction]> {
    let mut messages = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, tx) in txs.iter().enumerate() {
        let len = tx.encoded_len();
        if i > start && (i - start == max_txs || bytes + len > max_bytes) {
            messages.push(&txs[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += len;
    }
    if start < txs.len() {
        messages.push(&txs[start..]);
    }
    messages
}

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
    let (gossip_tx, gossip_rx) = futures::channel::mpsc::unbounded::<Vec<Transaction>>();
    chain.set_gossip(gossip_tx);
    let (tx_sender, mut tx_receiver) = channels.txs;
    context.child("gossip_out").spawn({
        let max_bytes = chain.block_cfg.max_bytes;
        move |context| gossip_out(context, gossip_rx, tx_sender, max_bytes)
    });
    // Admission verifies signatures: keep it off the threads consensus runs on. Messages that
    // arrived meanwhile (from any peer) are admitted together, in one signature batch.
    context.child("gossip_in").dedicated().spawn({
        let chain = chain.clone();
        move |_| async move {
            while let Ok((_peer, first)) = tx_receiver.recv().await {
                let mut messages = vec![first];
                while messages.len() < GOSSIP_IN_MESSAGES {
                    // `recv` only takes a message when it is ready, so polling it once and
                    // dropping it loses nothing.
                    match tx_receiver.recv().now_or_never() {
                        Some(Ok((_peer, bytes))) => messages.push(bytes),
                        _ => break,
                    }
                }
                chain.submit_gossiped(&messages);
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

#[cfg(test)]
mod tests {
    use super::split_gossip;
    use xa_types::{Call, KeyPair, Suite, Transaction, TxBody, address_of};

    fn tx(key: &KeyPair, nonce: u64) -> Transaction {
        TxBody {
            chain_id: "t".into(),
            sender: address_of(&key.public_key()),
            nonce,
            expiry_height: 10,
            call: Call::new("notary", "anchor", &nonce),
        }
        .sign(key)
    }

    #[test]
    fn gossip_is_split_by_count_and_by_bytes_and_keeps_order() {
        let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
        let txs: Vec<Transaction> = (0..10).map(|n| tx(&key, n)).collect();
        let len = txs[0].encoded_len();
        assert!(txs.iter().all(|t| t.encoded_len() == len));
        let sizes = |m: &[&[Transaction]]| m.iter().map(|m| m.len()).collect::<Vec<_>>();

        assert_eq!(sizes(&split_gossip(&txs, 4, usize::MAX)), [4, 4, 2]);
        assert_eq!(sizes(&split_gossip(&txs, 100, 3 * len)), [3, 3, 3, 1]);
        assert_eq!(sizes(&split_gossip(&txs, 2, 3 * len)), [2, 2, 2, 2, 2]);
        // One larger than the byte bound still goes, alone.
        assert_eq!(sizes(&split_gossip(&txs[..3], 100, len - 1)), [1, 1, 1]);
        assert!(split_gossip(&[], 4, 100).is_empty());
        let joined: Vec<Transaction> = split_gossip(&txs, 3, 2 * len).concat();
        assert_eq!(joined, txs);
    }
}
