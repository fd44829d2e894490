//! The validator's side of opening sealed bids: after every commit, post this validator's
//! partial signature (`tender.open_share`) for each closed tender whose opening time has come
//! and which does not hold this validator's share yet.
//!
//! The share comes from `tender-share.json` (trusted dealer, devnet only); the transaction is
//! signed with the node's registered account (`account_key`). Runs on its own thread, fed by the
//! chain's commit listener; it never blocks the committer.

use crate::chain::Chain;
use std::{
    collections::BTreeMap,
    sync::{Arc, mpsc},
};
use xa_execution::{StateView, policy, sealing};
use xa_types::{
    Address, Call, KeyPair, TxBody,
    modules::tender::{
        AWAITING_OPEN_KEY, MODULE, OPEN_SHARE, OpenShareArgs, Tender, TenderStatus, shares_key,
        tender_key,
    },
};

/// Commits to wait before re-posting a share that has not reached the chain.
const RETRY_AFTER: u64 = 10;
/// Heights a posted share stays valid.
const EXPIRY: u64 = 50;

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
    share: Vec<u8>,
    index: u32,
    key: KeyPair,
    account: Address,
    /// Tender id → height at which this node last posted its share.
    posted: BTreeMap<u64, u64>,
}

/// Start the opener thread.
pub fn start(chain: Arc<Chain>, share: Vec<u8>, key: KeyPair) -> Result<(), OpenerError> {
    let index = sealing::share_index(&share).map_err(|e| OpenerError::Share(e.to_string()))?;
    let account = policy::key_owner(&chain.committed_view(), &key.public_key())
        .map_err(|e| OpenerError::Account(e.message))?
        .ok_or_else(|| OpenerError::Account("the key belongs to no registered account".into()))?;
    let (tx, rx) = mpsc::channel::<(u64, u64)>();
    chain.on_commit(move |c| {
        let _ = tx.send((c.block.header.height, c.block.header.time_ms));
    });
    let mut opener = Opener {
        chain,
        share,
        index,
        key,
        account,
        posted: BTreeMap::new(),
    };
    std::thread::Builder::new()
        .name("tender-opener".into())
        .spawn(move || {
            while let Ok((height, time_ms)) = rx.recv() {
                opener.step(height, time_ms);
            }
        })
        .map_err(|e| OpenerError::Share(format!("spawning the opener: {e}")))?;
    tracing::info!(index, "tender opener started");
    Ok(())
}

impl Opener {
    /// The tenders waiting for this validator's share at consensus time `time_ms`.
    fn due(&self, time_ms: u64) -> Vec<u64> {
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
                t.status == TenderStatus::Closed
                    && time_ms >= t.opening_ms
                    && !shares.iter().any(|(i, _)| *i == self.index)
            })
            .collect()
    }

    fn step(&mut self, height: u64, time_ms: u64) {
        let due: Vec<u64> = self
            .due(time_ms)
            .into_iter()
            .filter(|id| {
                self.posted
                    .get(id)
                    .is_none_or(|h| height >= h + RETRY_AFTER)
            })
            .collect();
        if due.is_empty() {
            return;
        }
        let chain_id = self.chain.genesis.chain_id.clone();
        let mut nonce = self.chain.next_nonce(&self.account);
        let mut txs = Vec::with_capacity(due.len());
        for id in &due {
            let partial = match sealing::partial_sign(&self.share, &chain_id, *id) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(tender = id, "cannot sign the opening target: {e}");
                    continue;
                }
            };
            let body = TxBody {
                chain_id: chain_id.clone(),
                sender: self.account,
                nonce,
                expiry_height: height + EXPIRY,
                call: Call::new(
                    MODULE,
                    OPEN_SHARE,
                    &OpenShareArgs {
                        tender: *id,
                        partial,
                    },
                ),
            };
            nonce += 1;
            txs.push(body.sign(&self.key));
            self.posted.insert(*id, height);
        }
        for (id, r) in due.iter().zip(self.chain.submit(txs)) {
            match r {
                Ok(hash) => tracing::info!(tender = id, %hash, "posted tender opening share"),
                Err(e) => {
                    tracing::warn!(
                        tender = id,
                        "opening share refused: {}: {}",
                        e.code,
                        e.message
                    )
                }
            }
        }
    }
}
