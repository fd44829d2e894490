//! Serve the Xiong'an Chain REST and WebSocket API, its OpenAPI document and metrics.
//!
//! Every error is JSON `{"error": {"code": "STABLE_CODE", "message": "... naming the field"}}`
//! (the message cut after [`MAX_ERROR_MESSAGE_BYTES`]) with a 4xx status for bad input and 5xx
//! only for node faults. Reads go through
//! [`xa_node::Chain`] (committed storage and the mempool); writes only enter the mempool.

#![recursion_limit = "256"]

pub mod auth;
pub mod certificate;
mod dkg;
pub mod evidence;
mod identity;
mod openapi;
mod tender;
mod verify_page;

use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{JsonRejection, PathRejection, QueryRejection},
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::sync::broadcast;
use xa_node::Chain;
use xa_types::{
    Address, Block, ErrorCode, Hash, Receipt, Transaction, TxError, decode,
    modules::{
        accounts::{Account, account_key},
        governance as governance_types, identity as identity_types,
        notary::{NotaryRecord, record_key},
        validators as validator_types,
    },
};

/// A committed-block event, as sent on `/v1/events` and used by waiters.
#[derive(Clone, Debug, Serialize)]
pub struct BlockEvent {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub hash: Hash,
    /// Consensus time.
    pub time_ms: u64,
    /// Receipts of its transactions.
    pub receipts: Arc<Vec<Receipt>>,
}

/// Shared state of the API.
#[derive(Clone)]
pub struct ApiState {
    chain: Arc<Chain>,
    events: broadcast::Sender<Arc<BlockEvent>>,
    metrics: Arc<dyn Fn() -> String + Send + Sync>,
    name: String,
    sessions: Arc<auth::Sessions>,
}

/// An API error with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: TxError,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            error: TxError::new(code, message),
        }
    }
    fn bad(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
    fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            message.to_string(),
        )
    }
}

impl From<TxError> for ApiError {
    fn from(error: TxError) -> Self {
        let status = match error.code {
            ErrorCode::MempoolFull | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::DuplicateTransaction | ErrorCode::AlreadyExists => StatusCode::CONFLICT,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Timeout => StatusCode::ACCEPTED,
            _ => StatusCode::BAD_REQUEST,
        };
        Self { status, error }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": error_json(&self.error) })),
        )
            .into_response()
    }
}

/// Longest error message the API sends, in bytes. Messages quote what was wrong, and serde's
/// quote the offending input whole: a 20 MB string where a number belongs came back as a 20 MB
/// error. The field name and the reason come first, so the cut keeps them.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 1024;

