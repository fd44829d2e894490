//! Read endpoints of identity and governance: organizations, keys, policies, proposals and the
//! validator set. Writes are ordinary signed transactions (`POST /v1/transactions`); the CLI
//! builds them.

use crate::{ApiError, ApiResult, ApiState, evidence, path, query};
use axum::{
    Json,
    extract::{Path, Query, State, rejection::PathRejection, rejection::QueryRejection},
};
use serde::Deserialize;
use serde_json::{Value, json};
use xa_execution::{StateError, StateView};
use xa_storage::Store;
use xa_types::{
    ErrorCode, PublicKey, decode,
    modules::{
        accounts::{Account, account_key},
        governance::{self, NEXT_ID_KEY, Proposal, ProposalStatus, proposal_key},
        identity::{ORG_LIST_KEY, Org, PersonalData, key_index_key, org_key, personal_key},
        validators::{NEXT_KEY, SET_KEY, ValidatorSet, epoch_of},
    },
    policy::policy_key,
};

/// Committed state at the latest height, as execution reads it.
pub(crate) struct Latest<'a>(pub(crate) &'a Store);

impl StateView for Latest<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0
            .get_latest(key)
            .map_err(|e| StateError(e.to_string()))
    }
}

fn read<T: borsh::BorshDeserialize>(s: &ApiState, key: &[u8]) -> Result<Option<T>, ApiError> {
    match s.chain.store.get_latest(key).map_err(ApiError::internal)? {
        None => Ok(None),
        Some(bytes) => decode::<T>(&bytes).map(Some).map_err(ApiError::internal),
    }
}

/// `GET /v1/orgs`: every organization ever created, removed ones included.
pub(crate) async fn orgs(State(s): State<ApiState>) -> ApiResult<Value> {
    let ids: Vec<String> = read(&s, ORG_LIST_KEY)?.unwrap_or_default();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(org) = read::<Org>(&s, &org_key(&id))? {
            out.push(org);
        }
    }
    Ok(Json(json!({ "organizations": out })))
}

/// The evidence package proving state entry `key` now, when `wanted` (`?proof=true`).
async fn state_proof(s: &ApiState, wanted: bool, key: Vec<u8>) -> Result<Value, ApiError> {
    evidence::proof(s, wanted, move |st, g| {
        xa_light::export::state(st, g, &key, None)
    })
    .await
}

/// `GET /v1/orgs/{id}[?proof=true]`.
pub(crate) async fn org(
    State(s): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let id = path(id)?;
    let q = query(q)?;
    let org: Org = read(&s, &org_key(&id))?
        .ok_or_else(|| ApiError::not_found(format!("id: no organization '{id}'")))?;
    let proof = state_proof(&s, q.proof, org_key(&id)).await?;
    Ok(Json(json!({ "organization": org, "proof": proof })))
}

/// `GET /v1/roles`: every role that can be granted (built-in, and declared by which module).
pub(crate) async fn roles(State(s): State<ApiState>) -> ApiResult<Value> {
    let mut out = Vec::new();
    for r in xa_types::modules::identity::BUILTIN_ROLES {
        out.push(json!({"role": r, "declared_by": "built-in"}));
    }
    for name in s.chain.executor.module_names() {
        if let Some(m) = s.chain.executor.module(name) {
            for r in m.roles() {
                out.push(json!({"role": r, "declared_by": name}));
            }
        }
    }
    Ok(Json(json!({ "roles": out })))
}

