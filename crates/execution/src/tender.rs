//! The tender module (招投标): see [`xa_types::modules::tender`] for the life of a tender and
//! [`crate::sealing`] for how bids stay sealed until the validators open them together.
//!
//! Roles (default policies; governance may override each):
//! - `publish`: `1 of tender_agency @ any`
//! - `submit_bid`, `withdraw_bid`, `object`: `1 of company @ any`
//! - `close`, `publicize`, `award`: `1 of tender_agency @ own`, `own` being the organization of
//!   the agency that published the tender
//! - `open_share`: `1 of any role @ any` (the partial signature itself proves the validator)
//! - `score`: `1 of expert @ any`, and the module checks the expert is on the committee
//! - `answer`: `1 of supervisor @ own`, `own` being the tender's supervisory department
//!
//! All times are the executing block's consensus time (`ctx.time_ms`).

use crate::{CallContext, Module, StateView, policy, sealing};
use xa_types::{
    Address, ErrorCode, Policy, TxError, decode, encode,
    modules::accounts::{Account, account_key},
    modules::identity::{Org, org_key},
    modules::tender::*,
    policy::{OrgScope, Rule, validate_org_id},
};

/// The tender module.
pub struct TenderModule;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, msg)
}

fn state_err(t: &Tender, wanted: &str) -> TxError {
    TxError::new(
        ErrorCode::InvalidState,
        format!(
            "args.tender: tender {} is {}, not {wanted}",
            t.id,
            t.status.as_str()
        ),
    )
}

fn args<T: borsh::BorshDeserialize>(method: &str, bytes: &[u8]) -> Result<T, TxError> {
    decode(bytes).map_err(|e| {
        invalid(format!(
            "body.call.args: not tender.{method} arguments ({e})"
        ))
    })
}

fn text(field: &str, s: &str) -> Result<(), TxError> {
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(invalid(format!("{field}: must be 1 to {MAX_TEXT} bytes")));
    }
    Ok(())
}

fn stateless(method: &str, bytes: &[u8]) -> Result<(), TxError> {
    match method {
        PUBLISH => {
            let a: PublishArgs = args(method, bytes)?;
            text("args.title", &a.title)?;
            if a.min_bidders < MIN_BIDDERS {
                return Err(invalid(format!(
                    "args.min_bidders: must be at least {MIN_BIDDERS}, got {}",
                    a.min_bidders
                )));
            }
            if a.opening_ms < a.deadline_ms {
                return Err(invalid(
                    "args.opening_ms: must not be before args.deadline_ms",
                ));
            }
            if a.experts.is_empty() || a.experts.len() > MAX_EXPERTS {
                return Err(invalid(format!(
                    "args.experts: 1 to {MAX_EXPERTS} accounts"
                )));
            }
            let mut e = a.experts.clone();
            e.sort();
            e.dedup();
            if e.len() != a.experts.len() {
                return Err(invalid("args.experts: an expert is listed twice"));
            }
            validate_org_id(&a.supervisor_org)
                .map_err(|e| invalid(format!("args.supervisor_org: {e}")))
        }
        SUBMIT_BID => {
            let a: SubmitBidArgs = args(method, bytes)?;
            if a.bid.ciphertext.is_empty() || a.bid.ciphertext.len() > MAX_CIPHERTEXT {
                return Err(invalid(format!(
                    "args.bid.ciphertext: must be 1 to {MAX_CIPHERTEXT} bytes"
                )));
            }
            if a.bid.sealed_key.is_empty() || a.bid.sealed_key.len() > MAX_SEALED_KEY {
                return Err(invalid(format!(
                    "args.bid.sealed_key: must be 1 to {MAX_SEALED_KEY} bytes"
                )));
            }
            Ok(())
        }
        WITHDRAW_BID | CLOSE | AWARD => args::<TenderIdArgs>(method, bytes).map(|_| ()),
        OPEN_SHARE => {
            let a: OpenShareArgs = args(method, bytes)?;
            if a.partial.is_empty() || a.partial.len() > 256 {
                return Err(invalid("args.partial: must be 1 to 256 bytes"));
            }
            Ok(())
        }
        SCORE => {
            let a: ScoreArgs = args(method, bytes)?;
            if a.items.is_empty() || a.items.len() > MAX_ITEMS {
                return Err(invalid(format!("args.items: 1 to {MAX_ITEMS} items")));
            }
            for (i, (name, _)) in a.items.iter().enumerate() {
                text(&format!("args.items[{i}].0"), name)?;
            }
            Ok(())
        }
        PUBLICIZE => args::<PublicizeArgs>(method, bytes).map(|_| ()),
        OBJECT => {
            let a: ObjectArgs = args(method, bytes)?;
            text("args.reason", &a.reason)
        }
        ANSWER => args::<AnswerArgs>(method, bytes).map(|_| ()),
        other => Err(TxError::new(
            ErrorCode::UnknownMethod,
            format!("body.call.method: tender has no method '{other}'"),
        )),
    }
}

