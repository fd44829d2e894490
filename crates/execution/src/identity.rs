//! The identity module: register accounts into organizations, rotate and revoke keys, freeze
//! accounts, grant and revoke roles. See [`xa_types::modules::identity`] for the state layout,
//! calls and default policies.

use crate::{CallContext, Module, StateView, policy::read};
use xa_types::{
    Address, ErrorCode, PublicKey, TxError, address_of, decode, encode,
    modules::accounts::{Account, AccountStatus, account_key},
    modules::identity::*,
    policy::{OrgScope, Policy, Rule, validate_role},
};

/// The identity module.
pub struct Identity;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, msg)
}

fn args<T: borsh::BorshDeserialize>(method: &str, bytes: &[u8]) -> Result<T, TxError> {
    decode(bytes).map_err(|e| {
        invalid(format!(
            "body.call.args: not identity.{method} arguments ({e})"
        ))
    })
}

/// Check a display name.
pub(crate) fn check_name(field: &str, name: &str) -> Result<(), TxError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(invalid(format!("{field}: must be 1 to {MAX_NAME} bytes")));
    }
    Ok(())
}

/// Check a role list: valid names, no duplicates, at most [`MAX_ROLES`].
pub(crate) fn check_roles(field: &str, roles: &[String]) -> Result<(), TxError> {
    if roles.len() > MAX_ROLES {
        return Err(invalid(format!("{field}: at most {MAX_ROLES} roles")));
    }
    for (i, r) in roles.iter().enumerate() {
        validate_role(r).map_err(|e| invalid(format!("{field}[{i}]: {e}")))?;
        if roles[..i].contains(r) {
            return Err(invalid(format!("{field}[{i}]: '{r}' is listed twice")));
        }
    }
    Ok(())
}

fn stateless(method: &str, bytes: &[u8]) -> Result<(), TxError> {
    match method {
        REGISTER_ACCOUNT => {
            let a: RegisterAccountArgs = args(method, bytes)?;
            xa_types::policy::validate_org_id(&a.org)
                .map_err(|e| invalid(format!("args.org: {e}")))?;
            check_name("args.name", &a.name)?;
            check_roles("args.roles", &a.roles)
        }
        ADD_KEY => args::<AddKeyArgs>(method, bytes).map(|_| ()),
        RETIRE_KEY => args::<RetireKeyArgs>(method, bytes).map(|_| ()),
        REVOKE_KEY => args::<RevokeKeyArgs>(method, bytes).map(|_| ()),
        FREEZE => {
            let a: FreezeArgs = args(method, bytes)?;
            if a.reason.len() > MAX_REASON {
                return Err(invalid(format!("args.reason: at most {MAX_REASON} bytes")));
            }
            Ok(())
        }
        UNFREEZE => args::<UnfreezeArgs>(method, bytes).map(|_| ()),
        GRANT_ROLE | REVOKE_ROLE => {
            let a: RoleArgs = args(method, bytes)?;
            validate_role(&a.role).map_err(|e| invalid(format!("args.role: {e}")))
        }
        other => Err(TxError::new(
            ErrorCode::UnknownMethod,
            format!("body.call.method: identity has no method '{other}'"),
        )),
    }
}

/// Load an existing account, `NOT_FOUND` naming `field` otherwise.
pub(crate) fn load_account(
    ctx: &CallContext<'_>,
    field: &str,
    address: &Address,
) -> Result<Account, TxError> {
    ctx.read::<Account>(&account_key(address))?.ok_or_else(|| {
        TxError::new(
            ErrorCode::NotFound,
            format!("{field}: no account {address}"),
        )
    })
}

/// Refuse granting or revoking `chain_admin` unless a `chain_admin` authorized the call or it
/// runs by a governance proposal.
/// Only built-in roles and roles a module declares can be granted: a typo must not create a
/// role no policy will ever name.
fn check_known_roles(ctx: &CallContext<'_>, field: &str, roles: &[String]) -> Result<(), TxError> {
    let known = ctx.exec.known_roles();
    match roles.iter().find(|r| !known.contains(&r.as_str())) {
        None => Ok(()),
        Some(r) => Err(invalid(format!(
            "{field}: unknown role '{r}' (known: {})",
            known.join(", ")
        ))),
    }
}

fn check_chain_admin_grant(ctx: &CallContext<'_>, roles: &[String]) -> Result<(), TxError> {
    if roles.iter().any(|r| r == CHAIN_ADMIN)
        && ctx.proposal.is_none()
        && !ctx.authorized_by_role(CHAIN_ADMIN)?
    {
        return Err(TxError::new(
            ErrorCode::PermissionDenied,
            "args.roles: chain_admin is granted or revoked only by a chain_admin or by governance",
        ));
    }
    Ok(())
}

