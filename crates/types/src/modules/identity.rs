//! Identity (身份): organizations, registered accounts, their keys and roles.
//!
//! # State
//! | key | value |
//! |---|---|
//! | [`org_key`] `identity/org/{id}` | [`Org`] |
//! | [`ORG_LIST_KEY`] `identity/orgs` | `Vec<String>`: every organization id ever created, sorted |
//! | [`key_index_key`] `identity/key/{suite hash of the key bytes}` | the owning [`Address`] (32 bytes); kept after a key is retired or revoked, so no key ever serves two accounts |
//! | [`personal_key`] `identity/personal/{address}` | [`PersonalData`]; **private**: readable only by the account, administrators of its organization, `chain_admin` and `auditor` |
//! | `accounts/{address}` | [`crate::modules::accounts::Account`] (org, roles, keys, status, nonce) |
//!
//! # Calls
//! | method | arguments | default policy | effect |
//! |---|---|---|---|
//! | `register_account` | [`RegisterAccountArgs`] | `1 of org_admin @ own` (own = `args.org`) | new account, nonce 0 (**private call**: its arguments hold the id digest) |
//! | `add_key` | [`AddKeyArgs`] | `1 of any account @ any`, sender only | adds a key proven by a possession signature |
//! | `retire_key` | [`RetireKeyArgs`] | `1 of any account @ any`, sender only | the sender retires one of its keys (not the last) |
//! | `revoke_key` | [`RevokeKeyArgs`] | `1 of org_admin @ own` (own = the account's org) | revokes a lost or compromised key (not the last) |
//! | `freeze` / `unfreeze` | [`FreezeArgs`] / [`UnfreezeArgs`] | `1 of org_admin @ own or 1 of chain_admin @ any` | a frozen account can do nothing |
//! | `grant_role` / `revoke_role` | [`RoleArgs`] | `1 of org_admin @ own` | granting `chain_admin` additionally needs a `chain_admin` signer or a governance proposal |

use crate::{Address, Hash, PublicKey, Signature};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "identity";
/// Method: register an account into an organization.
pub const REGISTER_ACCOUNT: &str = "register_account";
/// Method: add a key to the sending account.
pub const ADD_KEY: &str = "add_key";
/// Method: retire one of the sending account's keys.
pub const RETIRE_KEY: &str = "retire_key";
/// Method: revoke a key of an account (administrator).
pub const REVOKE_KEY: &str = "revoke_key";
/// Method: freeze an account.
pub const FREEZE: &str = "freeze";
/// Method: unfreeze an account.
pub const UNFREEZE: &str = "unfreeze";
/// Method: grant a role.
pub const GRANT_ROLE: &str = "grant_role";
/// Method: revoke a role.
pub const REVOKE_ROLE: &str = "revoke_role";
/// All methods, in declaration order.
pub const METHODS: &[&str] = &[
    REGISTER_ACCOUNT,
    ADD_KEY,
    RETIRE_KEY,
    REVOKE_KEY,
    FREEZE,
    UNFREEZE,
    GRANT_ROLE,
    REVOKE_ROLE,
];

/// Role: administers the chain (granted only by a `chain_admin` or by governance).
pub const CHAIN_ADMIN: &str = "chain_admin";
/// Role: administers one organization's accounts.
pub const ORG_ADMIN: &str = "org_admin";
/// Role: may read private data for audit.
pub const AUDITOR: &str = "auditor";
/// Role: a citizen.
pub const CITIZEN: &str = "citizen";
/// Role: a company.
pub const COMPANY: &str = "company";
/// Role: a bank.
pub const BANK: &str = "bank";
/// Role: the account a validator node signs its own transactions with (e.g. tender opening
/// shares).
pub const VALIDATOR: &str = "validator";
/// The built-in roles; modules declare further officer roles (e.g. `notary_officer`).
pub const BUILTIN_ROLES: &[&str] = &[
    CHAIN_ADMIN,
    ORG_ADMIN,
    AUDITOR,
    CITIZEN,
    COMPANY,
    BANK,
    VALIDATOR,
];

/// Longest account or organization display name, in bytes.
pub const MAX_NAME: usize = 128;
/// Most keys (active) an account may hold.
pub const MAX_KEYS: usize = 8;
/// Most roles an account may hold.
pub const MAX_ROLES: usize = 16;
/// Longest freeze reason, in bytes.
pub const MAX_REASON: usize = 256;

