//! The one error type of the light client: what failed, and where.

/// What kind of check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input could not be read (bad JSON, bad hex, wrong length, trailing bytes, too large).
    Malformed,
    /// A finalization certificate does not verify, or certifies something else.
    Certificate,
    /// No trusted validator set for the epoch (a set change is missing from the lineage).
    UnknownEpoch,
    /// A Merkle or state proof does not verify.
    Proof,
    /// Two things that must agree do not (a header field, a hash, a height, the genesis).
    Mismatch,
    /// A proof refers to a header that has not been verified.
    Untrusted,
}

impl ErrorKind {
    /// A stable, machine-readable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::Certificate => "certificate",
            ErrorKind::UnknownEpoch => "unknown_epoch",
            ErrorKind::Proof => "proof",
            ErrorKind::Mismatch => "mismatch",
            ErrorKind::Untrusted => "untrusted",
        }
    }
}

/// A verification failure naming the broken part, e.g.
/// `headers[0].certificate: signatures do not verify under the validator set of epoch 0`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{part}: {reason}")]
pub struct LightError {
    /// Path of the broken part within the input (`headers[1].header.state_root`, `record.proof`).
    pub part: String,
    /// What kind of check failed.
    pub kind: ErrorKind,
    /// Why, in words.
    pub reason: String,
}

impl LightError {
    /// An error about `part`.
    pub fn new(kind: ErrorKind, part: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            part: part.into(),
            kind,
            reason: reason.into(),
        }
    }

    /// The same error, located within `outer` (`outer.part`).
    pub fn within(mut self, outer: &str) -> Self {
        self.part = if self.part.is_empty() {
            outer.to_string()
        } else {
            format!("{outer}.{}", self.part)
        };
        self
    }
}

/// Shorthand for results of this crate.
pub type LightResult<T> = Result<T, LightError>;
