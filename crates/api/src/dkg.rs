//! Read endpoints of the tender key's resharing (module `dkg`): which key is in force and where
//! it came from, the open round and how far its dealers got, and any past round's record.

use crate::{
    ApiError, ApiResult, ApiState,
    tender::{id, read},
};
use axum::{
    Json, Router,
    extract::{Path, State, rejection::PathRejection},
    routing::get,
};
use serde_json::{Value, json};
use xa_execution::reshare::RoundOutput;
use xa_types::modules::{
    dkg::{
        DkgOutput, DkgRound, NEXT_ROUND_KEY, OUTPUT_KEY, ROUND_KEY, RoundStatus, log_key, round_key,
    },
    tender::{THRESHOLD_KEY, THRESHOLD_ROUND_KEY, ThresholdKey},
};

/// The routes of this file, merged into the API router.
pub(crate) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v1/dkg", get(summary))
        .route("/v1/dkg/rounds/{round}", get(round))
}

/// A round record as served, with (while it is open) the dealers it still waits for.
fn round_json(r: &DkgRound) -> Value {
    let waiting: Vec<String> = match r.status {
        RoundStatus::Open => r
            .dealers
            .iter()
            .filter(|d| !r.dealt.contains(d))
            .map(hex::encode)
            .collect(),
        _ => Vec::new(),
    };
    json!({ "record": r, "dealt_count": r.dealt.len(), "waiting_for": waiting })
}

/// `GET /v1/dkg`: the tender key in force (round, quorum, players, group key) and its source,
/// the open reshare round if any, and the next round number.
pub(crate) async fn summary(State(s): State<ApiState>) -> ApiResult<Value> {
    let (height, _) = s.chain.tip();
    let key: Option<ThresholdKey> = read(&s, THRESHOLD_KEY)?;
    let key_round: u64 = read(&s, THRESHOLD_ROUND_KEY)?.unwrap_or(0);
    let output: Option<DkgOutput> = read(&s, OUTPUT_KEY)?;
    let in_force = match &output {
        None => None,
        Some(o) => {
            let out = RoundOutput::decode(o.round, &o.output).map_err(ApiError::internal)?;
            let group_key = out.group_key().map_err(ApiError::internal)?;
            Some(json!({
                "round": o.round,
                "quorum": out.quorum,
                "players": out.players.iter().map(hex::encode).collect::<Vec<_>>(),
                "group_key": hex::encode(group_key),
            }))
        }
    };
    let source = match (&key, &output) {
        (None, _) => "none",
        (Some(_), None) => "trusted_dealer_devnet_only",
        (Some(_), Some(o)) if o.round == 0 => "golden_round_zero_trusted_setup_devnet_only",
        (Some(_), Some(_)) => "golden_reshare",
    };
    let open: Option<DkgRound> = read(&s, ROUND_KEY)?;
    let next_round: Option<u64> = read(&s, NEXT_ROUND_KEY)?;
    Ok(Json(json!({
        "height": height,
        "source": source,
        "reshares": output.is_some(),
        "key_round": key_round,
        "shares": key.map(|k| k.players),
        "in_force": in_force,
        "open_round": open.as_ref().map(round_json),
        "next_round": next_round.or(output.map(|o| o.round + 1)),
    })))
}

/// `GET /v1/dkg/rounds/{round}`: a round's record (open, done, failed or superseded) and the
/// size of each dealer log on chain.
pub(crate) async fn round(
    State(s): State<ApiState>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Value> {
    let number = id(p, "round")?;
    let open: Option<DkgRound> = read(&s, ROUND_KEY)?;
    let record = match open.filter(|r| r.round == number) {
        Some(r) => r,
        None => read::<DkgRound>(&s, &round_key(number))?
            .ok_or_else(|| ApiError::not_found(format!("round: no DKG round {number}")))?,
    };
    let mut logs = Vec::with_capacity(record.dealt.len());
    for dealer in &record.dealt {
        let log: Option<Vec<u8>> = read(&s, &log_key(number, dealer))?;
        logs.push(json!({
            "dealer": hex::encode(dealer),
            "bytes": log.map(|l| l.len()),
        }));
    }
    let mut v = round_json(&record);
    v["logs"] = Value::Array(logs);
    Ok(Json(v))
}