/// The tender id a call names (every call but `publish` names one).
fn tender_of(method: &str, bytes: &[u8]) -> Result<Option<u64>, TxError> {
    Ok(match method {
        PUBLISH => None,
        SUBMIT_BID => Some(args::<SubmitBidArgs>(method, bytes)?.tender),
        WITHDRAW_BID | CLOSE | AWARD => Some(args::<TenderIdArgs>(method, bytes)?.tender),
        OPEN_SHARE => Some(args::<OpenShareArgs>(method, bytes)?.tender),
        SCORE => Some(args::<ScoreArgs>(method, bytes)?.tender),
        PUBLICIZE => Some(args::<PublicizeArgs>(method, bytes)?.tender),
        OBJECT => Some(args::<ObjectArgs>(method, bytes)?.tender),
        ANSWER => Some(args::<AnswerArgs>(method, bytes)?.tender),
        _ => None,
    })
}

fn load(ctx: &CallContext<'_>, id: u64) -> Result<Tender, TxError> {
    ctx.read::<Tender>(&tender_key(id))?
        .ok_or_else(|| TxError::new(ErrorCode::NotFound, format!("args.tender: no tender {id}")))
}

fn save(ctx: &mut CallContext<'_>, t: &Tender) {
    ctx.put(tender_key(t.id), encode(t));
}

fn attrs(t: &Tender, more: &[(&str, String)]) -> Vec<(String, String)> {
    let mut v = vec![
        ("tender".to_string(), t.id.to_string()),
        ("status".to_string(), t.status.as_str().to_string()),
    ];
    v.extend(more.iter().map(|(k, v)| (k.to_string(), v.clone())));
    v
}

/// The bidding deadline has passed at this block's consensus time.
fn past_deadline(ctx: &CallContext<'_>, t: &Tender) -> bool {
    ctx.time_ms >= t.deadline_ms
}

fn deadline_passed(t: &Tender, now: u64) -> TxError {
    TxError::new(
        ErrorCode::DeadlinePassed,
        format!(
            "args.tender: the deadline of tender {} ({} ms) has passed (block time {now} ms)",
            t.id, t.deadline_ms
        ),
    )
}

