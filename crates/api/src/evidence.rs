//! Light-client and evidence endpoints: headers with certificates, evidence packages
//! (`xa_light::Package`), and the printable evidence certificate (存证证书) of a notary record.
//!
//! Kept apart from `lib.rs` so that routes added there and here merge cleanly.

use crate::{ApiError, ApiState, parse_hash, path, query};
use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use xa_light::{ExportError, Package, export};
use xa_types::{
    Block, ErrorCode, Hash, decode,
    modules::{notary::NotaryRecord, validators},
};

/// `?proof=true` on a read endpoint: attach the evidence package proving the answer.
#[derive(Deserialize)]
pub(crate) struct ProofQuery {
    #[serde(default)]
    pub(crate) proof: bool,
}

/// The package from `f` as JSON when `wanted`, else `null`.
pub(crate) async fn proof(
    s: &ApiState,
    wanted: bool,
    f: impl FnOnce(&xa_storage::Store, &xa_types::Genesis) -> Result<Package, ExportError>
    + Send
    + 'static,
) -> Result<Value, ApiError> {
    if !wanted {
        return Ok(Value::Null);
    }
    let chain = s.chain.clone();
    let package = blocking(move || f(&chain.store, &chain.genesis)).await?;
    serde_json::to_value(package).map_err(ApiError::internal)
}

/// Most headers one range request returns.
pub const MAX_HEADER_RANGE: u64 = 1_000;

/// The routes of this module.
pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v1/headers", get(header_range))
        .route("/v1/headers/{height}", get(header))
        .route("/v1/evidence/tx/{hash}", get(evidence_tx))
        .route("/v1/evidence/notary/{digest}", get(evidence_notary))
        .route("/v1/evidence/state/{module}/{key}", get(evidence_state))
        .route("/v1/evidence/consistency", get(evidence_consistency))
        .route("/v1/notary/{digest}/certificate", get(notary_certificate))
}

fn export_error(e: ExportError) -> ApiError {
    match e {
        ExportError::NotFound(m) => ApiError::not_found(m),
        ExportError::Unavailable(m) => {
            ApiError::from(xa_types::TxError::new(ErrorCode::Unavailable, m))
        }
        ExportError::Storage(m) => ApiError::internal(m),
    }
}

/// Run a blocking export off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ExportError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(export_error)
}

fn header_json(s: &ApiState, height: u64) -> Result<Value, ApiError> {
    let block: Block = s
        .chain
        .store
        .block_by_height(height)
        .map_err(ApiError::internal)?
        .map(|b| decode::<Block>(&b))
        .transpose()
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("height: no block at {height}")))?;
    let certificate = s
        .chain
        .store
        .finalization(height)
        .map_err(ApiError::internal)?
        .filter(|c| !c.is_empty())
        .map(hex::encode);
    Ok(json!({
        "height": height,
        "hash": block.header.hash(s.chain.suite),
        "header": block.header,
        "certificate": certificate,
    }))
}

async fn header(
    State(s): State<ApiState>,
    height: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let h = path(height)?;
    let height = if h == "latest" {
        s.chain.tip().0
    } else {
        h.parse::<u64>().map_err(|_| {
            ApiError::bad(
                ErrorCode::MalformedRequest,
                format!("height: '{h}' is neither a number nor 'latest'"),
            )
        })?
    };
    header_json(&s, height).map(Json)
}

#[derive(Deserialize)]
struct RangeQuery {
    from: u64,
    to: Option<u64>,
}

/// Headers `from ..= to` (at most [`MAX_HEADER_RANGE`]), each with its certificate if stored.
async fn header_range(
    State(s): State<ApiState>,
    q: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let tip = s.chain.tip().0;
    let to = q.to.unwrap_or(tip).min(tip);
    if q.from > to {
        return Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("from: {} is after to ({to}, the tip is {tip})", q.from),
        ));
    }
    if to - q.from >= MAX_HEADER_RANGE {
        return Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("to: at most {MAX_HEADER_RANGE} headers per request"),
        ));
    }
    let headers = (q.from..=to)
        .map(|h| header_json(&s, h))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"from": q.from, "to": to, "headers": headers})))
}

