//! The [`Suite`] selector and the [`Hash`] digest type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;
use sm3::Digest as _;

use crate::CryptoError;

/// Cryptographic suite chosen per chain at genesis.
///
/// * [`Suite::Ed25519`]: Ed25519 signatures (ZIP-215 verification rules) with SHA-256 hashing.
/// * [`Suite::Sm2`]: SM2 signatures (GM/T 0003) with SM3 hashing (GM/T 0004).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// Ed25519 signatures and SHA-256 digests.
    Ed25519,
    /// SM2 signatures (default user ID `1234567812345678`) and SM3 digests.
    Sm2,
}

impl Suite {
    /// Every supported suite, in a fixed order.
    pub const ALL: [Suite; 2] = [Suite::Ed25519, Suite::Sm2];

    /// Length in bytes of every signature, in both suites.
    pub const SIGNATURE_LEN: usize = 64;

    /// Hashes `data` with the suite's digest (SHA-256 or SM3).
    pub fn hash(&self, data: &[u8]) -> Hash {
        self.hash_parts(&[data])
    }

    /// Hashes the concatenation of `parts` without allocating the concatenation.
    pub fn hash_parts(&self, parts: &[&[u8]]) -> Hash {
        match self {
            Suite::Ed25519 => {
                let mut hasher = sha2::Sha256::new();
                for part in parts {
                    hasher.update(part);
                }
                Hash(hasher.finalize().into())
            }
            Suite::Sm2 => {
                let mut hasher = sm3::Sm3::new();
                for part in parts {
                    hasher.update(part);
                }
                Hash(hasher.finalize().into())
            }
        }
    }

    /// Returns the suite's canonical lowercase name: `"ed25519"` or `"sm2"`.
    pub fn name(&self) -> &'static str {
        match self {
            Suite::Ed25519 => "ed25519",
            Suite::Sm2 => "sm2",
        }
    }

    /// Parses a suite from its canonical name (`"ed25519"` or `"sm2"`, exact match).
    pub fn from_name(s: &str) -> Result<Suite, CryptoError> {
        match s {
            "ed25519" => Ok(Suite::Ed25519),
            "sm2" => Ok(Suite::Sm2),
            other => Err(CryptoError::UnknownSuite(other.to_owned())),
        }
    }

    /// Length in bytes of a public key of this suite (32 for Ed25519, 33 for compressed SM2).
    pub fn public_key_len(&self) -> usize {
        match self {
            Suite::Ed25519 => 32,
            Suite::Sm2 => 33,
        }
    }

    /// Length in bytes of a secret key of this suite (32 in both suites).
    pub fn secret_key_len(&self) -> usize {
        32
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Suite {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Suite::from_name(s)
    }
}

/// 32-byte digest.
///
/// Displayed, debugged, parsed and serialized (serde) as 64 lowercase hexadecimal characters;
/// borsh encodes the raw 32 bytes.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Length of a digest in bytes.
    pub const LEN: usize = 32;

    /// The all-zero digest.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// Borrows the digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the digest as 64 lowercase hexadecimal characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses a digest from exactly 64 hexadecimal characters (either case).
    pub fn from_hex(s: &str) -> Result<Hash, CryptoError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|e| {
            CryptoError::BadHash(format!("expected 64 hex characters, got {} ({e})", s.len()))
        })?;
        Ok(Hash(out))
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }
}

impl From<Hash> for [u8; 32] {
    fn from(hash: Hash) -> Self {
        hash.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Hash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}