/// `GET /v1/keys/{public_key}`: the account a key belongs (or belonged) to, and whether the key
/// is active, retired/revoked.
pub(crate) async fn key_owner(
    State(s): State<ApiState>,
    key: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let text = path(key)?;
    let q = query(q)?;
    let key: PublicKey = serde_json::from_value(Value::String(text.clone())).map_err(|_| {
        ApiError::bad(
            ErrorCode::MalformedRequest,
            format!("public_key: '{text}' is not 'suite:hex' (e.g. ed25519:ab…)"),
        )
    })?;
    let owner = s
        .chain
        .store
        .get_latest(&key_index_key(&key))
        .map_err(ApiError::internal)?
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .map(xa_types::Hash)
        .ok_or_else(|| ApiError::not_found(format!("public_key: {key} belongs to no account")))?;
    let account: Option<Account> = read(&s, &account_key(&owner))?;
    let status = match &account {
        Some(a) if a.keys.contains(&key) => "active",
        Some(a) if a.revoked_keys.contains(&key) => "revoked",
        _ => "retired",
    };
    let proof = state_proof(&s, q.proof, key_index_key(&key)).await?;
    Ok(Json(
        json!({"public_key": key, "address": owner, "key_status": status, "proof": proof}),
    ))
}

/// The account with its personal data when `caller` may read it.
pub(crate) fn account_json(
    s: &ApiState,
    caller: Option<&xa_types::Address>,
    address: &xa_types::Address,
) -> Result<Value, ApiError> {
    let account: Account = read(s, &account_key(address))?
        .ok_or_else(|| ApiError::not_found(format!("address: no account {address}")))?;
    let pending_next_nonce = s
        .chain
        .mempool
        .pending_next_nonce(address, account.next_nonce);
    let view = Latest(&s.chain.store);
    let pkey = personal_key(address);
    let personal = if s
        .chain
        .executor
        .can_read(&view, caller, &pkey)
        .map_err(ApiError::internal)?
    {
        Some(read::<PersonalData>(s, &pkey)?)
    } else {
        None
    };
    let mut v = json!({
        "address": address,
        "account": account,
        "pending_next_nonce": pending_next_nonce,
    });
    // Absent from the answer (not null) when the caller may not read it, so nothing about it leaks.
    if let Some(p) = personal {
        v["personal"] = json!(p);
    }
    Ok(v)
}

/// `GET /v1/policies/{module}/{method}`: the policy in force, its text form and where it comes
/// from (set on chain, or the module's default).
pub(crate) async fn policy(
    State(s): State<ApiState>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let (module, method) = path(p)?;
    let q = query(q)?;
    let mut v = policy_json(&s, &module, &method)?;
    // Proves the entry set on chain, or its absence (the module default then applies).
    v["proof"] = state_proof(&s, q.proof, policy_key(&module, &method)).await?;
    Ok(Json(v))
}

fn policy_json(s: &ApiState, module: &str, method: &str) -> Result<Value, ApiError> {
    let m = s.chain.executor.module(module).ok_or_else(|| {
        ApiError::bad(
            ErrorCode::UnknownModule,
            format!("module: no module '{module}'"),
        )
    })?;
    // Governance actions (add_validator, set_policy, ...) have policies of their own: the
    // approvals a proposal of that kind needs before it executes.
    let is_action = module == governance::MODULE && governance::ACTION_KINDS.contains(&method);
    if !is_action && !m.methods().contains(&method) {
        return Err(ApiError::bad(
            ErrorCode::UnknownMethod,
            format!("method: module '{module}' has no method '{method}'"),
        ));
    }
    let view = Latest(&s.chain.store);
    let policy = s.chain.executor.policy_of(&view, module, method)?;
    let on_chain = s
        .chain
        .store
        .get_latest(&policy_key(module, method))
        .map_err(ApiError::internal)?
        .is_some();
    Ok(json!({
        "module": module,
        "method": method,
        "policy": policy,
        "text": policy.to_string(),
        "source": if on_chain { "chain" } else { "default" },
        "applies_to": if is_action { "proposal approvals" } else { "transaction signers" },
    }))
}

/// `GET /v1/policies`: the policy of every call of every module.
pub(crate) async fn policies(State(s): State<ApiState>) -> ApiResult<Value> {
    let mut out = Vec::new();
    for name in s.chain.executor.module_names() {
        if let Some(m) = s.chain.executor.module(name) {
            for method in m.methods() {
                out.push(policy_json(&s, name, method)?);
            }
        }
    }
    for kind in governance::ACTION_KINDS {
        out.push(policy_json(&s, governance::MODULE, kind)?);
    }
    Ok(Json(json!({ "policies": out })))
}

