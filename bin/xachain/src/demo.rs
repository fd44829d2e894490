//! `xachain demo tender`: a full tender and its construction payments against a running devnet.
//!
//! Registers the actors (agency, experts, supervisor, owner, four companies, a bank), publishes a
//! tender, seals four bids (one replaced), closes it, waits for the validators' nodes to open it
//! with their partial signatures, scores, publicizes, objects and answers, awards, signs the
//! contract with two milestones, pays both after co-signed acceptance (the contractor confirms
//! receipt of the first: SETTLED), runs a five-worker payroll with one bank failure and its
//! retry, settles it, and prints the audit trail. Needs a devnet started with
//! `--tender-publicity-secs` (the legal 3 days would not fit a demo).

use crate::ClientOpts;
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};
use xa_client::Client;
use xa_types::{
    Address, Call, Hash, KeyPair, Transaction, TxBody, address_of, decode,
    modules::identity::{self, RegisterAccountArgs},
    modules::payment::{self as p, *},
    modules::tender::{self as t, *},
};

/// `xachain demo ...`
#[derive(Subcommand)]
pub enum DemoCmd {
    /// Sealed-bid tender → award → contract → milestones → payroll, with the audit trail.
    Tender(DemoArgs),
}

/// Arguments of `xachain demo tender`.
#[derive(Args)]
pub struct DemoArgs {
    /// The devnet directory (for the operator key).
    #[arg(long, default_value = "devnet")]
    pub dir: PathBuf,
    /// Seconds until the bidding deadline.
    #[arg(long, default_value_t = 15)]
    pub bidding_secs: u64,
    /// Companies that bid (at least 3; one of them replaces its bid). With many bidders the
    /// demo doubles as a benchmark of the opening: it reports the time from the opening time
    /// to all bids opened.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(3..=500))]
    pub bidders: u32,
    /// Workers on the payroll (line 3, or the last line, fails at the bank and is retried).
    /// The payroll request must fit one transaction (`max_tx_bytes`, 64 KiB by default:
    /// about 1,000 workers); the demo reports its transactions, bytes and time to commit.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=5_000))]
    pub workers: u32,
    /// Client options.
    #[command(flatten)]
    pub opts: ClientOpts,
}

struct Demo {
    client: Client,
    operator: KeyPair,
    json: bool,
}

fn digest(n: u8) -> Hash {
    Hash([n; 32])
}

impl Demo {
    fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    fn submit(&self, tx: &Transaction) -> Result<Value> {
        let v = self.client.submit(tx, true)?;
        let r = &v["receipt"];
        if r["status"] != "success" {
            bail!(
                "{}.{}: {}: {}",
                tx.body.call.module,
                tx.body.call.method,
                r["code"].as_str().unwrap_or(""),
                r["message"].as_str().unwrap_or("")
            );
        }
        Ok(v)
    }

    fn send(&self, key: &KeyPair, call: Call) -> Result<Value> {
        let tx = self.client.build(key, call, 100)?;
        self.submit(&tx)
    }

