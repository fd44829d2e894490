//! The payment module: contracts from awards, milestones, and penetrating payment down to
//! workers' wages. See [`xa_types::modules::payment`] for the money model.
//!
//! Default policies (governance may override each):
//! - `contract_from_award`, `subcontract`, `request`, `approve`: `1 of any role @ any`; the
//!   module checks the party (the tender's owner, the parent's payee, the contract's payee,
//!   the contract's payer)
//! - `accept_milestone`: `1 of supervisor @ own` (the contract's supervisory department), and
//!   the module requires the contract's payer to co-sign the same transaction
//! - `review`: `1 of supervisor @ own`
//! - `reject`: `1 of any role @ any`; the module requires the payer or a supervisor of the
//!   department
//! - `post_transfer`: `1 of bank @ any`
//! - `settle`: `1 of any role @ any`; the module requires the contract's payee
//!
//! Each transfer line is its own record (`payment/request/{id}/line/{n}`, see
//! [`xa_types::modules::payment`]): a bank posting reads and writes that one line and the
//! request's small summary, never the other lines, so its cost does not grow with the payroll.
//!
//! **Settlement.** A PAID request becomes SETTLED when the payee side confirms receipt: the
//! contract's payee, for every kind. For a progress or material payment that is the party the
//! money went to. For a payroll the money went to the workers, who need not hold accounts on
//! the chain (a line's worker may be the digest of their identity), so the contractor that
//! filed the payroll (the contract's payee; only it may request) confirms, once every line is
//! paid, that the payroll is complete, e.g. after reconciling the bank's statement. Settling
//! moves no money; it closes the request for good.

use crate::{CallContext, Module, StateView, policy};
use xa_types::{
    ErrorCode, Policy, TxError, decode, encode,
    modules::identity::{BANK, Org, org_key},
    modules::payment::*,
    modules::tender::{SUPERVISOR, Tender, TenderStatus, tender_key},
    policy::{OrgScope, Rule, validate_org_id},
};

/// The payment module.
pub struct PaymentModule;

fn invalid(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, msg)
}

fn denied(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::PermissionDenied, msg)
}

fn args<T: borsh::BorshDeserialize>(method: &str, bytes: &[u8]) -> Result<T, TxError> {
    decode(bytes).map_err(|e| {
        invalid(format!(
            "body.call.args: not payment.{method} arguments ({e})"
        ))
    })
}

fn text(field: &str, s: &str) -> Result<(), TxError> {
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(invalid(format!("{field}: must be 1 to {MAX_TEXT} bytes")));
    }
    Ok(())
}

fn milestones(field: &str, m: &[MilestoneSpec]) -> Result<u64, TxError> {
    if m.len() > MAX_MILESTONES {
        return Err(invalid(format!(
            "{field}: at most {MAX_MILESTONES} milestones"
        )));
    }
    let mut sum: u64 = 0;
    for (i, s) in m.iter().enumerate() {
        text(&format!("{field}[{i}].name"), &s.name)?;
        if s.amount == 0 {
            return Err(invalid(format!("{field}[{i}].amount: must be positive")));
        }
        sum = sum
            .checked_add(s.amount)
            .ok_or_else(|| invalid(format!("{field}: amounts overflow")))?;
    }
    Ok(sum)
}