impl Module for TenderModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn check(&self, method: &str, bytes: &[u8]) -> Result<(), TxError> {
        stateless(method, bytes)
    }

    fn roles(&self) -> &'static [&'static str] {
        &[TENDER_AGENCY, EXPERT, SUPERVISOR, OWNER]
    }

    fn default_policy(&self, method: &str) -> Policy {
        let one = |role: &str, orgs: OrgScope| Policy::single(Rule::new(1, &[role], orgs));
        match method {
            PUBLISH => one(TENDER_AGENCY, OrgScope::Any),
            SUBMIT_BID | WITHDRAW_BID | OBJECT => one(COMPANY, OrgScope::Any),
            CLOSE | PUBLICIZE | AWARD => one(TENDER_AGENCY, OrgScope::Own),
            SCORE => one(EXPERT, OrgScope::Any),
            ANSWER => one(SUPERVISOR, OrgScope::Own),
            _ => Policy::any_role(),
        }
    }

    fn target_org(
        &self,
        method: &str,
        bytes: &[u8],
        view: &dyn StateView,
    ) -> Result<Option<String>, TxError> {
        let Ok(Some(id)) = tender_of(method, bytes) else {
            return Ok(None);
        };
        let Some(t) = policy::read::<Tender>(view, &tender_key(id))? else {
            return Ok(None);
        };
        Ok(match method {
            CLOSE | PUBLICIZE | AWARD => Some(t.agency_org),
            ANSWER => Some(t.supervisor_org),
            _ => None,
        })
    }

    fn execute(
        &self,
        ctx: &mut CallContext<'_>,
        method: &str,
        bytes: &[u8],
    ) -> Result<(), TxError> {
        stateless(method, bytes)?;
        match method {
            PUBLISH => publish(ctx, args(method, bytes)?),
            SUBMIT_BID => submit_bid(ctx, args(method, bytes)?),
            WITHDRAW_BID => withdraw_bid(ctx, args(method, bytes)?),
            CLOSE => close(ctx, args(method, bytes)?),
            OPEN_SHARE => open_share(ctx, args(method, bytes)?),
            SCORE => score(ctx, args(method, bytes)?),
            PUBLICIZE => publicize(ctx, args(method, bytes)?),
            OBJECT => object(ctx, args(method, bytes)?),
            ANSWER => answer(ctx, args(method, bytes)?),
            AWARD => award(ctx, args(method, bytes)?),
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: tender has no method '{other}'"),
            )),
        }
    }
}

fn publish(ctx: &mut CallContext<'_>, a: PublishArgs) -> Result<(), TxError> {
    if a.deadline_ms <= ctx.time_ms {
        return Err(invalid(format!(
            "args.deadline_ms: {} is not after the block time {}",
            a.deadline_ms, ctx.time_ms
        )));
    }
    for (i, e) in a.experts.iter().enumerate() {
        let ok = ctx
            .read::<Account>(&account_key(e))?
            .is_some_and(|acct| acct.is_active() && acct.has_role(EXPERT));
        if !ok {
            return Err(invalid(format!(
                "args.experts[{i}]: {e} is not an active account holding '{EXPERT}'"
            )));
        }
    }
    if ctx.read::<Org>(&org_key(&a.supervisor_org))?.is_none() {
        return Err(TxError::new(
            ErrorCode::NotFound,
            format!(
                "args.supervisor_org: no organization '{}'",
                a.supervisor_org
            ),
        ));
    }
    let agency = ctx
        .read::<Account>(&account_key(&ctx.sender))?
        .ok_or_else(|| TxError::new(ErrorCode::UnknownAccount, "body.sender: not registered"))?;
    let id: u64 = ctx.read(NEXT_ID_KEY)?.unwrap_or(1);
    ctx.put(NEXT_ID_KEY.to_vec(), encode(&(id + 1)));
    let t = Tender {
        id,
        title: a.title,
        documents_digest: a.documents_digest,
        owner: a.owner,
        agency: ctx.sender,
        agency_org: agency.org,
        deadline_ms: a.deadline_ms,
        opening_ms: a.opening_ms,
        min_bidders: a.min_bidders,
        experts: a.experts,
        supervisor_org: a.supervisor_org,
        status: TenderStatus::Bidding,
        bidders: Vec::new(),
        published_ms: ctx.time_ms,
        candidate: None,
        publicity: None,
        objections: 0,
        open_objections: 0,
        suspended_since_ms: None,
        award: None,
    };
    save(ctx, &t);
    ctx.emit(
        MODULE,
        "published",
        attrs(&t, &[("deadline_ms", t.deadline_ms.to_string())]),
    );
    Ok(())
}

