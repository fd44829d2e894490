//! A network of validators on the deterministic runtime and the simulated p2p network.
//!
//! Each validator runs under its own spawned task: everything `engine::start` spawns descends
//! from it, so aborting that one handle stops the whole validator (a crash). Its chain state
//! lives in a fjall store in its own temporary directory; its consensus and marshal partitions
//! live in the runtime's in-memory storage under the prefix `v{index}`, which survives a restart
//! within one runner.

use commonware_cryptography::{Signer as _, ed25519};
use commonware_p2p::{
    Manager as _,
    simulated::{self, Link, Network, Oracle},
};
use commonware_runtime::{Clock as _, Handle, Quota, Spawner as _, Supervisor as _, deterministic};
use commonware_utils::{NZU32, NZUsize, ordered::Set, probability};
use std::{
    sync::{Arc, Weak},
    time::Duration,
};
use tempfile::TempDir;
use xa_node::{
    Chain,
    engine::{self, Channels, EngineConfig, channel},
    orchestrator::{EpochSchemes, PeerTracker},
};
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, Hash, KeyPair, Suite,
    Transaction, TxBody, address_of,
    modules::{
        governance::{self, ProposalAction, ProposeArgs},
        notary::AnchorArgs,
    },
};

/// Genesis validators in the default scenario.
pub const VALIDATORS: usize = 4;

/// The shape of a test network.
#[derive(Clone, Copy, Debug)]
pub struct NetConfig {
    /// Nodes that run (keys `0..nodes`).
    pub nodes: usize,
    /// How many of them (the first ones) are genesis validators.
    pub genesis_validators: usize,
    /// `genesis.params.epoch_length`.
    pub epoch_length: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            nodes: VALIDATORS,
            genesis_validators: VALIDATORS,
            epoch_length: u64::MAX,
        }
    }
}

/// A signed governance proposal changing the validator set by one: adding node `add`, or
/// removing node `remove`. Genesis has one founding organization, so the operator's own approval
/// meets the default policy (`2 of org_admin @ founding, distinct orgs`, capped at the number of
/// founding organizations) and the proposal executes in this transaction; the executor brings the
/// new set into force at the next epoch boundary.
pub fn change_validators(key: &KeyPair, nonce: u64, net: &Net, change: Change) -> Transaction {
    // Proposals may stay open at most 30 days of consensus time: expire an hour after the tip.
    let tip = net.chain(1).tip_block().expect("tip block");
    let expires_at_ms = tip.block().header.time_ms + 3_600_000;
    let action = match change {
        Change::Add(i) => ProposalAction::AddValidator {
            validator: net.validator_info(i),
        },
        Change::Remove(i) => ProposalAction::RemoveValidator {
            consensus_key: net.validator_info(i).consensus_key,
        },
    };
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 1_000_000,
        call: Call::new(
            governance::MODULE,
            governance::PROPOSE,
            &ProposeArgs {
                action,
                expires_at_ms,
            },
        ),
    }
    .sign(key)
}

/// A validator set change by one node (by index).
#[derive(Clone, Copy, Debug)]
pub enum Change {
    /// Add node `i`.
    Add(usize),
    /// Remove node `i`.
    Remove(usize),
}

/// The chain id of the test genesis.
pub const CHAIN_ID: &str = "xa-simtest";

/// Upper bound on simulated time for any one scenario (the runner panics past it).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// A deterministic runner for `seed`.
pub fn runner(seed: u64) -> deterministic::Runner {
    deterministic::Runner::new(
        deterministic::Config::new()
            .with_seed(seed)
            .with_timeout(Some(RUN_TIMEOUT)),
    )
}

/// The link every pair of validators is connected by.
pub fn link() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        success_rate: probability!(1.0),
    }
}

/// The operator account's key (a genesis account).
pub fn operator() -> KeyPair {
    KeyPair::from_seed(Suite::Ed25519, &[7; 32]).expect("operator key")
}

/// A second sender (a genesis account with the `citizen` role).
pub fn clerk() -> KeyPair {
    KeyPair::from_seed(Suite::Ed25519, &[8; 32]).expect("clerk key")
}

/// A signed notary `anchor` transaction of a document identified by `doc`.
pub fn anchor(key: &KeyPair, nonce: u64, doc: u64) -> Transaction {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&doc.to_be_bytes());
    digest[8..16].copy_from_slice(&nonce.to_be_bytes());
    digest[31] = 0xa5;
    TxBody {
        chain_id: CHAIN_ID.into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 1_000_000,
        call: Call::new(
            "notary",
            "anchor",
            &AnchorArgs {
                digest: Hash(digest),
                title: format!("document {doc}"),
                file_size: 1_000 + doc,
                kind: "contract".into(),
            },
        ),
    }
    .sign(key)
}