/// `{"code", "message"}` of an error, its message cut to [`MAX_ERROR_MESSAGE_BYTES`] (on a
/// character boundary, saying how long it was).
fn error_json(error: &TxError) -> Value {
    let message = &error.message;
    let message = if message.len() <= MAX_ERROR_MESSAGE_BYTES {
        std::borrow::Cow::Borrowed(message.as_str())
    } else {
        let mut end = MAX_ERROR_MESSAGE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        std::borrow::Cow::Owned(format!(
            "{}… (message cut; {} bytes in all)",
            &message[..end],
            message.len()
        ))
    };
    json!({"code": error.code.as_str(), "message": message})
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Build the router.
pub fn router(
    chain: Arc<Chain>,
    name: String,
    metrics: Arc<dyn Fn() -> String + Send + Sync>,
) -> Router {
    let (events, _) = broadcast::channel(1024);
    let sender = events.clone();
    chain.on_commit(move |c| {
        let _ = sender.send(Arc::new(BlockEvent {
            height: c.block.header.height,
            hash: c.hash,
            time_ms: c.block.header.time_ms,
            receipts: c.receipts.clone(),
        }));
    });
    let state = ApiState {
        chain,
        events,
        metrics,
        name,
        sessions: Arc::new(auth::Sessions::default()),
    };
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/batch", post(submit_batch))
        .route("/v1/transactions/{hash}", get(transaction))
        .route("/v1/blocks/{id}", get(block))
        .route("/v1/state/{module}/{key}", get(state_entry))
        .route("/v1/notary/{digest}", get(notary))
        .route("/v1/accounts/{address}", get(account))
        .route("/v1/events", get(events_ws))
        .route("/v1/auth/challenge", post(auth_challenge))
        .route("/v1/auth/token", post(auth_token))
        .route("/v1/auth/whoami", get(whoami))
        .route("/v1/orgs", get(identity::orgs))
        .route("/v1/orgs/{id}", get(identity::org))
        .route("/v1/keys/{public_key}", get(identity::key_owner))
        .route("/v1/roles", get(identity::roles))
        .route("/v1/policies", get(identity::policies))
        .route("/v1/policies/{module}/{method}", get(identity::policy))
        .route("/v1/proposals", get(identity::proposals))
        .route("/v1/proposals/{id}", get(identity::proposal))
        .route("/v1/validators", get(identity::validators))
        .route(
            "/v1/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/metrics", get(metrics_text))
        // The page certificates link to (`certificate::VERIFY_PATH`).
        .route("/verify", get(verify_page::page))
        .merge(evidence::routes())
        .merge(tender::routes())
        .merge(dkg::routes())
        // After the routes: it applies to those already added.
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MalformedRequest,
                format!("method: {method} is not allowed on this endpoint; see /v1/openapi.json"),
            )
        })
        .fallback(|| async { ApiError::not_found("no such endpoint; see /v1/openapi.json") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serve the API on `addr` until the process stops.
pub async fn serve(
    chain: Arc<Chain>,
    addr: SocketAddr,
    name: String,
    metrics: Arc<dyn Fn() -> String + Send + Sync>,
) {
    let app = router(chain, name, metrics);
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("API server stopped: {e}");
            }
        }
        Err(e) => tracing::error!(%addr, "cannot listen for the API: {e}"),
    }
}

async fn status(State(s): State<ApiState>) -> ApiResult<Value> {
    let tip = s.chain.tip_block().map_err(ApiError::internal)?;
    let header = &tip.block().header;
    let (height, hash, root) = (header.height, tip.hash(), header.state_root);
    // The set in force after the tip (genesis' until governance changes it).
    let validators = s
        .chain
        .store
        .get_latest(validator_types::SET_KEY)
        .map_err(ApiError::internal)?
        .and_then(|b| decode::<validator_types::ValidatorSet>(&b).ok())
        .map(|set| set.validators)
        .unwrap_or_else(|| s.chain.genesis.validators.clone());
    let consensus = s.chain.consensus_status();
    Ok(Json(json!({
        "node": s.name,
        "chain_id": s.chain.genesis.chain_id,
        "suite": s.chain.genesis.suite,
        "genesis_hash": s.chain.genesis.hash(),
        "height": height,
        "block_hash": hash,
        "state_root": root,
        "time_ms": header.time_ms,
        "epoch": validator_types::epoch_of(height, s.chain.genesis.params.epoch_length),
        "validators": validators.iter().map(|v| json!({"name": v.name, "consensus_key": hex::encode(&v.consensus_key), "p2p_address": v.p2p_address})).collect::<Vec<_>>(),
        "consensus": {
            "epoch": consensus.epoch,
            "voting": consensus.voting,
            "validators": consensus.validators.len(),
        },
        "mempool_size": s.chain.mempool.len(),
        "halted": s.chain.halted(),
    })))
}

#[derive(Deserialize)]
struct SubmitQuery {
    /// Wait until the transaction is committed.
    #[serde(default)]
    wait: bool,
    /// How long to wait, in milliseconds (default 30 000, at most 120 000).
    timeout_ms: Option<u64>,
}

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(t)| t).map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::TooLarge,
                format!("body: larger than {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::bad(
                ErrorCode::MalformedRequest,
                format!("body: {}", e.body_text()),
            )
        }
    })
}

/// Path parameters (e.g. not UTF-8), with undecodable ones answered like every other error.
fn path<T>(p: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    p.map(|Path(t)| t).map_err(|e| {
        ApiError::bad(
            ErrorCode::MalformedRequest,
            format!("path: {}", e.body_text()),
        )
    })
}

