//! Verify Xiong'an Chain records offline, trusting nothing but the genesis file.
//!
//! # Terminology
//! - **Light client** ([`LightClient`]): validator sets per epoch and headers it has verified.
//!   It starts from the genesis file (epoch 0's set) and grows only by verified evidence: a
//!   header by its finalization certificate under its epoch's set, an older header by inclusion
//!   in a verified header's `history_root`, a new epoch's set by a state proof of
//!   `validators/set` against the verified last header of the previous epoch.
//! - **Proofs**: a transaction with its receipt (`tx_root`/`receipts_root`), a state entry's
//!   value or absence (`state_root`), a key's complete history (its history chain head in state),
//!   consistency between two heights (`history_root`s).
//! - **Evidence package** ([`Package`]): one JSON file with a record, its proofs, the headers and
//!   certificates and the validator-set lineage. [`verify_bytes`] checks one offline.
//!
//! # Invariants
//! - No networking, no storage, no clock: every input is an argument.
//! - Nothing is trusted that was not verified, and every failure names the broken part
//!   ([`LightError::part`]). Parsing never panics on any input.

mod client;
mod error;
pub mod export;
mod package;

pub use client::{Certificate, LightClient, TrustedHeader, hash_algo, state_layout};
pub use error::{ErrorKind, LightError, LightResult};
pub use export::{EvidenceSource, ExportError};
pub use package::{
    CertifiedHeader, ConsistencyEvidence, FORMAT, HistoryEvidence, LinkedHeader, MAX_PACKAGE_BYTES,
    Package, Record, Report, SetChange, StateEvidence, TxEvidence, display_key, verify_bytes,
    verify_package,
};
