//! Serializable state proofs and standalone verification.
//!
//! [`StateProof`] mirrors the borsh layout of `jmt::proof::SparseMerkleProof` field for field, so a
//! proof is converted to and from jmt's type by a borsh round trip and verification is delegated
//! to jmt (`SparseMerkleProof::verify`).

use crate::hash::with_hasher;
use crate::{HashAlgo, ProofError};
use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash, SimpleHasher};
use serde::{Deserialize, Serialize};

/// A leaf as it appears in a proof: the hash of its key and the hash of its value.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct ProofLeaf {
    /// Hash of the state key (the jmt `KeyHash`).
    #[serde(with = "hex32")]
    pub key_hash: [u8; 32],
    /// Hash of the value.
    #[serde(with = "hex32")]
    pub value_hash: [u8; 32],
}

/// A sibling on the path from the proven leaf position to the root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofSibling {
    /// An empty subtree (hashes to jmt's placeholder hash).
    Null,
    /// An internal node given by its two child hashes.
    Internal {
        /// Left child hash.
        #[serde(with = "hex32")]
        left: [u8; 32],
        /// Right child hash.
        #[serde(with = "hex32")]
        right: [u8; 32],
    },
    /// A leaf node.
    Leaf(ProofLeaf),
}

/// Serializable proof (serde JSON + borsh) of a key's value or absence at a root.
///
/// `leaf` is the leaf found on the key's path (the key itself for an inclusion proof, another key
/// or nothing for a non-inclusion proof); `siblings` are ordered from the bottom level to the root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct StateProof {
    /// The leaf on the key's path, if any.
    pub leaf: Option<ProofLeaf>,
    /// Siblings from the bottom level up to the root.
    pub siblings: Vec<ProofSibling>,
}

impl StateProof {
    /// Convert a jmt proof (same borsh layout) into a `StateProof`.
    pub(crate) fn from_jmt<H: SimpleHasher>(proof: &SparseMerkleProof<H>) -> Result<Self, String> {
        let bytes = borsh::to_vec(proof).map_err(|e| e.to_string())?;
        borsh::from_slice(&bytes).map_err(|e| e.to_string())
    }

    fn to_jmt<H: SimpleHasher>(&self) -> Result<SparseMerkleProof<H>, ProofError> {
        let bytes = borsh::to_vec(self).map_err(|e| ProofError::Malformed(e.to_string()))?;
        borsh::from_slice(&bytes).map_err(|e| ProofError::Malformed(e.to_string()))
    }
}

fn verify_with<H: SimpleHasher>(
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    let jmt_proof = proof.to_jmt::<H>()?;
    jmt_proof
        .verify(RootHash(*root), KeyHash::with::<H>(key), value)
        .map_err(|e| ProofError::Invalid(e.to_string()))
}

/// Standalone verification (no Store): `Ok` iff `value` (`Some` = inclusion with that value,
/// `None` = non-inclusion) is proven for `key` under `root`, using the tree hash `algo`.
pub fn verify_proof(
    algo: HashAlgo,
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    with_hasher!(algo, H => verify_with::<H>(root, key, value, proof))
}

/// serde helper: `[u8; 32]` as a lowercase hex string.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.as_bytes(), &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}
