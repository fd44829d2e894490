//! Who signed, and whether that is enough: sender resolution and policy evaluation.
//!
//! [`resolve_signers`] is the sender-level check shared by execution and the mempool;
//! [`evaluate`] decides whether a set of authorizing accounts meets a [`Policy`].

use crate::StateView;
use std::collections::BTreeMap;
use xa_types::{
    Address, ErrorCode, Hash, Transaction, TxError, decode,
    modules::accounts::{Account, account_key},
    modules::identity::{Org, OrgStatus, key_index_key, org_key},
    policy::{OrgScope, Policy, Rule, policy_key},
};

/// The accounts that signed a transaction: its sender and any co-signing accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signers {
    /// The sender's account as committed before this transaction.
    pub sender_address: Address,
    /// The sender's account.
    pub sender: Account,
    /// Co-signing accounts (other than the sender), by address.
    pub cosigners: BTreeMap<Address, Account>,
}

impl Signers {
    /// Sender and co-signers, sorted by address.
    pub fn all(&self) -> Vec<(Address, Account)> {
        let mut v: Vec<(Address, Account)> = self
            .cosigners
            .iter()
            .map(|(a, acct)| (*a, acct.clone()))
            .collect();
        v.push((self.sender_address, self.sender.clone()));
        v.sort_by_key(|a| a.0);
        v
    }
}

fn internal(e: impl std::fmt::Display) -> TxError {
    TxError::new(ErrorCode::Internal, e.to_string())
}

/// Read and decode a record from a view; read failures and corrupt records are `INTERNAL`.
pub fn read<T: borsh::BorshDeserialize>(
    view: &dyn StateView,
    key: &[u8],
) -> Result<Option<T>, TxError> {
    match view.get(key).map_err(internal)? {
        None => Ok(None),
        Some(b) => decode(&b).map(Some).map_err(|e| {
            internal(format!(
                "corrupt state at {}: {e}",
                String::from_utf8_lossy(key)
            ))
        }),
    }
}

/// The account that `key` belongs (or belonged) to, from the key index.
pub fn key_owner(
    view: &dyn StateView,
    key: &xa_types::PublicKey,
) -> Result<Option<Address>, TxError> {
    match view.get(&key_index_key(key)).map_err(internal)? {
        None => Ok(None),
        Some(b) => {
            let bytes: [u8; 32] = b
                .as_slice()
                .try_into()
                .map_err(|_| internal("corrupt key index entry"))?;
            Ok(Some(Hash(bytes)))
        }
    }
}

/// Resolve and check who signed `tx`: the sender must be a registered (`UNKNOWN_ACCOUNT`),
/// active (`ACCOUNT_FROZEN`) account that signed with one of its active keys; every other
/// signature must be by an active key (`KEY_REVOKED` for a retired or revoked one) of a
/// registered, active co-signing account (`BAD_SIGNATURE` for a key of no account). Signatures
/// themselves are verified elsewhere (batched). Read failures are `INTERNAL`.
pub fn resolve_signers(view: &dyn StateView, tx: &Transaction) -> Result<Signers, TxError> {
    let sender_address = tx.body.sender;
    let sender: Account = read(view, &account_key(&sender_address))?.ok_or_else(|| {
        TxError::new(
            ErrorCode::UnknownAccount,
            format!("body.sender: {sender_address} is not a registered account"),
        )
    })?;
    if !sender.is_active() {
        return Err(TxError::new(
            ErrorCode::AccountFrozen,
            format!("body.sender: account {sender_address} is frozen"),
        ));
    }
    let mut cosigners: BTreeMap<Address, Account> = BTreeMap::new();
    let mut sender_signed = false;
    for (i, s) in tx.signatures.iter().enumerate() {
        let pk = &s.public_key;
        if sender.keys.contains(pk) {
            sender_signed = true;
            continue;
        }
        if sender.revoked_keys.contains(pk) {
            return Err(TxError::new(
                ErrorCode::KeyRevoked,
                format!("signatures[{i}].public_key: key was retired or revoked by body.sender"),
            ));
        }
        let Some(owner) = key_owner(view, pk)? else {
            return Err(TxError::new(
                ErrorCode::BadSignature,
                format!("signatures[{i}].public_key: key belongs to no registered account"),
            ));
        };
        if owner == sender_address {
            // Indexed to the sender but in neither list: treat as revoked.
            return Err(TxError::new(
                ErrorCode::KeyRevoked,
                format!("signatures[{i}].public_key: key is not an active key of body.sender"),
            ));
        }
        let acct = match cosigners.get(&owner) {
            Some(a) => a.clone(),
            None => read::<Account>(view, &account_key(&owner))?.ok_or_else(|| {
                TxError::new(
                    ErrorCode::UnknownAccount,
                    format!("signatures[{i}].public_key: account {owner} does not exist"),
                )
            })?,
        };
        if !acct.is_active() {
            return Err(TxError::new(
                ErrorCode::AccountFrozen,
                format!("signatures[{i}].public_key: co-signing account {owner} is frozen"),
            ));
        }
        if !acct.keys.contains(pk) {
            return Err(TxError::new(
                ErrorCode::KeyRevoked,
                format!(
                    "signatures[{i}].public_key: key was retired or revoked by account {owner}"
                ),
            ));
        }
        cosigners.insert(owner, acct);
    }
    if !sender_signed {
        return Err(TxError::new(
            ErrorCode::BadSignature,
            "signatures: no signature by an active key of body.sender",
        ));
    }
    Ok(Signers {
        sender_address,
        sender,
        cosigners,
    })
}

