//! The validator's side of resharing the tender key (module `dkg`): after a commit, deal when
//! this node's DKG key is a dealer of the open round, compute a complete round's output off
//! the consensus path and post `dkg.finish`, and recover this node's share of a finished round
//! in which it is a player.
//!
//! Runs on a thread of its own, started with the tender opener's (`tender_opener::start`);
//! both post through the node's account (`node_account`), which serializes nonces. Dealing and
//! observing take seconds of CPU; they run there, never on the committer, the consensus tasks
//! or the opener.
//!
//! # Faulty dealers
//! Every dealer of the open round deals, even once `required` logs are on chain: a log can
//! carry a valid signature over a bad dealing. After each commit that brought a log, the node
//! computes the output over all logs on chain (memoized) and posts `finish` naming that many
//! logs only if they hold enough valid dealings, or if every dealer's log is in (then the
//! round fails on chain and a new one opens).
//!
//! # Durability
//! Shares live in a [`ShareStore`]: one file per round, written to a temporary file, synced,
//! renamed and the directory synced, before the opener may use it. A node restarted mid-round
//! finds its shares of earlier rounds, re-reads the round from committed state, and deals again
//! only if its log is not on chain (the dealing's randomness is derived from its secret key
//! and the round, so a repeated dealing is the same log).

use crate::chain::Chain;
use std::path::{Path, PathBuf};
use xa_execution::{StateView, dkg, reshare};
use xa_types::{
    Call, Suite, decode,
    modules::dkg::{
        DEAL, DealArgs, DkgOutput, DkgRound, FINISH, FinishArgs, MODULE, OUTPUT_KEY, ROUND_KEY,
        output_at_key, round_key,
    },
};

/// Commits to wait before re-posting a dealing or `finish` that has not reached the chain.
const RETRY_AFTER: u64 = 10;

/// Why reading or writing a DKG file failed.
#[derive(Debug, thiserror::Error)]
pub enum DkgFileError {
    /// I/O on the file.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

fn file_err(path: &Path, message: impl ToString) -> DkgFileError {
    DkgFileError::File {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Write `bytes` to `path` durably: temporary file (mode 0600), sync, rename, sync directory.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), DkgFileError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).map_err(|e| file_err(&tmp, e))?;
    f.write_all(bytes).map_err(|e| file_err(&tmp, e))?;
    f.sync_all().map_err(|e| file_err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| file_err(path, e))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| file_err(dir, e))?;
    }
    Ok(())
}

/// Write a DKG key file (`dkg-key.json`, mode 0600): `{"public_key": hex, "secret_key": hex}`.
pub fn write_dkg_key_file(path: &Path, key: &reshare::DkgKey) -> Result<(), DkgFileError> {
    let json = serde_json::json!({
        "public_key": hex::encode(key.public()),
        "secret_key": hex::encode(key.to_bytes()),
    });
    write_durably(path, format!("{json:#}\n").as_bytes())
}

/// Read a DKG key file written by [`write_dkg_key_file`]; checks the public key matches.
pub fn read_dkg_key_file(path: &Path) -> Result<reshare::DkgKey, DkgFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| file_err(path, e))?;
    let field = |name: &str| -> Result<Vec<u8>, DkgFileError> {
        let s = v[name]
            .as_str()
            .ok_or_else(|| file_err(path, format!("{name}: missing")))?;
        hex::decode(s).map_err(|e| file_err(path, format!("{name}: {e}")))
    };
    let key = reshare::DkgKey::from_bytes(&field("secret_key")?)
        .map_err(|e| file_err(path, format!("secret_key: {e}")))?;
    if key.public() != field("public_key")? {
        return Err(file_err(path, "public_key: does not match the secret key"));
    }
    Ok(key)
}

/// This node's tender-key shares, one per DKG round (round 0: the genesis share).
pub struct ShareStore {
    dir: PathBuf,
    genesis: Option<Vec<u8>>,
}

