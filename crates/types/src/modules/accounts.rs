//! Accounts core: the per-account nonce and keys that every transaction relies on.

use crate::{Address, PublicKey};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "accounts";

/// An account as stored in state under [`account_key`].
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Account {
    /// The next nonce this account must use.
    pub next_nonce: u64,
    /// Keys allowed to sign for this account (the first one derives the address).
    pub keys: Vec<PublicKey>,
    /// Display name, if registered at genesis.
    pub name: String,
}

/// State key of the account `address`.
pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = b"accounts/".to_vec();
    k.extend_from_slice(&address.0);
    k
}