fn submit_bid(ctx: &mut CallContext<'_>, a: SubmitBidArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    if t.status != TenderStatus::Bidding || past_deadline(ctx, &t) {
        return Err(deadline_passed(&t, ctx.time_ms));
    }
    let key = bid_key(t.id, &ctx.sender);
    let replaced = match ctx.read::<Bid>(&key)? {
        Some(old) => old.replaced + 1,
        None => {
            if t.bidders.len() >= MAX_BIDDERS {
                return Err(TxError::new(
                    ErrorCode::InvalidState,
                    format!(
                        "args.tender: tender {} already has {MAX_BIDDERS} bids",
                        t.id
                    ),
                ));
            }
            let pos = t.bidders.binary_search(&ctx.sender).unwrap_or_else(|p| p);
            t.bidders.insert(pos, ctx.sender);
            0
        }
    };
    let bid = Bid {
        tender: t.id,
        bidder: ctx.sender,
        sealed: a.bid,
        submitted_ms: ctx.time_ms,
        receipt: ctx.tx_hash,
        replaced,
    };
    ctx.put(key, encode(&bid));
    save(ctx, &t);
    // Only what is public anyway: who bid, when, and the commitment.
    let bidder = ctx.sender.to_string();
    let commitment = bid.sealed.commitment.to_string();
    ctx.emit(
        MODULE,
        if replaced == 0 {
            "bid_submitted"
        } else {
            "bid_replaced"
        },
        attrs(&t, &[("bidder", bidder), ("commitment", commitment)]),
    );
    Ok(())
}

fn withdraw_bid(ctx: &mut CallContext<'_>, a: TenderIdArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    if t.status != TenderStatus::Bidding || past_deadline(ctx, &t) {
        return Err(deadline_passed(&t, ctx.time_ms));
    }
    let key = bid_key(t.id, &ctx.sender);
    if ctx.get(&key)?.is_none() {
        return Err(TxError::new(
            ErrorCode::NotFound,
            format!("args.tender: {} has no bid on tender {}", ctx.sender, t.id),
        ));
    }
    ctx.delete(key);
    t.bidders.retain(|b| *b != ctx.sender);
    save(ctx, &t);
    let bidder = ctx.sender.to_string();
    ctx.emit(MODULE, "bid_withdrawn", attrs(&t, &[("bidder", bidder)]));
    Ok(())
}

fn close(ctx: &mut CallContext<'_>, a: TenderIdArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    if t.status != TenderStatus::Bidding {
        return Err(state_err(&t, "BIDDING"));
    }
    if !past_deadline(ctx, &t) {
        return Err(TxError::new(
            ErrorCode::TooEarly,
            format!(
                "args.tender: bidding on tender {} runs until {} ms (block time {} ms)",
                t.id, t.deadline_ms, ctx.time_ms
            ),
        ));
    }
    t.status = if (t.bidders.len() as u32) < t.min_bidders {
        TenderStatus::Failed
    } else {
        TenderStatus::Closed
    };
    if t.status == TenderStatus::Closed {
        let mut waiting: Vec<u64> = ctx.read(AWAITING_OPEN_KEY)?.unwrap_or_default();
        if let Err(pos) = waiting.binary_search(&t.id) {
            waiting.insert(pos, t.id);
        }
        ctx.put(AWAITING_OPEN_KEY.to_vec(), encode(&waiting));
    }
    save(ctx, &t);
    let n = t.bidders.len().to_string();
    ctx.emit(MODULE, "closed", attrs(&t, &[("bids", n)]));
    Ok(())
}