/// Query parameters, with undecodable ones answered like every other error.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(|e| {
        ApiError::bad(
            ErrorCode::MalformedRequest,
            format!("query: {}", e.body_text()),
        )
    })
}

async fn submit(
    State(s): State<ApiState>,
    q: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Json<Transaction>, JsonRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let tx = json_body(body)?;
    // Subscribe before submitting so the commit cannot slip between the two.
    let mut events = s.events.subscribe();
    let chain = s.chain.clone();
    let result = tokio::task::spawn_blocking(move || chain.submit(vec![tx]))
        .await
        .map_err(ApiError::internal)?
        .pop()
        .ok_or_else(|| ApiError::internal("no result"))?;
    let hash = result?;
    if !q.wait {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"hash": hash, "status": "pending"})),
        )
            .into_response());
    }
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(30_000).min(120_000));
    let wait = async {
        loop {
            match events.recv().await {
                Ok(ev) => {
                    if let Some(r) = ev.receipts.iter().find(|r| r.tx_hash == hash) {
                        return Some((ev.clone(), r.clone()));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Fall back to storage for anything we skipped.
                    if let Ok(Some(bytes)) = s.chain.store.receipt(&hash.0)
                        && let Ok(r) = decode::<Receipt>(&bytes)
                    {
                        return Some((
                            Arc::new(BlockEvent {
                                height: r.height,
                                hash: Hash::default(),
                                time_ms: 0,
                                receipts: Arc::new(vec![]),
                            }),
                            r,
                        ));
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(Some((_, receipt))) => Ok((
            StatusCode::OK,
            Json(json!({"hash": hash, "status": "committed", "receipt": receipt})),
        )
            .into_response()),
        _ => Err(ApiError::from(TxError::new(
            ErrorCode::Timeout,
            format!(
                "transaction {hash} is pending; not committed within {} ms",
                timeout.as_millis()
            ),
        ))),
    }
}

async fn submit_batch(
    State(s): State<ApiState>,
    body: Result<Json<Vec<Transaction>>, JsonRejection>,
) -> ApiResult<Value> {
    let txs = json_body(body)?;
    if txs.len() > 10_000 {
        return Err(ApiError::bad(
            ErrorCode::TooLarge,
            "body: at most 10000 transactions per batch",
        ));
    }
    let chain = s.chain.clone();
    let results = tokio::task::spawn_blocking(move || chain.submit(txs))
        .await
        .map_err(ApiError::internal)?;
    let out: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(h) => json!({"hash": h, "status": "pending"}),
            Err(e) => json!({ "error": error_json(&e) }),
        })
        .collect();
    Ok(Json(json!({ "results": out })))
}

fn parse_hash(field: &str, s: &str) -> Result<Hash, ApiError> {
    s.parse::<Hash>().map_err(|_| {
        ApiError::bad(
            ErrorCode::MalformedRequest,
            format!("{field}: '{s}' is not a 32-byte hex hash"),
        )
    })
}

async fn transaction(
    State(s): State<ApiState>,
    caller: auth::Caller,
    hash: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let hash = path(hash)?;
    let hash = parse_hash("hash", &hash)?;
    let q = query(q)?;
    let store = &s.chain.store;
    if let Some((height, index)) = store.tx_location(&hash.0).map_err(ApiError::internal)? {
        let receipt = store
            .receipt(&hash.0)
            .map_err(ApiError::internal)?
            .and_then(|b| decode::<Receipt>(&b).ok());
        let block = s.chain.block_at(height).map_err(ApiError::internal)?;
        let raw = block
            .as_ref()
            .and_then(|b| b.block().txs.get(index as usize).cloned());
        // The evidence package carries the whole transaction: only for those who may see it.
        if q.proof
            && let Some(tx) = &raw
        {
            ensure_call_visible(&s, caller.0.as_ref(), tx)?;
        }
        let tx = raw
            .map(|tx| redact(&s, caller.0.as_ref(), tx))
            .transpose()?;
        return Ok(Json(json!({
            "hash": hash,
            "status": "committed",
            "block_height": height,
            "block_hash": block.as_ref().map(|b| b.hash()),
            "index": index,
            "receipt": receipt,
            "transaction": tx,
            "proof": evidence::proof(&s, q.proof, move |st, g| {
                xa_light::export::transaction(st, g, &hash)
            })
            .await?,
        })));
    }
    if s.chain.mempool.contains(&hash) {
        return Ok(Json(json!({"hash": hash, "status": "pending"})));
    }
    Err(ApiError::not_found(format!("hash: no transaction {hash}")))
}

/// Refuse (403) a read of a private state entry by a caller who may not read it: nothing of it
/// (value, proof, even existence) reaches them. Roles are judged on the latest committed state.
pub(crate) fn ensure_readable(
    s: &ApiState,
    caller: Option<&Address>,
    raw_key: &[u8],
    name: &str,
) -> Result<(), ApiError> {
    let ok = s
        .chain
        .executor
        .can_read(&identity::Latest(&s.chain.store), caller, raw_key)
        .map_err(ApiError::internal)?;
    if ok {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::PermissionDenied,
        format!(
            "key: {name} is private; log in (/v1/auth/token) as its owner, an administrator of its organization, a chain_admin or an auditor"
        ),
    ))
}

/// Refuse (403) what would show a private call's arguments to a caller who may not see them.
pub(crate) fn ensure_call_visible(
    s: &ApiState,
    caller: Option<&Address>,
    tx: &Transaction,
) -> Result<(), ApiError> {
    let ok = s
        .chain
        .executor
        .can_see_call(&identity::Latest(&s.chain.store), caller, &tx.body.call)
        .map_err(ApiError::internal)?;
    if ok {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::PermissionDenied,
        "hash: the transaction is a private call; its evidence is for parties allowed to read it (log in at /v1/auth/token)",
    ))
}

