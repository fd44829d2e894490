//! The governance module: proposals approved by founding organizations, executed exactly once.
//! See [`xa_types::modules::governance`] for the life of a proposal and its policies.

use crate::{CallContext, Module, identity, policy};
use xa_types::{
    Address, ChainParams, ErrorCode, TxError, decode, encode,
    modules::accounts::{Account, account_key},
    modules::governance::*,
    modules::identity::{ORG_LIST_KEY, Org, OrgStatus, org_key},
    modules::validators::{NEXT_KEY, SET_KEY, ValidatorSet},
    policy::{Policy, policy_key, validate_org_id},
};

/// The governance module.
pub struct Governance;

/// Largest `max_block_txs` governance may set.
pub const MAX_BLOCK_TXS_LIMIT: u64 = 100_000;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, msg)
}

fn args<T: borsh::BorshDeserialize>(method: &str, bytes: &[u8]) -> Result<T, TxError> {
    decode(bytes).map_err(|e| {
        invalid(format!(
            "body.call.args: not governance.{method} arguments ({e})"
        ))
    })
}

/// Stateless checks of an action.
fn check_action(action: &ProposalAction) -> Result<(), TxError> {
    match action {
        ProposalAction::AddOrg {
            id, name, admins, ..
        } => {
            validate_org_id(id).map_err(|e| invalid(format!("args.action.id: {e}")))?;
            identity::check_name("args.action.name", name)?;
            if admins.is_empty() || admins.len() > 16 {
                return Err(invalid("args.action.admins: 1 to 16 accounts"));
            }
            for (i, a) in admins.iter().enumerate() {
                identity::check_name(&format!("args.action.admins[{i}].name"), &a.name)?;
                identity::check_roles(&format!("args.action.admins[{i}].roles"), &a.roles)?;
            }
            Ok(())
        }
        ProposalAction::RemoveOrg { id } => {
            validate_org_id(id).map_err(|e| invalid(format!("args.action.id: {e}")))
        }
        ProposalAction::AddValidator { validator } => {
            // A key consensus could not use would silently shrink the next set: refuse it
            // here. Consensus keys are Ed25519 whatever the chain's suite.
            if validator.consensus_key.len() != 32
                || xa_types::PublicKey::from_bytes(
                    xa_types::Suite::Ed25519,
                    &validator.consensus_key,
                )
                .is_err()
            {
                return Err(invalid(
                    "args.action.validator.consensus_key: not a valid 32-byte Ed25519 public key",
                ));
            }
            if validator
                .p2p_address
                .parse::<std::net::SocketAddr>()
                .is_err()
            {
                return Err(invalid(format!(
                    "args.action.validator.p2p_address: '{}' is not host:port",
                    validator.p2p_address
                )));
            }
            identity::check_name("args.action.validator.name", &validator.name)
        }
        ProposalAction::RemoveValidator { consensus_key } => {
            if consensus_key.len() != 32 {
                return Err(invalid("args.action.consensus_key: must be 32 bytes"));
            }
            Ok(())
        }
        ProposalAction::SetPolicy { policy, .. } => policy
            .validate()
            .map_err(|e| invalid(format!("args.action.{}", e.message))),
        ProposalAction::SetParam { name, value } => match name.as_str() {
            PARAM_MAX_BLOCK_TXS if (1..=MAX_BLOCK_TXS_LIMIT).contains(value) => Ok(()),
            PARAM_MAX_BLOCK_TXS => Err(invalid(format!(
                "args.action.value: max_block_txs must be 1 to {MAX_BLOCK_TXS_LIMIT}"
            ))),
            other => Err(invalid(format!(
                "args.action.name: unknown parameter '{other}' (known: {})",
                PARAMS.join(", ")
            ))),
        },
        ProposalAction::Call(call) => {
            if call.module == MODULE {
                return Err(invalid(
                    "args.action.module: a proposal cannot wrap a governance call",
                ));
            }
            Ok(())
        }
    }
}

fn stateless(method: &str, bytes: &[u8]) -> Result<(), TxError> {
    match method {
        PROPOSE => check_action(&args::<ProposeArgs>(method, bytes)?.action),
        APPROVE | CANCEL => args::<ProposalIdArgs>(method, bytes).map(|_| ()),
        other => Err(TxError::new(
            ErrorCode::UnknownMethod,
            format!("body.call.method: governance has no method '{other}'"),
        )),
    }
}

