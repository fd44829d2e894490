//! Error types.

use crate::HashAlgo;

/// Errors returned by [`crate::Store`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The underlying fjall database failed (I/O, corruption detected by fjall, poisoned).
    #[error("database error: {0}")]
    Db(#[from] fjall::Error),
    /// Stored bytes could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The Jellyfish Merkle tree reported an error.
    #[error("state tree error: {0}")]
    Tree(String),
    /// A block was offered at the wrong height.
    #[error("wrong height: expected {expected}, got {got}")]
    HeightMismatch {
        /// What the store accepts next (for an empty store: "0 or 1").
        expected: String,
        /// The height that was offered.
        got: u64,
    },
    /// The pending state does not fit on top of the committed state (wrong version, parent root or algorithm).
    #[error("state does not match: {0}")]
    StateMismatch(String),
    /// The chain of uncommitted ancestors passed to `prepare`/`read_through` is inconsistent.
    #[error("invalid pending ancestors: {0}")]
    InvalidPending(String),
    /// The requested version (height) has not been committed.
    #[error("version {0} not committed")]
    VersionNotFound(u64),
    /// The store was created with another hash algorithm.
    #[error("store uses {stored}, opened with {requested}")]
    AlgoMismatch {
        /// Algorithm recorded in the store.
        stored: HashAlgo,
        /// Algorithm requested by the caller.
        requested: HashAlgo,
    },
    /// A block with the same hash is already stored.
    #[error("block hash {0} already stored")]
    DuplicateBlock(String),
    /// The store was written in another state layout than this build's.
    #[error("state layout: {0}")]
    Layout(String),
    /// An argument is out of range (for example an over-long index name).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl StorageError {
    /// A stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::Db(_) => "storage.db",
            StorageError::Corrupt(_) => "storage.corrupt",
            StorageError::Tree(_) => "storage.tree",
            StorageError::HeightMismatch { .. } => "storage.height_mismatch",
            StorageError::StateMismatch(_) => "storage.state_mismatch",
            StorageError::InvalidPending(_) => "storage.invalid_pending",
            StorageError::VersionNotFound(_) => "storage.version_not_found",
            StorageError::AlgoMismatch { .. } => "storage.algo_mismatch",
            StorageError::DuplicateBlock(_) => "storage.duplicate_block",
            StorageError::InvalidInput(_) => "storage.invalid_input",
            StorageError::Layout(_) => "storage.layout",
        }
    }
}

/// Errors returned by [`crate::verify_proof`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof is well formed but does not prove the claim under the given root.
    #[error("proof does not verify: {0}")]
    Invalid(String),
    /// The proof could not be interpreted at all.
    #[error("malformed proof: {0}")]
    Malformed(String),
}

impl ProofError {
    /// A stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::Invalid(_) => "proof.invalid",
            ProofError::Malformed(_) => "proof.malformed",
        }
    }
}