#[derive(Deserialize)]
pub(crate) struct ProposalsQuery {
    /// Only proposals with this status (open, executed, expired, cancelled).
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u64>,
}

/// The proposal with its status as of the committed tip's consensus time: an open proposal past
/// its expiry is reported `expired` even before a transaction records it.
fn effective(mut p: Proposal, now_ms: u64) -> Proposal {
    if p.status == ProposalStatus::Open && now_ms > p.expires_at_ms {
        p.status = ProposalStatus::Expired;
    }
    p
}

fn tip_time(s: &ApiState) -> Result<u64, ApiError> {
    Ok(s.chain
        .tip_block()
        .map_err(ApiError::internal)?
        .block()
        .header
        .time_ms)
}

/// `GET /v1/proposals?status=&limit=`.
pub(crate) async fn proposals(
    State(s): State<ApiState>,
    q: Result<Query<ProposalsQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let q = query(q)?;
    let wanted = match q.status.as_deref() {
        None => None,
        Some(text) => Some(
            serde_json::from_value::<ProposalStatus>(Value::String(text.to_string())).map_err(
                |_| {
                    ApiError::bad(
                        ErrorCode::MalformedRequest,
                        format!(
                            "status: '{text}' is not one of open, executed, expired, cancelled"
                        ),
                    )
                },
            )?,
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let next: u64 = read(&s, NEXT_ID_KEY)?.unwrap_or(0);
    let now = tip_time(&s)?;
    let mut out = Vec::new();
    let mut id = next;
    while id > 0 && (out.len() as u64) < limit {
        id -= 1;
        if let Some(p) = read::<Proposal>(&s, &proposal_key(id))? {
            let p = effective(p, now);
            if wanted.is_none_or(|w| w == p.status) {
                out.push(p);
            }
        }
    }
    Ok(Json(json!({ "proposals": out })))
}

/// `GET /v1/proposals/{id}`.
pub(crate) async fn proposal(
    State(s): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let text = path(id)?;
    let q = query(q)?;
    let id: u64 = text.parse().map_err(|_| {
        ApiError::bad(
            ErrorCode::MalformedRequest,
            format!("id: '{text}' is not a proposal number"),
        )
    })?;
    let p: Proposal = read(&s, &proposal_key(id))?
        .ok_or_else(|| ApiError::not_found(format!("id: no proposal {id}")))?;
    let now = tip_time(&s)?;
    let p = effective(p, now);
    let view = Latest(&s.chain.store);
    let policy = s
        .chain
        .executor
        .policy_of(
            &view,
            xa_types::modules::governance::MODULE,
            p.action.kind(),
        )
        .ok();
    let proof = state_proof(&s, q.proof, proposal_key(id)).await?;
    Ok(Json(json!({
        "proposal": p,
        "policy": policy.as_ref().map(|p| p.to_string()),
        "proof": proof,
    })))
}

/// `GET /v1/validators`: the set in force, a pending set decided by governance, and the epoch.
pub(crate) async fn validators(
    State(s): State<ApiState>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let q = query(q)?;
    let (height, _) = s.chain.tip();
    let epoch_length = s.chain.genesis.params.epoch_length;
    let current: Option<ValidatorSet> = read(&s, SET_KEY)?;
    let next: Option<ValidatorSet> = read(&s, NEXT_KEY)?;
    let next_boundary =
        xa_types::modules::validators::last_height_of(epoch_of(height, epoch_length), epoch_length);
    Ok(Json(json!({
        "height": height,
        "epoch": epoch_of(height, epoch_length),
        "epoch_length": epoch_length,
        "current": current,
        "pending": next,
        "pending_takes_effect_after_height": next.as_ref().and(next_boundary),
        "proof": state_proof(&s, q.proof, SET_KEY.to_vec()).await?,
    })))
}