/// One running validator.
pub struct Running {
    /// Its chain (shared with its tasks).
    pub chain: Arc<Chain>,
    /// The certificate schemes of every epoch it knows (filled once its engine started).
    pub schemes: Arc<std::sync::Mutex<Option<EpochSchemes>>>,
    handle: Handle<()>,
}

/// A set of validators on one simulated network.
pub struct Net {
    /// The runner's root context.
    pub context: deterministic::Context,
    /// Controls the simulated network.
    pub oracle: Oracle<ed25519::PublicKey, deterministic::Context>,
    /// The genesis every validator runs.
    pub genesis: Genesis,
    /// Consensus keys, by node index.
    pub keys: Vec<ed25519::PrivateKey>,
    dirs: Vec<TempDir>,
    /// Running validators, by index (`None` while crashed).
    pub nodes: Vec<Option<Running>>,
    starts: Vec<u64>,
}

impl Net {
    /// Build the default network (four genesis validators, one epoch forever), link every pair,
    /// and start all of them.
    pub async fn start(context: deterministic::Context) -> Self {
        Self::start_with(context, NetConfig::default()).await
    }

    /// Build a network of `cfg.nodes` nodes, the first `cfg.genesis_validators` of them genesis
    /// validators, link every pair, and start all of them.
    pub async fn start_with(context: deterministic::Context, cfg: NetConfig) -> Self {
        Self::start_custom(context, cfg, |_, _| {}).await
    }

    /// Like [`Net::start_with`], with `edit` changing the genesis (given the nodes' consensus
    /// keys) before any node starts.
    pub async fn start_custom(
        context: deterministic::Context,
        cfg: NetConfig,
        edit: impl FnOnce(&mut Genesis, &[ed25519::PublicKey]),
    ) -> Self {
        let keys: Vec<ed25519::PrivateKey> = (0..cfg.nodes as u64)
            .map(ed25519::PrivateKey::from_seed)
            .collect();
        let pks: Vec<ed25519::PublicKey> = keys.iter().map(|k| k.public_key()).collect();
        let genesis = Genesis {
            chain_id: CHAIN_ID.into(),
            suite: Suite::Ed25519,
            genesis_time_ms: 0,
            validators: pks[..cfg.genesis_validators]
                .iter()
                .enumerate()
                .map(|(i, pk)| GenesisValidator {
                    name: format!("validator-{i}"),
                    consensus_key: pk.as_ref().to_vec(),
                    p2p_address: format!("127.0.0.1:{}", 30_000 + i),
                })
                .collect(),
            organizations: vec![GenesisOrg {
                id: "committee".into(),
                name: "City management committee".into(),
                founding: true,
            }],
            accounts: vec![
                GenesisAccount {
                    name: "operator".into(),
                    public_key: operator().public_key(),
                    org: "committee".into(),
                    roles: vec!["chain_admin".into(), "org_admin".into()],
                },
                GenesisAccount {
                    name: "clerk".into(),
                    public_key: clerk().public_key(),
                    org: "committee".into(),
                    // Administers the committee, so its proposals count (the load uses the
                    // operator's nonces).
                    roles: vec!["citizen".into(), "org_admin".into()],
                },
            ],
            params: ChainParams {
                max_block_txs: 64,
                max_tx_bytes: 4096,
                epoch_length: cfg.epoch_length,
            },
            tender_threshold_trusted_dealer_devnet_only: None,
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: None,
            state_layout: Some(2),
        };
        let mut genesis = genesis;
        edit(&mut genesis, &pks);
        genesis.validate().expect("test genesis is valid");

        // The simulated network has one global allow-list: the latest tracked set. It starts
        // with the genesis validators; nodes track later sets from committed state.
        let max_size = genesis.params.max_block_txs * genesis.params.max_tx_bytes + 2 * 64 * 1024;
        let (network, oracle) = Network::new_with_peers(
            context.child("network"),
            simulated::Config {
                max_size,
                max_peers_per_set: NZUsize!(16),
                disconnect_on_block: true,
                tracked_peer_sets: NZUsize!(1),
            },
            pks[..cfg.genesis_validators].to_vec(),
        )
        .await;
        network.start();
        for a in &pks {
            for b in &pks {
                if a != b {
                    oracle
                        .add_link(a.clone(), b.clone(), link())
                        .await
                        .expect("add link");
                }
            }
        }

        let mut net = Self {
            context,
            oracle,
            genesis,
            keys,
            dirs: (0..cfg.nodes)
                .map(|_| tempfile::tempdir().expect("temp dir"))
                .collect(),
            nodes: (0..cfg.nodes).map(|_| None).collect(),
            starts: vec![0; cfg.nodes],
        };
        for i in 0..cfg.nodes {
            net.start_validator(i);
        }
        net
    }