    /// Submit independent transactions together (so they share blocks), then wait until every
    /// one is committed with a successful receipt. `calls` are (signer, call); a signer's
    /// calls take consecutive nonces in the order given.
    fn send_all(&self, calls: Vec<(&KeyPair, Call)>) -> Result<()> {
        let (chain_id, height) = self.client.chain_info()?;
        let mut nonces: BTreeMap<Address, u64> = BTreeMap::new();
        let mut hashes = Vec::with_capacity(calls.len());
        for (key, call) in calls {
            let sender = self.client.sender_of(key)?;
            let nonce = match nonces.get(&sender) {
                Some(n) => n + 1,
                None => self.client.next_nonce(&sender)?,
            };
            nonces.insert(sender, nonce);
            let tx = TxBody {
                chain_id: chain_id.clone(),
                sender,
                nonce,
                expiry_height: height + 100,
                call,
            }
            .sign(key);
            self.client.submit(&tx, false)?;
            hashes.push((tx.hash(key.public_key().suite()), tx.body.call));
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        for (hash, call) in hashes {
            let v = loop {
                match self.client.transaction(&hash) {
                    Ok(v) if v["status"] == "committed" => break v,
                    _ if Instant::now() > deadline => {
                        bail!(
                            "{}.{} {hash}: not committed in 120 s",
                            call.module,
                            call.method
                        )
                    }
                    _ => std::thread::sleep(Duration::from_millis(200)),
                }
            };
            let r = &v["receipt"];
            if r["status"] != "success" {
                bail!(
                    "{}.{}: {}: {}",
                    call.module,
                    call.method,
                    r["code"].as_str().unwrap_or(""),
                    r["message"].as_str().unwrap_or("")
                );
            }
        }
        Ok(())
    }

    /// Register accounts in the committee, one role each, in one batch.
    fn register_all(&self, who: &[(String, &str)]) -> Result<Vec<(KeyPair, Address)>> {
        let suite = self.operator.public_key().suite();
        let accounts: Vec<(KeyPair, Address)> = who
            .iter()
            .map(|_| {
                let key = KeyPair::generate(suite);
                let address = address_of(&key.public_key());
                (key, address)
            })
            .collect();
        let calls = who
            .iter()
            .zip(&accounts)
            .map(|((name, role), (key, _))| {
                let args = RegisterAccountArgs {
                    org: "committee".into(),
                    name: name.clone(),
                    public_key: key.public_key(),
                    id_digest: None,
                    roles: vec![role.to_string()],
                };
                (
                    &self.operator,
                    Call::new(identity::MODULE, identity::REGISTER_ACCOUNT, &args),
                )
            })
            .collect();
        self.send_all(calls)?;
        Ok(accounts)
    }

    fn now(&self) -> Result<u64> {
        self.client.status()?["time_ms"]
            .as_u64()
            .ok_or_else(|| anyhow!("status has no time_ms"))
    }

    fn wait_until(&self, time_ms: u64) -> Result<()> {
        for _ in 0..600 {
            if self.now()? >= time_ms {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        bail!("the chain's time did not reach {time_ms}")
    }

    fn state<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>> {
        let v = self
            .client
            .get(&format!("/v1/state/raw/{}", hex::encode(key)))?;
        match v["value_hex"].as_str() {
            None => Ok(None),
            Some(h) => Ok(Some(decode(&hex::decode(h)?)?)),
        }
    }

    /// The payment request submitted last: reviewed by `supervisor`, then approved by `owner`;
    /// returns its id.
    fn review_and_approve(&self, supervisor: &KeyPair, owner: &KeyPair) -> Result<u64> {
        let next: u64 = self.state(NEXT_REQUEST_KEY)?.unwrap_or(1);
        let request = next.saturating_sub(1);
        for (key, method) in [(supervisor, REVIEW), (owner, APPROVE)] {
            self.send(
                key,
                Call::new(p::MODULE, method, &RequestIdArgs { request }),
            )?;
        }
        Ok(request)
    }

    fn tender(&self, id: u64) -> Result<Tender> {
        self.state(&tender_key(id))?
            .ok_or_else(|| anyhow!("tender {id} not found"))
    }
}

/// `demo`.
pub fn run(cmd: DemoCmd) -> Result<()> {
    let DemoCmd::Tender(args) = cmd;
    let key_path = args
        .opts
        .key
        .clone()
        .unwrap_or_else(|| args.dir.join("keys").join("operator.json"));
    let operator = xa_crypto::read_key_file(&key_path)
        .with_context(|| format!("reading the operator key {}", key_path.display()))?;
    let d = Demo {
        client: Client::new(&args.opts.api),
        operator,
        json: args.opts.json,
    };
    let publicity: u64 = d.state(MIN_PUBLICITY_KEY)?.ok_or_else(|| {
        anyhow!(
            "this chain keeps the legal 3-day publicity; start a devnet with \
             `xachain devnet --tender-publicity-secs 20` to run the demo to the award"
        )
    })?;
    let (chain_id, _) = d.client.chain_info()?;
    let threshold: ThresholdKey = d
        .state(THRESHOLD_KEY)?
        .ok_or_else(|| anyhow!("this chain has no tender threshold key"))?;
    let suite = d.operator.public_key().suite();

    d.say("== actors");
    let mut who: Vec<(String, &str)> = vec![("demo agency".into(), TENDER_AGENCY)];
    who.extend((0..3).map(|i| (format!("demo expert {i}"), EXPERT)));
    who.push(("demo supervisor".into(), SUPERVISOR));
    who.push(("demo owner".into(), xa_types::modules::tender::OWNER));
    who.extend((0..args.bidders).map(|i| (format!("demo company {i}"), COMPANY)));
    who.push(("demo bank".into(), identity::BANK));
    let mut actors = d.register_all(&who)?.into_iter();
    let mut next = || actors.next().ok_or_else(|| anyhow!("an actor is missing"));
    let (agency, _) = next()?;
    let experts = [next()?, next()?, next()?];
    let (supervisor, _) = next()?;
    let (owner, owner_addr) = next()?;
    let companies = (0..args.bidders)
        .map(|_| next())
        .collect::<Result<Vec<_>>>()?;
    let (bank, _) = next()?;
    d.say(&format!("registered {} accounts", who.len()));

    d.say("== publish");
    let deadline_ms = d.now()? + args.bidding_secs * 1000;
    let publish = PublishArgs {
        title: "Rongdong school, lot 3".into(),
        documents_digest: digest(0xD0),
        owner: owner_addr,
        deadline_ms,
        opening_ms: deadline_ms + 1_000,
        min_bidders: MIN_BIDDERS,
        experts: experts.iter().map(|e| e.1).collect(),
        supervisor_org: "committee".into(),
    };
    let v = d.send(&agency, Call::new(t::MODULE, PUBLISH, &publish))?;
    let tender_id: u64 = v["receipt"]["events"][0]["attributes"][0][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("published event has no tender id"))?;
    d.say(&format!("tender {tender_id}, deadline {deadline_ms}"));

    d.say("== sealed bids");
    let prices = [1_250_000u64, 1_180_000, 1_090_000, 1_300_000];
    let mut bids = Vec::new();
    for (i, (key, addr)) in companies.iter().enumerate() {
        // The first four prices as ever; more bidders ask a little more each.
        let price = prices
            .get(i)
            .copied()
            .unwrap_or(1_200_000 + 1_000 * i as u64);
        let mut mine = vec![price];
        if i == 2 {
            mine.insert(0, 1_150_000); // replaced before the deadline: only the latest counts
        }
        for price in mine {
            let content = BidContent {
                price,
                proposal_digest: digest((i % 256) as u8),
                salt: xa_crypto::random_seed(),
            };
            let bid = xa_execution::sealing::seal_bid(
                &threshold,
                suite,
                &chain_id,
                tender_id,
                addr,
                &content,
                xa_crypto::random_seed(),
            )
            .map_err(|e| anyhow!("sealing: {e}"))?;
            let a = SubmitBidArgs {
                tender: tender_id,
                bid,
            };
            bids.push((key, Call::new(t::MODULE, SUBMIT_BID, &a)));
            d.say(&format!("company {i} sealed a bid (price hidden)"));
        }
    }
    // The companies' bids go in together; company 2's replacement takes the later nonce.
    d.send_all(bids)?;
    d.say("all bids accepted before the deadline");

    d.say("== close and open");
    d.wait_until(deadline_ms)?;
    d.send(
        &agency,
        Call::new(t::MODULE, CLOSE, &TenderIdArgs { tender: tender_id }),
    )?;
    let opening_ms = publish.opening_ms;
    d.wait_until(opening_ms)?;
    let opening_reached = Instant::now();
    let mut opened = None;
    for _ in 0..1_200 {
        if let Some(o) = d.state::<Opening>(&opening_key(tender_id))? {
            opened = Some(o);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let open_wall_ms = opening_reached.elapsed().as_millis() as u64;
    let opening = opened.ok_or_else(|| {
        anyhow!("the validators did not open the tender (are the nodes' tender openers running?)")
    })?;
    d.say(&format!(
        "opened by shares {:?}: {} valid bids, {} ms of chain time after the opening time \
         (seen by this client {open_wall_ms} ms after the chain reached it)",
        opening.shares,
        opening.valid,
        opening.opened_ms.saturating_sub(opening_ms)
    ));
    let (winner_addr, price) = opening
        .bids
        .iter()
        .filter_map(|b| b.content.as_ref().map(|c| (b.bidder, c.price)))
        .min_by_key(|(_, p)| *p)
        .ok_or_else(|| anyhow!("no valid bid"))?;
    let winner = companies
        .iter()
        .find(|c| c.1 == winner_addr)
        .map(|c| c.0.clone())
        .ok_or_else(|| anyhow!("winner is not a demo company"))?;

    d.say("== evaluation, publicity, objection");
    for (key, _) in &experts {
        let a = ScoreArgs {
            tender: tender_id,
            bidder: winner_addr,
            items: vec![("price".into(), 60), ("technical".into(), 32)],
        };
        d.send(key, Call::new(t::MODULE, SCORE, &a))?;
    }
    let a = PublicizeArgs {
        tender: tender_id,
        candidate: winner_addr,
        duration_ms: publicity,
    };
    d.send(&agency, Call::new(t::MODULE, PUBLICIZE, &a))?;
    let objector = companies
        .iter()
        .find(|c| c.1 != winner_addr)
        .ok_or_else(|| anyhow!("no objector"))?;
    let a = ObjectArgs {
        tender: tender_id,
        reason: "the candidate's qualification certificate has expired".into(),
        document_digest: digest(0x0B),
    };
    d.send(&objector.0, Call::new(t::MODULE, OBJECT, &a))?;
    d.say(&format!(
        "objection filed: tender {}",
        d.tender(tender_id)?.status.as_str()
    ));
    let a = AnswerArgs {
        tender: tender_id,
        objection: 0,
        answer_digest: digest(0x0C),
    };
    d.send(&supervisor, Call::new(t::MODULE, ANSWER, &a))?;
    let end = d
        .tender(tender_id)?
        .publicity
        .map(|p| p.end_ms)
        .ok_or_else(|| anyhow!("no publicity"))?;
    d.say(&format!("answered; publicity ends at {end}"));
    d.wait_until(end)?;
    d.send(
        &agency,
        Call::new(t::MODULE, AWARD, &TenderIdArgs { tender: tender_id }),
    )?;
    d.say(&format!("awarded to {winner_addr} at {price} fen"));

    d.say("== contract and milestones");
    let first = price * 6 / 10;
    let a = ContractFromAwardArgs {
        tender: tender_id,
        wage_share: price * 3 / 10,
        milestones: vec![
            MilestoneSpec {
                name: "foundation".into(),
                amount: first,
            },
            MilestoneSpec {
                name: "structure".into(),
                amount: price - first,
            },
        ],
        supervisor_org: "committee".into(),
    };
    let v = d.send(&owner, Call::new(p::MODULE, CONTRACT_FROM_AWARD, &a))?;
    let contract: u64 = v["receipt"]["events"][0]["attributes"][0][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("contracted event has no contract id"))?;
    for (m, amount) in [(0u32, first), (1, price - first)] {
        let a = AcceptMilestoneArgs {
            contract,
            milestone: m,
            report_digest: digest(0xA0 + m as u8),
        };
        let mut tx =
            d.client
                .build(&supervisor, Call::new(p::MODULE, ACCEPT_MILESTONE, &a), 100)?;
        tx.cosign(&owner);
        d.submit(&tx)?;
        let a = RequestArgs {
            contract,
            kind: RequestKind::Progress { milestone: m },
            amount,
            evidence: digest(0xB0 + m as u8),
            lines: vec![],
        };
        d.send(&winner, Call::new(p::MODULE, REQUEST, &a))?;
        let r = d.review_and_approve(&supervisor, &owner)?;
        let a = PostTransferArgs {
            request: r,
            line: 0,
            bank_ref: format!("BOX-{contract}-{m}"),
            success: true,
        };
        d.send(&bank, Call::new(p::MODULE, POST_TRANSFER, &a))?;
        d.say(&format!(
            "milestone {m} accepted (supervisor + owner) and paid: {amount} fen"
        ));
        if m == 0 {
            // The contractor confirms receipt of the first payment; the second stays PAID.
            d.send(
                &winner,
                Call::new(p::MODULE, SETTLE, &RequestIdArgs { request: r }),
            )?;
            d.say(&format!(
                "the contractor confirmed receipt: request {r} SETTLED"
            ));
        }
    }

    d.say("== payroll with a bank failure and its retry");
    // Wages come out of the contract's ring-fenced wage share (3/10 of the price, all received
    // by now): a large payroll pays each worker less so that it fits.
    let per_worker_cap = (price * 3 / 10) / u64::from(args.workers);
    let lines: Vec<PayrollLine> = (0..args.workers)
        .map(|i| {
            let mut worker = [0xE0u8; 32];
            worker[28..].copy_from_slice(&i.to_be_bytes());
            PayrollLine {
                worker: Hash(worker),
                account: format!("6222-0000-{i:04}"),
                amount: (8_000 + u64::from(i % 50) * 100).min(per_worker_cap).max(1),
            }
        })
        .collect();
    let failing = 3.min(args.workers - 1);
    let a = RequestArgs {
        contract,
        kind: RequestKind::Payroll {
            period: "2026-10".into(),
        },
        amount: lines.iter().map(|l| l.amount).sum(),
        evidence: digest(0xC0),
        lines,
    };
    let payroll_started = Instant::now();
    let request_call = Call::new(p::MODULE, REQUEST, &a);
    let mut payroll_bytes = xa_types::encode(&request_call).len();
    d.send(&winner, request_call)?;
    let r = d.review_and_approve(&supervisor, &owner)?;
    let approved_ms = payroll_started.elapsed().as_millis() as u64;
    // The bank posts every line at once (consecutive nonces, so they share blocks); the
    // request's history still shows each posting as its own version (one per transaction).
    let postings_started = Instant::now();
    let postings: Vec<(&KeyPair, Call)> = (0..args.workers)
        .map(|line| {
            let a = PostTransferArgs {
                request: r,
                line,
                bank_ref: format!("WAGE-{r}-{line}"),
                success: line != failing,
            };
            (&bank, Call::new(p::MODULE, POST_TRANSFER, &a))
        })
        .collect();
    payroll_bytes += postings
        .iter()
        .map(|(_, c)| xa_types::encode(c).len())
        .sum::<usize>();
    d.send_all(postings)?;
    let postings_ms = postings_started.elapsed().as_millis() as u64;
    let payroll_txs = 3 + args.workers;
    d.say(&format!(
        "payroll of {} workers: {payroll_txs} transactions, {payroll_bytes} bytes of calls; \
         request → approved in {approved_ms} ms, all {} postings committed in {postings_ms} ms",
        args.workers, args.workers
    ));
    let status = |d: &Demo| -> Result<String> {
        let req: PaymentRequest = d
            .state(&request_key(r))?
            .ok_or_else(|| anyhow!("request {r} missing"))?;
        Ok(req.status.as_str().to_string())
    };
    let after_postings = status(&d)?;
    d.say(&format!("after the bank's postings: {after_postings}"));
    let retry = PostTransferArgs {
        request: r,
        line: failing,
        bank_ref: format!("WAGE-{r}-{failing}"),
        success: true,
    };
    d.send(&bank, Call::new(p::MODULE, POST_TRANSFER, &retry))?;
    let refused = match d.send(&bank, Call::new(p::MODULE, POST_TRANSFER, &retry)) {
        Err(e) => e.to_string(),
        Ok(_) => bail!("a repeated bank reference was accepted"),
    };
    d.say(&format!("the same reference again is refused: {refused}"));
    let after_retry = status(&d)?;
    d.say(&format!("after the retry: {after_retry}"));
    // Every worker paid: the contractor that filed the payroll confirms it complete.
    d.send(
        &winner,
        Call::new(p::MODULE, SETTLE, &RequestIdArgs { request: r }),
    )?;
    let after_settle = status(&d)?;
    d.say(&format!(
        "the contractor confirmed the payroll: {after_settle}"
    ));

    // The audit trail.
    let tender = d.tender(tender_id)?;
    let c: Contract = d
        .state(&contract_key(contract))?
        .ok_or_else(|| anyhow!("contract missing"))?;
    let mut requests = Vec::new();
    for id in &c.requests {
        requests.push(crate::tender_cmds::request_with_lines(
            &d.client, *id, 0, 1_000, true,
        )?);
    }
    let trail = serde_json::json!({
        "measured": {
            "bids": opening.bids.len(),
            "opened_chain_ms_after_opening_time": opening.opened_ms.saturating_sub(opening_ms),
            "opened_seen_ms_after_opening_time": open_wall_ms,
            "payroll_workers": args.workers,
            "payroll_transactions": payroll_txs,
            "payroll_call_bytes": payroll_bytes,
            "payroll_request_to_approved_ms": approved_ms,
            "payroll_postings_committed_ms": postings_ms,
        },
        "payroll": {
            "request": r,
            "after_postings": after_postings,
            "after_retry": after_retry,
            "after_settle": after_settle,
            "repeated_reference_refused": refused,
        },
        "tender": tender,
        "opening": opening,
        "contract": c,
        "payments": requests
            .iter()
            .map(|(r, lines, _)| serde_json::json!({ "request": r, "lines": lines }))
            .collect::<Vec<_>>(),
    });
    if d.json {
        println!("{}", serde_json::to_string_pretty(&trail)?);
        return Ok(());
    }
    println!("== audit trail");
    println!(
        "tender {} '{}': {}",
        tender.id,
        tender.title,
        tender.status.as_str()
    );
    for b in &opening.bids {
        match &b.content {
            Some(c) => println!("  bid {}  {} fen", b.bidder, c.price),
            None => println!("  bid {}  invalid: {}", b.bidder, b.invalid_reason),
        }
    }
    println!(
        "contract {}: {} fen to {}, received {} (wage funds {}), wages paid {}",
        c.id, c.amount, c.payee, c.received, c.wage_received, c.paid_wage_out
    );
    // A large payroll prints its first lines; `xachain payment show ID --all` has them all.
    const SHOWN: usize = 10;
    for (req, lines, _) in &requests {
        println!(
            "  request {} {:?}: {} fen, {}",
            req.id,
            req.kind,
            req.amount,
            req.status.as_str()
        );
        for tr in lines.iter().take(SHOWN) {
            println!(
                "    {} -> {} {} fen  ref {}  failed {:?}",
                tr.from,
                tr.to,
                tr.amount,
                tr.bank_ref.as_deref().unwrap_or("-"),
                tr.failed_refs
            );
        }
        if lines.len() > SHOWN {
            println!(
                "    … {} more lines (xachain payment show {} --all)",
                lines.len() - SHOWN,
                req.id
            );
        }
    }
    Ok(())
}