async fn evidence_tx(
    State(s): State<ApiState>,
    caller: crate::auth::Caller,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Json<Package>, ApiError> {
    let hash = parse_hash("hash", &path(hash)?)?;
    if let Some((height, index)) = s
        .chain
        .store
        .tx_location(&hash.0)
        .map_err(ApiError::internal)?
        && let Some(block) = s.chain.block_at(height).map_err(ApiError::internal)?
        && let Some(tx) = block.block().txs.get(index as usize)
    {
        crate::ensure_call_visible(&s, caller.0.as_ref(), tx)?;
    }
    let chain = s.chain.clone();
    blocking(move || export::transaction(&chain.store, &chain.genesis, &hash))
        .await
        .map(Json)
}

async fn evidence_notary(
    State(s): State<ApiState>,
    digest: Result<Path<String>, PathRejection>,
) -> Result<Json<Package>, ApiError> {
    let digest = parse_hash("digest", &path(digest)?)?;
    let chain = s.chain.clone();
    blocking(move || export::notary(&chain.store, &chain.genesis, &digest))
        .await
        .map(Json)
}

#[derive(Deserialize)]
struct StateEvidenceQuery {
    #[serde(default)]
    history: bool,
    height: Option<u64>,
}

/// The raw state key of a public `module/key` name: those of the read endpoints, plus
/// `validators/set` and `validators/next`.
pub(crate) fn raw_key(module: &str, key: &str) -> Result<Vec<u8>, ApiError> {
    match (module, key) {
        ("validators", "set") => Ok(validators::SET_KEY.to_vec()),
        ("validators", "next") => Ok(validators::NEXT_KEY.to_vec()),
        ("validators", other) => Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("key: validators has 'set' and 'next', not '{other}'"),
        )),
        _ => crate::state_key(module, key).map(|(k, _)| k),
    }
}

async fn evidence_state(
    State(s): State<ApiState>,
    caller: crate::auth::Caller,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<StateEvidenceQuery>, QueryRejection>,
) -> Result<Json<Package>, ApiError> {
    let (module, name) = path(p)?;
    let q = query(q)?;
    let key = raw_key(&module, &name)?;
    crate::ensure_readable(&s, caller.0.as_ref(), &key, &format!("{module}/{name}"))?;
    let tip = s.chain.tip().0;
    if let Some(h) = q.height
        && h > tip
    {
        return Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("height: {h} is above the committed height {tip}"),
        ));
    }
    let chain = s.chain.clone();
    blocking(move || {
        if q.history {
            export::history(&chain.store, &chain.genesis, &key, q.height)
        } else {
            export::state(&chain.store, &chain.genesis, &key, q.height)
        }
    })
    .await
    .map(Json)
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn evidence_consistency(
    State(s): State<ApiState>,
    q: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<Package>, ApiError> {
    let q = query(q)?;
    if q.from > q.to {
        return Err(ApiError::bad(
            ErrorCode::InvalidArgument,
            format!("from: {} is after to ({})", q.from, q.to),
        ));
    }
    let chain = s.chain.clone();
    blocking(move || export::consistency(&chain.store, &chain.genesis, q.from, q.to))
        .await
        .map(Json)
}

/// The verification code printed on a certificate: the suite hash of the canonical package.
pub fn verification_code(package: &Package, suite: xa_types::Suite) -> Hash {
    suite.hash(&package.to_bytes())
}

async fn notary_certificate(
    State(s): State<ApiState>,
    digest: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let digest = parse_hash("digest", &path(digest)?)?;
    let chain = s.chain.clone();
    let package = blocking(move || export::notary(&chain.store, &chain.genesis, &digest)).await?;
    let report = xa_light::verify_package(&package, Some(&s.chain.genesis))
        .map_err(|e| ApiError::internal(format!("own package does not verify: {e}")))?;
    let record: NotaryRecord = report
        .notary
        .clone()
        .ok_or_else(|| ApiError::internal("notary package without a record"))?;
    let code = verification_code(&package, s.chain.suite);
    Ok(
        Html(crate::certificate::render(&s.chain.genesis, &record, &report, &code).into_string())
            .into_response(),
    )
}