/// A transaction as `caller` may see it: the arguments of a private call (e.g. an account
/// registration holding an identity document digest) are replaced by their hash unless the
/// caller may read the data they concern. The hash still lets an authorized party check them.
fn redact(s: &ApiState, caller: Option<&Address>, tx: Transaction) -> Result<Value, ApiError> {
    let visible = s
        .chain
        .executor
        .can_see_call(&identity::Latest(&s.chain.store), caller, &tx.body.call)
        .map_err(ApiError::internal)?;
    let mut v = serde_json::to_value(&tx).map_err(ApiError::internal)?;
    if !visible {
        let digest = s.chain.genesis.suite.hash(&tx.body.call.args);
        v["body"]["call"]["args"] = Value::Null;
        v["body"]["call"]["args_redacted"] = json!({
            "reason": "private call: log in as a party allowed to read it",
            "args_hash": digest,
        });
    }
    Ok(v)
}

fn block_json(s: &ApiState, height: u64) -> Result<Value, ApiError> {
    let block = s
        .chain
        .block_at(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("height: no block at {height}")))?;
    let b: &Block = block.block();
    let finalization = s
        .chain
        .store
        .finalization(height)
        .map_err(ApiError::internal)?
        // Empty when the block was finalized only through a descendant's certificate.
        .filter(|f| !f.is_empty())
        .map(hex::encode);
    Ok(json!({
        "hash": block.hash(),
        "header": b.header,
        "transactions": block.tx_hashes(),
        "finalization": finalization,
    }))
}

async fn block(
    State(s): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let id = path(id)?;
    let q = query(q)?;
    let height = if id == "latest" {
        s.chain.tip().0
    } else {
        id.parse::<u64>().map_err(|_| {
            ApiError::bad(
                ErrorCode::MalformedRequest,
                format!("height: '{id}' is neither a number nor 'latest'"),
            )
        })?
    };
    let mut out = block_json(&s, height)?;
    out["proof"] = evidence::proof(&s, q.proof, move |st, g| {
        xa_light::export::header(st, g, height)
    })
    .await?;
    Ok(Json(out))
}

#[derive(Deserialize)]
struct StateQuery {
    #[serde(default)]
    proof: bool,
    height: Option<u64>,
}

/// Renders a stored value as JSON.
type Render = fn(&[u8]) -> Value;

