//! `xachain tender ...`: publish, bid (sealed locally), close, open, score, publicize, object,
//! answer, award, show; `xachain contract ...` and `xachain payment ...`.
//!
//! Bids are sealed on this machine before they leave it: the content is encrypted under a fresh
//! key, which is timelock-encrypted to the tender's opening under the validators' threshold key
//! read from the chain (`tender/threshold`). Validators open a tender with `open-share`, each
//! signing the opening target with its share (`node-N/tender-share.json`, written by `init`:
//! trusted dealer, devnet only).

use crate::{ClientOpts, client_cmds::print, gov_cmds::send};
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use xa_client::Client;
use xa_types::{
    Address, Call, Hash, decode,
    modules::payment::{
        self as p, AcceptMilestoneArgs, Contract, ContractFromAwardArgs, MilestoneSpec,
        PaymentRequest, PayrollLine, PostTransferArgs, RequestArgs, RequestIdArgs, RequestKind,
        SubcontractArgs, Transfer, contract_key,
    },
    modules::tender::{self as t, *},
};

/// `xachain tender ...`
#[derive(Subcommand)]
pub enum TenderCmd {
    /// Publish a tender (tender_agency).
    Publish {
        /// Title.
        #[arg(long)]
        title: String,
        /// Digest of the tender documents (hex).
        #[arg(long)]
        documents_digest: Hash,
        /// The tenderer (project owner) account.
        #[arg(long)]
        owner: Address,
        /// Bidding closes this many seconds after the committed tip's consensus time.
        #[arg(long)]
        deadline_in_secs: u64,
        /// Opening this many seconds after the deadline.
        #[arg(long, default_value_t = 0)]
        opening_after_secs: u64,
        /// Minimum valid bids (at least 3).
        #[arg(long, default_value_t = MIN_BIDDERS)]
        min_bidders: u32,
        /// Evaluation experts (repeat).
        #[arg(long = "expert", required = true)]
        experts: Vec<Address>,
        /// The supervisory department's organization.
        #[arg(long)]
        supervisor_org: String,
    },
    /// Seal and submit (or replace) your bid (company).
    Bid {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// Price in fen (0.01 yuan).
        #[arg(long)]
        price: u64,
        /// Digest of your technical proposal (hex).
        #[arg(long)]
        proposal_digest: Hash,
    },
    /// Withdraw your bid before the deadline.
    Withdraw {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Close bidding after the deadline (the publishing agency).
    Close {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Post this validator's partial signature on the tender's opening target. When a threshold
    /// of validators have posted, every bid opens in the same transaction.
    OpenShare {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The validator's share file (`node-N/tender-share.json`).
        #[arg(long)]
        validator_key: PathBuf,
    },
    /// Score a bidder (an expert on the committee).
    Score {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The bidder.
        #[arg(long)]
        bidder: Address,
        /// Score item as name=points (repeat).
        #[arg(long = "item", required = true)]
        items: Vec<String>,
    },
    /// Publicize the winning candidate (the publishing agency).
    Publicize {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The candidate.
        #[arg(long)]
        candidate: Address,
        /// Publicity length in seconds (at least 3 days).
        #[arg(long, default_value_t = MIN_PUBLICITY_MS / 1000)]
        duration_secs: u64,
    },
    /// Object during publicity (a company that bid on the tender): the tender is suspended
    /// until answered.
    Object {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The grounds.
        #[arg(long)]
        reason: String,
        /// Digest of the objection document (hex).
        #[arg(long)]
        document_digest: Hash,
    },
    /// Answer an objection (the supervisory department).
    Answer {
        /// The tender.
        #[arg(long)]
        tender: u64,
        /// The objection's number.
        #[arg(long)]
        objection: u32,
        /// Digest of the answer (hex).
        #[arg(long)]
        answer_digest: Hash,
    },
    /// Award the tender after publicity (the publishing agency).
    Award {
        /// The tender.
        #[arg(long)]
        tender: u64,
    },
    /// Show a tender, and its opening once opened.
    Show {
        /// The tender.
        tender: u64,
    },
    /// List tenders, newest first (`show` has a tender's opening).
    List {
        /// Only tenders in this status: bidding, closed, evaluating, publicity, suspended,
        /// awarded, contracted or failed.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Only tenders with a smaller id (a previous page's `next_before`).
        #[arg(long)]
        before: Option<u64>,
    },
}

/// Read and decode a state entry by its raw key; `None` if absent.
fn read_state<T: borsh::BorshDeserialize>(client: &Client, key: &[u8]) -> Result<Option<T>> {
    let v = client.get(&format!("/v1/state/raw/{}", hex::encode(key)))?;
    match v["value_hex"].as_str() {
        None => Ok(None),
        Some(h) => {
            let bytes = hex::decode(h).context("value_hex")?;
            Ok(Some(decode(&bytes).context("decoding state")?))
        }
    }
}

fn now_ms(client: &Client) -> Result<u64> {
    client.status()?["time_ms"]
        .as_u64()
        .ok_or_else(|| anyhow!("the node's status has no time_ms"))
}

fn call<A: borsh::BorshSerialize>(method: &str, a: &A) -> Call {
    Call::new(t::MODULE, method, a)
}

/// `tender`.
pub fn tender(cmd: TenderCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    match cmd {
        TenderCmd::Publish {
            title,
            documents_digest,
            owner,
            deadline_in_secs,
            opening_after_secs,
            min_bidders,
            experts,
            supervisor_org,
        } => {
            let deadline_ms = now_ms(&client)?.saturating_add(deadline_in_secs * 1000);
            let args = PublishArgs {
                title,
                documents_digest,
                owner,
                deadline_ms,
                opening_ms: deadline_ms.saturating_add(opening_after_secs * 1000),
                min_bidders,
                experts,
                supervisor_org,
            };
            send(opts, call(PUBLISH, &args))?;
        }
        TenderCmd::Bid {
            tender,
            price,
            proposal_digest,
        } => {
            let key = crate::client_cmds::load_key(opts)?;
            let bidder = client.sender_of(&key)?;
            let threshold: ThresholdKey = read_state(&client, THRESHOLD_KEY)?
                .ok_or_else(|| anyhow!("this chain has no tender threshold key in its genesis"))?;
            let (chain_id, _) = client.chain_info()?;
            let content = BidContent {
                price,
                proposal_digest,
                salt: xa_crypto::random_seed(),
            };
            let bid = xa_execution::sealing::seal_bid(
                &threshold,
                key.public_key().suite(),
                &chain_id,
                tender,
                &bidder,
                &content,
                xa_crypto::random_seed(),
            )
            .map_err(|e| anyhow!("sealing the bid: {e}"))?;
            send(opts, call(SUBMIT_BID, &SubmitBidArgs { tender, bid }))?;
        }
        TenderCmd::Withdraw { tender } => {
            send(opts, call(WITHDRAW_BID, &TenderIdArgs { tender }))?;
        }
        TenderCmd::Close { tender } => {
            send(opts, call(CLOSE, &TenderIdArgs { tender }))?;
        }
        TenderCmd::OpenShare {
            tender,
            validator_key,
        } => {
            let text = std::fs::read_to_string(&validator_key)
                .with_context(|| format!("reading {}", validator_key.display()))?;
            let file: crate::init::TenderShareFile = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a tender share file", validator_key.display()))?;
            let share = hex::decode(&file.share).context("share: not hex")?;
            let (chain_id, _) = client.chain_info()?;
            let partial = xa_execution::sealing::partial_sign(&share, &chain_id, tender)
                .map_err(|e| anyhow!("{}: {e}", validator_key.display()))?;
            send(opts, call(OPEN_SHARE, &OpenShareArgs { tender, partial }))?;
        }
        TenderCmd::Score {
            tender,
            bidder,
            items,
        } => {
            let mut parsed = Vec::new();
            for item in items {
                let (name, points) = item
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--item: '{item}' is not name=points"))?;
                let points: u32 = points
                    .parse()
                    .map_err(|_| anyhow!("--item: '{points}' is not a number"))?;
                parsed.push((name.to_string(), points));
            }
            let args = ScoreArgs {
                tender,
                bidder,
                items: parsed,
            };
            send(opts, call(SCORE, &args))?;
        }
        TenderCmd::Publicize {
            tender,
            candidate,
            duration_secs,
        } => {
            let args = PublicizeArgs {
                tender,
                candidate,
                duration_ms: duration_secs.saturating_mul(1000),
            };
            send(opts, call(PUBLICIZE, &args))?;
        }
        TenderCmd::Object {
            tender,
            reason,
            document_digest,
        } => {
            let args = ObjectArgs {
                tender,
                reason,
                document_digest,
            };
            send(opts, call(OBJECT, &args))?;
        }
        TenderCmd::Answer {
            tender,
            objection,
            answer_digest,
        } => {
            let args = AnswerArgs {
                tender,
                objection,
                answer_digest,
            };
            send(opts, call(ANSWER, &args))?;
        }
        TenderCmd::Award { tender } => {
            send(opts, call(AWARD, &TenderIdArgs { tender }))?;
        }
        TenderCmd::Show { tender } => {
            let Some(record) = read_state::<Tender>(&client, &tender_key(tender))? else {
                bail!("tender {tender}: not found");
            };
            let opening: Option<Opening> = read_state(&client, &opening_key(tender))?;
            let v = json!({ "tender": record, "opening": opening });
            print(opts, &v, |_| show(&record, opening.as_ref()));
        }
        TenderCmd::List {
            status,
            limit,
            before,
        } => {
            let mut path = format!("/v1/tenders?limit={limit}");
            if let Some(s) = status {
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                    bail!("--status: '{s}' is not a tender status (e.g. bidding, awarded)");
                }
                path.push_str(&format!("&status={s}"));
            }
            if let Some(b) = before {
                path.push_str(&format!("&before={b}"));
            }
            let v = client.get(&path)?;
            print(opts, &v, list);
        }
    }
    Ok(())
}

fn list(v: &serde_json::Value) {
    let tenders: Vec<Tender> = v["tenders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| serde_json::from_value(t.clone()).ok())
        .collect();
    if tenders.is_empty() {
        println!("no tenders");
    }
    for t in &tenders {
        println!(
            "#{:<5} {:<10} deadline {}  bids {:<3} {}",
            t.id,
            t.status.as_str(),
            xa_api::certificate::utc(t.deadline_ms),
            t.bidders.len(),
            t.title
        );
    }
    if let Some(b) = v["next_before"].as_u64() {
        println!("more: --before {b}");
    }
}

fn show(t: &Tender, o: Option<&Opening>) {
    println!("tender:      {} {}", t.id, t.title);
    println!("status:      {}", t.status.as_str());
    println!("deadline_ms: {}", t.deadline_ms);
    println!("opening_ms:  {}", t.opening_ms);
    println!("bidders:     {}", t.bidders.len());
    if let Some(p) = &t.publicity {
        println!("publicity:   {} .. {}", p.start_ms, p.end_ms);
    }
    println!("objections:  {} ({} open)", t.objections, t.open_objections);
    if let Some(a) = &t.award {
        println!("award:       {} at {} fen", a.winner, a.price);
    }
    if let Some(o) = o {
        println!("opened at:   {} ms, {} valid", o.opened_ms, o.valid);
        for b in &o.bids {
            match &b.content {
                Some(c) => println!("  {}  {} fen", b.bidder, c.price),
                None => println!("  {}  invalid: {}", b.bidder, b.invalid_reason),
            }
        }
    }
}

/// `xachain contract ...`
#[derive(Subcommand)]
pub enum ContractCmd {
    /// Sign the contract of an awarded tender (its owner): milestones as name=amount.
    FromAward {
        /// The awarded tender.
        #[arg(long)]
        tender: u64,
        /// Ring-fenced wage share, in fen.
        #[arg(long)]
        wage_share: u64,
        /// Milestone as name=amount (repeat, in order; they sum to the award price).
        #[arg(long = "milestone", required = true)]
        milestones: Vec<String>,
        /// The supervisory department's organization.
        #[arg(long)]
        supervisor_org: String,
    },
    /// Let a subcontract out of a contract you are the payee of.
    Sub {
        /// The parent contract.
        #[arg(long)]
        parent: u64,
        /// The subcontractor or supplier.
        #[arg(long)]
        payee: Address,
        /// Price, in fen.
        #[arg(long)]
        amount: u64,
        /// Ring-fenced wage share, in fen.
        #[arg(long, default_value_t = 0)]
        wage_share: u64,
        /// Milestone as name=amount (repeat; none: material payments).
        #[arg(long = "milestone")]
        milestones: Vec<String>,
    },
    /// Accept a milestone: a supervisor signs, and the payer co-signs (`--save-tx`, then
    /// `xachain tx cosign` and `xachain tx submit`), or pass `--cosigner-key`.
    Accept {
        /// The contract.
        #[arg(long)]
        contract: u64,
        /// The milestone's index.
        #[arg(long)]
        milestone: u32,
        /// Digest of the acceptance report (hex).
        #[arg(long)]
        report_digest: Hash,
        /// The payer's key file, to co-sign in one step.
        #[arg(long)]
        cosigner_key: Option<PathBuf>,
    },
    /// Show a contract.
    Show {
        /// The contract.
        id: u64,
    },
}

/// `xachain payment ...`
#[derive(Subcommand)]
pub enum PaymentCmd {
    /// Request a progress payment of an accepted milestone (the payee).
    Progress {
        /// The contract.
        #[arg(long)]
        contract: u64,
        /// The milestone's index.
        #[arg(long)]
        milestone: u32,
        /// Amount, in fen.
        #[arg(long)]
        amount: u64,
        /// Evidence digest (hex).
        #[arg(long)]
        evidence: Hash,
    },
    /// Request a material payment (contracts without milestones).
    Material {
        /// The contract.
        #[arg(long)]
        contract: u64,
        /// Amount, in fen.
        #[arg(long)]
        amount: u64,
        /// Evidence digest (hex).
        #[arg(long)]
        evidence: Hash,
    },
    /// Request a payroll from the contract's wage funds; lines as worker:account:amount.
    Payroll {
        /// The contract.
        #[arg(long)]
        contract: u64,
        /// Period, e.g. 2026-10.
        #[arg(long)]
        period: String,
        /// A line worker_address:bank_account:amount (repeat).
        #[arg(long = "line", required = true)]
        lines: Vec<String>,
        /// Evidence digest (hex).
        #[arg(long)]
        evidence: Hash,
    },
    /// Review a request (a supervisor).
    Review {
        /// The request.
        request: u64,
    },
    /// Approve a reviewed request (the payer).
    Approve {
        /// The request.
        request: u64,
    },
    /// Reject a request (the payer or a supervisor).
    Reject {
        /// The request.
        request: u64,
    },
    /// Post a bank transfer's outcome (a bank).
    Transfer {
        /// The request.
        #[arg(long)]
        request: u64,
        /// The line.
        #[arg(long, default_value_t = 0)]
        line: u32,
        /// The bank's reference.
        #[arg(long)]
        bank_ref: String,
        /// The transfer failed.
        #[arg(long)]
        failed: bool,
    },
    /// Confirm receipt of a PAID request: PAID → SETTLED (the contract's payee; for a
    /// payroll, the contractor that filed it, once every line is paid).
    Settle {
        /// The request.
        request: u64,
    },
    /// Show a request's summary and its transfer lines, a page at a time.
    Show {
        /// The request.
        id: u64,
        /// First line.
        #[arg(long, default_value_t = 0)]
        from: u32,
        /// At most this many lines (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Every line, following the pages.
        #[arg(long, conflicts_with_all = ["from", "limit"])]
        all: bool,
    },
}

/// A payment request and its lines from `from` on, as `/v1/payments/{id}` serves them: one
/// page of at most `limit`, or with `all` every page; with the `from` of the next page (`None`
/// after the last line).
pub(crate) fn request_with_lines(
    client: &Client,
    id: u64,
    from: u32,
    limit: u32,
    all: bool,
) -> Result<(PaymentRequest, Vec<Transfer>, Option<u32>)> {
    let limit = if all { 1_000 } else { limit.clamp(1, 1_000) };
    let mut lines = Vec::new();
    let mut next = Some(from);
    let mut request = None;
    while let Some(from) = next {
        let v = client.get(&format!("/v1/payments/{id}?from={from}&limit={limit}"))?;
        let r: PaymentRequest =
            serde_json::from_value(v["request"].clone()).context("the request's summary")?;
        let page: Vec<Transfer> =
            serde_json::from_value(v["lines"].clone()).context("the request's lines")?;
        // Pages only move forward.
        next = v["next_from"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > from);
        lines.extend(page);
        request = Some(r);
        if !all {
            break;
        }
    }
    let request = request.ok_or_else(|| anyhow!("payment request {id}: no answer"))?;
    Ok((request, lines, next))
}

fn name_amount(flag: &str, s: &str) -> Result<MilestoneSpec> {
    let (name, amount) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("{flag}: '{s}' is not name=amount"))?;
    let amount = amount
        .parse()
        .map_err(|_| anyhow!("{flag}: '{amount}' is not a number of fen"))?;
    Ok(MilestoneSpec {
        name: name.to_string(),
        amount,
    })
}

fn pay_call<A: borsh::BorshSerialize>(method: &str, a: &A) -> Call {
    Call::new(p::MODULE, method, a)
}

/// `contract`.
pub fn contract(cmd: ContractCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    match cmd {
        ContractCmd::FromAward {
            tender,
            wage_share,
            milestones,
            supervisor_org,
        } => {
            let milestones = milestones
                .iter()
                .map(|m| name_amount("--milestone", m))
                .collect::<Result<_>>()?;
            let a = ContractFromAwardArgs {
                tender,
                wage_share,
                milestones,
                supervisor_org,
            };
            send(opts, pay_call(p::CONTRACT_FROM_AWARD, &a))?;
        }
        ContractCmd::Sub {
            parent,
            payee,
            amount,
            wage_share,
            milestones,
        } => {
            let milestones = milestones
                .iter()
                .map(|m| name_amount("--milestone", m))
                .collect::<Result<_>>()?;
            let a = SubcontractArgs {
                parent,
                payee,
                amount,
                wage_share,
                milestones,
            };
            send(opts, pay_call(p::SUBCONTRACT, &a))?;
        }
        ContractCmd::Accept {
            contract,
            milestone,
            report_digest,
            cosigner_key,
        } => {
            let a = AcceptMilestoneArgs {
                contract,
                milestone,
                report_digest,
            };
            let call = pay_call(p::ACCEPT_MILESTONE, &a);
            match cosigner_key {
                None => {
                    send(opts, call)?;
                }
                Some(path) => {
                    let key = crate::client_cmds::load_key(opts)?;
                    let cosigner = xa_crypto::read_key_file(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let mut tx = client.build(&key, call, 100)?;
                    tx.cosign(&cosigner);
                    crate::gov_cmds::submit_and_report(opts, &client, &tx)?;
                }
            }
        }
        ContractCmd::Show { id } => {
            let c: Contract = read_state(&client, &contract_key(id))?
                .ok_or_else(|| anyhow!("contract {id}: not found"))?;
            let v = json!({ "contract": c });
            print(opts, &v, |_| {
                println!(
                    "contract:  {} (parent {:?}, tender {:?})",
                    c.id, c.parent, c.tender
                );
                println!("payer:     {}", c.payer);
                println!("payee:     {}", c.payee);
                println!("amount:    {} fen, wage share {}", c.amount, c.wage_share);
                println!("received:  {} (wage {})", c.received, c.wage_received);
                println!(
                    "paid out:  {} to subcontracts, {} in wages",
                    c.paid_general_out, c.paid_wage_out
                );
                for (i, m) in c.milestones.iter().enumerate() {
                    let state = if m.accepted_ms.is_some() {
                        "accepted"
                    } else {
                        "open"
                    };
                    println!(
                        "  [{i}] {} {} fen, {state}, {} committed",
                        m.name, m.amount, m.committed
                    );
                }
            });
        }
    }
    Ok(())
}

/// `payment`.
pub fn payment(cmd: PaymentCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    let request = |contract, kind, amount, evidence, lines| RequestArgs {
        contract,
        kind,
        amount,
        evidence,
        lines,
    };
    match cmd {
        PaymentCmd::Progress {
            contract,
            milestone,
            amount,
            evidence,
        } => {
            let a = request(
                contract,
                RequestKind::Progress { milestone },
                amount,
                evidence,
                vec![],
            );
            send(opts, pay_call(p::REQUEST, &a))?;
        }
        PaymentCmd::Material {
            contract,
            amount,
            evidence,
        } => {
            let a = request(contract, RequestKind::Material, amount, evidence, vec![]);
            send(opts, pay_call(p::REQUEST, &a))?;
        }
        PaymentCmd::Payroll {
            contract,
            period,
            lines,
            evidence,
        } => {
            let mut parsed = Vec::new();
            for l in &lines {
                let parts: Vec<&str> = l.split(':').collect();
                let [worker, account, amount] = parts.as_slice() else {
                    bail!("--line: '{l}' is not worker:account:amount");
                };
                parsed.push(PayrollLine {
                    worker: worker
                        .parse()
                        .map_err(|_| anyhow!("--line: '{worker}' is not an address"))?,
                    account: account.to_string(),
                    amount: amount
                        .parse()
                        .map_err(|_| anyhow!("--line: '{amount}' is not a number of fen"))?,
                });
            }
            let amount = parsed.iter().map(|l| l.amount).sum();
            let a = request(
                contract,
                RequestKind::Payroll { period },
                amount,
                evidence,
                parsed,
            );
            send(opts, pay_call(p::REQUEST, &a))?;
        }
        PaymentCmd::Review { request } => {
            send(opts, pay_call(p::REVIEW, &RequestIdArgs { request }))?;
        }
        PaymentCmd::Approve { request } => {
            send(opts, pay_call(p::APPROVE, &RequestIdArgs { request }))?;
        }
        PaymentCmd::Reject { request } => {
            send(opts, pay_call(p::REJECT, &RequestIdArgs { request }))?;
        }
        PaymentCmd::Transfer {
            request,
            line,
            bank_ref,
            failed,
        } => {
            let a = PostTransferArgs {
                request,
                line,
                bank_ref,
                success: !failed,
            };
            send(opts, pay_call(p::POST_TRANSFER, &a))?;
        }
        PaymentCmd::Settle { request } => {
            send(opts, pay_call(p::SETTLE, &RequestIdArgs { request }))?;
        }
        PaymentCmd::Show {
            id,
            from,
            limit,
            all,
        } => {
            let (r, lines, next_from) = request_with_lines(&client, id, from, limit, all)?;
            let v = json!({ "request": r, "lines": lines, "next_from": next_from });
            print(opts, &v, |_| {
                println!("request:   {} on contract {}", r.id, r.contract);
                println!("status:    {}", r.status.as_str());
                println!(
                    "amount:    {} fen, {} paid; {} of {} line(s) paid, {} failed and unpaid",
                    r.amount, r.amount_paid, r.lines_paid, r.lines, r.lines_failed
                );
                if let (Some(by), Some(ms)) = (r.settled_by, r.settled_ms) {
                    println!("settled:   by {by} at {}", xa_api::certificate::utc(ms));
                }
                for t in &lines {
                    let state = match (&t.bank_ref, t.failed_refs.last()) {
                        (Some(b), _) => format!("paid ({b})"),
                        (None, Some(f)) => format!("failed ({f})"),
                        (None, None) => "pending".into(),
                    };
                    println!(
                        "  [{}] {} -> {} {} fen {state}",
                        t.line, t.from, t.to, t.amount
                    );
                }
                if let Some(n) = next_from {
                    println!(
                        "  … lines {n} to {} not shown: --from {n}, or --all",
                        r.lines - 1
                    );
                }
            });
        }
    }
    Ok(())
}