fn stateless(method: &str, bytes: &[u8]) -> Result<(), TxError> {
    match method {
        CONTRACT_FROM_AWARD => {
            let a: ContractFromAwardArgs = args(method, bytes)?;
            milestones("args.milestones", &a.milestones)?;
            if a.milestones.is_empty() {
                return Err(invalid("args.milestones: at least one milestone"));
            }
            validate_org_id(&a.supervisor_org)
                .map_err(|e| invalid(format!("args.supervisor_org: {e}")))
        }
        SUBCONTRACT => {
            let a: SubcontractArgs = args(method, bytes)?;
            let sum = milestones("args.milestones", &a.milestones)?;
            if a.amount == 0 {
                return Err(invalid("args.amount: must be positive"));
            }
            if a.wage_share > a.amount {
                return Err(invalid("args.wage_share: exceeds args.amount"));
            }
            if !a.milestones.is_empty() && sum != a.amount {
                return Err(invalid(format!(
                    "args.milestones: amounts sum to {sum}, not args.amount {}",
                    a.amount
                )));
            }
            Ok(())
        }
        ACCEPT_MILESTONE => args::<AcceptMilestoneArgs>(method, bytes).map(|_| ()),
        REQUEST => {
            let a: RequestArgs = args(method, bytes)?;
            if a.amount == 0 {
                return Err(invalid("args.amount: must be positive"));
            }
            match &a.kind {
                RequestKind::Payroll { period } => {
                    text("args.kind.period", period)?;
                    if a.lines.is_empty() || a.lines.len() > MAX_LINES {
                        return Err(invalid(format!("args.lines: 1 to {MAX_LINES} lines")));
                    }
                    let mut sum: u64 = 0;
                    for (i, l) in a.lines.iter().enumerate() {
                        text(&format!("args.lines[{i}].account"), &l.account)?;
                        if l.amount == 0 {
                            return Err(invalid(format!(
                                "args.lines[{i}].amount: must be positive"
                            )));
                        }
                        sum = sum
                            .checked_add(l.amount)
                            .ok_or_else(|| invalid("args.lines: amounts overflow"))?;
                    }
                    if sum != a.amount {
                        return Err(invalid(format!(
                            "args.amount: {} is not the sum of the lines ({sum})",
                            a.amount
                        )));
                    }
                }
                _ if !a.lines.is_empty() => {
                    return Err(invalid("args.lines: only a payroll has lines"));
                }
                _ => {}
            }
            Ok(())
        }
        REVIEW | APPROVE | REJECT | SETTLE => args::<RequestIdArgs>(method, bytes).map(|_| ()),
        POST_TRANSFER => {
            let a: PostTransferArgs = args(method, bytes)?;
            text("args.bank_ref", &a.bank_ref)
        }
        other => Err(TxError::new(
            ErrorCode::UnknownMethod,
            format!("body.call.method: payment has no method '{other}'"),
        )),
    }
}

fn load_contract(ctx: &CallContext<'_>, id: u64) -> Result<Contract, TxError> {
    ctx.read::<Contract>(&contract_key(id))?.ok_or_else(|| {
        TxError::new(
            ErrorCode::NotFound,
            format!("args.contract: no contract {id}"),
        )
    })
}

fn load_request(ctx: &CallContext<'_>, id: u64) -> Result<PaymentRequest, TxError> {
    ctx.read::<PaymentRequest>(&request_key(id))?
        .ok_or_else(|| {
            TxError::new(
                ErrorCode::NotFound,
                format!("args.request: no request {id}"),
            )
        })
}

fn save_contract(ctx: &mut CallContext<'_>, c: &Contract) {
    ctx.put(contract_key(c.id), encode(c));
}

fn save_request(ctx: &mut CallContext<'_>, r: &PaymentRequest) {
    ctx.put(request_key(r.id), encode(r));
}

fn save_line(ctx: &mut CallContext<'_>, t: &Transfer) {
    ctx.put(line_key(t.request, t.line), encode(t));
}

fn next_id(ctx: &mut CallContext<'_>, key: &[u8]) -> Result<u64, TxError> {
    let id: u64 = ctx.read(key)?.unwrap_or(1);
    ctx.put(key.to_vec(), encode(&(id + 1)));
    Ok(id)
}

/// The contract a request-level call's request belongs to, read from a view.
fn contract_of_request(view: &dyn StateView, request: u64) -> Result<Option<Contract>, TxError> {
    let Some(r) = policy::read::<PaymentRequest>(view, &request_key(request))? else {
        return Ok(None);
    };
    policy::read::<Contract>(view, &contract_key(r.contract))
}

fn state(msg: impl Into<String>) -> TxError {
    TxError::new(ErrorCode::InvalidState, msg)
}

fn over(msg: impl Into<String>) -> TxError {
    invalid(msg)
}

