//! Read endpoints of tendering and construction payments: tenders with their sealed bids and
//! opening, contracts, payment requests. Bids are served as stored: before the opening only
//! ciphertext, sealed key and commitment exist anywhere; the revealed prices appear in the
//! opening, all together. Writes are ordinary signed transactions; the CLI builds them.
//!
//! A payment request's transfer lines are records of their own (`payment/request/{id}/line/{n}`);
//! the endpoints read them by index, a page at a time.

use crate::{ApiError, ApiResult, ApiState, path, query};
use axum::{
    Json, Router,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use xa_types::{
    ErrorCode, decode,
    modules::payment::{Contract, PaymentRequest, Transfer, contract_key, line_key, request_key},
    modules::tender::{
        Bid, NEXT_ID_KEY, Opening, Tender, TenderStatus, bid_key, opening_key, tender_key,
    },
};

/// The routes of this file, merged into the API router.
pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v1/tenders", get(tenders))
        .route("/v1/tenders/{id}", get(tender))
        .route("/v1/contracts/{id}", get(contract))
        .route("/v1/contracts/{id}/trail", get(trail))
        .route("/v1/payments/{id}", get(payment))
}

pub(crate) fn read<T: borsh::BorshDeserialize>(
    s: &ApiState,
    key: &[u8],
) -> Result<Option<T>, ApiError> {
    match s.chain.store.get_latest(key).map_err(ApiError::internal)? {
        None => Ok(None),
        Some(bytes) => decode::<T>(&bytes).map(Some).map_err(ApiError::internal),
    }
}

pub(crate) fn id(p: Result<Path<String>, PathRejection>, field: &str) -> Result<u64, ApiError> {
    let text = path(p)?;
    text.parse().map_err(|_| {
        ApiError::bad(
            xa_types::ErrorCode::MalformedRequest,
            format!("{field}: '{text}' is not a number"),
        )
    })
}

/// Query of `GET /v1/tenders`.
#[derive(Deserialize)]
pub(crate) struct TendersQuery {
    /// Only tenders in this status (`bidding`, `closed`, … in either case).
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u64>,
    /// Only tenders with a smaller id (the previous page's `next_before`).
    before: Option<u64>,
}

/// Most tender records one list request reads (filtering by status may skip many).
const MAX_LIST_SCAN: u64 = 10_000;