/// Create an account in `org` (which must exist and be active) with first key `key`. Shared by
/// `register_account` and governance `AddOrg`.
pub(crate) fn create_account(
    ctx: &mut CallContext<'_>,
    field: &str,
    org: &str,
    name: &str,
    key: &PublicKey,
    roles: &[String],
) -> Result<Address, TxError> {
    if key.suite() != ctx.suite {
        return Err(TxError::new(
            ErrorCode::WrongSuite,
            format!(
                "{field}.public_key: suite {} does not match the chain's {}",
                key.suite().name(),
                ctx.suite.name()
            ),
        ));
    }
    let address = address_of(key);
    if ctx.get(&key_index_key(key))?.is_some() || ctx.get(&account_key(&address))?.is_some() {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!("{field}.public_key: already belongs to an account"),
        ));
    }
    let mut account = Account {
        keys: vec![key.clone()],
        name: name.to_string(),
        org: org.to_string(),
        status: AccountStatus::Active,
        ..Account::default()
    };
    for r in roles {
        account.add_role(r);
    }
    ctx.put(account_key(&address), encode(&account));
    ctx.put(key_index_key(key), address.0.to_vec());
    ctx.emit(
        MODULE,
        "account_registered",
        vec![
            ("address".into(), address.to_string()),
            ("org".into(), org.to_string()),
            ("name".into(), name.to_string()),
            ("roles".into(), account.roles.join(",")),
        ],
    );
    Ok(address)
}

fn active_org(ctx: &CallContext<'_>, field: &str, id: &str) -> Result<Org, TxError> {
    match ctx.read::<Org>(&org_key(id))? {
        Some(o) if o.status == OrgStatus::Active => Ok(o),
        Some(_) => Err(TxError::new(
            ErrorCode::InvalidArgument,
            format!("{field}: organization '{id}' was removed"),
        )),
        None => Err(TxError::new(
            ErrorCode::NotFound,
            format!("{field}: no organization '{id}'"),
        )),
    }
}

fn move_key_to_revoked(account: &mut Account, key: &PublicKey, field: &str) -> Result<(), TxError> {
    let Some(pos) = account.keys.iter().position(|k| k == key) else {
        return Err(TxError::new(
            ErrorCode::NotFound,
            format!("{field}: not an active key of the account"),
        ));
    };
    if account.keys.len() == 1 {
        return Err(invalid(format!(
            "{field}: cannot remove the account's last key (add a new key first)"
        )));
    }
    let k = account.keys.remove(pos);
    account.revoked_keys.push(k);
    Ok(())
}

impl Module for Identity {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn check(&self, method: &str, bytes: &[u8]) -> Result<(), TxError> {
        stateless(method, bytes)
    }

    fn default_policy(&self, method: &str) -> Policy {
        match method {
            ADD_KEY | RETIRE_KEY => Policy::any_account(),
            FREEZE | UNFREEZE => {
                Policy::own_org_admin().or(Rule::new(1, &[CHAIN_ADMIN], OrgScope::Any))
            }
            _ => Policy::own_org_admin(),
        }
    }

    fn target_org(
        &self,
        method: &str,
        bytes: &[u8],
        view: &dyn StateView,
    ) -> Result<Option<String>, TxError> {
        let account = match method {
            REGISTER_ACCOUNT => return Ok(Some(args::<RegisterAccountArgs>(method, bytes)?.org)),
            REVOKE_KEY => args::<RevokeKeyArgs>(method, bytes)?.account,
            FREEZE => args::<FreezeArgs>(method, bytes)?.account,
            UNFREEZE => args::<UnfreezeArgs>(method, bytes)?.account,
            GRANT_ROLE | REVOKE_ROLE => args::<RoleArgs>(method, bytes)?.account,
            _ => return Ok(None),
        };
        match read::<Account>(view, &account_key(&account))? {
            Some(a) => Ok(Some(a.org)),
            None => Err(TxError::new(
                ErrorCode::NotFound,
                format!("args.account: no account {account}"),
            )),
        }
    }

    fn private_key_owner(&self, key: &[u8]) -> Option<Address> {
        personal_owner(key)
    }

    fn is_private_call(&self, method: &str) -> bool {
        method == REGISTER_ACCOUNT
    }

    fn data_subject(&self, method: &str, bytes: &[u8]) -> Option<Address> {
        match method {
            REGISTER_ACCOUNT => decode::<RegisterAccountArgs>(bytes)
                .ok()
                .map(|a| address_of(&a.public_key)),
            _ => None,
        }
    }

