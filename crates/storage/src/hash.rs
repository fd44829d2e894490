//! Hash algorithm selection and the [`jmt::SimpleHasher`] adapters.

use serde::{Deserialize, Serialize};

/// The hash function used by the state tree (node hashes, key hashes and value hashes).
///
/// The choice is fixed per store: it is recorded on first open and checked on every reopen.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub enum HashAlgo {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// SM3 (GB/T 32905-2016).
    Sm3,
}

impl HashAlgo {
    /// Hash `data` with this algorithm.
    pub fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            HashAlgo::Sha256 => <Sha256Hasher as jmt::SimpleHasher>::hash(data),
            HashAlgo::Sm3 => <Sm3Hasher as jmt::SimpleHasher>::hash(data),
        }
    }

    /// Stable lowercase name (`"sha256"` or `"sm3"`).
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sm3 => "sm3",
        }
    }

    /// One-byte tag persisted in the store.
    pub(crate) fn tag(self) -> u8 {
        match self {
            HashAlgo::Sha256 => 1,
            HashAlgo::Sm3 => 2,
        }
    }

    /// Inverse of [`HashAlgo::tag`].
    pub(crate) fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(HashAlgo::Sha256),
            2 => Some(HashAlgo::Sm3),
            _ => None,
        }
    }
}

impl std::fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 adapter for jmt.
pub(crate) struct Sha256Hasher(sha2::Sha256);

impl jmt::SimpleHasher for Sha256Hasher {
    fn new() -> Self {
        Sha256Hasher(<sha2::Sha256 as sha2::Digest>::new())
    }

    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; 32] {
        sha2::Digest::finalize(self.0).into()
    }
}

/// SM3 adapter for jmt (sm3 uses a newer `digest` than jmt, so this is written by hand).
pub(crate) struct Sm3Hasher(sm3::Sm3);

impl jmt::SimpleHasher for Sm3Hasher {
    fn new() -> Self {
        Sm3Hasher(<sm3::Sm3 as sm3::Digest>::new())
    }

    fn update(&mut self, data: &[u8]) {
        sm3::Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; 32] {
        let out = sm3::Digest::finalize(self.0);
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&out);
        digest
    }
}

/// Run `$body` with `$h` bound to the hasher type selected by `$algo`.
macro_rules! with_hasher {
    ($algo:expr, $h:ident => $body:expr) => {
        match $algo {
            $crate::hash::HashAlgo::Sha256 => {
                type $h = $crate::hash::Sha256Hasher;
                $body
            }
            $crate::hash::HashAlgo::Sm3 => {
                type $h = $crate::hash::Sm3Hasher;
                $body
            }
        }
    };
}
pub(crate) use with_hasher;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // FIPS 180-2 "abc" and GB/T 32905 example 1 "abc".
        assert_eq!(
            hex::encode(HashAlgo::Sha256.hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex::encode(HashAlgo::Sm3.hash(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn tags_roundtrip() {
        for a in [HashAlgo::Sha256, HashAlgo::Sm3] {
            assert_eq!(HashAlgo::from_tag(a.tag()), Some(a));
        }
        assert_eq!(HashAlgo::from_tag(0), None);
    }
}