impl Module for PaymentModule {
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
            ACCEPT_MILESTONE | REVIEW => Policy::single(Rule::new(1, &[SUPERVISOR], OrgScope::Own)),
            POST_TRANSFER => Policy::single(Rule::new(1, &[BANK], OrgScope::Any)),
            _ => Policy::any_role(),
        }
    }

    fn target_org(
        &self,
        method: &str,
        bytes: &[u8],
        view: &dyn StateView,
    ) -> Result<Option<String>, TxError> {
        let contract = match method {
            ACCEPT_MILESTONE => match decode::<AcceptMilestoneArgs>(bytes) {
                Ok(a) => policy::read::<Contract>(view, &contract_key(a.contract))?,
                Err(_) => None,
            },
            REVIEW => match decode::<RequestIdArgs>(bytes) {
                Ok(a) => contract_of_request(view, a.request)?,
                Err(_) => None,
            },
            _ => None,
        };
        Ok(contract.map(|c| c.supervisor_org))
    }

    fn execute(
        &self,
        ctx: &mut CallContext<'_>,
        method: &str,
        bytes: &[u8],
    ) -> Result<(), TxError> {
        stateless(method, bytes)?;
        match method {
            CONTRACT_FROM_AWARD => contract_from_award(ctx, args(method, bytes)?),
            SUBCONTRACT => subcontract(ctx, args(method, bytes)?),
            ACCEPT_MILESTONE => accept_milestone(ctx, args(method, bytes)?),
            REQUEST => request(ctx, args(method, bytes)?),
            REVIEW => review(ctx, args(method, bytes)?),
            APPROVE => approve(ctx, args(method, bytes)?),
            REJECT => reject(ctx, args(method, bytes)?),
            POST_TRANSFER => post_transfer(ctx, args(method, bytes)?),
            SETTLE => settle(ctx, args(method, bytes)?),
            other => Err(TxError::new(
                ErrorCode::UnknownMethod,
                format!("body.call.method: payment has no method '{other}'"),
            )),
        }
    }
}

/// A new contract with nothing received, committed or paid yet (no parent, no tender).
fn new_contract(
    ctx: &CallContext<'_>,
    id: u64,
    (payer, payee): (xa_types::Address, xa_types::Address),
    amount: u64,
    wage_share: u64,
    supervisor_org: String,
    milestones: Vec<MilestoneSpec>,
) -> Contract {
    Contract {
        id,
        parent: None,
        tender: None,
        payer,
        payee,
        amount,
        wage_share,
        supervisor_org,
        milestones: new_milestones(milestones),
        children: Vec::new(),
        children_amount: 0,
        committed_in: 0,
        received: 0,
        wage_received: 0,
        committed_general_out: 0,
        paid_general_out: 0,
        committed_wage_out: 0,
        paid_wage_out: 0,
        status: ContractStatus::Contracted,
        created_ms: ctx.time_ms,
        requests: Vec::new(),
    }
}

fn new_milestones(specs: Vec<MilestoneSpec>) -> Vec<Milestone> {
    specs
        .into_iter()
        .map(|s| Milestone {
            name: s.name,
            amount: s.amount,
            accepted_ms: None,
            accepted_by: Vec::new(),
            report_digest: None,
            committed: 0,
        })
        .collect()
}