fn open_share(ctx: &mut CallContext<'_>, a: OpenShareArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    // Opened already: other validators' shares reached the threshold while this one was on
    // its way (every validator posts as soon as the opening time comes). A valid partial of a
    // key holder is then accepted without effect, so that racing its peers leaves no failed
    // receipt behind; anything else is refused as before.
    let late = t.status != TenderStatus::Closed && ctx.get(&opening_key(t.id))?.is_some();
    if t.status != TenderStatus::Closed && !late {
        return Err(state_err(&t, "CLOSED"));
    }
    if ctx.time_ms < t.opening_ms {
        return Err(TxError::new(
            ErrorCode::TooEarly,
            format!(
                "args.tender: tender {} opens at {} ms (block time {} ms)",
                t.id, t.opening_ms, ctx.time_ms
            ),
        ));
    }
    let key: ThresholdKey = ctx.read(THRESHOLD_KEY)?.ok_or_else(|| {
        TxError::new(
            ErrorCode::InvalidState,
            "tender/threshold: this chain has no threshold key for opening bids",
        )
    })?;
    let sharing =
        sealing::sharing(&key).map_err(|e| TxError::new(ErrorCode::Internal, e.to_string()))?;
    let (index, _) = sealing::verify_partial(&sharing, ctx.chain_id, t.id, &a.partial)
        .map_err(|e| invalid(format!("args.partial: {e}")))?;
    if late {
        ctx.emit(
            MODULE,
            "share_unneeded",
            attrs(&t, &[("share", index.to_string())]),
        );
        return Ok(());
    }
    let skey = shares_key(t.id);
    let mut shares: Vec<(u32, Vec<u8>)> = ctx.read(&skey)?.unwrap_or_default();
    // Partials posted under an earlier threshold key (before a reshare finished) are partials
    // of another sharing: they no longer count, and the new holders sign afresh.
    let key_round: u64 = ctx.read(THRESHOLD_ROUND_KEY)?.unwrap_or(0);
    let rkey = shares_round_key(t.id);
    let shares_round: u64 = ctx.read(&rkey)?.unwrap_or(0);
    if shares_round != key_round {
        if !shares.is_empty() {
            ctx.emit(
                MODULE,
                "shares_discarded",
                attrs(
                    &t,
                    &[
                        ("shares", shares.len().to_string()),
                        ("key_round", key_round.to_string()),
                    ],
                ),
            );
        }
        shares.clear();
        ctx.put(rkey, encode(&key_round));
    }
    if shares.iter().any(|(i, _)| *i == index) {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!(
                "args.partial: share {index} of tender {} is already on chain",
                t.id
            ),
        ));
    }
    shares.push((index, a.partial));
    shares.sort_by_key(|(i, _)| *i);
    ctx.put(skey, encode(&shares));
    let count = shares.len().to_string();
    ctx.emit(
        MODULE,
        "share_posted",
        attrs(&t, &[("share", index.to_string()), ("shares", count)]),
    );
    if (shares.len() as u32) < sharing.required() {
        return Ok(());
    }
    // Threshold reached: recover the group signature and open every bid at once.
    let mut partials = Vec::with_capacity(shares.len());
    for (_, p) in &shares {
        let (_, p) = sealing::verify_partial(&sharing, ctx.chain_id, t.id, p)
            .map_err(|e| TxError::new(ErrorCode::Internal, e.to_string()))?;
        partials.push(p);
    }
    let signature = sealing::recover(&sharing, &partials)
        .map_err(|e| TxError::new(ErrorCode::Internal, e.to_string()))?;
    let mut opened = Vec::with_capacity(t.bidders.len());
    let mut valid = 0u32;
    for bidder in &t.bidders {
        let bid: Bid = ctx
            .read(&bid_key(t.id, bidder))?
            .ok_or_else(|| TxError::new(ErrorCode::Internal, format!("bid of {bidder} missing")))?;
        match sealing::open_bid(
            &signature,
            ctx.suite,
            ctx.chain_id,
            t.id,
            bidder,
            &bid.sealed,
        ) {
            Ok(content) => {
                valid += 1;
                opened.push(OpenedBid {
                    bidder: *bidder,
                    content: Some(content),
                    invalid_reason: String::new(),
                });
            }
            Err(e) => opened.push(OpenedBid {
                bidder: *bidder,
                content: None,
                invalid_reason: format!("{e}: counts as withdrawn"),
            }),
        }
    }
    let opening = Opening {
        tender: t.id,
        signature: sealing::signature_bytes(&signature),
        shares: shares.iter().map(|(i, _)| *i).collect(),
        opened_ms: ctx.time_ms,
        bids: opened,
        valid,
    };
    ctx.put(opening_key(t.id), encode(&opening));
    let mut waiting: Vec<u64> = ctx.read(AWAITING_OPEN_KEY)?.unwrap_or_default();
    waiting.retain(|id| *id != t.id);
    ctx.put(AWAITING_OPEN_KEY.to_vec(), encode(&waiting));
    t.status = if valid < t.min_bidders {
        TenderStatus::Failed
    } else {
        TenderStatus::Evaluating
    };
    save(ctx, &t);
    ctx.emit(
        MODULE,
        "opened",
        attrs(&t, &[("valid_bids", valid.to_string())]),
    );
    Ok(())
}

