//! The `dkg` module: reshare the tender threshold key to each new validator set on chain,
//! under the same group public key (state model in [`xa_types::modules::dkg`]).
//!
//! - A round opens ([`sync_round`]) when governance decides a next set whose members all have
//!   registered DKG keys and differ from the current share holders; governance calls it after
//!   every change of `validators/next`, and `register_key` calls it too.
//! - `deal` (`1 of any role @ any`: the dealer log's own signature is the credential, as a
//!   partial signature is for `tender.open_share`) checks the log's signature for the open
//!   round and that its dealer has not dealt, and stores it. Every dealer may deal while the
//!   round is open, so that a bad dealing (valid signature, invalid content) from a faulty
//!   dealer cannot take the place of an honest one.
//! - `finish` (`1 of any role @ any`) names how many logs, the first in chain order, to use,
//!   and runs the observer (`golden::observe`, seeded from the chain id, the round and those
//!   logs: [`observe_round`]) on them. If they hold `required` valid dealings, the output goes
//!   in force. Checking the dealings' proofs takes seconds, so it is not done by `deal`: nodes
//!   compute the same output in the background after committing a block that brought a log
//!   (memoized in `reshare`) and only then post `finish`, whose execution is a memo lookup on a
//!   node that did so, and the same pure computation on one that did not.
//! - If the named logs hold too few valid dealings, `finish` is refused (nothing changes) while
//!   some dealer has not dealt: its log may still complete the round. Once every dealer's log
//!   is used and too few are valid (more than `f` faulty holders), the round fails and a new
//!   round (a new number) opens for the same sets.
//! - Until a round finishes, the previous output stays in force: its holders, validators or
//!   not, keep signing tender openings with their old shares. A round does not time out: only
//!   the holders of the output in force can deal, so waiting is all any rule could do; a change
//!   of the next set supersedes it.

use crate::{CallContext, Module, StateView, reshare};
use xa_types::{
    ErrorCode, Policy, TxError, decode, encode,
    modules::{
        dkg::*,
        identity::CHAIN_ADMIN,
        tender::{THRESHOLD_KEY, THRESHOLD_ROUND_KEY},
        validators::{NEXT_KEY, SET_KEY, ValidatorSet},
    },
    policy::{OrgScope, Rule},
};

/// The `dkg` module.
pub struct DkgModule;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, msg)
}

fn internal(e: impl std::fmt::Display) -> TxError {
    TxError::new(ErrorCode::Internal, e.to_string())
}

fn args<T: borsh::BorshDeserialize>(method: &str, bytes: &[u8]) -> Result<T, TxError> {
    decode(bytes).map_err(|e| invalid(format!("body.call.args: not dkg.{method} arguments ({e})")))
}

impl Module for DkgModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn methods(&self) -> &'static [&'static str] {
        METHODS
    }

    fn check(&self, method: &str, bytes: &[u8]) -> Result<(), TxError> {
        match method {
            DEAL => {
                let a: DealArgs = args(method, bytes)?;
                if a.log.is_empty() || a.log.len() > MAX_LOG_BYTES {
                    return Err(invalid(format!(
                        "args.log: must be 1 to {MAX_LOG_BYTES} bytes"
                    )));
                }
                Ok(())
            }
            FINISH => args::<FinishArgs>(method, bytes).map(|_| ()),
            REGISTER_KEY => {
                let a: RegisterKeyArgs = args(method, bytes)?;
                if a.consensus_key.len() != 32 {
                    return Err(invalid("args.consensus_key: must be 32 bytes"));
                }
                reshare::public_key(&a.dkg_key)
                    .map(|_| ())
                    .map_err(|e| invalid(format!("args.dkg_key: {e}")))
            }
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: dkg has no method '{other}'"),
            )),
        }
    }

    fn default_policy(&self, method: &str) -> Policy {
        match method {
            // Binding a DKG key to a validator is an administrative act, like adding it.
            REGISTER_KEY => Policy::single(Rule::new(1, &[CHAIN_ADMIN], OrgScope::Any)),
            _ => Policy::any_role(),
        }
    }

    fn execute(
        &self,
        ctx: &mut CallContext<'_>,
        method: &str,
        bytes: &[u8],
    ) -> Result<(), TxError> {
        match method {
            DEAL => deal(ctx, args(method, bytes)?),
            FINISH => finish(ctx, args(method, bytes)?),
            REGISTER_KEY => register_key(ctx, args(method, bytes)?),
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: dkg has no method '{other}'"),
            )),
        }
    }
}

fn register_key(ctx: &mut CallContext<'_>, a: RegisterKeyArgs) -> Result<(), TxError> {
    let key = dkg_key_key(&a.consensus_key);
    if ctx.get(&key)?.is_some() {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            "args.consensus_key: already has a DKG key (keys are never replaced)",
        ));
    }
    ctx.put(key, encode(&a.dkg_key));
    ctx.emit(
        MODULE,
        "key_registered",
        vec![("consensus_key".into(), hex::encode(&a.consensus_key))],
    );
    sync_round(ctx)
}