/// Number of active founding organizations.
fn founding_count(ctx: &CallContext<'_>) -> Result<u32, TxError> {
    let ids: Vec<String> = ctx.read(ORG_LIST_KEY)?.unwrap_or_default();
    let mut n = 0;
    for id in ids {
        if let Some(o) = ctx.read::<Org>(&org_key(&id))?
            && o.founding
            && o.status == OrgStatus::Active
        {
            n += 1;
        }
    }
    Ok(n)
}

/// The policy governing `action` and the organization it targets (for `own`).
fn action_policy(
    ctx: &CallContext<'_>,
    action: &ProposalAction,
) -> Result<(Policy, Option<String>), TxError> {
    match action {
        ProposalAction::Call(call) => {
            let module = ctx.exec.module(&call.module).ok_or_else(|| {
                TxError::new(
                    ErrorCode::UnknownModule,
                    format!("args.action.module: no module '{}'", call.module),
                )
            })?;
            let policy = ctx.exec.policy_of(ctx, &call.module, &call.method)?;
            let target = module.target_org(&call.method, &call.args, ctx)?;
            Ok((policy, target))
        }
        other => {
            let kind = other.kind();
            let policy = match policy::policy_in_state(ctx, MODULE, kind)? {
                Some(p) => p,
                None => Policy::founding_admins(founding_count(ctx)?.clamp(1, 2)),
            };
            let target = match other {
                ProposalAction::AddOrg { id, .. } | ProposalAction::RemoveOrg { id } => {
                    Some(id.clone())
                }
                _ => None,
            };
            Ok((policy, target))
        }
    }
}

fn load(ctx: &CallContext<'_>, id: u64) -> Result<Proposal, TxError> {
    ctx.read::<Proposal>(&proposal_key(id))?
        .ok_or_else(|| TxError::new(ErrorCode::NotFound, format!("args.id: no proposal {id}")))
}

fn sender_account(ctx: &CallContext<'_>) -> Result<Account, TxError> {
    identity::load_account(ctx, "body.sender", &ctx.sender)
}

/// Refuse an approver who can never count towards the action's policy.
fn check_qualifies(
    ctx: &CallContext<'_>,
    action: &ProposalAction,
    account: &Account,
) -> Result<(), TxError> {
    let (policy, target) = action_policy(ctx, action)?;
    if !policy::qualifies(ctx, &policy, account, target.as_deref())? {
        return Err(TxError::new(
            ErrorCode::PermissionDenied,
            format!(
                "body.sender: does not qualify under the {} policy '{policy}'{} (roles: [{}], org: {})",
                action.kind(),
                target.map(|t| format!(" (own = {t})")).unwrap_or_default(),
                account.roles.join(", "),
                account.org
            ),
        ));
    }
    Ok(())
}

fn event(ctx: &mut CallContext<'_>, kind: &str, p: &Proposal) {
    let sender = ctx.sender;
    ctx.emit(
        MODULE,
        kind,
        vec![
            ("id".into(), p.id.to_string()),
            ("action".into(), p.action.kind().to_string()),
            ("by".into(), sender.to_string()),
            ("approvals".into(), p.approvals.len().to_string()),
        ],
    );
}

/// Execute the proposal's action if its approvals now meet the policy.
fn try_execute(ctx: &mut CallContext<'_>, p: &mut Proposal) -> Result<(), TxError> {
    let (policy, target) = action_policy(ctx, &p.action)?;
    let mut approvers: Vec<(Address, Account)> = Vec::new();
    for a in &p.approvals {
        if let Some(acct) = ctx.read::<Account>(&account_key(a))? {
            approvers.push((*a, acct));
        }
    }
    let call = format!("governance.{}", p.action.kind());
    if policy::evaluate(ctx, &policy, &approvers, target.as_deref(), &call).is_err() {
        return Ok(());
    }
    apply(ctx, p, &approvers)?;
    p.status = ProposalStatus::Executed;
    p.executed_height = Some(ctx.height);
    event(ctx, "proposal_executed", p);
    Ok(())
}