fn opening(ctx: &CallContext<'_>, t: &Tender) -> Result<Opening, TxError> {
    ctx.read(&opening_key(t.id))?
        .ok_or_else(|| TxError::new(ErrorCode::Internal, "opening missing"))
}

fn valid_bid(o: &Opening, bidder: &Address) -> Option<u64> {
    o.bids
        .iter()
        .find(|b| b.bidder == *bidder)
        .and_then(|b| b.content.as_ref().map(|c| c.price))
}

fn score(ctx: &mut CallContext<'_>, a: ScoreArgs) -> Result<(), TxError> {
    let t = load(ctx, a.tender)?;
    if t.status != TenderStatus::Evaluating {
        return Err(state_err(&t, "EVALUATING"));
    }
    if !t.experts.contains(&ctx.sender) {
        return Err(TxError::new(
            ErrorCode::PermissionDenied,
            format!(
                "body.sender: {} is not on the evaluation committee of tender {}",
                ctx.sender, t.id
            ),
        ));
    }
    if valid_bid(&opening(ctx, &t)?, &a.bidder).is_none() {
        return Err(invalid(format!(
            "args.bidder: {} has no valid bid on tender {}",
            a.bidder, t.id
        )));
    }
    let total = a.items.iter().map(|(_, p)| u64::from(*p)).sum();
    let s = Score {
        expert: ctx.sender,
        bidder: a.bidder,
        items: a.items,
        total,
        tx_hash: ctx.tx_hash,
    };
    ctx.put(score_key(t.id, &ctx.sender, &a.bidder), encode(&s));
    let more = [
        ("expert", ctx.sender.to_string()),
        ("bidder", a.bidder.to_string()),
        ("total", total.to_string()),
    ];
    ctx.emit(MODULE, "scored", attrs(&t, &more));
    Ok(())
}

fn publicize(ctx: &mut CallContext<'_>, a: PublicizeArgs) -> Result<(), TxError> {
    let min: u64 = ctx.read(MIN_PUBLICITY_KEY)?.unwrap_or(MIN_PUBLICITY_MS);
    if a.duration_ms < min {
        return Err(invalid(format!(
            "args.duration_ms: publicity lasts at least {min} ms, got {}",
            a.duration_ms
        )));
    }
    let mut t = load(ctx, a.tender)?;
    if t.status != TenderStatus::Evaluating {
        return Err(state_err(&t, "EVALUATING"));
    }
    if valid_bid(&opening(ctx, &t)?, &a.candidate).is_none() {
        return Err(invalid(format!(
            "args.candidate: {} has no valid bid on tender {}",
            a.candidate, t.id
        )));
    }
    for e in &t.experts {
        if ctx.get(&score_key(t.id, e, &a.candidate))?.is_none() {
            return Err(TxError::new(
                ErrorCode::InvalidState,
                format!("args.candidate: expert {e} has not scored {}", a.candidate),
            ));
        }
    }
    let end = ctx
        .time_ms
        .checked_add(a.duration_ms)
        .ok_or_else(|| invalid("args.duration_ms: too large"))?;
    t.candidate = Some(a.candidate);
    t.publicity = Some(Publicity {
        start_ms: ctx.time_ms,
        end_ms: end,
    });
    t.status = TenderStatus::Publicity;
    save(ctx, &t);
    let more = [
        ("candidate", a.candidate.to_string()),
        ("end_ms", end.to_string()),
    ];
    ctx.emit(MODULE, "publicized", attrs(&t, &more));
    Ok(())
}

