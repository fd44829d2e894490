//! Notary (存证): anchor a document digest with metadata, read it back with block, time and signers.

use crate::{Address, Hash, PublicKey};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "notary";
/// The officer role the notary module declares (notary clerks; a policy may require it).
pub const OFFICER: &str = "notary_officer";
/// Method: anchor a document digest.
pub const ANCHOR: &str = "anchor";
/// Longest title, in bytes.
pub const MAX_TITLE: usize = 256;
/// Longest kind, in bytes.
pub const MAX_KIND: usize = 64;

/// Arguments of `notary.anchor`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AnchorArgs {
    /// Digest of the document (the chain suite's hash: SHA-256 or SM3). It is the record's id.
    pub digest: Hash,
    /// Title or file name.
    pub title: String,
    /// File size in bytes.
    pub file_size: u64,
    /// Kind of document, e.g. `contract`, `photo`.
    pub kind: String,
}

/// A notarized record as stored in state under [`record_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NotaryRecord {
    /// The document digest, also the record id.
    pub digest: Hash,
    /// Title or file name.
    pub title: String,
    /// File size in bytes.
    pub file_size: u64,
    /// Kind of document.
    pub kind: String,
    /// Submitting account.
    pub submitter: Address,
    /// Keys that signed the anchoring transaction.
    pub signers: Vec<PublicKey>,
    /// Height of the block that anchored it.
    pub height: u64,
    /// Consensus time of that block, ms since the Unix epoch.
    pub time_ms: u64,
    /// The anchoring transaction.
    pub tx_hash: Hash,
}

/// State key of the record for `digest`.
pub fn record_key(digest: &Hash) -> Vec<u8> {
    let mut k = b"notary/record/".to_vec();
    k.extend_from_slice(&digest.0);
    k
}
