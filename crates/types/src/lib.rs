//! Define the Xiong'an Chain data model shared by node, client, CLI and verifiers.
//!
//! # Terminology
//! - **Transaction**: a [`TxBody`] (chain id, sender, nonce, expiry height, module call) and the
//!   signatures over its signing bytes.
//! - **Block**: a [`Header`] committing to the transactions, their receipts and the state root
//!   after executing them, plus the transactions themselves.
//! - **Receipt**: the outcome of one transaction: status, stable error code and events.
//!
//! # Canonical encoding
//! Every hash and every signature is computed over the [borsh] encoding of a value, prefixed by
//! a domain tag ([`TX_DOMAIN`], [`HEADER_DOMAIN`]). Borsh is canonical for the types here: no maps,
//! fixed-width little-endian integers, length-prefixed sequences. JSON (serde) is only the API's
//! presentation; it is converted to these types and re-encoded before anything is hashed.

pub mod auth;
pub mod error;
pub mod genesis;
pub mod hexser;
pub mod merkle;
pub mod modules;
pub mod policy;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
pub use xa_crypto::{Hash, KeyPair, PublicKey, Signature, Suite};

pub use error::{ErrorCode, TxError};
pub use genesis::{ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator};
pub use policy::Policy;

/// Domain tag prefixed to a transaction body before hashing or signing.
pub const TX_DOMAIN: &[u8] = b"XA-TX-V1";
/// Domain tag prefixed to a block header before hashing.
pub const HEADER_DOMAIN: &[u8] = b"XA-HEADER-V1";
/// Domain tag prefixed to a public key when deriving an account address.
pub const ADDRESS_DOMAIN: &[u8] = b"XA-ADDRESS-V1";
/// Domain tag prefixed to a receipt before hashing it into the receipts root.
pub const RECEIPT_DOMAIN: &[u8] = b"XA-RECEIPT-V1";

/// An account address: the suite hash of the domain tag and the account's first public key.
pub type Address = Hash;

/// Derive the address of an account whose first key is `pk`.
pub fn address_of(pk: &PublicKey) -> Address {
    pk.suite()
        .hash_parts(&[ADDRESS_DOMAIN, &[pk.suite() as u8], pk.as_bytes()])
}

/// Encode a value with the canonical binary encoding.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).unwrap_or_default()
}

/// Decode a value from its canonical binary encoding; trailing bytes are an error.
pub fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, std::io::Error> {
    borsh::from_slice(bytes)
}

/// A call of one method of one module, with the method's arguments in canonical encoding.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Call {
    /// Module name, e.g. `notary`.
    pub module: String,
    /// Method name within the module, e.g. `anchor`.
    pub method: String,
    /// The method's arguments, borsh-encoded (hex in JSON).
    #[serde(with = "hexser")]
    pub args: Vec<u8>,
}

impl Call {
    /// Build a call whose arguments are the canonical encoding of `args`.
    pub fn new<A: BorshSerialize>(module: &str, method: &str, args: &A) -> Self {
        Self {
            module: module.to_string(),
            method: method.to_string(),
            args: encode(args),
        }
    }
}

/// What a transaction's signers sign.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TxBody {
    /// The chain this transaction is for; a transaction for another chain is refused.
    pub chain_id: String,
    /// The sending account.
    pub sender: Address,
    /// The sender's next nonce: transactions of one sender execute in nonce order, each once.
    pub nonce: u64,
    /// The last height at which this transaction may be included.
    pub expiry_height: u64,
    /// What to do.
    pub call: Call,
}

impl TxBody {
    /// The bytes that are signed and hashed: domain tag then canonical body.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = TX_DOMAIN.to_vec();
        out.extend_from_slice(&encode(self));
        out
    }

    /// The transaction hash (its identifier): independent of the signatures, so that a
    /// re-encoded signature never makes a second transaction.
    pub fn hash(&self, suite: Suite) -> Hash {
        suite.hash(&self.signing_bytes())
    }

    /// Sign this body with one key.
    pub fn sign(self, key: &KeyPair) -> Transaction {
        let signature = key.sign(&self.signing_bytes());
        Transaction {
            body: self,
            signatures: vec![TxSignature {
                public_key: key.public_key(),
                signature,
            }],
        }
    }
}

/// One signature on a transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct TxSignature {
    /// The signing key.
    pub public_key: PublicKey,
    /// The signature over [`TxBody::signing_bytes`].
    pub signature: Signature,
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Transaction {
    /// What is signed.
    pub body: TxBody,
    /// One or more signatures (multi-signature transactions carry several).
    pub signatures: Vec<TxSignature>,
}

impl Transaction {
    /// The transaction hash; see [`TxBody::hash`].
    pub fn hash(&self, suite: Suite) -> Hash {
        self.body.hash(suite)
    }