/// State key of the list of all organization ids.
pub const ORG_LIST_KEY: &[u8] = b"identity/orgs";
/// Domain tag of the key-possession message signed by a new key ([`key_possession_message`]).
pub const ADD_KEY_DOMAIN: &[u8] = b"XA-ADD-KEY-V1";

/// Whether an organization still exists.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgStatus {
    /// Its accounts may act.
    Active,
    /// Removed by governance: its accounts count for no policy and the id is never reused.
    Removed,
}

/// An organization, stored under [`org_key`].
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct Org {
    /// Lowercase slug, 1 to 32 characters of `[a-z0-9-]`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it is a founding organization (founding organizations govern the chain).
    pub founding: bool,
    /// Active or removed.
    pub status: OrgStatus,
}

/// An account's personal data digest, stored under [`personal_key`] (private).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct PersonalData {
    /// Digest of the identity document (the chain suite's hash), computed off chain.
    pub id_digest: Hash,
}

/// Arguments of `identity.register_account`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RegisterAccountArgs {
    /// The organization the account joins.
    pub org: String,
    /// Display name.
    pub name: String,
    /// The account's first key; the address is [`crate::address_of`] of it.
    pub public_key: PublicKey,
    /// Digest of the identity document, stored privately.
    pub id_digest: Option<Hash>,
    /// Roles within `org`.
    pub roles: Vec<String>,
}

/// Arguments of `identity.add_key`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct AddKeyArgs {
    /// The key to add.
    pub new_key: PublicKey,
    /// Signature by `new_key` over [`key_possession_message`] for the sender.
    pub possession: Signature,
}

/// Arguments of `identity.retire_key`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RetireKeyArgs {
    /// One of the sender's active keys.
    pub key: PublicKey,
}

/// Arguments of `identity.revoke_key`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RevokeKeyArgs {
    /// The account holding the key.
    pub account: Address,
    /// The key to revoke.
    pub key: PublicKey,
}

/// Arguments of `identity.freeze`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct FreezeArgs {
    /// The account to freeze.
    pub account: Address,
    /// Why (recorded in the event).
    pub reason: String,
}

/// Arguments of `identity.unfreeze`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct UnfreezeArgs {
    /// The account to unfreeze.
    pub account: Address,
}

/// Arguments of `identity.grant_role` and `identity.revoke_role`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct RoleArgs {
    /// The account.
    pub account: Address,
    /// The role, held within the account's organization.
    pub role: String,
}

/// An account created with a new organization (governance `AddOrg`).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
pub struct NewAccount {
    /// Display name.
    pub name: String,
    /// The account's first key.
    pub public_key: PublicKey,
    /// Roles within the new organization (usually `org_admin`).
    pub roles: Vec<String>,
}

/// State key of organization `id`.
pub fn org_key(id: &str) -> Vec<u8> {
    format!("identity/org/{id}").into_bytes()
}

/// State key of the key index entry of `key`: `identity/key/` then the suite hash of its bytes.
pub fn key_index_key(key: &PublicKey) -> Vec<u8> {
    let mut k = b"identity/key/".to_vec();
    k.extend_from_slice(&key.suite().hash(key.as_bytes()).0);
    k
}

/// Prefix of the private personal data keys.
pub const PERSONAL_PREFIX: &[u8] = b"identity/personal/";

/// State key of the personal data of `address`.
pub fn personal_key(address: &Address) -> Vec<u8> {
    let mut k = PERSONAL_PREFIX.to_vec();
    k.extend_from_slice(&address.0);
    k
}

/// The address whose personal data `key` holds, if it is a personal data key.
pub fn personal_owner(key: &[u8]) -> Option<Address> {
    let rest = key.strip_prefix(PERSONAL_PREFIX)?;
    let bytes: [u8; 32] = rest.try_into().ok()?;
    Some(Hash(bytes))
}

/// The message a new key signs to prove possession in `identity.add_key`: the domain tag, the
/// chain id, the account address and the new key (so it cannot be replayed for another chain,
/// account or key).
pub fn key_possession_message(chain_id: &str, account: &Address, new_key: &PublicKey) -> Vec<u8> {
    let mut m = ADD_KEY_DOMAIN.to_vec();
    m.extend_from_slice(&crate::encode(&(
        chain_id.to_string(),
        *account,
        new_key.clone(),
    )));
    m
}