fn contract_from_award(ctx: &mut CallContext<'_>, a: ContractFromAwardArgs) -> Result<(), TxError> {
    let key = tender_key(a.tender);
    let mut t: Tender = ctx.read(&key)?.ok_or_else(|| {
        TxError::new(
            ErrorCode::NotFound,
            format!("args.tender: no tender {}", a.tender),
        )
    })?;
    if t.owner != ctx.sender {
        return Err(denied(format!(
            "body.sender: only the tender's owner {} signs its contract",
            t.owner
        )));
    }
    let Some(award) = t
        .award
        .clone()
        .filter(|_| t.status == TenderStatus::Awarded)
    else {
        return Err(state(format!(
            "args.tender: tender {} is {}, not AWARDED",
            t.id,
            t.status.as_str()
        )));
    };
    let sum: u64 = a.milestones.iter().map(|m| m.amount).sum();
    if sum != award.price {
        return Err(invalid(format!(
            "args.milestones: amounts sum to {sum}, not the award price {}",
            award.price
        )));
    }
    if a.wage_share > award.price {
        return Err(invalid("args.wage_share: exceeds the award price"));
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
    let id = next_id(ctx, NEXT_CONTRACT_KEY)?;
    let c = Contract {
        parent: None,
        tender: Some(t.id),
        ..new_contract(
            ctx,
            id,
            (t.owner, award.winner),
            award.price,
            a.wage_share,
            a.supervisor_org,
            a.milestones,
        )
    };
    save_contract(ctx, &c);
    t.status = TenderStatus::Contracted;
    ctx.put(key, encode(&t));
    ctx.emit(
        MODULE,
        "contracted",
        vec![
            ("contract".into(), id.to_string()),
            ("tender".into(), t.id.to_string()),
            ("payee".into(), c.payee.to_string()),
            ("amount".into(), c.amount.to_string()),
        ],
    );
    Ok(())
}

fn subcontract(ctx: &mut CallContext<'_>, a: SubcontractArgs) -> Result<(), TxError> {
    let mut parent = load_contract(ctx, a.parent)?;
    if parent.payee != ctx.sender {
        return Err(denied(format!(
            "body.sender: only contract {}'s payee {} lets its subcontracts",
            parent.id, parent.payee
        )));
    }
    if a.payee == ctx.sender {
        return Err(invalid(
            "args.payee: a contractor cannot contract with itself",
        ));
    }
    let general = parent.amount - parent.wage_share;
    let left = general.saturating_sub(parent.children_amount);
    if a.amount > left {
        return Err(over(format!(
            "args.amount: {} exceeds what contract {} has left for subcontracts outside its wage share ({left})",
            a.amount, parent.id
        )));
    }
    let id = next_id(ctx, NEXT_CONTRACT_KEY)?;
    let c = Contract {
        parent: Some(parent.id),
        ..new_contract(
            ctx,
            id,
            (ctx.sender, a.payee),
            a.amount,
            a.wage_share,
            parent.supervisor_org.clone(),
            a.milestones,
        )
    };
    save_contract(ctx, &c);
    parent.children.push(id);
    parent.children_amount += a.amount;
    save_contract(ctx, &parent);
    ctx.emit(
        MODULE,
        "subcontracted",
        vec![
            ("contract".into(), id.to_string()),
            ("parent".into(), parent.id.to_string()),
            ("payee".into(), c.payee.to_string()),
            ("amount".into(), c.amount.to_string()),
        ],
    );
    Ok(())
}

fn accept_milestone(ctx: &mut CallContext<'_>, a: AcceptMilestoneArgs) -> Result<(), TxError> {
    let mut c = load_contract(ctx, a.contract)?;
    if !ctx.authorizers.contains(&c.payer) {
        return Err(denied(format!(
            "signatures: acceptance needs the payer {} to co-sign with the supervisor",
            c.payer
        )));
    }
    let signers = ctx.authorizers.clone();
    let now = ctx.time_ms;
    let m = c.milestones.get_mut(a.milestone as usize).ok_or_else(|| {
        invalid(format!(
            "args.milestone: contract {} has no milestone {}",
            a.contract, a.milestone
        ))
    })?;
    if m.accepted_ms.is_some() {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!(
                "args.milestone: milestone {} was already accepted",
                a.milestone
            ),
        ));
    }
    m.accepted_ms = Some(now);
    m.accepted_by = signers;
    m.report_digest = Some(a.report_digest);
    c.status = ContractStatus::InProgress;
    save_contract(ctx, &c);
    ctx.emit(
        MODULE,
        "milestone_accepted",
        vec![
            ("contract".into(), c.id.to_string()),
            ("milestone".into(), a.milestone.to_string()),
        ],
    );
    Ok(())
}