/// `GET /v1/tenders?status=&limit=&before=`: tender records, newest first, without their bids
/// (`/v1/tenders/{id}` has those). `next_before` is the id to pass as `before` for the next
/// page, `null` when there is none.
pub(crate) async fn tenders(
    State(s): State<ApiState>,
    q: Result<Query<TendersQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let q = query(q)?;
    let wanted = match q.status.as_deref() {
        None => None,
        Some(text) => Some(
            serde_json::from_value::<TenderStatus>(Value::String(text.to_ascii_uppercase()))
                .map_err(|_| {
                    ApiError::bad(
                        ErrorCode::MalformedRequest,
                        format!(
                            "status: '{text}' is not one of bidding, closed, evaluating, \
                             publicity, suspended, awarded, contracted, failed"
                        ),
                    )
                })?,
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    // Ids run from 1; the next one to be given is stored.
    let next: u64 = read(&s, NEXT_ID_KEY)?.unwrap_or(1);
    let mut id = q.before.map_or(next, |b| b.min(next));
    let mut out = Vec::new();
    let mut scanned = 0;
    while id > 1 && out.len() < limit && scanned < MAX_LIST_SCAN {
        id -= 1;
        scanned += 1;
        if let Some(t) = read::<Tender>(&s, &tender_key(id))?
            && wanted.is_none_or(|w| w == t.status)
        {
            out.push(t);
        }
    }
    let next_before = (id > 1).then_some(id);
    Ok(Json(json!({ "tenders": out, "next_before": next_before })))
}

/// `GET /v1/tenders/{id}`: the tender, its sealed bids, and its opening once opened.
pub(crate) async fn tender(
    State(s): State<ApiState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Value> {
    let id = id(p, "id")?;
    let t: Tender = read(&s, &tender_key(id))?
        .ok_or_else(|| ApiError::not_found(format!("id: no tender {id}")))?;
    let mut bids = Vec::with_capacity(t.bidders.len());
    for b in &t.bidders {
        if let Some(bid) = read::<Bid>(&s, &bid_key(id, b))? {
            bids.push(bid);
        }
    }
    let opening: Option<Opening> = read(&s, &opening_key(id))?;
    Ok(Json(
        json!({ "tender": t, "bids": bids, "opening": opening }),
    ))
}

/// `GET /v1/contracts/{id}`: a contract with its milestones and money flows.
pub(crate) async fn contract(
    State(s): State<ApiState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Value> {
    let id = id(p, "id")?;
    let c: Contract = read(&s, &contract_key(id))?
        .ok_or_else(|| ApiError::not_found(format!("id: no contract {id}")))?;
    Ok(Json(json!({ "contract": c })))
}

/// Query of `GET /v1/payments/{id}`.
#[derive(Deserialize)]
pub(crate) struct LinesQuery {
    /// First line (default 0).
    from: Option<u32>,
    /// At most this many lines (default [`DEFAULT_LINES`], at most [`MAX_LINES_PAGE`]).
    limit: Option<u32>,
}

/// Lines one page shows unless asked otherwise.
const DEFAULT_LINES: u32 = 100;
/// Most lines one page shows.
const MAX_LINES_PAGE: u32 = 1_000;

/// Lines `from..from + limit` of request `r`, and the index of the first line after them
/// (`None` when there is none).
fn lines_of(
    s: &ApiState,
    r: &PaymentRequest,
    from: u32,
    limit: u32,
) -> Result<(Vec<Transfer>, Option<u32>), ApiError> {
    let end = from.saturating_add(limit).min(r.lines);
    let mut lines = Vec::with_capacity(end.saturating_sub(from) as usize);
    for n in from..end {
        let t: Transfer = read(s, &line_key(r.id, n))?
            .ok_or_else(|| ApiError::internal(format!("line {n} of request {} missing", r.id)))?;
        lines.push(t);
    }
    Ok((lines, (end < r.lines).then_some(end)))
}

/// `GET /v1/payments/{id}?from=&limit=`: a payment request's summary with a page of its transfer
/// lines (from `from`, default 0; at most `limit`, default 100, at most 1000); `next_from` is
/// the `from` of the next page, `null` after the last line.
pub(crate) async fn payment(
    State(s): State<ApiState>,
    p: Result<Path<String>, PathRejection>,
    q: Result<Query<LinesQuery>, QueryRejection>,
) -> ApiResult<Value> {
    let id = id(p, "id")?;
    let q = query(q)?;
    let r: PaymentRequest = read(&s, &request_key(id))?
        .ok_or_else(|| ApiError::not_found(format!("id: no payment request {id}")))?;
    let limit = q.limit.unwrap_or(DEFAULT_LINES).clamp(1, MAX_LINES_PAGE);
    let (lines, next_from) = lines_of(&s, &r, q.from.unwrap_or(0), limit)?;
    Ok(Json(
        json!({ "request": r, "lines": lines, "next_from": next_from }),
    ))
}

/// Deepest contract tree the trail follows.
const MAX_TRAIL_DEPTH: usize = 8;
/// Most contracts one trail lists.
const MAX_TRAIL_CONTRACTS: usize = 1_000;
/// Most transfer lines one trail lists; a request past it lists its first lines and a
/// `next_from` to page on with `/v1/payments/{id}`.
const MAX_TRAIL_LINES: u32 = 20_000;

/// One contract with its payment requests (each with its transfer lines) and, recursively, its
/// subcontracts. `lines_left` is what remains of [`MAX_TRAIL_LINES`].
fn trail_of(
    s: &ApiState,
    id: u64,
    depth: usize,
    seen: &mut usize,
    lines_left: &mut u32,
) -> Result<Value, ApiError> {
    *seen += 1;
    let c: Contract = read(s, &contract_key(id))?
        .ok_or_else(|| ApiError::internal(format!("contract {id} missing")))?;
    let mut requests = Vec::with_capacity(c.requests.len());
    for r in &c.requests {
        if let Some(req) = read::<PaymentRequest>(s, &request_key(*r))? {
            let (lines, next_from) = lines_of(s, &req, 0, *lines_left)?;
            *lines_left -= lines.len() as u32;
            requests.push(json!({ "request": req, "lines": lines, "next_from": next_from }));
        }
    }
    let mut children = Vec::new();
    for child in &c.children {
        if depth + 1 >= MAX_TRAIL_DEPTH || *seen >= MAX_TRAIL_CONTRACTS {
            children.push(json!({ "contract": child, "truncated": true }));
            continue;
        }
        children.push(trail_of(s, *child, depth + 1, seen, lines_left)?);
    }
    Ok(json!({ "contract": c, "requests": requests, "subcontracts": children }))
}

/// `GET /v1/contracts/{id}/trail`: where every fen of a contract went: its payment requests
/// with every transfer line (to subcontractors and to each worker, with bank references), and
/// the same for every subcontract below it. At most 20 000 lines in all: a request cut short
/// has a non-null `next_from`.
pub(crate) async fn trail(
    State(s): State<ApiState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Value> {
    let id = id(p, "id")?;
    if read::<Contract>(&s, &contract_key(id))?.is_none() {
        return Err(ApiError::not_found(format!("id: no contract {id}")));
    }
    let (mut seen, mut lines_left) = (0, MAX_TRAIL_LINES);
    Ok(Json(trail_of(&s, id, 0, &mut seen, &mut lines_left)?))
}
