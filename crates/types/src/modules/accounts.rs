//! Accounts core: the per-account identity, keys, roles and nonce that every transaction
//! relies on.
//!
//! An account is registered (at genesis, by `identity.register_account`, or by a governance
//! `AddOrg` proposal); there are no implicit accounts. Its address is
//! [`crate::address_of`] of its first key and never changes, even after that key is rotated out.

use crate::{Address, PublicKey};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "accounts";

/// Whether an account may act.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    BorshSerialize,
    BorshDeserialize,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// The account may send and co-sign transactions.
    #[default]
    Active,
    /// The account can do nothing until an administrator unfreezes it.
    Frozen,
}

/// An account as stored in state under [`account_key`].
#[derive(
    Clone, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
pub struct Account {
    /// The next nonce this account must use.
    pub next_nonce: u64,
    /// Active keys allowed to sign for this account (the address derives from the first key
    /// the account ever had, which may since have been retired).
    pub keys: Vec<PublicKey>,
    /// Display name.
    pub name: String,
    /// The organization the account belongs to (an [`crate::modules::identity::Org`] id).
    pub org: String,
    /// Roles held within `org`, sorted and without duplicates.
    pub roles: Vec<String>,
    /// Keys retired by the account or revoked by an administrator: never valid again, and never
    /// usable by another account.
    pub revoked_keys: Vec<PublicKey>,
    /// Active or frozen.
    pub status: AccountStatus,
}

impl Account {
    /// Whether the account holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles
            .binary_search_by(|r| r.as_str().cmp(role))
            .is_ok()
    }

    /// Add `role` keeping the list sorted; returns false if it was already held.
    pub fn add_role(&mut self, role: &str) -> bool {
        match self.roles.binary_search_by(|r| r.as_str().cmp(role)) {
            Ok(_) => false,
            Err(i) => {
                self.roles.insert(i, role.to_string());
                true
            }
        }
    }

    /// Remove `role`; returns false if it was not held.
    pub fn remove_role(&mut self, role: &str) -> bool {
        match self.roles.binary_search_by(|r| r.as_str().cmp(role)) {
            Ok(i) => {
                self.roles.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the account is active.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// State key of the account `address`.
pub fn account_key(address: &Address) -> Vec<u8> {
    let mut k = b"accounts/".to_vec();
    k.extend_from_slice(&address.0);
    k
}