/// Check that a request of `amount` of `kind` fits contract `c` (and its funding source);
/// `commit` applies the commitment.
fn fits(
    ctx: &mut CallContext<'_>,
    c: &mut Contract,
    kind: &RequestKind,
    amount: u64,
    commit: bool,
) -> Result<(), TxError> {
    match kind {
        RequestKind::Payroll { .. } => {
            // Paid from this contract's ring-fenced wage funds.
            let available = c.wage_received.saturating_sub(c.committed_wage_out);
            if amount > available {
                return Err(over(format!(
                    "args.amount: {amount} exceeds the wage funds of contract {} ({available} received and not yet committed)",
                    c.id
                )));
            }
            if commit {
                c.committed_wage_out += amount;
            }
        }
        RequestKind::Progress { milestone } => {
            let m = c.milestones.get(*milestone as usize).ok_or_else(|| {
                invalid(format!(
                    "args.kind.milestone: contract {} has no milestone {milestone}",
                    c.id
                ))
            })?;
            if m.accepted_ms.is_none() {
                return Err(state(format!(
                    "args.kind.milestone: milestone {milestone} of contract {} has not been accepted by the supervisor and the payer",
                    c.id
                )));
            }
            let left = m.amount - m.committed;
            if amount > left {
                return Err(over(format!(
                    "args.amount: {amount} exceeds what milestone {milestone} has left ({left})"
                )));
            }
            in_flow(ctx, c, amount, commit)?;
            if commit {
                c.milestones[*milestone as usize].committed += amount;
            }
        }
        RequestKind::Material => {
            if !c.milestones.is_empty() {
                return Err(invalid(format!(
                    "args.kind: contract {} pays by milestone (Progress)",
                    c.id
                )));
            }
            in_flow(ctx, c, amount, commit)?;
        }
    }
    Ok(())
}

/// A payment into `c`: within its price, and within its parent's general funds.
fn in_flow(
    ctx: &mut CallContext<'_>,
    c: &mut Contract,
    amount: u64,
    commit: bool,
) -> Result<(), TxError> {
    let left = c.amount - c.committed_in;
    if amount > left {
        return Err(over(format!(
            "args.amount: {amount} exceeds the remaining balance of contract {} ({left} of {})",
            c.id, c.amount
        )));
    }
    if let Some(pid) = c.parent {
        let mut p = load_contract(ctx, pid)?;
        let general_in = p.received - p.wage_received;
        let available = general_in.saturating_sub(p.committed_general_out);
        if amount > available {
            return Err(over(format!(
                "args.amount: {amount} exceeds the general funds contract {pid} has received and not committed ({available}); outflow never exceeds inflow"
            )));
        }
        if commit {
            p.committed_general_out += amount;
            save_contract(ctx, &p);
        }
    }
    if commit {
        c.committed_in += amount;
    }
    Ok(())
}

fn request(ctx: &mut CallContext<'_>, a: RequestArgs) -> Result<(), TxError> {
    let mut c = load_contract(ctx, a.contract)?;
    if c.payee != ctx.sender {
        return Err(denied(format!(
            "body.sender: only contract {}'s payee {} requests payment under it",
            c.id, c.payee
        )));
    }
    if let RequestKind::Payroll { .. } = a.kind {
        // Wages go to workers, never back to the contractor.
        for (i, l) in a.lines.iter().enumerate() {
            if l.worker == c.payee || l.worker == c.payer {
                return Err(denied(format!(
                    "args.lines[{i}].worker: wage money goes to workers, not to party {}",
                    l.worker
                )));
            }
        }
    }
    fits(ctx, &mut c, &a.kind, a.amount, false)?;
    let id = next_id(ctx, NEXT_REQUEST_KEY)?;
    let line = |line: u32, from, to, account: String, amount| Transfer {
        request: id,
        line,
        from,
        to,
        account,
        amount,
        bank_ref: None,
        failed_refs: Vec::new(),
        paid_ms: None,
    };
    let transfers: Vec<Transfer> = match &a.kind {
        // At most MAX_LINES lines (checked statelessly), so indices fit a u32.
        RequestKind::Payroll { .. } => (0u32..)
            .zip(&a.lines)
            .map(|(n, l)| line(n, c.payee, l.worker, l.account.clone(), l.amount))
            .collect(),
        _ => vec![line(0, c.payer, c.payee, String::new(), a.amount)],
    };
    let r = PaymentRequest {
        id,
        contract: c.id,
        kind: a.kind,
        amount: a.amount,
        evidence: a.evidence,
        status: RequestStatus::Submitted,
        requester: ctx.sender,
        reviewed_by: None,
        approved_by: None,
        lines: u32::try_from(transfers.len())
            .map_err(|_| invalid(format!("args.lines: 1 to {MAX_LINES} lines")))?,
        lines_paid: 0,
        lines_failed: 0,
        amount_paid: 0,
        created_ms: ctx.time_ms,
        settled_by: None,
        settled_ms: None,
    };
    for t in &transfers {
        save_line(ctx, t);
    }
    save_request(ctx, &r);
    c.requests.push(id);
    save_contract(ctx, &c);
    ctx.emit(
        MODULE,
        "requested",
        vec![
            ("request".into(), id.to_string()),
            ("contract".into(), c.id.to_string()),
            ("amount".into(), a.amount.to_string()),
        ],
    );
    Ok(())
}