    /// Add a co-signature by `key` (multi-signature transaction): the key of another registered
    /// account, whose authority then counts toward the call's policy. Signing twice with one
    /// key adds nothing.
    pub fn cosign(&mut self, key: &KeyPair) {
        let public_key = key.public_key();
        if self.signatures.iter().any(|s| s.public_key == public_key) {
            return;
        }
        let signature = key.sign(&self.body.signing_bytes());
        self.signatures.push(TxSignature {
            public_key,
            signature,
        });
    }

    /// Size of the canonical encoding in bytes (computed without encoding).
    pub fn encoded_len(&self) -> usize {
        borsh::object_length(self).unwrap_or(usize::MAX)
    }
}

/// A block header: everything a light client needs to check a block and what it commits to.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Header {
    /// Height; the genesis block is height 0.
    pub height: u64,
    /// Hash of the parent header.
    pub parent: Hash,
    /// Consensus epoch.
    pub epoch: u64,
    /// Consensus view in which the block was proposed.
    pub view: u64,
    /// Consensus view of the parent.
    pub parent_view: u64,
    /// The proposing validator's consensus key (Ed25519, hex in JSON).
    #[serde(with = "hexser")]
    pub proposer: Vec<u8>,
    /// Consensus time in milliseconds since the Unix epoch: set by the proposer, checked by
    /// voters to be after the parent's and not in their future; the only time execution sees.
    pub time_ms: u64,
    /// Number of transactions.
    pub tx_count: u32,
    /// Merkle root of the transaction hashes ([`merkle::root`]).
    pub tx_root: Hash,
    /// Merkle root of the receipts ([`Receipt::leaf_hash`]).
    pub receipts_root: Hash,
    /// Root of the authenticated state after executing this block.
    pub state_root: Hash,
    /// Merkle root ([`merkle::root`], RFC 6962 layout) over the hashes of every block before
    /// this one, genesis first: `height` leaves. Proves old headers and consistency between
    /// heights against this one.
    pub history_root: Hash,
}

impl Header {
    /// The header hash, which is the block's identifier.
    pub fn hash(&self, suite: Suite) -> Hash {
        suite.hash_parts(&[HEADER_DOMAIN, &encode(self)])
    }
}

/// A block: a header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, in execution order.
    pub txs: Vec<Transaction>,
}

impl Block {
    /// Merkle root of the given transactions' hashes.
    pub fn compute_tx_root(suite: Suite, txs: &[Transaction]) -> Hash {
        let leaves: Vec<Hash> = txs.iter().map(|tx| tx.hash(suite)).collect();
        merkle::root(suite, &leaves)
    }

    /// The hashes of this block's transactions, in order.
    pub fn tx_hashes(&self, suite: Suite) -> Vec<Hash> {
        self.txs.iter().map(|tx| tx.hash(suite)).collect()
    }
}

/// Whether a transaction's call succeeded.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// The call ran and its writes were applied.
    Success,
    /// The call failed; none of its writes were applied (the nonce was still consumed).
    Failed,
}

/// An event emitted by a module during a call.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Event {
    /// Emitting module.
    pub module: String,
    /// Event kind, e.g. `anchored`.
    pub kind: String,
    /// Ordered attributes.
    pub attributes: Vec<(String, String)>,
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction hash.
    pub tx_hash: Hash,
    /// Height of the block that holds the transaction.
    pub height: u64,
    /// Position within the block.
    pub index: u32,
    /// Success or failure.
    pub status: TxStatus,
    /// Stable error code when failed, empty on success.
    pub code: String,
    /// Human-readable message when failed.
    pub message: String,
    /// Events, empty when failed.
    pub events: Vec<Event>,
}

impl Receipt {
    /// The leaf this receipt contributes to the receipts root.
    pub fn leaf_hash(&self, suite: Suite) -> Hash {
        suite.hash_parts(&[RECEIPT_DOMAIN, &encode(self)])
    }