/// Map a module's public key name to its state key and a JSON rendering of values.
fn state_key(module: &str, key: &str) -> Result<(Vec<u8>, Render), ApiError> {
    match module {
        "notary" => Ok((record_key(&parse_hash("key", key)?), |b| {
            decode::<NotaryRecord>(b)
                .map(|r| json!(r))
                .unwrap_or(Value::Null)
        })),
        "accounts" => Ok((account_key(&parse_hash("key", key)?), |b| {
            decode::<Account>(b)
                .map(|a| json!(a))
                .unwrap_or(Value::Null)
        })),
        "identity" => {
            let bad = || {
                ApiError::bad(
                    ErrorCode::MalformedRequest,
                    format!(
                        "key: '{key}' is not org:ID, personal:ADDRESS or key:SUITE:HEX (a public key)"
                    ),
                )
            };
            let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
            match kind {
                "org" => Ok((identity_types::org_key(rest), |b| {
                    decode::<identity_types::Org>(b)
                        .map(|r| json!(r))
                        .unwrap_or(Value::Null)
                })),
                "personal" => Ok((
                    identity_types::personal_key(&parse_hash("key", rest)?),
                    |b| {
                        decode::<identity_types::PersonalData>(b)
                            .map(|r| json!(r))
                            .unwrap_or(Value::Null)
                    },
                )),
                "key" => {
                    let pk: xa_types::PublicKey =
                        serde_json::from_value(Value::String(rest.to_string()))
                            .map_err(|_| bad())?;
                    Ok((identity_types::key_index_key(&pk), |b| {
                        <[u8; 32]>::try_from(b)
                            .map(|a| json!(Hash(a)))
                            .unwrap_or(Value::Null)
                    }))
                }
                _ => Err(bad()),
            }
        }
        "governance" => {
            let id: u64 = key.parse().map_err(|_| {
                ApiError::bad(
                    ErrorCode::MalformedRequest,
                    format!("key: '{key}' is not a proposal number"),
                )
            })?;
            Ok((governance_types::proposal_key(id), |b| {
                decode::<governance_types::Proposal>(b)
                    .map(|r| json!(r))
                    .unwrap_or(Value::Null)
            }))
        }
        "validators" => {
            let raw = match key {
                "set" => validator_types::SET_KEY,
                "next" => validator_types::NEXT_KEY,
                _ => {
                    return Err(ApiError::bad(
                        ErrorCode::MalformedRequest,
                        format!("key: '{key}' is neither 'set' nor 'next'"),
                    ));
                }
            };
            Ok((raw.to_vec(), |b| {
                decode::<validator_types::ValidatorSet>(b)
                    .map(|r| json!(r))
                    .unwrap_or(Value::Null)
            }))
        }
        "raw" => Ok((
            hex::decode(key).map_err(|_| {
                ApiError::bad(
                    ErrorCode::MalformedRequest,
                    format!("key: '{key}' is not hex"),
                )
            })?,
            |_| Value::Null,
        )),
        other => Err(ApiError::bad(
            ErrorCode::UnknownModule,
            format!(
                "module: no readable module '{other}' (notary, accounts, identity, governance, validators, raw)"
            ),
        )),
    }
}

async fn state_entry(
    State(s): State<ApiState>,
    caller: auth::Caller,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<StateQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let (module, key) = path(p)?;
    let q = query(q)?;
    let (raw_key, render) = state_key(&module, &key)?;
    // Private entries: nothing of them (value, proof, even existence) reaches an unauthorized
    // caller. Roles are judged on the latest committed state.
    if !s
        .chain
        .executor
        .can_read(
            &identity::Latest(&s.chain.store),
            caller.0.as_ref(),
            &raw_key,
        )
        .map_err(ApiError::internal)?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PermissionDenied,
            format!(
                "key: {module}/{key} is private; log in (/v1/auth/token) as its owner, an administrator of its organization, a chain_admin or an auditor"
            ),
        ));
    }
    let (tip, _) = s.chain.tip();
    let height = q.height.unwrap_or(tip);
    if height > tip {
        return Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("height: {height} is above the committed height {tip}"),
        ));
    }
    let store = &s.chain.store;
    let root = store
        .state_root(height)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("height: no state at {height}")))?;
    let (value, proof) = if q.proof {
        let (v, p) = store
            .get_with_proof(&raw_key, height)
            .map_err(ApiError::internal)?;
        (v, Some(p))
    } else {
        (
            store.get(&raw_key, height).map_err(ApiError::internal)?,
            None,
        )
    };
    Ok(Json(json!({
        "module": module,
        "key": key,
        "state_key": hex::encode(&raw_key),
        "height": height,
        "state_root": Hash(root),
        "exists": value.is_some(),
        "value": value.as_deref().map(render),
        "value_hex": value.as_deref().map(hex::encode),
        "proof": proof,
    })))
}

