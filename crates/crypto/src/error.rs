//! Error type shared by every function in this crate.

use std::path::PathBuf;

/// Errors returned by this crate.
///
/// Every variant has a stable machine-readable code, see [`CryptoError::code`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The suite name is not one of `ed25519` or `sm2`.
    #[error("unknown crypto suite {0:?} (expected \"ed25519\" or \"sm2\")")]
    UnknownSuite(String),

    /// A public key has the wrong length or encoding, or is not a valid curve point.
    #[error("bad public key: {0}")]
    BadPublicKey(String),

    /// A signature is malformed or does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),

    /// Secret key material has the wrong length or is out of range.
    #[error("bad secret key: {0}")]
    BadSecretKey(String),

    /// A digest string is not 64 hexadecimal characters.
    #[error("bad hash: {0}")]
    BadHash(String),

    /// A key file is not valid JSON or one of its fields is wrong.
    #[error("bad key file {}: field `{field}`: {reason}", path.display())]
    BadKeyFile {
        /// The key file that was being read.
        path: PathBuf,
        /// The JSON field at fault (`<document>` when the JSON itself is unreadable).
        field: String,
        /// What is wrong with that field.
        reason: String,
    },

    /// Reading or writing a file failed.
    #[error("i/o error on {}: {source}", path.display())]
    Io {
        /// The file being accessed.
        path: PathBuf,
        /// The underlying operating system error.
        #[source]
        source: std::io::Error,
    },
}

impl CryptoError {
    /// Returns a stable, machine-readable code for this error (e.g. `"BAD_SIGNATURE"`).
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::UnknownSuite(_) => "UNKNOWN_SUITE",
            CryptoError::BadPublicKey(_) => "BAD_PUBLIC_KEY",
            CryptoError::BadSignature(_) => "BAD_SIGNATURE",
            CryptoError::BadSecretKey(_) => "BAD_SECRET_KEY",
            CryptoError::BadHash(_) => "BAD_HASH",
            CryptoError::BadKeyFile { .. } => "BAD_KEY_FILE",
            CryptoError::Io { .. } => "IO_ERROR",
        }
    }
}