    fn execute(
        &self,
        ctx: &mut CallContext<'_>,
        method: &str,
        bytes: &[u8],
    ) -> Result<(), TxError> {
        stateless(method, bytes)?;
        match method {
            REGISTER_ACCOUNT => {
                let a: RegisterAccountArgs = args(method, bytes)?;
                active_org(ctx, "args.org", &a.org)?;
                check_known_roles(ctx, "args.roles", &a.roles)?;
                check_chain_admin_grant(ctx, &a.roles)?;
                let address =
                    create_account(ctx, "args", &a.org, &a.name, &a.public_key, &a.roles)?;
                if let Some(id_digest) = a.id_digest {
                    ctx.put(personal_key(&address), encode(&PersonalData { id_digest }));
                }
                Ok(())
            }
            ADD_KEY => {
                let a: AddKeyArgs = args(method, bytes)?;
                if a.new_key.suite() != ctx.suite {
                    return Err(TxError::new(
                        ErrorCode::WrongSuite,
                        "args.new_key: suite does not match the chain's",
                    ));
                }
                let sender = ctx.sender;
                let message = key_possession_message(ctx.chain_id, &sender, &a.new_key);
                if xa_crypto::verify(&a.new_key, &message, &a.possession).is_err() {
                    return Err(TxError::new(
                        ErrorCode::BadSignature,
                        "args.possession: not a signature by args.new_key over the key possession message for body.sender",
                    ));
                }
                if ctx.get(&key_index_key(&a.new_key))?.is_some() {
                    return Err(TxError::new(
                        ErrorCode::AlreadyExists,
                        "args.new_key: already belongs (or belonged) to an account",
                    ));
                }
                let mut account = load_account(ctx, "body.sender", &sender)?;
                if account.keys.len() >= MAX_KEYS {
                    return Err(invalid(format!(
                        "args.new_key: an account holds at most {MAX_KEYS} keys"
                    )));
                }
                account.keys.push(a.new_key.clone());
                ctx.put(account_key(&sender), encode(&account));
                ctx.put(key_index_key(&a.new_key), sender.0.to_vec());
                ctx.emit(
                    MODULE,
                    "key_added",
                    vec![
                        ("address".into(), sender.to_string()),
                        ("key".into(), a.new_key.to_hex()),
                    ],
                );
                Ok(())
            }
            RETIRE_KEY => {
                let a: RetireKeyArgs = args(method, bytes)?;
                let sender = ctx.sender;
                let mut account = load_account(ctx, "body.sender", &sender)?;
                move_key_to_revoked(&mut account, &a.key, "args.key")?;
                ctx.put(account_key(&sender), encode(&account));
                ctx.emit(
                    MODULE,
                    "key_retired",
                    vec![
                        ("address".into(), sender.to_string()),
                        ("key".into(), a.key.to_hex()),
                    ],
                );
                Ok(())
            }
            REVOKE_KEY => {
                let a: RevokeKeyArgs = args(method, bytes)?;
                let mut account = load_account(ctx, "args.account", &a.account)?;
                move_key_to_revoked(&mut account, &a.key, "args.key")?;
                ctx.put(account_key(&a.account), encode(&account));
                ctx.emit(
                    MODULE,
                    "key_revoked",
                    vec![
                        ("address".into(), a.account.to_string()),
                        ("key".into(), a.key.to_hex()),
                        ("by".into(), ctx.sender.to_string()),
                    ],
                );
                Ok(())
            }
            FREEZE | UNFREEZE => {
                let (target, reason, status, kind) = if method == FREEZE {
                    let a: FreezeArgs = args(method, bytes)?;
                    (a.account, a.reason, AccountStatus::Frozen, "account_frozen")
                } else {
                    let a: UnfreezeArgs = args(method, bytes)?;
                    (
                        a.account,
                        String::new(),
                        AccountStatus::Active,
                        "account_unfrozen",
                    )
                };
                let mut account = load_account(ctx, "args.account", &target)?;
                if account.status == status {
                    return Err(invalid(format!(
                        "args.account: account {target} is already {}",
                        if status == AccountStatus::Frozen {
                            "frozen"
                        } else {
                            "active"
                        }
                    )));
                }
                account.status = status;
                ctx.put(account_key(&target), encode(&account));
                let mut attrs = vec![
                    ("address".into(), target.to_string()),
                    ("by".into(), ctx.sender.to_string()),
                ];
                if method == FREEZE {
                    attrs.push(("reason".into(), reason));
                }
                ctx.emit(MODULE, kind, attrs);
                Ok(())
            }
            GRANT_ROLE | REVOKE_ROLE => {
                let a: RoleArgs = args(method, bytes)?;
                check_chain_admin_grant(ctx, std::slice::from_ref(&a.role))?;
                let mut account = load_account(ctx, "args.account", &a.account)?;
                let kind = if method == GRANT_ROLE {
                    check_known_roles(ctx, "args.role", std::slice::from_ref(&a.role))?;
                    if account.roles.len() >= MAX_ROLES {
                        return Err(invalid(format!(
                            "args.role: an account holds at most {MAX_ROLES} roles"
                        )));
                    }
                    if !account.add_role(&a.role) {
                        return Err(TxError::new(
                            ErrorCode::AlreadyExists,
                            format!("args.role: account already holds '{}'", a.role),
                        ));
                    }
                    "role_granted"
                } else {
                    if !account.remove_role(&a.role) {
                        return Err(TxError::new(
                            ErrorCode::NotFound,
                            format!("args.role: account does not hold '{}'", a.role),
                        ));
                    }
                    "role_revoked"
                };
                ctx.put(account_key(&a.account), encode(&account));
                ctx.emit(
                    MODULE,
                    kind,
                    vec![
                        ("address".into(), a.account.to_string()),
                        ("org".into(), account.org.clone()),
                        ("role".into(), a.role),
                        ("by".into(), ctx.sender.to_string()),
                    ],
                );
                Ok(())
            }
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: identity has no method '{other}'"),
            )),
        }
    }
}