impl ShareStore {
    /// Shares under `dir` (created if missing); `genesis` is the share of round 0 (the
    /// `tender_share` file), if this node had one.
    pub fn open(dir: PathBuf, genesis: Option<Vec<u8>>) -> Result<Self, DkgFileError> {
        std::fs::create_dir_all(&dir).map_err(|e| file_err(&dir, e))?;
        Ok(Self { dir, genesis })
    }

    fn path(&self, round: u64) -> PathBuf {
        self.dir.join(format!("share-{round:020}.hex"))
    }

    /// The share of `round`, if this node holds one.
    pub fn get(&self, round: u64) -> Option<Vec<u8>> {
        match std::fs::read_to_string(self.path(round)) {
            Ok(text) => hex::decode(text.trim()).ok(),
            Err(_) if round == 0 => self.genesis.clone(),
            Err(_) => None,
        }
    }

    /// Store the share of `round` durably (before anything uses it).
    pub fn put(&self, round: u64, share: &[u8]) -> Result<(), DkgFileError> {
        write_durably(&self.path(round), hex::encode(share).as_bytes())
    }
}

/// The round in force's number (`tender/threshold_round`; 0 before any reshare).
pub fn key_round(view: &impl StateView) -> u64 {
    view.get(xa_types::modules::tender::THRESHOLD_ROUND_KEY)
        .ok()
        .flatten()
        .and_then(|b| decode::<u64>(&b).ok())
        .unwrap_or(0)
}

/// The DKG duties of one node.
pub struct Participant {
    key: reshare::DkgKey,
    public: Vec<u8>,
    /// Its shares.
    pub store: ShareStore,
    /// Round → height at which this node last posted its dealing.
    dealt: std::collections::BTreeMap<u64, u64>,
    /// (Round, logs) → height at which this node last posted `finish` over that many logs.
    finished: std::collections::BTreeMap<(u64, u32), u64>,
}

fn read<T: borsh::BorshDeserialize>(view: &impl StateView, key: &[u8]) -> Option<T> {
    view.get(key).ok().flatten().and_then(|b| decode(&b).ok())
}

impl Participant {
    /// A participant with DKG key `key` and share store `store`.
    pub fn new(key: reshare::DkgKey, store: ShareStore) -> Self {
        let public = key.public();
        Self {
            key,
            public,
            store,
            dealt: Default::default(),
            finished: Default::default(),
        }
    }

    /// The dealing seed: secret (derived from the key) and unique per round (round numbers are
    /// never reused), so a restarted node that deals again produces the same log.
    fn deal_seed(&self, chain_id: &str, round: u64) -> [u8; 32] {
        let secret = self.key.to_bytes();
        Suite::Ed25519
            .hash_parts(&[
                b"XA-DKG-DEAL-SEED-V1",
                &secret,
                chain_id.as_bytes(),
                &round.to_le_bytes(),
            ])
            .0
    }