async fn notary(
    State(s): State<ApiState>,
    digest: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let digest = path(digest)?;
    let digest = parse_hash("digest", &digest)?;
    let q = query(q)?;
    let bytes = s
        .chain
        .store
        .get_latest(&record_key(&digest))
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("digest: {digest} is not anchored")))?;
    let record: NotaryRecord = decode(&bytes).map_err(ApiError::internal)?;
    let block_hash = s
        .chain
        .store
        .block_hash(record.height)
        .map_err(ApiError::internal)?
        .map(Hash);
    let proof = evidence::proof(&s, q.proof, move |st, g| {
        xa_light::export::notary(st, g, &digest)
    })
    .await?;
    Ok(Json(
        json!({"record": record, "block_hash": block_hash, "proof": proof}),
    ))
}

async fn account(
    State(s): State<ApiState>,
    caller: auth::Caller,
    address: Result<Path<String>, PathRejection>,
    q: Result<Query<evidence::ProofQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let address = path(address)?;
    let address: Address = parse_hash("address", &address)?;
    let q = query(q)?;
    let mut v = identity::account_json(&s, caller.0.as_ref(), &address)?;
    v["proof"] = evidence::proof(&s, q.proof, move |st, g| {
        xa_light::export::state(st, g, &account_key(&address), None)
    })
    .await?;
    Ok(Json(v))
}

#[derive(Deserialize)]
struct ChallengeRequest {
    address: Address,
}

async fn auth_challenge(
    State(s): State<ApiState>,
    body: Result<Json<ChallengeRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let req = json_body(body)?;
    let (challenge, ttl) = s.sessions.challenge(req.address);
    Ok(Json(json!({
        "address": req.address,
        "challenge": hex::encode(challenge),
        "expires_in_ms": ttl.as_millis() as u64,
        "sign": "XA-AUTH-V1 || u32_le(len(chain_id)) || chain_id || address (32 bytes) || challenge (32 bytes)",
    })))
}

#[derive(Deserialize)]
struct TokenRequest {
    address: Address,
    challenge: String,
    public_key: xa_types::PublicKey,
    signature: xa_types::Signature,
}

async fn auth_token(
    State(s): State<ApiState>,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> ApiResult<Value> {
    let req = json_body(body)?;
    let challenge: [u8; 32] = hex::decode(&req.challenge)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            ApiError::bad(
                ErrorCode::MalformedRequest,
                "challenge: expected 64 hex characters",
            )
        })?;
    if !s.sessions.take_challenge(&req.address, &challenge) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "challenge: unknown, expired, already used or issued for another address",
        ));
    }
    let account = s
        .chain
        .store
        .get_latest(&account_key(&req.address))
        .map_err(ApiError::internal)?
        .and_then(|b| decode::<Account>(&b).ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                format!("address: no account {}", req.address),
            )
        })?;
    auth::check_answer(
        &s.chain.genesis.chain_id,
        &req.address,
        &challenge,
        &account.keys,
        &req.public_key,
        &req.signature,
    )?;
    let (token, ttl) = s.sessions.issue(req.address);
    Ok(Json(json!({
        "address": req.address,
        "token": hex::encode(token),
        "expires_in_ms": ttl.as_millis() as u64,
    })))
}

async fn whoami(State(s): State<ApiState>, caller: auth::Caller) -> ApiResult<Value> {
    let Some(address) = caller.0 else {
        return Ok(Json(json!({"authenticated": false})));
    };
    let account = s
        .chain
        .store
        .get_latest(&account_key(&address))
        .map_err(ApiError::internal)?
        .and_then(|b| decode::<Account>(&b).ok());
    Ok(Json(
        json!({"authenticated": true, "address": address, "account": account}),
    ))
}

