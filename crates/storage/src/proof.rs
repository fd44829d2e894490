//! Serializable state proofs and standalone verification.
//!
//! [`StateProof`] mirrors the borsh layout of `jmt::proof::SparseMerkleProof` field for field, so a
//! proof is converted to and from jmt's type by a borsh round trip and verification is delegated
//! to jmt (`SparseMerkleProof::verify`).

use crate::hash::with_hasher;
use crate::leaf::{self, StateLayout};
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
/// A key shares its tree leaf with its history head ([`crate::PAIRED_PREFIX`]): the leaf is
/// keyed by the base key's hash and holds both halves. `leaf` is the leaf found on the base
/// key's path (its own for an inclusion proof, another key's or nothing for a non-inclusion
/// proof); `siblings` are ordered from the bottom level to the root; `partner` is the other
/// half of the key's leaf (the head for a key, the key's value for a head), needed to rebuild
/// the leaf, `None` when that half is absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct StateProof {
    /// The leaf on the base key's path, if any.
    pub leaf: Option<ProofLeaf>,
    /// Siblings from the bottom level up to the root.
    pub siblings: Vec<ProofSibling>,
    /// The other half of the key's leaf (hex in JSON, left out when absent), in the
    /// [`StateLayout::Shared`] layout; always `None` in [`StateLayout::Separate`].
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_opt")]
    pub partner: Option<Vec<u8>>,
}

/// The part of a [`StateProof`] with jmt's `SparseMerkleProof` borsh layout, field for field.
#[derive(BorshSerialize, BorshDeserialize)]
struct JmtLayout {
    leaf: Option<ProofLeaf>,
    siblings: Vec<ProofSibling>,
}

impl StateProof {
    /// Convert a jmt proof (same borsh layout) into a `StateProof` without a partner.
    pub(crate) fn from_jmt<H: SimpleHasher>(proof: &SparseMerkleProof<H>) -> Result<Self, String> {
        let bytes = borsh::to_vec(proof).map_err(|e| e.to_string())?;
        let JmtLayout { leaf, siblings } = borsh::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(StateProof {
            leaf,
            siblings,
            partner: None,
        })
    }

    fn to_jmt<H: SimpleHasher>(&self) -> Result<SparseMerkleProof<H>, ProofError> {
        let layout = JmtLayout {
            leaf: self.leaf,
            siblings: self.siblings.clone(),
        };
        let bytes = borsh::to_vec(&layout).map_err(|e| ProofError::Malformed(e.to_string()))?;
        borsh::from_slice(&bytes).map_err(|e| ProofError::Malformed(e.to_string()))
    }
}

fn verify_with<H: SimpleHasher>(
    layout: StateLayout,
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    if layout == StateLayout::Separate {
        if proof.partner.is_some() {
            return Err(ProofError::Invalid(
                "a proof in layout 1 has no partner".into(),
            ));
        }
        return proof
            .to_jmt::<H>()?
            .verify(RootHash(*root), KeyHash::with::<H>(key), value)
            .map_err(|e| ProofError::Invalid(e.to_string()));
    }
    let (base, side) = leaf::split(key);
    if leaf::partner_key(base, side).is_none() && proof.partner.is_some() {
        return Err(ProofError::Invalid(
            "the proof names a partner for a key that has none".into(),
        ));
    }
    let partner = proof.partner.as_deref();
    let leaf_value = match side {
        leaf::Side::Value => leaf::encode(value, partner),
        leaf::Side::Head => leaf::encode(partner, value),
    };
    let jmt_proof = proof.to_jmt::<H>()?;
    jmt_proof
        .verify(
            RootHash(*root),
            KeyHash::with::<H>(base),
            leaf_value.as_deref(),
        )
        .map_err(|e| ProofError::Invalid(e.to_string()))
}

/// Standalone verification (no Store): `Ok` iff `value` (`Some` = inclusion with that value,
/// `None` = non-inclusion) is proven for `key` under `root`, using the tree hash `algo` and the
/// chain's state `layout` (from its genesis, never from the proof: a proof read in the wrong
/// layout could prove a history head absent).
pub fn verify_proof(
    algo: HashAlgo,
    layout: StateLayout,
    root: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &StateProof,
) -> Result<(), ProofError> {
    with_hasher!(algo, H => verify_with::<H>(layout, root, key, value, proof))
}

/// serde helper: `Option<Vec<u8>>` as a lowercase hex string or `null`.
mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_some(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
            None => Ok(None),
            Some(s) => hex::decode(s.as_bytes())
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
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