    /// Merkle root of receipts.
    pub fn root(suite: Suite, receipts: &[Receipt]) -> Hash {
        let leaves: Vec<Hash> = receipts.iter().map(|r| r.leaf_hash(suite)).collect();
        merkle::root(suite, &leaves)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(suite: Suite) -> (KeyPair, Transaction) {
        let key = KeyPair::from_seed(suite, &[7u8; 32]).expect("seed");
        let body = TxBody {
            chain_id: "xa-test".into(),
            sender: address_of(&key.public_key()),
            nonce: 3,
            expiry_height: 100,
            call: Call::new(
                "notary",
                "anchor",
                &modules::notary::AnchorArgs {
                    digest: Hash([1u8; 32]),
                    title: "contract.pdf".into(),
                    file_size: 1024,
                    kind: "contract".into(),
                },
            ),
        };
        let tx = body.sign(&key);
        (key, tx)
    }

    #[test]
    fn transaction_round_trips_binary_and_json() {
        for suite in [Suite::Ed25519, Suite::Sm2] {
            let (_, tx) = sample(suite);
            let bytes = encode(&tx);
            let back: Transaction = decode(&bytes).expect("decode");
            assert_eq!(back, tx);
            let json = serde_json::to_string(&tx).expect("json");
            let back: Transaction = serde_json::from_str(&json).expect("json back");
            assert_eq!(back, tx);
            assert_eq!(
                encode(&back),
                bytes,
                "JSON round trip must not change the encoding"
            );
        }
    }

    #[test]
    fn cosigning_adds_one_signature_per_key() {
        let (key, mut tx) = sample(Suite::Ed25519);
        let other = KeyPair::from_seed(Suite::Ed25519, &[8u8; 32]).expect("seed");
        let hash = tx.hash(Suite::Ed25519);
        tx.cosign(&other);
        tx.cosign(&other);
        tx.cosign(&key);
        assert_eq!(tx.signatures.len(), 2);
        assert_eq!(
            tx.hash(Suite::Ed25519),
            hash,
            "co-signing does not change the hash"
        );
        let bytes = tx.body.signing_bytes();
        for s in &tx.signatures {
            xa_crypto::verify(&s.public_key, &bytes, &s.signature).expect("verifies");
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let (_, tx) = sample(Suite::Ed25519);
        let mut bytes = encode(&tx);
        bytes.push(0);
        assert!(decode::<Transaction>(&bytes).is_err());
        bytes.truncate(bytes.len() - 5);
        assert!(decode::<Transaction>(&bytes).is_err());
    }

    #[test]
    fn tx_hash_ignores_signature_bytes_but_covers_body() {
        let (key, tx) = sample(Suite::Ed25519);
        let mut other = tx.clone();
        other.signatures.clear();
        assert_eq!(tx.hash(Suite::Ed25519), other.hash(Suite::Ed25519));
        let mut changed = tx.body.clone();
        changed.nonce += 1;
        assert_ne!(
            changed.sign(&key).hash(Suite::Ed25519),
            tx.hash(Suite::Ed25519)
        );
        assert_ne!(tx.hash(Suite::Ed25519), tx.hash(Suite::Sm2));
    }

    /// Freezes the wire format: if this vector changes, every stored chain breaks.
    #[test]
    fn encoding_test_vector() {
        let body = TxBody {
            chain_id: "xa".into(),
            sender: Hash([0xab; 32]),
            nonce: 1,
            expiry_height: 2,
            call: Call {
                module: "m".into(),
                method: "f".into(),
                args: vec![0xff],
            },
        };
        let hex = hex::encode(body.signing_bytes());
        assert_eq!(
            hex,
            concat!(
                "58412d54582d5631",
                "020000007861",
                "abababababababababababababababababababababababababababababababab",
                "0100000000000000",
                "0200000000000000",
                "010000006d",
                "0100000066",
                "01000000ff"
            )
        );
        // Computed independently (Python hashlib / OpenSSL) over the bytes above.
        assert_eq!(
            body.hash(Suite::Ed25519).to_string(),
            "563f997a060ad5131324b71eda868188d564c04f8c461397b818d340f9b63853"
        );
        assert_eq!(
            body.hash(Suite::Sm2).to_string(),
            "adbe8a982cf163ee722f00d36d0b7f28e3bb4518854c609d7daf8b6385b718e0"
        );
    }
}

#[cfg(test)]
mod header_vectors {
    use super::*;

    /// Freezes the header encoding (with `history_root`) and hash; docs/proofs.md quotes it.
    /// Both hashes recomputed independently with Python hashlib (sha256, sm3 via OpenSSL).
    #[test]
    fn header_test_vector() {
        let h = Header {
            height: 2,
            parent: Hash([0x11; 32]),
            epoch: 0,
            view: 5,
            parent_view: 4,
            proposer: vec![0xaa; 32],
            time_ms: 1_700_000_000_000,
            tx_count: 1,
            tx_root: Hash([0x22; 32]),
            receipts_root: Hash([0x33; 32]),
            state_root: Hash([0x44; 32]),
            history_root: Hash([0x55; 32]),
        };
        let enc = hex::encode(encode(&h));
        assert_eq!(
            enc,
            concat!(
                "0200000000000000",
                "1111111111111111111111111111111111111111111111111111111111111111",
                "0000000000000000",
                "0500000000000000",
                "0400000000000000",
                "20000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "0068e5cf8b010000",
                "01000000",
                "2222222222222222222222222222222222222222222222222222222222222222",
                "3333333333333333333333333333333333333333333333333333333333333333",
                "4444444444444444444444444444444444444444444444444444444444444444",
                "5555555555555555555555555555555555555555555555555555555555555555"
            )
        );
        assert_eq!(
            h.hash(Suite::Ed25519).to_string(),
            "132a0eb4bb42b6b62ee8f24fb4e1466307b99c35fbf52244f94b935c49cd2faa"
        );
        assert_eq!(
            h.hash(Suite::Sm2).to_string(),
            "70ff52ad0159561d011d458f0f2156de65da1d22ca5208e2990e60a58a107607"
        );
    }
}