async fn events_ws(
    State(s): State<ApiState>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    // A plain GET (no WebSocket handshake) gets a JSON error like every other bad request,
    // not axum's plain-text rejection.
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => {
            return ApiError::new(
                e.status(),
                ErrorCode::MalformedRequest,
                format!(
                    "upgrade: /v1/events is a WebSocket; open it with a WebSocket handshake ({})",
                    e.body_text()
                ),
            )
            .into_response();
        }
    };
    let rx = s.events.subscribe();
    ws.on_upgrade(move |socket| forward_events(socket, rx))
}

async fn forward_events(mut socket: WebSocket, mut rx: broadcast::Receiver<Arc<BlockEvent>>) {
    loop {
        match rx.recv().await {
            Ok(ev) => {
                let text = match serde_json::to_string(&*ev) {
                    Ok(t) => t,
                    Err(_) => continue,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                let msg = json!({"warning": "lagged", "skipped_blocks": n}).to_string();
                if socket.send(Message::Text(msg.into())).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// CPU time (user + system) this process has used, from `/proc/self/stat`; `None` where there is
/// no procfs. The standard Prometheus process metric, served so that `xachain bench` can report
/// what each committed transaction cost the validators. Read by hand because it is two fields of
/// one line; a process-metrics crate would bring a dependency tree for them.
fn process_cpu_seconds() -> Option<f64> {
    parse_proc_stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime + stime` of a `/proc/<pid>/stat` line, in seconds. The fields after the command name
/// (which may contain spaces and parentheses, so the split is at the last `)`) start at field 3;
/// utime and stime are fields 14 and 15, in clock ticks of `USER_HZ`, which Linux fixes at 100
/// for everything it reports to user space.
fn parse_proc_stat_cpu(line: &str) -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / USER_HZ)
}

async fn metrics_text(State(s): State<ApiState>) -> Response {
    let (height, _) = s.chain.tip();
    let mut text = (s.metrics)();
    text.push_str(&format!(
        "# HELP xa_committed_height Height of the last committed block.\n# TYPE xa_committed_height gauge\nxa_committed_height {height}\n# HELP xa_mempool_transactions Pending transactions.\n# TYPE xa_mempool_transactions gauge\nxa_mempool_transactions {}\n",
        s.chain.mempool.len()
    ));
    text.push_str(&format!(
        "# HELP xa_mempool_gapped_transactions Pending transactions waiting behind a missing nonce of their sender.\n# TYPE xa_mempool_gapped_transactions gauge\nxa_mempool_gapped_transactions {}\n# HELP xa_mempool_evicted_total Gapped transactions dropped to make room for includable ones.\n# TYPE xa_mempool_evicted_total counter\nxa_mempool_evicted_total {}\n",
        s.chain.mempool.gapped_len(),
        s.chain.mempool.evicted()
    ));
    let (messages, txs) = s.chain.gossip_received();
    text.push_str(&format!(
        "# HELP xa_gossip_messages_received_total Transaction gossip messages received from peers.\n# TYPE xa_gossip_messages_received_total counter\nxa_gossip_messages_received_total {messages}\n# HELP xa_gossip_transactions_received_total Transactions received in gossip from peers.\n# TYPE xa_gossip_transactions_received_total counter\nxa_gossip_transactions_received_total {txs}\n"
    ));
    if let Some(cpu) = process_cpu_seconds() {
        text.push_str(&format!(
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n"
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::parse_proc_stat_cpu;

    #[test]
    fn cpu_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        let line = "4242 (xa (node) 1) S 1 4242 4242 0 -1 4194560 9000 0 3 0 1234 566 0 0 20 0 12";
        assert_eq!(parse_proc_stat_cpu(line), Some(18.0));
    }

    #[test]
    fn a_malformed_stat_line_gives_nothing() {
        assert_eq!(parse_proc_stat_cpu("no parenthesis here"), None);
        assert_eq!(parse_proc_stat_cpu("1 (x) S 1 2"), None);
        assert_eq!(
            parse_proc_stat_cpu("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ab 3"),
            None
        );
    }
}