/// The output in force, decoded.
fn output_in_force(view: &CallContext<'_>) -> Result<Option<reshare::RoundOutput>, TxError> {
    let Some(o) = view.read::<DkgOutput>(OUTPUT_KEY)? else {
        return Ok(None);
    };
    reshare::RoundOutput::decode(o.round, &o.output)
        .map(Some)
        .map_err(internal)
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// Open, keep or supersede the reshare round so that it matches `validators/next` (or, with no
/// change pending, the set in force). Called
/// after every change of the next set and every key registration; a no-op on chains without a
/// DKG output. A next set that cannot be reshared to (more than
/// [`reshare::MAX_DKG_PLAYERS`] validators) fails the calling transaction.
pub fn sync_round(ctx: &mut CallContext<'_>) -> Result<(), TxError> {
    let Some(out) = output_in_force(ctx)? else {
        return Ok(());
    };
    let open: Option<DkgRound> = ctx.read(ROUND_KEY)?;
    // The set the shares should go to: the one governance decided, or (once it came into
    // force at an epoch boundary) the set in force.
    let target = match ctx.read::<ValidatorSet>(NEXT_KEY)? {
        Some(next) => Some(next),
        None => ctx.read::<ValidatorSet>(SET_KEY)?,
    };
    let players = match target {
        None => None,
        Some(set) => {
            let mut keys = Vec::with_capacity(set.validators.len());
            for v in &set.validators {
                match ctx.read::<Vec<u8>>(&dkg_key_key(&v.consensus_key))? {
                    Some(k) => keys.push(k),
                    // Not every member has a key yet: wait for its registration.
                    None => return Ok(()),
                }
            }
            Some(sorted(keys))
        }
    };
    let wanted = players.filter(|p| *p != sorted(out.players.clone()));
    if let Some(r) = &open
        && Some(sorted(r.players.clone())) == wanted
    {
        return Ok(());
    }
    if let Some(mut r) = open {
        r.status = RoundStatus::Superseded;
        ctx.put(round_key(r.round), encode(&r));
        ctx.delete(ROUND_KEY.to_vec());
        ctx.emit(
            MODULE,
            "round_superseded",
            vec![("round".into(), r.round.to_string())],
        );
    }
    match wanted {
        Some(players) => open_round(ctx, &out, players),
        None => Ok(()),
    }
}

fn open_round(
    ctx: &mut CallContext<'_>,
    out: &reshare::RoundOutput,
    players: Vec<Vec<u8>>,
) -> Result<(), TxError> {
    let number: u64 = ctx.read(NEXT_ROUND_KEY)?.unwrap_or(out.round + 1);
    let dealers = out.players.clone();
    let round = reshare::Round::new(ctx.chain_id, number, Some(&out.output), &dealers, &players)
        .map_err(|e| {
            invalid(format!(
                "validators/next: cannot reshare the tender key to it: {e}"
            ))
        })?;
    let record = DkgRound {
        round: number,
        previous: out.round,
        dealers,
        players,
        required: round.required(),
        dealt: Vec::new(),
        opened_height: ctx.height,
        status: RoundStatus::Open,
    };
    ctx.put(NEXT_ROUND_KEY.to_vec(), encode(&(number + 1)));
    ctx.put(ROUND_KEY.to_vec(), encode(&record));
    ctx.emit(
        MODULE,
        "round_opened",
        vec![
            ("round".into(), number.to_string()),
            ("dealers".into(), record.dealers.len().to_string()),
            ("players".into(), record.players.len().to_string()),
            ("required".into(), record.required.to_string()),
        ],
    );
    Ok(())
}

/// Rebuild a round's configuration from its record and the output it reshares.
pub fn round_of(
    chain_id: &str,
    record: &DkgRound,
    previous: &[u8],
) -> Result<reshare::Round, reshare::DkgError> {
    reshare::Round::new(
        chain_id,
        record.round,
        Some(previous),
        &record.dealers,
        &record.players,
    )
}

/// The agreed logs of a round, in chain order, from state.
pub fn logs_of(view: &dyn StateView, record: &DkgRound) -> Result<Vec<Vec<u8>>, TxError> {
    let mut logs = Vec::with_capacity(record.dealt.len());
    for d in &record.dealt {
        let log = view
            .get(&log_key(record.round, d))
            .map_err(internal)?
            .ok_or_else(|| internal(format!("dkg: log of round {} missing", record.round)))?;
        logs.push(decode::<Vec<u8>>(&log).map_err(internal)?);
    }
    Ok(logs)
}

/// The open round, which must be number `round`.
fn open(ctx: &CallContext<'_>, round: u64) -> Result<DkgRound, TxError> {
    let record: DkgRound = ctx.read(ROUND_KEY)?.ok_or_else(|| {
        TxError::new(
            ErrorCode::InvalidState,
            "args.round: no reshare round is open",
        )
    })?;
    if record.round != round {
        return Err(TxError::new(
            ErrorCode::InvalidState,
            format!("args.round: round {} is open, not {round}", record.round),
        ));
    }
    Ok(record)
}

fn deal(ctx: &mut CallContext<'_>, a: DealArgs) -> Result<(), TxError> {
    let mut record = open(ctx, a.round)?;
    let out = output_in_force(ctx)?
        .ok_or_else(|| internal("dkg: an open round without an output in force"))?;
    let round = round_of(ctx.chain_id, &record, &out.output).map_err(internal)?;
    let dealer = round
        .identify(&a.log)
        .map_err(|e| invalid(format!("args.log: {e}")))?;
    if record.dealt.contains(&dealer) {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!(
                "args.log: this dealer already dealt in round {}",
                record.round
            ),
        ));
    }
    ctx.put(log_key(record.round, &dealer), encode(&a.log));
    record.dealt.push(dealer);
    ctx.emit(
        MODULE,
        if record.dealt.len() as u32 == record.required {
            "logs_complete"
        } else {
            "dealt"
        },
        vec![
            ("round".into(), record.round.to_string()),
            ("dealt".into(), record.dealt.len().to_string()),
            ("required".into(), record.required.to_string()),
        ],
    );
    ctx.put(ROUND_KEY.to_vec(), encode(&record));
    Ok(())
}

