//! Production wiring: the tokio runtime, authenticated TCP p2p with the genesis validators as
//! the allow-list, storage under the data directory, and the caller's API server.

use crate::{
    chain::Chain,
    config::{NodeConfig, read_validator_key},
    engine::{self, Channels, EngineConfig, channel},
    orchestrator::PeerTracker,
};
use commonware_codec::DecodeExt;
use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::{Address, AddressableManager as _, authenticated::lookup};
use commonware_runtime::{Quota, Runner as _, Supervisor as _, tokio};

use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, NZUsize, ordered::Map};
use std::{
    future::Future, net::SocketAddr, num::NonZeroUsize, pin::Pin, sync::Arc, time::Duration,
};
use xa_types::Genesis;

/// Why a validator could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Genesis problem, naming the field.
    #[error("genesis: {0}")]
    Genesis(String),
    /// Storage problem.
    #[error("storage: {0}")]
    Storage(#[from] xa_storage::StorageError),
    /// Chain problem.
    #[error(transparent)]
    Chain(#[from] crate::chain::ChainError),
    /// The tender opener could not start.
    #[error("tender opener: {0}")]
    TenderOpener(String),
}

/// Messages per second (and burst) each peer may send this node on each p2p channel.
///
/// Commonware preallocates every channel's inbound mailbox for one full burst from every peer
/// it may retain (4 tracked sets × [`max_peers_per_set`]), and the router's for all channels
/// together, so this figure sets a node's baseline memory: at 10,000 an idle 4-validator node
/// held ~1.5 GB resident, nearly all of it these mailboxes; at 1,000 it holds ~0.5 GB, of which
/// 320 MiB are the two journal page caches (`engine::JOURNAL_CACHE_PAGES`). Measured
/// traffic is far below it: under 3,000 tx/s a validator receives ~15 votes and ~15
/// certificates per second from each peer and ~1 block and ~1 transaction batch; idle views,
/// the fastest, are ~30 per second at most. A peer over the quota has the excess dropped
/// (`network_spawner_messages_rate_limited_total`) and consensus retries.
pub const P2P_MESSAGES_PER_SECOND: u32 = 1_000;

/// Largest peer set the p2p layer accepts: the union of the current, previous and next epoch's
/// validators, bounded by twice the genesis set (at least 8). The p2p layer sizes its queues by
/// it, so it is not larger.
pub fn max_peers_per_set(genesis: &Genesis) -> usize {
    (genesis.validators.len() * 2).max(8)
}

/// Renders the node's Prometheus metrics.
pub type MetricsFn = Arc<dyn Fn() -> String + Send + Sync>;

/// The API server the binary supplies: given the chain, the address and the metrics, serve
/// until stopped.
pub type ApiServer = Box<
    dyn FnOnce(Arc<Chain>, SocketAddr, MetricsFn) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send,
>;

/// Load and check the genesis file.
pub fn load_genesis(path: &std::path::Path) -> Result<Genesis, ServiceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServiceError::Genesis(format!("{}: {e}", path.display())))?;
    let genesis: Genesis = serde_json::from_str(&text)
        .map_err(|e| ServiceError::Genesis(format!("{}: {e}", path.display())))?;
    genesis.validate().map_err(ServiceError::Genesis)?;
    Ok(genesis)
}

/// The validator set of `genesis` as consensus keys with p2p addresses.
pub fn validators(
    genesis: &Genesis,
) -> Result<Vec<(ed25519::PublicKey, SocketAddr)>, ServiceError> {
    genesis
        .validators
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = ed25519::PublicKey::decode(v.consensus_key.clone()).map_err(|e| {
                ServiceError::Genesis(format!("validators[{i}].consensus_key: {e}"))
            })?;
            let addr: SocketAddr = v
                .p2p_address
                .parse()
                .map_err(|e| ServiceError::Genesis(format!("validators[{i}].p2p_address: {e}")))?;
            Ok((key, addr))
        })
        .collect()
}

/// The consensus namespace of a chain: separates its signatures from every other chain's.
pub fn namespace(genesis: &Genesis) -> Vec<u8> {
    genesis.consensus_namespace()
}