/// The policy of `module.method` set in state, if any.
pub fn policy_in_state(
    view: &dyn StateView,
    module: &str,
    method: &str,
) -> Result<Option<Policy>, TxError> {
    read(view, &policy_key(module, method))
}

/// Organizations read once per evaluation.
struct Orgs<'a> {
    view: &'a dyn StateView,
    cache: BTreeMap<String, Option<Org>>,
}

impl Orgs<'_> {
    fn get(&mut self, id: &str) -> Result<Option<&Org>, TxError> {
        if !self.cache.contains_key(id) {
            let org: Option<Org> = read(self.view, &org_key(id))?;
            self.cache.insert(id.to_string(), org);
        }
        Ok(self.cache.get(id).and_then(|o| o.as_ref()))
    }
}

fn qualifies_with(
    orgs: &mut Orgs<'_>,
    rule: &Rule,
    account: &Account,
    target: Option<&str>,
) -> Result<bool, TxError> {
    if !account.is_active() || !rule.role_matches(&account.roles) {
        return Ok(false);
    }
    let Some(org) = orgs.get(&account.org)? else {
        return Ok(false);
    };
    if org.status != OrgStatus::Active {
        return Ok(false);
    }
    Ok(match &rule.orgs {
        OrgScope::Any => true,
        OrgScope::Founding => org.founding,
        OrgScope::Own => target == Some(account.org.as_str()),
        OrgScope::List(list) => list.contains(&account.org),
    })
}

/// Whether one account qualifies under some rule of `policy` by role and organization
/// (ignoring thresholds): used to refuse governance approvals that could never count.
pub fn qualifies(
    view: &dyn StateView,
    policy: &Policy,
    account: &Account,
    target: Option<&str>,
) -> Result<bool, TxError> {
    let mut orgs = Orgs {
        view,
        cache: BTreeMap::new(),
    };
    for rule in &policy.rules {
        if qualifies_with(&mut orgs, rule, account, target)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// How many of `authorizers` count towards `rule` (distinct accounts, and with
/// `distinct orgs`, distinct organizations).
fn count(
    orgs: &mut Orgs<'_>,
    rule: &Rule,
    authorizers: &[(Address, Account)],
    target: Option<&str>,
) -> Result<u32, TxError> {
    let mut seen_accounts = std::collections::BTreeSet::new();
    let mut seen_orgs = std::collections::BTreeSet::new();
    let mut n = 0u32;
    for (address, account) in authorizers {
        if !seen_accounts.insert(*address) {
            continue;
        }
        if !qualifies_with(orgs, rule, account, target)? {
            continue;
        }
        if rule.distinct_orgs && !seen_orgs.insert(account.org.clone()) {
            continue;
        }
        n += 1;
    }
    Ok(n)
}

/// Whether `authorizers` meet `policy` for a call targeting organization `target` (for `own`).
/// `Err(PERMISSION_DENIED)` names the call, the policy and what was missing.
pub fn evaluate(
    view: &dyn StateView,
    policy: &Policy,
    authorizers: &[(Address, Account)],
    target: Option<&str>,
    call: &str,
) -> Result<(), TxError> {
    let mut orgs = Orgs {
        view,
        cache: BTreeMap::new(),
    };
    let mut shortfalls = Vec::new();
    for rule in &policy.rules {
        let n = count(&mut orgs, rule, authorizers, target)?;
        if n >= rule.threshold {
            return Ok(());
        }
        shortfalls.push(format!(
            "'{rule}' has {n} of {} qualifying accounts",
            rule.threshold
        ));
    }
    let own = match target {
        Some(t) => format!(" (own = {t})"),
        None => String::new(),
    };
    Err(TxError::new(
        ErrorCode::PermissionDenied,
        format!(
            "{call}: policy '{policy}'{own} is not met: {}",
            shortfalls.join("; ")
        ),
    ))
}
