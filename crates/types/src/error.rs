//! Stable error codes shared by execution, mempool and API.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable error code. The string form never changes once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request body could not be parsed.
    MalformedRequest,
    /// A signature did not verify, or the sender does not match the signing key.
    BadSignature,
    /// The transaction names another chain.
    WrongChainId,
    /// The nonce was already used by this sender.
    StaleNonce,
    /// The nonce is too far ahead of the sender's next nonce.
    NonceTooHigh,
    /// The same transaction is already pending or committed.
    DuplicateTransaction,
    /// The transaction's expiry height has passed.
    Expired,
    /// No module of that name.
    UnknownModule,
    /// The module has no method of that name.
    UnknownMethod,
    /// The call's arguments could not be decoded or are invalid.
    InvalidArgument,
    /// The transaction is larger than the chain allows.
    TooLarge,
    /// The mempool is full; retry later.
    MempoolFull,
    /// The record already exists.
    AlreadyExists,
    /// No such record.
    NotFound,
    /// The caller may not do this.
    PermissionDenied,
    /// The crypto suite of a key does not match the chain's.
    WrongSuite,
    /// The node failed internally.
    Internal,
    /// The node is not ready to serve this request.
    Unavailable,
    /// Waiting for the outcome took too long (the transaction may still commit).
    Timeout,
    /// The request's credentials are missing, unknown or expired.
    Unauthenticated,
    /// The sender (or a co-signer) is not a registered account.
    UnknownAccount,
    /// The sender (or a co-signer) is frozen and can do nothing.
    AccountFrozen,
    /// A signing key was retired (rotated out) or revoked.
    KeyRevoked,
    /// The account already approved this proposal.
    AlreadyApproved,
    /// The proposal's expiry time has passed.
    ProposalExpired,
    /// The proposal was already executed, expired or cancelled.
    ProposalClosed,
    /// The record is not in a state that allows this call (e.g. a tender not open for bids).
    InvalidState,
    /// The deadline has passed (judged by the block's consensus time).
    DeadlinePassed,
    /// Too early: the time this call waits for has not come (consensus time).
    TooEarly,
}

impl ErrorCode {
    /// Every code, in declaration order (the OpenAPI document lists them from here).
    pub const ALL: &'static [ErrorCode] = &[
        Self::MalformedRequest,
        Self::BadSignature,
        Self::WrongChainId,
        Self::StaleNonce,
        Self::NonceTooHigh,
        Self::DuplicateTransaction,
        Self::Expired,
        Self::UnknownModule,
        Self::UnknownMethod,
        Self::InvalidArgument,
        Self::TooLarge,
        Self::MempoolFull,
        Self::AlreadyExists,
        Self::NotFound,
        Self::PermissionDenied,
        Self::WrongSuite,
        Self::Internal,
        Self::Unavailable,
        Self::Timeout,
        Self::Unauthenticated,
        Self::UnknownAccount,
        Self::AccountFrozen,
        Self::KeyRevoked,
        Self::AlreadyApproved,
        Self::ProposalExpired,
        Self::ProposalClosed,
        Self::InvalidState,
        Self::DeadlinePassed,
        Self::TooEarly,
    ];

    /// The code's stable string form, e.g. `BAD_SIGNATURE`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MalformedRequest => "MALFORMED_REQUEST",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::WrongChainId => "WRONG_CHAIN_ID",
            Self::StaleNonce => "STALE_NONCE",
            Self::NonceTooHigh => "NONCE_TOO_HIGH",
            Self::DuplicateTransaction => "DUPLICATE_TRANSACTION",
            Self::Expired => "EXPIRED",
            Self::UnknownModule => "UNKNOWN_MODULE",
            Self::UnknownMethod => "UNKNOWN_METHOD",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::TooLarge => "TOO_LARGE",
            Self::MempoolFull => "MEMPOOL_FULL",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::NotFound => "NOT_FOUND",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::WrongSuite => "WRONG_SUITE",
            Self::Internal => "INTERNAL",
            Self::Unavailable => "UNAVAILABLE",
            Self::Timeout => "TIMEOUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::UnknownAccount => "UNKNOWN_ACCOUNT",
            Self::AccountFrozen => "ACCOUNT_FROZEN",
            Self::KeyRevoked => "KEY_REVOKED",
            Self::AlreadyApproved => "ALREADY_APPROVED",
            Self::ProposalExpired => "PROPOSAL_EXPIRED",
            Self::ProposalClosed => "PROPOSAL_CLOSED",
            Self::InvalidState => "INVALID_STATE",
            Self::DeadlinePassed => "DEADLINE_PASSED",
            Self::TooEarly => "TOO_EARLY",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_matches_serde() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("json");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

/// An error with a stable code and a message naming what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct TxError {
    /// Stable code.
    pub code: ErrorCode,
    /// Message naming the offending field.
    pub message: String,
}

impl TxError {
    /// Build an error.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
