//! The validator's side of opening sealed bids: after every commit, post this validator's
//! partial signature (`tender.open_share`) for each closed tender whose opening time has come
//! and which does not hold this validator's share yet.
//!
//! The share is this node's share of the threshold key in force (`tender/threshold_round`): the
//! genesis share from `tender-share.json` (trusted dealer, devnet only) for round 0, a reshared
//! one from the [`ShareStore`] after that. With a DKG key the node's resharing duties
//! ([`Participant`]) run on a second thread, so that a dealing (seconds of CPU) never delays an
//! opening share. Both post through the node's registered account ([`NodeAccount`], from
//! `account_key`), which serializes nonces. Each thread is fed by the chain's commit listener;
//! neither blocks the committer.

use crate::{
    chain::Chain,
    dkg_participant::{Participant, ShareStore, key_round},
    node_account::NodeAccount,
};
use std::{
    collections::BTreeMap,
    sync::{Arc, mpsc},
};
use xa_execution::{StateView, sealing};
use xa_types::{
    Call, KeyPair,
    modules::tender::{
        AWAITING_OPEN_KEY, MODULE, OPEN_SHARE, OpenShareArgs, Tender, TenderStatus, shares_key,
        shares_round_key, tender_key,
    },
};

/// Commits to wait before re-posting a share that has not reached the chain.
const RETRY_AFTER: u64 = 10;

/// Why the opener could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenerError {
    /// The share file is unreadable or malformed.
    #[error("tender share: {0}")]
    Share(String),
    /// The account key is not a registered account's.
    #[error("account_key: {0}")]
    Account(String),
}

/// Read a `tender-share.json` file: the share's codec bytes.
pub fn read_share_file(path: &std::path::Path) -> Result<Vec<u8>, OpenerError> {
    let err = |m: String| OpenerError::Share(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let hex_text = v["share"]
        .as_str()
        .ok_or_else(|| err("no \"share\" field".into()))?;
    hex::decode(hex_text).map_err(|e| err(format!("share: {e}")))
}

/// What the opener needs to know to decide.
struct Opener {
    chain: Arc<Chain>,
    store: ShareStore,
    account: Arc<NodeAccount>,
    /// (Tender id, key round) → height at which this node last posted its share.
    posted: BTreeMap<(u64, u64), u64>,
}

/// Commits of the chain, as (height, consensus time), to a thread that skips the ones already
/// superseded when it gets to them (its steps can take seconds).
fn commits(chain: &Chain) -> impl FnMut() -> Option<(u64, u64)> + use<> {
    let (tx, rx) = mpsc::channel::<(u64, u64)>();
    chain.on_commit(move |c| {
        let _ = tx.send((c.block.header.height, c.block.header.time_ms));
    });
    move || {
        let mut latest = rx.recv().ok()?;
        while let Ok(newer) = rx.try_recv() {
            latest = newer;
        }
        Some(latest)
    }
}

/// Start the opener thread (shares from `store`) and, if `participant` is given, the thread of
/// the node's resharing duties; both post as the account of `key`.
pub fn start(
    chain: Arc<Chain>,
    store: ShareStore,
    participant: Option<Participant>,
    key: KeyPair,
) -> Result<(), OpenerError> {
    if let Some(share) = store.get(key_round(&chain.committed_view())) {
        sealing::share_index(&share).map_err(|e| OpenerError::Share(e.to_string()))?;
    }
    let account =
        Arc::new(NodeAccount::new(chain.clone(), key).map_err(|e| OpenerError::Account(e.0))?);
    let dkg = participant.is_some();
    if let Some(mut participant) = participant {
        let chain = chain.clone();
        let account = account.clone();
        let mut next = commits(&chain);
        std::thread::Builder::new()
            .name("dkg-participant".into())
            .spawn(move || {
                // Build the eVRF setup now, not inside the first block that needs it.
                let _ = xa_execution::reshare::setup();
                while let Some((height, _)) = next() {
                    account.post(participant.step(&chain, height));
                }
            })
            .map_err(|e| OpenerError::Share(format!("spawning the DKG participant: {e}")))?;
    }
    let mut next = commits(&chain);
    let mut opener = Opener {
        chain,
        store,
        account,
        posted: BTreeMap::new(),
    };
    std::thread::Builder::new()
        .name("tender-opener".into())
        .spawn(move || {
            while let Some((height, time_ms)) = next() {
                opener.step(height, time_ms);
            }
        })
        .map_err(|e| OpenerError::Share(format!("spawning the opener: {e}")))?;
    tracing::info!(dkg, "tender opener started");
    Ok(())
}

impl Opener {
    /// The tenders waiting for this validator's share at consensus time `time_ms`.
    fn due(&self, time_ms: u64, index: u32, round: u64) -> Vec<u64> {
        let view = self.chain.committed_view();
        let read = |k: &[u8]| view.get(k).ok().flatten();
        let Some(waiting) =
            read(AWAITING_OPEN_KEY).and_then(|b| xa_types::decode::<Vec<u64>>(&b).ok())
        else {
            return Vec::new();
        };
        waiting
            .into_iter()
            .filter(|id| {
                let Some(t) =
                    read(&tender_key(*id)).and_then(|b| xa_types::decode::<Tender>(&b).ok())
                else {
                    return false;
                };
                let shares: Vec<(u32, Vec<u8>)> = read(&shares_key(*id))
                    .and_then(|b| xa_types::decode(&b).ok())
                    .unwrap_or_default();
                let shares_round: u64 = read(&shares_round_key(*id))
                    .and_then(|b| xa_types::decode(&b).ok())
                    .unwrap_or(0);
                let mine_on_chain =
                    shares_round == round && shares.iter().any(|(i, _)| *i == index);
                t.status == TenderStatus::Closed && time_ms >= t.opening_ms && !mine_on_chain
            })
            .collect()
    }

    fn step(&mut self, height: u64, time_ms: u64) {
        let mut calls = Vec::new();
        let chain_id = self.chain.genesis.chain_id.clone();
        let round = key_round(&self.chain.committed_view());
        if let Some(share) = self.store.get(round)
            && let Ok(index) = sealing::share_index(&share)
        {
            let due: Vec<u64> = self
                .due(time_ms, index, round)
                .into_iter()
                .filter(|id| {
                    self.posted
                        .get(&(*id, round))
                        .is_none_or(|h| height >= h + RETRY_AFTER)
                })
                .collect();
            for id in &due {
                match sealing::partial_sign(&share, &chain_id, *id) {
                    Ok(partial) => {
                        calls.push(Call::new(
                            MODULE,
                            OPEN_SHARE,
                            &OpenShareArgs {
                                tender: *id,
                                partial,
                            },
                        ));
                        self.posted.insert((*id, round), height);
                    }
                    Err(e) => tracing::warn!(tender = id, "cannot sign the opening target: {e}"),
                }
            }
        }
        self.account.post(calls);
    }
}