fn object(ctx: &mut CallContext<'_>, a: ObjectArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    let end = t.publicity.as_ref().map(|p| p.end_ms).unwrap_or_default();
    let in_period = match t.status {
        TenderStatus::Suspended => true,
        TenderStatus::Publicity => ctx.time_ms < end,
        _ => false,
    };
    if !in_period {
        return Err(state_err(&t, "in its publicity period"));
    }
    // Those the evaluation's result concerns: the tender's bidders (a withdrawn bid is no
    // longer one; a bid found invalid at the opening still is).
    if !t.bidders.contains(&ctx.sender) {
        return Err(TxError::new(
            ErrorCode::PermissionDenied,
            format!(
                "body.sender: {} did not bid on tender {}; only its bidders may object",
                ctx.sender, t.id
            ),
        ));
    }
    let n = t.objections;
    let o = Objection {
        objector: ctx.sender,
        reason: a.reason,
        document_digest: a.document_digest,
        filed_ms: ctx.time_ms,
        answered_ms: None,
        answered_by: None,
        answer_digest: None,
    };
    ctx.put(objection_key(t.id, n), encode(&o));
    t.objections += 1;
    t.open_objections += 1;
    if t.status == TenderStatus::Publicity {
        t.status = TenderStatus::Suspended;
        t.suspended_since_ms = Some(ctx.time_ms);
    }
    save(ctx, &t);
    let objector = ctx.sender.to_string();
    ctx.emit(
        MODULE,
        "objected",
        attrs(&t, &[("objection", n.to_string()), ("objector", objector)]),
    );
    Ok(())
}

fn answer(ctx: &mut CallContext<'_>, a: AnswerArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    let key = objection_key(t.id, a.objection);
    let mut o: Objection = ctx.read(&key)?.ok_or_else(|| {
        TxError::new(
            ErrorCode::NotFound,
            format!(
                "args.objection: tender {} has no objection {}",
                t.id, a.objection
            ),
        )
    })?;
    if o.answered_ms.is_some() {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!(
                "args.objection: objection {} was already answered",
                a.objection
            ),
        ));
    }
    o.answered_ms = Some(ctx.time_ms);
    o.answered_by = Some(ctx.sender);
    o.answer_digest = Some(a.answer_digest);
    ctx.put(key, encode(&o));
    t.open_objections = t.open_objections.saturating_sub(1);
    if t.open_objections == 0 && t.status == TenderStatus::Suspended {
        // The pause stops the publicity clock: push its end back by the time suspended.
        let paused = ctx
            .time_ms
            .saturating_sub(t.suspended_since_ms.unwrap_or(ctx.time_ms));
        if let Some(p) = t.publicity.as_mut() {
            p.end_ms = p.end_ms.saturating_add(paused);
        }
        t.suspended_since_ms = None;
        t.status = TenderStatus::Publicity;
    }
    save(ctx, &t);
    ctx.emit(
        MODULE,
        "answered",
        attrs(&t, &[("objection", a.objection.to_string())]),
    );
    Ok(())
}

fn award(ctx: &mut CallContext<'_>, a: TenderIdArgs) -> Result<(), TxError> {
    let mut t = load(ctx, a.tender)?;
    if t.status == TenderStatus::Suspended {
        return Err(TxError::new(
            ErrorCode::InvalidState,
            format!(
                "args.tender: tender {} is SUSPENDED: {} objection(s) unanswered",
                t.id, t.open_objections
            ),
        ));
    }
    if t.status != TenderStatus::Publicity {
        return Err(state_err(&t, "PUBLICITY"));
    }
    let (Some(p), Some(winner)) = (t.publicity.clone(), t.candidate) else {
        return Err(TxError::new(ErrorCode::Internal, "publicity missing"));
    };
    if ctx.time_ms < p.end_ms {
        return Err(TxError::new(
            ErrorCode::TooEarly,
            format!(
                "args.tender: publicity of tender {} runs until {} ms (block time {} ms)",
                t.id, p.end_ms, ctx.time_ms
            ),
        ));
    }
    let price = valid_bid(&opening(ctx, &t)?, &winner)
        .ok_or_else(|| TxError::new(ErrorCode::Internal, "candidate bid missing"))?;
    t.award = Some(Award {
        winner,
        price,
        awarded_ms: ctx.time_ms,
    });
    t.status = TenderStatus::Awarded;
    save(ctx, &t);
    let more = [("winner", winner.to_string()), ("price", price.to_string())];
    ctx.emit(MODULE, "awarded", attrs(&t, &more));
    Ok(())
}
