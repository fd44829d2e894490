//! The genesis file: the chain's identity, suite, validators, founding accounts and parameters.

use crate::{Hash, PublicKey, Suite, encode, hexser};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// A validator named in genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Human-readable name, e.g. the operating organization.
    pub name: String,
    /// Ed25519 consensus public key (32 bytes, hex in JSON).
    #[serde(with = "hexser")]
    pub consensus_key: Vec<u8>,
    /// Address other validators dial, `host:port`.
    pub p2p_address: String,
}

/// An account that exists from genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Human-readable name.
    pub name: String,
    /// The account's key, of the chain's suite.
    pub public_key: PublicKey,
}

/// Chain parameters fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct ChainParams {
    /// Most transactions in one block.
    pub max_block_txs: u32,
    /// Largest encoded transaction, in bytes.
    pub max_tx_bytes: u32,
    /// Heights per consensus epoch.
    pub epoch_length: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        Self {
            max_block_txs: 10_000,
            max_tx_bytes: 64 * 1024,
            epoch_length: u64::MAX,
        }
    }
}

/// The genesis file.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain identifier carried by every transaction.
    pub chain_id: String,
    /// Cryptographic suite for accounts, transactions, hashes and state.
    pub suite: Suite,
    /// Genesis time, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// The initial validator set.
    pub validators: Vec<GenesisValidator>,
    /// Founding accounts.
    pub accounts: Vec<GenesisAccount>,
    /// Parameters.
    pub params: ChainParams,
}

impl Genesis {
    /// The genesis hash: the suite hash of the canonical encoding. It is the parent of block 1.
    pub fn hash(&self) -> Hash {
        self.suite.hash_parts(&[b"XA-GENESIS-V1", &encode(self)])
    }

    /// The consensus namespace of this chain: every consensus signature (votes, finalization
    /// certificates) is made under it, so none can be replayed on another chain.
    pub fn consensus_namespace(&self) -> Vec<u8> {
        let mut ns = b"XA-CONSENSUS-".to_vec();
        ns.extend_from_slice(&self.hash().0);
        ns
    }

    /// Check the genesis for internal consistency.
    pub fn validate(&self) -> Result<(), String> {
        if self.chain_id.is_empty() {
            return Err("chain_id: must not be empty".into());
        }
        if self.validators.is_empty() {
            return Err("validators: at least one validator is required".into());
        }
        for (i, v) in self.validators.iter().enumerate() {
            if v.consensus_key.len() != 32 {
                return Err(format!("validators[{i}].consensus_key: must be 32 bytes"));
            }
            if v.p2p_address.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "validators[{i}].p2p_address: '{}' is not host:port",
                    v.p2p_address
                ));
            }
        }
        let mut keys: Vec<&Vec<u8>> = self.validators.iter().map(|v| &v.consensus_key).collect();
        keys.sort();
        keys.dedup();
        if keys.len() != self.validators.len() {
            return Err("validators: duplicate consensus_key".into());
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if a.public_key.suite() != self.suite {
                return Err(format!(
                    "accounts[{i}].public_key: suite {} does not match the chain's {}",
                    a.public_key.suite().name(),
                    self.suite.name()
                ));
            }
        }
        if self.params.max_block_txs == 0 || self.params.max_tx_bytes < 256 {
            return Err("params: max_block_txs must be > 0 and max_tx_bytes >= 256".into());
        }
        Ok(())
    }
}