fn status_event(ctx: &mut CallContext<'_>, r: &PaymentRequest, kind: &str) {
    ctx.emit(
        MODULE,
        kind,
        vec![
            ("request".into(), r.id.to_string()),
            ("status".into(), r.status.as_str().into()),
        ],
    );
}

fn review(ctx: &mut CallContext<'_>, a: RequestIdArgs) -> Result<(), TxError> {
    let mut r = load_request(ctx, a.request)?;
    if r.status != RequestStatus::Submitted {
        return Err(state(format!(
            "args.request: request {} is {}, not SUBMITTED",
            r.id,
            r.status.as_str()
        )));
    }
    r.status = RequestStatus::Reviewed;
    r.reviewed_by = Some(ctx.sender);
    save_request(ctx, &r);
    status_event(ctx, &r, "reviewed");
    Ok(())
}

fn approve(ctx: &mut CallContext<'_>, a: RequestIdArgs) -> Result<(), TxError> {
    let mut r = load_request(ctx, a.request)?;
    let mut c = load_contract(ctx, r.contract)?;
    // A payroll is approved by whoever funds the contract; other payments by their payer.
    if c.payer != ctx.sender {
        return Err(denied(format!(
            "body.sender: only contract {}'s payer {} approves its payments",
            c.id, c.payer
        )));
    }
    if r.status != RequestStatus::Reviewed {
        return Err(state(format!(
            "args.request: request {} is {}, not REVIEWED",
            r.id,
            r.status.as_str()
        )));
    }
    let kind = r.kind.clone();
    fits(ctx, &mut c, &kind, r.amount, true)?;
    save_contract(ctx, &c);
    r.status = RequestStatus::Approved;
    r.approved_by = Some(ctx.sender);
    save_request(ctx, &r);
    status_event(ctx, &r, "approved");
    Ok(())
}

fn reject(ctx: &mut CallContext<'_>, a: RequestIdArgs) -> Result<(), TxError> {
    let mut r = load_request(ctx, a.request)?;
    let c = load_contract(ctx, r.contract)?;
    let supervisor = ctx
        .read::<xa_types::modules::accounts::Account>(&xa_types::modules::accounts::account_key(
            &ctx.sender,
        ))?
        .is_some_and(|acct| acct.has_role(SUPERVISOR) && acct.org == c.supervisor_org);
    if c.payer != ctx.sender && !supervisor {
        return Err(denied(
            "body.sender: only the payer or a supervisor rejects a request",
        ));
    }
    if !matches!(r.status, RequestStatus::Submitted | RequestStatus::Reviewed) {
        return Err(state(format!(
            "args.request: request {} is {}, no longer open",
            r.id,
            r.status.as_str()
        )));
    }
    r.status = RequestStatus::Rejected;
    save_request(ctx, &r);
    status_event(ctx, &r, "rejected");
    Ok(())
}