    /// After a commit at `height`: the calls this node should post now (deal, finish), after
    /// recovering its share of a finished round if it is a player of the output in force.
    pub fn step(&mut self, chain: &Chain, height: u64) -> Vec<Call> {
        let view = chain.committed_view();
        let chain_id = chain.genesis.chain_id.as_str();
        let mut calls = Vec::new();
        let Some(in_force) = read::<DkgOutput>(&view, OUTPUT_KEY) else {
            return calls;
        };
        self.recover_share(&view, chain_id, &in_force);
        let Some(record) = read::<DkgRound>(&view, ROUND_KEY) else {
            return calls;
        };
        let retry =
            |posted: Option<&u64>| posted.is_none_or(|h| height >= h.saturating_add(RETRY_AFTER));
        let round = match dkg::round_of(chain_id, &record, &in_force.output) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(round = record.round, "dkg round does not configure: {e}");
                return calls;
            }
        };
        let dealer = record.dealers.contains(&self.public);
        if dealer && !record.dealt.contains(&self.public) && retry(self.dealt.get(&record.round)) {
            match self.store.get(record.previous) {
                None => tracing::warn!(
                    round = record.round,
                    previous = record.previous,
                    "a dealer without its share of the previous round cannot deal"
                ),
                Some(share) => {
                    let seed = self.deal_seed(chain_id, record.round);
                    match round.deal(&self.key, Some(&share), seed) {
                        Ok(log) => {
                            tracing::info!(round = record.round, "dealt");
                            // From the tip now: dealing took a while.
                            self.dealt.insert(record.round, chain.tip().0);
                            calls.push(Call::new(
                                MODULE,
                                DEAL,
                                &DealArgs {
                                    round: record.round,
                                    log,
                                },
                            ));
                        }
                        Err(e) => tracing::warn!(round = record.round, "cannot deal: {e}"),
                    }
                }
            }
        }
        let logs = record.dealt.len() as u32;
        if logs >= record.required && retry(self.finished.get(&(record.round, logs))) {
            // Compute the output over the logs on chain here (memoized), then post `finish`
            // naming them, whose execution finds it.
            match dkg::logs_of(&view, &record).map(|on_chain| {
                dkg::observe_round(
                    chain_id,
                    chain.genesis.suite,
                    &record,
                    &in_force.output,
                    &on_chain,
                )
            }) {
                Ok(Err(e)) if (logs as usize) < record.dealers.len() => {
                    // Some logs are bad: wait for the dealers that have not dealt yet (never
                    // retry over these logs; another log changes the count).
                    tracing::warn!(round = record.round, logs, "waiting for more dealings: {e}");
                    self.finished.insert((record.round, logs), u64::MAX);
                }
                Ok(result) => {
                    // Enough valid dealings, or every dealer dealt and too few are valid:
                    // then `finish` fails the round on chain, which opens the next one.
                    if let Err(e) = result {
                        tracing::warn!(round = record.round, "round fails: {e}");
                    }
                    self.finished.insert((record.round, logs), chain.tip().0);
                    calls.push(Call::new(
                        MODULE,
                        FINISH,
                        &FinishArgs {
                            round: record.round,
                            logs,
                        },
                    ));
                }
                Err(e) => tracing::warn!(round = record.round, "logs: {}", e.message),
            }
        }
        calls
    }

    /// Play the round in force if this node is one of its players and has no share of it yet.
    fn recover_share(&mut self, view: &impl StateView, chain_id: &str, in_force: &DkgOutput) {
        if in_force.round == 0 || self.store.get(in_force.round).is_some() {
            return;
        }
        let Ok(out) = reshare::RoundOutput::decode(in_force.round, &in_force.output) else {
            return;
        };
        if out.index_of(&self.public).is_none() {
            return;
        }
        let Some(record) = read::<DkgRound>(view, &round_key(in_force.round)) else {
            return;
        };
        let Some(previous) = read::<DkgOutput>(view, &output_at_key(record.previous)) else {
            tracing::warn!(round = record.round, "previous output not found");
            return;
        };
        let played = dkg::logs_of(view, &record)
            .map_err(|e| e.message)
            .and_then(|logs| {
                dkg::round_of(chain_id, &record, &previous.output)
                    .and_then(|r| r.play(&logs, &self.key, [0; 32]))
                    .map_err(|e| e.to_string())
            });
        match played {
            Ok((o, share)) if o == out => match self.store.put(record.round, &share) {
                Ok(()) => tracing::info!(round = record.round, "recovered tender-key share"),
                Err(e) => tracing::error!(round = record.round, "storing the share: {e}"),
            },
            Ok(_) => tracing::error!(round = record.round, "played output differs from chain"),
            Err(e) => tracing::warn!(round = record.round, "cannot play: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_persist_per_round_and_round_zero_falls_back_to_genesis() {
        let dir = tempfile::tempdir().expect("dir");
        let store = ShareStore::open(dir.path().join("shares"), Some(vec![1, 2])).expect("open");
        assert_eq!(store.get(0), Some(vec![1, 2]));
        assert_eq!(store.get(3), None);
        store.put(3, &[9, 8, 7]).expect("put");
        // A restarted node (a new store over the same directory) finds it.
        let again = ShareStore::open(dir.path().join("shares"), None).expect("open");
        assert_eq!(again.get(3), Some(vec![9, 8, 7]));
        assert_eq!(again.get(0), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(again.path(3))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!again.path(3).with_extension("tmp").exists());
    }

    #[test]
    fn dkg_key_files_round_trip_and_refuse_a_mismatched_public_key() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("dkg-key.json");
        let key = reshare::DkgKey::from_seed([5; 32]);
        write_dkg_key_file(&path, &key).expect("write");
        assert_eq!(
            read_dkg_key_file(&path).expect("read").public(),
            key.public()
        );
        let other = reshare::DkgKey::from_seed([6; 32]);
        let json = serde_json::json!({
            "public_key": hex::encode(other.public()),
            "secret_key": hex::encode(key.to_bytes()),
        });
        std::fs::write(&path, json.to_string()).expect("write");
        assert!(read_dkg_key_file(&path).is_err());
        std::fs::write(&path, "{}").expect("write");
        assert!(read_dkg_key_file(&path).is_err());
    }
}