    /// Node `i`'s entry in a validator set.
    pub fn validator_info(&self, i: usize) -> GenesisValidator {
        GenesisValidator {
            name: format!("validator-{i}"),
            consensus_key: self.keys[i].public_key().as_ref().to_vec(),
            p2p_address: format!("127.0.0.1:{}", 30_000 + i),
        }
    }

    /// Start validator `i` on its storage (first start or restart).
    pub fn start_validator(&mut self, i: usize) {
        assert!(self.nodes[i].is_none(), "validator {i} is already running");
        let store = xa_storage::Store::open(
            self.dirs[i].path(),
            xa_node::chain::hash_algo(self.genesis.suite),
        )
        .expect("store opens");
        let chain = Chain::open_with_modules(
            self.genesis.clone(),
            store,
            xa_mempool::Config::default(),
            vec![],
        )
        .expect("chain opens");
        let signer = self.keys[i].clone();
        let me = signer.public_key();
        let cfg = EngineConfig {
            signer,
            namespace: xa_node::service::namespace(&self.genesis),
            partition_prefix: format!("v{i}"),
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
        };
        let control = self.oracle.control(me);
        let manager = self.oracle.manager();
        // Tracking is global in the simulated network: the first node to commit a change
        // tracks it (ids are heights); the same set from the others is ignored.
        let tracker: PeerTracker = {
            let mut manager = manager.clone();
            Box::new(move |id, peers| {
                let keys = Set::from_iter_dedup(peers.into_iter().map(|(k, _)| k));
                let _ = manager.track(id, keys);
            })
        };
        let schemes = Arc::new(std::sync::Mutex::new(None));
        let incarnation = self.starts[i];
        self.starts[i] += 1;
        let handle = self
            .context
            .child("validator")
            .with_attribute("index", i)
            .with_attribute("incarnation", incarnation)
            .spawn({
                let chain = chain.clone();
                let schemes = schemes.clone();
                move |context| async move {
                    let quota = Quota::per_second(NZU32!(10_000));
                    let register = async |id| control.register(id, quota).await.expect("register");
                    let channels = Channels {
                        votes: register(channel::VOTES).await,
                        certificates: register(channel::CERTIFICATES).await,
                        resolver: register(channel::RESOLVER).await,
                        blocks: register(channel::BLOCKS).await,
                        backfill: register(channel::BACKFILL).await,
                        txs: register(channel::TXS).await,
                    };
                    let started = engine::start(
                        context.child("engine"),
                        chain,
                        cfg,
                        manager,
                        control.clone(),
                        tracker,
                        channels,
                    )
                    .await;
                    *schemes.lock().expect("lock") = Some(started.schemes.clone());
                    // Stay alive: the engine's tasks are supervised by this one.
                    futures::future::pending::<()>().await;
                }
            });
        self.nodes[i] = Some(Running {
            chain,
            schemes,
            handle,
        });
    }

    /// Crash validator `i`: abort all of its tasks and release its storage.
    pub async fn crash(&mut self, i: usize) {
        let Running { chain, handle, .. } = self.nodes[i].take().expect("validator is running");
        let weak: Weak<Chain> = Arc::downgrade(&chain);
        drop(chain);
        handle.abort();
        let _ = handle.await;
        // Aborted descendants drop their state (and their chain references) when next polled.
        let released = wait_until(&self.context, Duration::from_secs(5), || {
            weak.strong_count() == 0
        })
        .await;
        assert!(
            released,
            "validator {i}'s tasks still hold its chain after abort"
        );
    }

    /// The chain of running validator `i`.
    pub fn chain(&self, i: usize) -> &Arc<Chain> {
        &self.nodes[i].as_ref().expect("validator is running").chain
    }