fn post_transfer(ctx: &mut CallContext<'_>, a: PostTransferArgs) -> Result<(), TxError> {
    let mut r = load_request(ctx, a.request)?;
    if a.line >= r.lines {
        return Err(invalid(format!(
            "args.line: request {} has no line {} (it has {})",
            r.id, a.line, r.lines
        )));
    }
    let lkey = line_key(r.id, a.line);
    let mut t: Transfer = ctx.read(&lkey)?.ok_or_else(|| {
        TxError::new(
            ErrorCode::NotFound,
            format!("args.line: line {} of request {} is missing", a.line, r.id),
        )
    })?;
    if let Some(done) = &t.bank_ref {
        return Err(TxError::new(
            ErrorCode::AlreadyExists,
            format!(
                "args.line: line {} was already paid (bank ref {done}); nobody is paid twice",
                a.line
            ),
        ));
    }
    let rkey = bank_ref_key(&a.bank_ref);
    if let Some((req, ln, ok)) = ctx.read::<(u64, u32, bool)>(&rkey)? {
        // The same reference may only turn a failed attempt of the same line into a success.
        if ok || req != r.id || ln != a.line || !a.success {
            return Err(TxError::new(
                ErrorCode::AlreadyExists,
                format!(
                    "args.bank_ref: '{}' was already posted (request {req}, line {ln}); it never pays twice",
                    a.bank_ref
                ),
            ));
        }
    }
    if !matches!(
        r.status,
        RequestStatus::Approved | RequestStatus::PartiallyPaid
    ) {
        return Err(state(format!(
            "args.request: request {} is {}, not awaiting transfers",
            r.id,
            r.status.as_str()
        )));
    }
    ctx.put(rkey, encode(&(r.id, a.line, a.success)));
    let was_failed = t.is_failed_unpaid();
    if !a.success {
        t.failed_refs.push(a.bank_ref.clone());
        if !was_failed {
            r.lines_failed += 1;
        }
    } else {
        t.bank_ref = Some(a.bank_ref.clone());
        t.paid_ms = Some(ctx.time_ms);
        r.lines_paid += 1;
        r.amount_paid += t.amount;
        if was_failed {
            r.lines_failed = r.lines_failed.saturating_sub(1);
        }
        let mut c = load_contract(ctx, r.contract)?;
        match r.kind {
            RequestKind::Payroll { .. } => c.paid_wage_out += t.amount,
            _ => {
                let wage = wage_part(t.amount, c.amount, c.wage_share)
                    .min(c.wage_share.saturating_sub(c.wage_received));
                c.received += t.amount;
                c.wage_received += wage;
                if c.received == c.amount {
                    c.status = ContractStatus::Completed;
                }
                if let Some(pid) = c.parent {
                    let mut p = load_contract(ctx, pid)?;
                    p.paid_general_out += t.amount;
                    save_contract(ctx, &p);
                }
            }
        }
        save_contract(ctx, &c);
    }
    save_line(ctx, &t);
    r.status = r.payment_status();
    save_request(ctx, &r);
    ctx.emit(
        MODULE,
        if a.success {
            "transfer_paid"
        } else {
            "transfer_failed"
        },
        vec![
            ("request".into(), r.id.to_string()),
            ("line".into(), a.line.to_string()),
            ("to".into(), t.to.to_string()),
            ("amount".into(), t.amount.to_string()),
            ("bank_ref".into(), a.bank_ref),
            ("status".into(), r.status.as_str().into()),
        ],
    );
    Ok(())
}

/// The payee side confirms receipt: PAID → SETTLED (see the module documentation for who).
fn settle(ctx: &mut CallContext<'_>, a: RequestIdArgs) -> Result<(), TxError> {
    let mut r = load_request(ctx, a.request)?;
    let c = load_contract(ctx, r.contract)?;
    if c.payee != ctx.sender {
        return Err(denied(format!(
            "body.sender: only contract {}'s payee {} confirms receipt of its payments",
            c.id, c.payee
        )));
    }
    if r.status != RequestStatus::Paid {
        return Err(state(format!(
            "args.request: request {} is {}, not PAID ({} of {} lines paid)",
            r.id,
            r.status.as_str(),
            r.lines_paid,
            r.lines
        )));
    }
    r.status = RequestStatus::Settled;
    r.settled_by = Some(ctx.sender);
    r.settled_ms = Some(ctx.time_ms);
    save_request(ctx, &r);
    status_event(ctx, &r, "settled");
    Ok(())
}