/// Five nodes' opener and DKG threads (four genesis holders, one newcomer) drive a reshare on one chain:
/// they deal, finish, play and persist their shares with no help from the test, which only
/// submits the governance decision and the key registration and builds and commits blocks.
#[cfg(test)]
mod node_tests {
    use super::*;
    use std::{sync::Arc, time::Duration};
    use xa_execution::sealing;
    use xa_types::{
        ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, Hash, address_of,
        modules::{
            dkg::{DkgGenesis, REGISTER_KEY, RegisterKeyArgs},
            governance::{self, ProposalAction, ProposeArgs},
            tender::BidContent,
        },
    };
    use xa_types::{KeyPair, TxBody};

    const CHAIN: &str = "xa-dkg-node-test";
    const OP: u8 = 200;

    fn account_key(seed: u8) -> KeyPair {
        KeyPair::from_seed(Suite::Ed25519, &[seed; 32]).expect("key")
    }

    fn validator(i: u8) -> GenesisValidator {
        GenesisValidator {
            name: format!("v{i}"),
            consensus_key: account_key(100 + i).public_key().as_bytes().to_vec(),
            p2p_address: format!("127.0.0.1:{}", 9100 + i as u16),
        }
    }

    #[test]
    fn nodes_deal_finish_and_play_a_reshare_by_themselves() {
        let dkg_keys: Vec<reshare::DkgKey> = (0..5u8)
            .map(|i| reshare::DkgKey::from_seed([i + 1; 32]))
            .collect();
        let (out0, shares0) =
            reshare::round_zero_trusted_setup_devnet_only(CHAIN, &dkg_keys[..4], [3; 32])
                .expect("round 0");
        let mut accounts = vec![GenesisAccount {
            name: "op".into(),
            public_key: account_key(OP).public_key(),
            org: "committee".into(),
            roles: vec!["chain_admin".into(), "org_admin".into()],
        }];
        for i in 0..5u8 {
            accounts.push(GenesisAccount {
                name: format!("validator-{i} node"),
                public_key: account_key(i).public_key(),
                org: "committee".into(),
                roles: vec!["validator".into()],
            });
        }
        let validators: Vec<GenesisValidator> = (0..4).map(validator).collect();
        let genesis = Genesis {
            chain_id: CHAIN.into(),
            suite: Suite::Ed25519,
            genesis_time_ms: 0,
            validators: validators.clone(),
            organizations: vec![GenesisOrg {
                id: "committee".into(),
                name: "committee".into(),
                founding: true,
            }],
            accounts,
            params: ChainParams::default(),
            tender_threshold_trusted_dealer_devnet_only: Some(out0.key.clone()),
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: Some(DkgGenesis {
                output: out0.output.clone(),
                keys: validators
                    .iter()
                    .zip(&dkg_keys)
                    .map(|(v, k)| RegisterKeyArgs {
                        consensus_key: v.consensus_key.clone(),
                        dkg_key: k.public(),
                    })
                    .collect(),
            }),
            state_layout: Some(2),
        };
        genesis.validate().expect("genesis");
        let dir = tempfile::tempdir().expect("dir");
        let store = xa_storage::Store::open(
            &dir.path().join("state"),
            crate::chain::hash_algo(genesis.suite),
        )
        .expect("store");
        let chain = Chain::open(genesis, store, xa_mempool::Config::default()).expect("chain");

        // A bid sealed before the change.
        let content = BidContent {
            price: 7_777,
            proposal_digest: Hash([1; 32]),
            salt: [2; 32],
        };
        let bidder = Hash([3; 32]);
        let bid = sealing::seal_bid(
            &out0.key,
            Suite::Ed25519,
            CHAIN,
            1,
            &bidder,
            &content,
            [4; 32],
        )
        .expect("seal");

        // Each node's opener thread, with its DKG key and its own share store.
        let share_dir = |i: usize| dir.path().join(format!("node-{i}"));
        for (i, k) in dkg_keys.iter().enumerate() {
            let genesis_share = shares0.get(i).cloned();
            let store = |s: Option<Vec<u8>>| ShareStore::open(share_dir(i), s).expect("store");
            let participant = Participant::new(k.clone(), store(genesis_share.clone()));
            crate::tender_opener::start(
                chain.clone(),
                store(genesis_share),
                Some(participant),
                account_key(i as u8),
            )
            .expect("opener");
        }

        // Governance adds validator 4 and the administrator registers its DKG key.
        let op = account_key(OP);
        let op_addr = address_of(&op.public_key());
        let call = |nonce: u64, call: Call| {
            TxBody {
                chain_id: CHAIN.into(),
                sender: op_addr,
                nonce,
                expiry_height: 1_000_000,
                call,
            }
            .sign(&op)
        };
        let txs = vec![
            call(
                0,
                Call::new(
                    governance::MODULE,
                    governance::PROPOSE,
                    &ProposeArgs {
                        action: ProposalAction::AddValidator {
                            validator: validator(4),
                        },
                        expires_at_ms: 3_600_000,
                    },
                ),
            ),
            call(
                1,
                Call::new(
                    MODULE,
                    REGISTER_KEY,
                    &RegisterKeyArgs {
                        consensus_key: validator(4).consensus_key,
                        dkg_key: dkg_keys[4].public(),
                    },
                ),
            ),
        ];
        for r in chain.submit(txs) {
            r.expect("admitted");
        }

        // Make blocks until round 1 is in force and every new player stored its share.
        let stores: Vec<ShareStore> = (0..5)
            .map(|i| ShareStore::open(share_dir(i), None).expect("store"))
            .collect();
        let started = std::time::Instant::now();
        let mut view = 0u64;
        loop {
            let done = key_round(&chain.committed_view()) == 1
                && stores.iter().all(|s| s.get(1).is_some());
            if done {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1800),
                "the reshare did not finish"
            );
            let parent = chain.tip_block().expect("tip");
            view += 1;
            let time_ms = view * 100;
            if let Some(block) = chain
                .build(
                    &parent,
                    0,
                    view,
                    view - 1,
                    validator(0).consensus_key,
                    time_ms,
                )
                .expect("build")
            {
                chain.commit(&block, Vec::new()).expect("commit");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let view_ = chain.committed_view();
        let in_force: DkgOutput = read(&view_, OUTPUT_KEY).expect("output");
        let out1 = reshare::RoundOutput::decode(1, &in_force.output).expect("decode");
        assert_eq!(out1.group_key(), out0.group_key());
        assert_eq!(out1.players.len(), 5);
        // The stored shares open the bid sealed before the change.
        let sharing = sealing::sharing(&out1.key).expect("sharing");
        let partials: Vec<_> = stores
            .iter()
            .rev()
            .take(out1.quorum as usize)
            .map(|s| {
                let p = sealing::partial_sign(&s.get(1).expect("share"), CHAIN, 1).expect("sign");
                sealing::verify_partial(&sharing, CHAIN, 1, &p)
                    .expect("verify")
                    .1
            })
            .collect();
        let sig = sealing::recover(&sharing, &partials).expect("recover");
        assert_eq!(
            sealing::open_bid(&sig, Suite::Ed25519, CHAIN, 1, &bidder, &bid),
            Ok(content)
        );
        let _ = Arc::clone(&chain);
    }
}