    /// The participants of `epoch` as node `i` knows them, if it does.
    pub fn participants(&self, i: usize, epoch: u64) -> Option<Vec<ed25519::PublicKey>> {
        let running = self.nodes[i].as_ref().expect("validator is running");
        let schemes = running.schemes.lock().expect("lock").clone()?;
        schemes.participants(epoch)
    }

    /// Indices of running validators.
    pub fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// Committed heights of the running validators, by index.
    pub fn tips(&self) -> Vec<Option<u64>> {
        self.nodes
            .iter()
            .map(|n| n.as_ref().map(|n| n.chain.tip().0))
            .collect()
    }

    /// The lowest committed height among `validators`.
    pub fn min_tip(&self, validators: &[usize]) -> u64 {
        validators
            .iter()
            .map(|i| self.chain(*i).tip().0)
            .min()
            .expect("at least one validator")
    }

    /// Wait (in simulated time) until every validator in `validators` has committed `height`.
    pub async fn wait_for_height(&self, validators: &[usize], height: u64, within: Duration) {
        let ok = wait_until(&self.context, within, || self.min_tip(validators) >= height).await;
        assert!(
            ok,
            "validators {validators:?} did not reach height {height} within {within:?}: tips {:?}",
            self.tips()
        );
    }

    /// Wait until every running validator has committed all of `txs`.
    pub async fn wait_for_txs(&self, txs: &[Hash], within: Duration) {
        let running = self.running();
        let ok = wait_until(&self.context, within, || {
            running.iter().all(|i| {
                let store = &self.chain(*i).store;
                txs.iter()
                    .all(|h| matches!(store.tx_location(&h.0), Ok(Some(_))))
            })
        })
        .await;
        assert!(
            ok,
            "transactions not committed everywhere within {within:?}: tips {:?}",
            self.tips()
        );
    }

    /// Assert that `validators` hold identical block hashes and state roots at every height up to
    /// the lowest of their tips; returns that height.
    pub fn assert_agree(&self, validators: &[usize]) -> u64 {
        let upto = self.min_tip(validators);
        for h in 0..=upto {
            let reference = &self.chain(validators[0]).store;
            let hash = reference.block_hash(h).expect("read").expect("block hash");
            let root = reference.state_root(h).expect("read").expect("state root");
            for i in &validators[1..] {
                let store = &self.chain(*i).store;
                assert_eq!(
                    store.block_hash(h).expect("read"),
                    Some(hash),
                    "validators {} and {i} disagree on the block at height {h}",
                    validators[0]
                );
                assert_eq!(
                    store.state_root(h).expect("read"),
                    Some(root),
                    "validators {} and {i} disagree on the state root at height {h}",
                    validators[0]
                );
            }
        }
        upto
    }

    /// Submit `txs` to validator `i`'s mempool; every one must be admitted.
    pub fn submit(&self, i: usize, txs: Vec<Transaction>) -> Vec<Hash> {
        self.chain(i)
            .submit(txs)
            .into_iter()
            .map(|r| r.expect("transaction admitted"))
            .collect()
    }

    /// Remove the links between `a` and `b` in both directions.
    pub async fn cut(&self, a: &[usize], b: &[usize]) {
        for x in a {
            for y in b {
                let (px, py) = (self.keys[*x].public_key(), self.keys[*y].public_key());
                self.oracle
                    .remove_link(px.clone(), py.clone())
                    .await
                    .expect("remove link");
                self.oracle.remove_link(py, px).await.expect("remove link");
            }
        }
    }

    /// Restore the links between `a` and `b` in both directions.
    pub async fn heal(&self, a: &[usize], b: &[usize]) {
        for x in a {
            for y in b {
                let (px, py) = (self.keys[*x].public_key(), self.keys[*y].public_key());
                self.oracle
                    .add_link(px.clone(), py.clone(), link())
                    .await
                    .expect("add link");
                self.oracle
                    .add_link(py, px, link())
                    .await
                    .expect("add link");
            }
        }
    }

    /// Sleep for `d` of simulated time.
    pub async fn sleep(&self, d: Duration) {
        self.context.sleep(d).await;
    }
}

/// Poll `done` every 50 ms of simulated time until it holds or `within` has passed.
pub async fn wait_until(
    context: &deterministic::Context,
    within: Duration,
    mut done: impl FnMut() -> bool,
) -> bool {
    let deadline = context.current() + within;
    loop {
        if done() {
            return true;
        }
        if context.current() >= deadline {
            return false;
        }
        context.sleep(Duration::from_millis(50)).await;
    }
}
