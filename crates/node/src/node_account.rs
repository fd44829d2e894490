//! The validator's own account: the one place that signs and submits the node's transactions
//! (tender opening shares, DKG dealings and finishes).
//!
//! The tender opener and the DKG participant run on threads of their own (a dealing takes
//! seconds and must not hold up an opening share), and both post through one [`NodeAccount`].
//! Picking the nonce, signing and submitting happen under one lock, and the nonce counts this
//! node's transactions still pending in its mempool, so two posts never reuse a nonce.

use crate::chain::Chain;
use std::sync::{Arc, Mutex};
use xa_execution::policy;
use xa_types::{Address, Call, KeyPair, TxBody};

/// Heights a posted transaction stays valid.
pub const EXPIRY: u64 = 50;

/// Why the node's account cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("account_key: {0}")]
pub struct AccountError(pub String);

/// The node's registered account and its key.
pub struct NodeAccount {
    chain: Arc<Chain>,
    key: KeyPair,
    account: Address,
    /// Held from choosing a nonce until the transactions are in the mempool.
    posting: Mutex<()>,
}

impl NodeAccount {
    /// The account that `key` belongs to in committed state.
    pub fn new(chain: Arc<Chain>, key: KeyPair) -> Result<Self, AccountError> {
        let account = policy::key_owner(&chain.committed_view(), &key.public_key())
            .map_err(|e| AccountError(e.message))?
            .ok_or_else(|| AccountError("the key belongs to no registered account".into()))?;
        Ok(Self {
            chain,
            key,
            account,
            posting: Mutex::new(()),
        })
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.account
    }

    /// Sign `calls` with consecutive nonces after this account's committed and pending
    /// transactions, valid for [`EXPIRY`] heights from the tip, and submit them. Refusals are
    /// logged: the callers retry after a while if the effect does not reach the chain.
    pub fn post(&self, calls: Vec<Call>) {
        if calls.is_empty() {
            return;
        }
        let _posting = self.posting.lock().unwrap_or_else(|e| e.into_inner());
        let committed = self.chain.next_nonce(&self.account);
        let nonce = self
            .chain
            .mempool
            .pending_next_nonce(&self.account, committed);
        let tip = self.chain.tip().0;
        let chain_id = self.chain.genesis.chain_id.clone();
        let txs = calls
            .into_iter()
            .zip(nonce..)
            .map(|(call, nonce)| {
                TxBody {
                    chain_id: chain_id.clone(),
                    sender: self.account,
                    nonce,
                    expiry_height: tip + EXPIRY,
                    call,
                }
                .sign(&self.key)
            })
            .collect();
        for r in self.chain.submit(txs) {
            match r {
                Ok(hash) => tracing::info!(%hash, "posted node transaction"),
                Err(e) => tracing::warn!("node transaction refused: {}: {}", e.code, e.message),
            }
        }
    }
}