fn apply(
    ctx: &mut CallContext<'_>,
    p: &Proposal,
    approvers: &[(Address, Account)],
) -> Result<(), TxError> {
    match &p.action {
        ProposalAction::AddOrg {
            id,
            name,
            founding,
            admins,
        } => {
            if ctx.get(&org_key(id))?.is_some() {
                return Err(TxError::new(
                    ErrorCode::AlreadyExists,
                    format!("action.id: organization '{id}' exists (or existed)"),
                ));
            }
            let org = Org {
                id: id.clone(),
                name: name.clone(),
                founding: *founding,
                status: OrgStatus::Active,
            };
            ctx.put(org_key(id), encode(&org));
            let mut ids: Vec<String> = ctx.read(ORG_LIST_KEY)?.unwrap_or_default();
            if let Err(pos) = ids.binary_search(id) {
                ids.insert(pos, id.clone());
            }
            ctx.put(ORG_LIST_KEY.to_vec(), encode(&ids));
            ctx.emit(
                xa_types::modules::identity::MODULE,
                "org_added",
                vec![
                    ("id".into(), id.clone()),
                    ("name".into(), name.clone()),
                    ("founding".into(), founding.to_string()),
                    ("proposal".into(), p.id.to_string()),
                ],
            );
            for (i, a) in admins.iter().enumerate() {
                identity::create_account(
                    ctx,
                    &format!("action.admins[{i}]"),
                    id,
                    &a.name,
                    &a.public_key,
                    &a.roles,
                )?;
            }
            Ok(())
        }
        ProposalAction::RemoveOrg { id } => {
            let mut org = match ctx.read::<Org>(&org_key(id))? {
                Some(o) if o.status == OrgStatus::Active => o,
                Some(_) => {
                    return Err(TxError::new(
                        ErrorCode::NotFound,
                        format!("action.id: organization '{id}' was already removed"),
                    ));
                }
                None => {
                    return Err(TxError::new(
                        ErrorCode::NotFound,
                        format!("action.id: no organization '{id}'"),
                    ));
                }
            };
            if org.founding && founding_count(ctx)? <= 1 {
                return Err(invalid(
                    "action.id: cannot remove the last founding organization (nobody could govern)",
                ));
            }
            org.status = OrgStatus::Removed;
            ctx.put(org_key(id), encode(&org));
            ctx.emit(
                xa_types::modules::identity::MODULE,
                "org_removed",
                vec![
                    ("id".into(), id.clone()),
                    ("proposal".into(), p.id.to_string()),
                ],
            );
            Ok(())
        }
        ProposalAction::AddValidator { validator } => {
            let mut next = next_set(ctx)?;
            if next
                .validators
                .iter()
                .any(|v| v.consensus_key == validator.consensus_key)
            {
                return Err(TxError::new(
                    ErrorCode::AlreadyExists,
                    "action.validator.consensus_key: already in the next validator set",
                ));
            }
            next.validators.push(validator.clone());
            ctx.put(NEXT_KEY.to_vec(), encode(&next));
            // Reshare the tender key to the set decided (a no-op without a DKG output).
            crate::dkg::sync_round(ctx)?;
            ctx.emit(
                MODULE,
                "validator_added",
                vec![
                    ("name".into(), validator.name.clone()),
                    (
                        "consensus_key".into(),
                        hex::encode(&validator.consensus_key),
                    ),
                    ("validators".into(), next.validators.len().to_string()),
                ],
            );
            Ok(())
        }
        ProposalAction::RemoveValidator { consensus_key } => {
            let mut next = next_set(ctx)?;
            let Some(pos) = next
                .validators
                .iter()
                .position(|v| &v.consensus_key == consensus_key)
            else {
                return Err(TxError::new(
                    ErrorCode::NotFound,
                    "action.consensus_key: not in the next validator set",
                ));
            };
            // BFT tolerates f faulty of 3f + 1, so production needs at least 4 validators; we
            // only refuse an empty set, which could never make another block.
            if next.validators.len() == 1 {
                return Err(invalid(
                    "action.consensus_key: cannot remove the last validator",
                ));
            }
            next.validators.remove(pos);
            ctx.put(NEXT_KEY.to_vec(), encode(&next));
            // Reshare the tender key to the set decided (a no-op without a DKG output).
            crate::dkg::sync_round(ctx)?;
            ctx.emit(
                MODULE,
                "validator_removed",
                vec![
                    ("consensus_key".into(), hex::encode(consensus_key)),
                    ("validators".into(), next.validators.len().to_string()),
                ],
            );
            Ok(())
        }
        ProposalAction::SetPolicy {
            module,
            method,
            policy,
        } => {
            let m = ctx.exec.module(module).ok_or_else(|| {
                TxError::new(
                    ErrorCode::UnknownModule,
                    format!("action.module: no module '{module}'"),
                )
            })?;
            let known = m.methods().contains(&method.as_str())
                || (module == MODULE && ACTION_KINDS.contains(&method.as_str()));
            if !known {
                return Err(TxError::new(
                    ErrorCode::UnknownMethod,
                    format!("action.method: module '{module}' has no method or action '{method}'"),
                ));
            }
            ctx.put(policy_key(module, method), encode(policy));
            ctx.emit(
                MODULE,
                "policy_set",
                vec![
                    ("module".into(), module.clone()),
                    ("method".into(), method.clone()),
                    ("policy".into(), policy.to_string()),
                ],
            );
            Ok(())
        }
        ProposalAction::SetParam { name, value } => {
            let mut params: ChainParams = ctx.read(PARAMS_KEY)?.unwrap_or_default();
            if name == PARAM_MAX_BLOCK_TXS {
                let bound = ctx.exec.max_block_txs_bound();
                params.max_block_txs = u32::try_from(*value)
                    .ok()
                    .filter(|v| *v <= bound)
                    .ok_or_else(|| {
                        invalid(format!(
                            "action.value: max_block_txs may be at most genesis' {bound} (the block size every node decodes with)"
                        ))
                    })?;
            }
            ctx.put(PARAMS_KEY.to_vec(), encode(&params));
            ctx.emit(
                MODULE,
                "param_set",
                vec![
                    ("name".into(), name.clone()),
                    ("value".into(), value.to_string()),
                ],
            );
            Ok(())
        }
        ProposalAction::Call(call) => {
            let exec = ctx.exec;
            let module = exec.module(&call.module).ok_or_else(|| {
                TxError::new(
                    ErrorCode::UnknownModule,
                    format!("action.module: no module '{}'", call.module),
                )
            })?;
            let saved = (
                ctx.sender,
                std::mem::take(&mut ctx.authorizers),
                ctx.proposal,
            );
            ctx.sender = p.proposer;
            ctx.authorizers = approvers.iter().map(|(a, _)| *a).collect();
            ctx.authorizers.sort();
            ctx.proposal = Some(p.id);
            let result = module.execute(ctx, &call.method, &call.args);
            (ctx.sender, ctx.authorizers, ctx.proposal) = saved;
            result
        }
    }
}