/// Run one validator until the process is stopped.
pub fn run(cfg: NodeConfig, api: ApiServer) -> Result<(), ServiceError> {
    let genesis = load_genesis(&cfg.genesis)?;
    let signer = read_validator_key(&cfg.validator_key)?;
    // Checks the genesis validators' keys and addresses.
    let peers = validators(&genesis)?;
    let me = signer.public_key();
    if !peers.iter().any(|(k, _)| *k == me) {
        tracing::info!(
            key = %hex::encode(me.as_ref()),
            "this key is not a genesis validator: the node follows the chain and starts voting \
             when a validator set including it comes into force"
        );
    }
    let listen: SocketAddr = cfg
        .p2p_listen
        .parse()
        .map_err(|e| ServiceError::Genesis(format!("p2p_listen: {e}")))?;
    let api_addr: SocketAddr = cfg
        .api_listen
        .parse()
        .map_err(|e| ServiceError::Genesis(format!("api_listen: {e}")))?;
    // Every config section is checked before anything is created on disk.
    let store_options = xa_storage::StoreOptions {
        layout: xa_storage::StateLayout::of_genesis(genesis.state_layout),
        ..cfg.storage.resolve()?
    };
    let pool = cfg.mempool.resolve(genesis.params.max_tx_bytes)?;
    let timeouts = cfg.consensus.resolve()?;
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| ServiceError::Genesis(format!("data_dir: {e}")))?;
    let store = xa_storage::Store::open_with(
        &cfg.data_dir.join("state"),
        crate::chain::hash_algo(genesis.suite),
        store_options,
    )?;
    let chain = Chain::open(genesis.clone(), store, pool)?;
    if let Some(account) = &cfg.account_key
        && (cfg.tender_share.is_some() || cfg.dkg_key.is_some())
    {
        let opener = |e: String| ServiceError::TenderOpener(e);
        let genesis_share = cfg
            .tender_share
            .as_deref()
            .map(crate::tender_opener::read_share_file)
            .transpose()
            .map_err(|e| opener(e.to_string()))?;
        let key =
            xa_crypto::read_key_file(account).map_err(|e| opener(format!("account_key: {e}")))?;
        let dir = cfg.data_dir.join("tender-shares");
        let store = crate::dkg_participant::ShareStore::open(dir.clone(), genesis_share.clone())
            .map_err(|e| opener(e.to_string()))?;
        let participant = match &cfg.dkg_key {
            None => None,
            Some(path) => {
                let dkg_key = crate::dkg_participant::read_dkg_key_file(path)
                    .map_err(|e| opener(e.to_string()))?;
                let store = crate::dkg_participant::ShareStore::open(dir, genesis_share)
                    .map_err(|e| opener(e.to_string()))?;
                Some(crate::dkg_participant::Participant::new(dkg_key, store))
            }
        };
        crate::tender_opener::start(chain.clone(), store, participant, key)
            .map_err(|e| opener(e.to_string()))?;
    }

    let runtime = tokio::Runner::new(
        tokio::Config::new().with_storage_directory(cfg.data_dir.join("consensus")),
    );
    let namespace = namespace(&genesis);
    let max_peers = max_peers_per_set(&genesis);
    runtime.start(async move |context| {
        let max_message = engine::max_message_size(&chain);
        let p2p_cfg = lookup::Config::local(
            Cups::<_, ChaCha20Poly1305>::new(
                Sake {
                    signer: signer.clone(),
                    synchrony_bound: Duration::from_secs(5),
                    max_handshake_age: Duration::from_secs(10),
                    version: sake::Version::V1,
                },
                cups::Version::V1,
            ),
            &[namespace.as_slice(), b"-P2P"].concat(),
            listen,
            NonZeroUsize::new(max_peers).unwrap_or(NZUsize!(8)),
            max_message,
            NZUsize!(4096),
        );
        let (mut network, oracle) = lookup::Network::new(context.child("network"), p2p_cfg);
        // The orchestrator tracks the peer sets committed state names (genesis first); until
        // a set names a peer, this node neither dials nor accepts it.
        let tracker: PeerTracker = {
            let mut oracle = oracle.clone();
            Box::new(move |id, peers| {
                let mut entries = Vec::with_capacity(peers.len());
                for (key, addr) in peers {
                    match addr.parse::<SocketAddr>() {
                        Ok(a) => entries.push((key, Address::from(a))),
                        Err(e) => tracing::warn!(
                            key = %hex::encode(key.as_ref()),
                            "validator p2p address {addr:?} is not host:port: {e}"
                        ),
                    }
                }
                let map: Map<ed25519::PublicKey, Address> = Map::from_iter_dedup(entries);
                let _ = oracle.track(id, map);
            })
        };
        let quota = Quota::per_second(NZU32!(P2P_MESSAGES_PER_SECOND));
        let channels = Channels {
            votes: network.register(channel::VOTES, quota),
            certificates: network.register(channel::CERTIFICATES, quota),
            resolver: network.register(channel::RESOLVER, quota),
            blocks: network.register(channel::BLOCKS, quota),
            backfill: network.register(channel::BACKFILL, quota),
            txs: network.register(channel::TXS, quota),
        };
        network.start();
        let cfg = EngineConfig {
            signer,
            namespace,
            partition_prefix: "xa".into(),
            leader_timeout: timeouts.leader,
            certification_timeout: timeouts.certification,
        };
        let _started = engine::start(
            context.child("engine"),
            chain.clone(),
            cfg,
            oracle.clone(),
            oracle,
            tracker,
            channels,
        )
        .await;
        tracing::info!(%api_addr, "validator started");
        let metrics_context = context.child("metrics");
        let metrics: MetricsFn = Arc::new(move || {
            use commonware_runtime::Metrics as _;
            metrics_context.encode()
        });
        api(chain, api_addr, metrics).await;
    });
    Ok(())
}