/// The output of a round from its agreed logs: what `finish` computes, and what a node
/// computes ahead of it (same seed, so the same memo entry).
pub fn observe_round(
    chain_id: &str,
    suite: xa_types::Suite,
    record: &DkgRound,
    previous: &[u8],
    logs: &[Vec<u8>],
) -> Result<reshare::RoundOutput, reshare::DkgError> {
    let round = round_of(chain_id, record, previous)?;
    let number = record.round.to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![b"XA-DKG-OBSERVE-V1", chain_id.as_bytes(), &number];
    let lens: Vec<[u8; 8]> = logs
        .iter()
        .map(|l| (l.len() as u64).to_le_bytes())
        .collect();
    for (l, n) in logs.iter().zip(&lens) {
        parts.push(n);
        parts.push(l);
    }
    round.observe_memo(logs, suite.hash_parts(&parts).0)
}

fn finish(ctx: &mut CallContext<'_>, a: FinishArgs) -> Result<(), TxError> {
    let mut record = open(ctx, a.round)?;
    let dealt = record.dealt.len() as u32;
    if dealt < record.required {
        return Err(TxError::new(
            ErrorCode::InvalidState,
            format!(
                "args.round: round {} holds {dealt} of its {} logs",
                record.round, record.required
            ),
        ));
    }
    if a.logs < record.required || a.logs > dealt {
        return Err(invalid(format!(
            "args.logs: round {} needs {} to {dealt} logs, not {}",
            record.round, record.required, a.logs
        )));
    }
    let out = output_in_force(ctx)?
        .ok_or_else(|| internal("dkg: an open round without an output in force"))?;
    record.dealt.truncate(a.logs as usize);
    let logs = logs_of(ctx, &record)?;
    match observe_round(ctx.chain_id, ctx.suite, &record, &out.output, &logs) {
        Ok(next) => {
            let output = encode(&DkgOutput {
                round: next.round,
                output: next.output.clone(),
            });
            ctx.put(output_at_key(next.round), output.clone());
            ctx.put(OUTPUT_KEY.to_vec(), output);
            ctx.put(THRESHOLD_KEY.to_vec(), encode(&next.key));
            ctx.put(THRESHOLD_ROUND_KEY.to_vec(), encode(&next.round));
            record.status = RoundStatus::Done;
            ctx.put(round_key(record.round), encode(&record));
            ctx.delete(ROUND_KEY.to_vec());
            ctx.emit(
                MODULE,
                "reshared",
                vec![
                    ("round".into(), record.round.to_string()),
                    ("logs".into(), a.logs.to_string()),
                    ("players".into(), next.players.len().to_string()),
                    ("quorum".into(), next.quorum.to_string()),
                ],
            );
            // The next set may have changed again meanwhile.
            sync_round(ctx)
        }
        // Some dealer has not dealt yet: its log may still make up the valid dealings.
        Err(reshare::DkgError::Failed(_)) if (a.logs as usize) < record.dealers.len() => {
            Err(TxError::new(
                ErrorCode::InvalidState,
                format!(
                    "args.logs: the first {} logs of round {} hold fewer than {} valid dealings; \
                     the round stays open for the other dealers",
                    a.logs, record.round, record.required
                ),
            ))
        }
        Err(reshare::DkgError::Failed(_)) => {
            record.status = RoundStatus::Failed;
            ctx.put(round_key(record.round), encode(&record));
            ctx.delete(ROUND_KEY.to_vec());
            ctx.emit(
                MODULE,
                "round_failed",
                vec![("round".into(), record.round.to_string())],
            );
            open_round(ctx, &out, record.players)
        }
        Err(e) => Err(internal(e)),
    }
}