/// The next validator set: the pending one if governance already changed it, else the current.
fn next_set(ctx: &CallContext<'_>) -> Result<ValidatorSet, TxError> {
    if let Some(s) = ctx.read::<ValidatorSet>(NEXT_KEY)? {
        return Ok(s);
    }
    ctx.read::<ValidatorSet>(SET_KEY)?
        .ok_or_else(|| TxError::new(ErrorCode::Internal, "validators/set missing"))
}

impl Module for Governance {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn check(&self, method: &str, bytes: &[u8]) -> Result<(), TxError> {
        stateless(method, bytes)
    }

    /// `propose`, `approve`, `cancel`: any account (each approval is then checked against the
    /// action's policy). Action kinds: `2 of org_admin @ founding, distinct orgs` (lowered to
    /// the number of active founding organizations when fewer).
    fn default_policy(&self, method: &str) -> Policy {
        match method {
            PROPOSE | APPROVE | CANCEL => Policy::any_account(),
            _ => Policy::founding_admins(2),
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
            PROPOSE => {
                let a: ProposeArgs = args(method, bytes)?;
                if a.expires_at_ms <= ctx.time_ms || a.expires_at_ms - ctx.time_ms > MAX_OPEN_MS {
                    return Err(invalid(format!(
                        "args.expires_at_ms: must be after the block time {} and at most {MAX_OPEN_MS} ms later",
                        ctx.time_ms
                    )));
                }
                if let ProposalAction::Call(call) = &a.action {
                    let module = ctx.exec.module(&call.module).ok_or_else(|| {
                        TxError::new(
                            ErrorCode::UnknownModule,
                            format!("args.action.module: no module '{}'", call.module),
                        )
                    })?;
                    if !module.methods().contains(&call.method.as_str()) {
                        return Err(TxError::new(
                            ErrorCode::UnknownMethod,
                            format!("args.action.method: no method '{}'", call.method),
                        ));
                    }
                    if module.is_private_call(&call.method) {
                        return Err(invalid(
                            "args.action: a private call cannot go through a proposal (its arguments would be public)",
                        ));
                    }
                    module.check(&call.method, &call.args)?;
                }
                let me = sender_account(ctx)?;
                check_qualifies(ctx, &a.action, &me)?;
                let id: u64 = ctx.read(NEXT_ID_KEY)?.unwrap_or(1);
                ctx.put(NEXT_ID_KEY.to_vec(), encode(&(id + 1)));
                let mut p = Proposal {
                    id,
                    proposer: ctx.sender,
                    action: a.action,
                    created_height: ctx.height,
                    expires_at_ms: a.expires_at_ms,
                    approvals: vec![ctx.sender],
                    status: ProposalStatus::Open,
                    executed_height: None,
                    tx_hashes: vec![ctx.tx_hash],
                };
                event(ctx, "proposal_created", &p);
                try_execute(ctx, &mut p)?;
                ctx.put(proposal_key(id), encode(&p));
                Ok(())
            }
            APPROVE => {
                let a: ProposalIdArgs = args(method, bytes)?;
                let mut p = load(ctx, a.id)?;
                match p.status {
                    ProposalStatus::Open => {}
                    ProposalStatus::Expired => {
                        return Err(TxError::new(
                            ErrorCode::ProposalExpired,
                            format!("args.id: proposal {} expired", p.id),
                        ));
                    }
                    s => {
                        return Err(TxError::new(
                            ErrorCode::ProposalClosed,
                            format!("args.id: proposal {} is {s:?}", p.id).to_lowercase(),
                        ));
                    }
                }
                if ctx.time_ms > p.expires_at_ms {
                    p.status = ProposalStatus::Expired;
                    ctx.put_even_if_failed(proposal_key(p.id), encode(&p));
                    return Err(TxError::new(
                        ErrorCode::ProposalExpired,
                        format!(
                            "args.id: proposal {} expired at {} ms (block time {})",
                            p.id, p.expires_at_ms, ctx.time_ms
                        ),
                    ));
                }
                if p.approvals.contains(&ctx.sender) {
                    return Err(TxError::new(
                        ErrorCode::AlreadyApproved,
                        format!("args.id: body.sender already approved proposal {}", p.id),
                    ));
                }
                let me = sender_account(ctx)?;
                check_qualifies(ctx, &p.action, &me)?;
                p.approvals.push(ctx.sender);
                p.tx_hashes.push(ctx.tx_hash);
                event(ctx, "proposal_approved", &p);
                try_execute(ctx, &mut p)?;
                ctx.put(proposal_key(p.id), encode(&p));
                Ok(())
            }
            CANCEL => {
                let a: ProposalIdArgs = args(method, bytes)?;
                let mut p = load(ctx, a.id)?;
                if p.proposer != ctx.sender {
                    return Err(TxError::new(
                        ErrorCode::PermissionDenied,
                        "body.sender: only the proposer may cancel a proposal",
                    ));
                }
                if p.status != ProposalStatus::Open {
                    return Err(TxError::new(
                        ErrorCode::ProposalClosed,
                        format!("args.id: proposal {} is not open", p.id),
                    ));
                }
                p.status = ProposalStatus::Cancelled;
                p.tx_hashes.push(ctx.tx_hash);
                event(ctx, "proposal_cancelled", &p);
                ctx.put(proposal_key(p.id), encode(&p));
                Ok(())
            }
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: governance has no method '{other}'"),
            )),
        }
    }
}
