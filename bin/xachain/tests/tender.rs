//! Process-level test of sealed-bid tendering and penetrating payment end to end: the real
//! binary's devnet with a short publicity period, `xachain demo tender` run against it, the
//! validator nodes opening the bids by themselves (nobody else posts a share), and evidence
//! packages of the tender's, the payroll's, one worker's transfer line's and the contract's
//! histories exported from the live chain and verified offline, with tampered copies refused.

mod common;

use common::{BIN, free_ports, start_devnet, wait_for};
use serde_json::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};
use xa_client::Client;
use xa_light::{Package, Record};
use xa_types::{
    Address, Hash, address_of, decode, encode,
    modules::{
        history::Version,
        payment::{
            Contract, PaymentRequest, RequestKind, RequestStatus, Transfer, contract_key, line_key,
            request_key,
        },
        tender::{self, Opening, Tender, TenderStatus, shares_key, tender_key},
    },
};

/// The partial signatures posted for a tender, by share index (`tender/t/{id}/shares`).
type Shares = Vec<(u32, Vec<u8>)>;

/// Devnet publicity period, seconds (the legal minimum is 3 days).
const PUBLICITY_SECS: &str = "4";
/// Seconds the demo leaves for bidding: registering takes place before, so this covers the
/// publishing and the five sealed bids, which the demo submits together (a block or two).
const BIDDING_SECS: &str = "8";

fn run(args: &[&str], extra: &[&Path]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(extra)
        .output()
        .expect("run xachain")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Export the complete history of state key `key` from `api` into `out`. The history must be
/// complete at a certified height at or above `at_least`, so a package is exported until its
/// height reaches it (the newest blocks get their certificate a moment after commit).
fn export_history(api: &str, key: &[u8], at_least: u64, out: &Path) -> Package {
    let arg = format!("raw/{}", hex::encode(key));
    wait_for(
        "a history package at a certified height",
        Duration::from_secs(60),
        || {
            let o = run(
                &[
                    "evidence",
                    "export",
                    "--state",
                    &arg,
                    "--history",
                    "--api",
                    api,
                    "--out",
                ],
                &[out],
            );
            if !o.status.success() {
                return None;
            }
            let package = Package::parse(&std::fs::read(out).ok()?).ok()?;
            match &package.record {
                Record::History(h) if h.height >= at_least => Some(package),
                _ => None,
            }
        },
    )
}

/// `xachain verify FILE --genesis GENESIS --json`.
fn verify(file: &Path, genesis: &Path) -> Output {
    Command::new(BIN)
        .arg("verify")
        .arg(file)
        .arg("--genesis")
        .arg(genesis)
        .arg("--json")
        .output()
        .expect("run verify")
}

/// Verify `package` offline and expect success; returns the JSON report.
fn verify_ok(package: &Path, genesis: &Path) -> Value {
    let out = verify(package, genesis);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["verified"], true, "{report}");
    assert_eq!(report["genesis_source"], "given", "{report}");
    report
}

/// Write `package` (canonically: a refusal is then about the proofs, not the encoding) and
/// expect verification to fail with exit status 1.
fn verify_tampered(package: &Package, path: &Path, genesis: &Path, what: &str) {
    std::fs::write(path, package.to_bytes()).expect("write tampered package");
    let out = verify(path, genesis);
    assert_eq!(out.status.code(), Some(1), "{what}: {}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("verification failed"), "{what}: {err}");
}

fn versions(package: &Package) -> &[Version] {
    match &package.record {
        Record::History(h) => &h.versions,
        other => panic!("not a history package: {other:?}"),
    }
}

/// The decoded values of a history, with the transaction that wrote each.
fn values<T: borsh::BorshDeserialize>(package: &Package) -> Vec<(Hash, T)> {
    versions(package)
        .iter()
        .map(|v| {
            let bytes = v.value.as_deref().expect("no deletions in this history");
            (v.tx_hash, decode(bytes).expect("decode version"))
        })
        .collect()
}

/// Consecutive duplicates removed.
fn runs<T: PartialEq + Copy>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if out.last() != Some(&i) {
            out.push(i);
        }
    }
    out
}

/// One committed `tender.open_share` transaction.
#[derive(Debug)]
struct Posted {
    sender: Address,
    /// Receipt status (`success`, `failed`) and code.
    status: String,
    code: String,
    /// Kinds of its receipt's events.
    events: Vec<String>,
    hash: Hash,
    /// Consensus time of its block.
    time_ms: u64,
}

/// Every `tender.open_share` transaction committed in blocks `from..=to`.
fn open_share_txs(client: &Client, from: u64, to: u64) -> Vec<Posted> {
    let mut out = Vec::new();
    for h in from..=to {
        let block = client.block(&h.to_string()).expect("block");
        let time_ms = block["header"]["time_ms"].as_u64().expect("block time");
        for hash in block["transactions"].as_array().expect("transactions") {
            let hash: Hash = hash.as_str().expect("hash").parse().expect("hash hex");
            let tx = client.transaction(&hash).expect("transaction");
            let body = &tx["transaction"]["body"];
            if body["call"]["module"] == tender::MODULE && body["call"]["method"] == "open_share" {
                let sender: Address =
                    serde_json::from_value(body["sender"].clone()).expect("sender address");
                let field = |f: &str| tx["receipt"][f].as_str().unwrap_or("").to_string();
                let events = tx["receipt"]["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["kind"].as_str().map(str::to_string))
                    .collect();
                out.push(Posted {
                    sender,
                    status: field("status"),
                    code: field("code"),
                    events,
                    hash,
                    time_ms,
                });
            }
        }
    }
    out
}

#[test]
fn demo_tender_runs_to_the_payroll_and_its_histories_verify_offline() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("devnet");
    let base = free_ports(20_000, 10);
    let (api_port, p2p_port) = (base, base + 5);
    let _guard = start_devnet(
        &dir,
        api_port,
        p2p_port,
        &["--tender-publicity-secs", PUBLICITY_SECS],
    );
    let api = format!("http://127.0.0.1:{api_port}");
    let client = Client::new(&api);
    let genesis = dir.join("genesis.json");
    println!("devnet up after {:?}", started.elapsed());

    // The demo, end to end, as a user runs it (JSON output to check it).
    let demo_started = Instant::now();
    let out = run(
        &[
            "demo",
            "tender",
            "--json",
            "--api",
            &api,
            "--bidding-secs",
            BIDDING_SECS,
            "--dir",
        ],
        &[&dir],
    );
    assert!(out.status.success(), "xachain demo tender: {}", text(&out));
    println!("xachain demo tender took {:?}", demo_started.elapsed());
    let trail: Value = serde_json::from_slice(&out.stdout).expect("demo --json output");

    // The tender: awarded to the lowest valid price, then contracted.
    let t: Tender = serde_json::from_value(trail["tender"].clone()).expect("tender");
    let opening: Opening = serde_json::from_value(trail["opening"].clone()).expect("opening");
    assert_eq!(t.status, TenderStatus::Contracted);
    assert_eq!(t.objections, 1);
    assert_eq!(t.open_objections, 0);
    assert_eq!(opening.valid, 4, "{opening:?}");
    let mut prices: Vec<u64> = opening
        .bids
        .iter()
        .map(|b| b.content.as_ref().expect("every bid opened").price)
        .collect();
    prices.sort_unstable();
    // Company 2 first bid 1 150 000, then replaced it: only the replacement counts.
    assert_eq!(prices, vec![1_090_000, 1_180_000, 1_250_000, 1_300_000]);
    let award = t.award.clone().expect("award");
    assert_eq!(award.price, 1_090_000);
    let winner = opening
        .bids
        .iter()
        .find(|b| b.content.as_ref().is_some_and(|c| c.price == 1_090_000))
        .expect("winning bid")
        .bidder;
    assert_eq!(award.winner, winner);
    let publicity = t.publicity.clone().expect("publicity");
    assert!(
        award.awarded_ms >= publicity.end_ms,
        "awarded before the publicity ended"
    );
    assert!(
        publicity.end_ms - publicity.start_ms >= 4_000,
        "publicity shorter than the genesis minimum: {publicity:?}"
    );

    // The contract: both milestones accepted by the supervisor and the owner together, and paid;
    // the whole price received, never more.
    let c: Contract = serde_json::from_value(trail["contract"].clone()).expect("contract");
    assert_eq!(c.tender, Some(t.id));
    assert_eq!((c.payee, c.amount), (winner, award.price));
    assert_eq!(c.received, c.amount);
    assert_eq!(c.milestones.len(), 2);
    for m in &c.milestones {
        assert!(m.accepted_ms.is_some(), "{m:?}");
        assert_eq!(m.accepted_by.len(), 2, "supervisor and owner: {m:?}");
        assert_eq!(m.committed, m.amount);
    }

    // The payroll: PARTIALLY_PAID after the bank failed one line, PAID after the retry, the
    // repeated reference refused, each worker credited exactly once, then SETTLED by the
    // contractor; the first milestone's payment SETTLED, the second left PAID.
    let payroll = &trail["payroll"];
    assert_eq!(payroll["after_postings"], "PARTIALLY_PAID", "{payroll}");
    assert_eq!(payroll["after_retry"], "PAID", "{payroll}");
    assert_eq!(payroll["after_settle"], "SETTLED", "{payroll}");
    assert!(
        payroll["repeated_reference_refused"]
            .as_str()
            .is_some_and(|e| e.contains("post_transfer") && e.contains("ALREADY_EXISTS")),
        "{payroll}"
    );
    let payroll_id = payroll["request"].as_u64().expect("payroll request id");
    let requests: Vec<(PaymentRequest, Vec<Transfer>)> = trail["payments"]
        .as_array()
        .expect("payments")
        .iter()
        .map(|p| {
            (
                serde_json::from_value(p["request"].clone()).expect("request"),
                serde_json::from_value(p["lines"].clone()).expect("lines"),
            )
        })
        .collect();
    assert_eq!(requests.len(), 3, "two milestones and one payroll");
    let statuses: Vec<RequestStatus> = requests.iter().map(|(r, _)| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            RequestStatus::Settled,
            RequestStatus::Paid,
            RequestStatus::Settled
        ]
    );
    for (r, lines) in &requests {
        assert_eq!(r.contract, c.id);
        assert_eq!((r.lines_paid, r.lines_failed), (r.lines, 0), "{r:?}");
        assert_eq!(r.amount_paid, r.amount);
        assert_eq!(lines.len(), r.lines as usize);
        if r.status == RequestStatus::Settled {
            assert_eq!(r.settled_by, Some(winner), "the contractor confirmed");
        }
    }
    let (wages, lines) = requests
        .iter()
        .find(|(r, _)| r.id == payroll_id)
        .expect("the payroll request");
    assert!(matches!(wages.kind, RequestKind::Payroll { .. }));
    assert_eq!(lines.len(), 5);
    let workers: BTreeSet<Address> = lines.iter().map(|tr| tr.to).collect();
    assert_eq!(workers.len(), 5, "five distinct workers");
    let refs: BTreeSet<&str> = lines
        .iter()
        .map(|tr| tr.bank_ref.as_deref().expect("every line paid"))
        .collect();
    assert_eq!(refs.len(), 5, "one distinct bank reference per line");
    let failed: Vec<&Transfer> = lines
        .iter()
        .filter(|tr| !tr.failed_refs.is_empty())
        .collect();
    assert_eq!(failed.len(), 1, "one line failed once: {failed:?}");
    let failed_line = failed[0].line;
    let total: u64 = lines.iter().map(|tr| tr.amount).sum();
    assert_eq!(total, wages.amount);
    assert_eq!(c.paid_wage_out, wages.amount);
    assert!(lines.iter().all(|tr| tr.from == winner));

    // The API serves the same state.
    let served = client
        .get(&format!("/v1/tenders/{}", t.id))
        .expect("tender");
    assert_eq!(served["tender"]["status"], "CONTRACTED");
    assert_eq!(served["bids"].as_array().map(Vec::len), Some(4));
    let served = client
        .get(&format!("/v1/contracts/{}/trail", c.id))
        .expect("trail");
    assert_eq!(served["requests"].as_array().map(Vec::len), Some(3));
    assert_eq!(served["requests"][2]["request"]["id"], payroll_id);
    assert_eq!(
        served["requests"][2]["lines"].as_array().map(Vec::len),
        Some(5)
    );
    // A request's lines, a page at a time.
    let page = client
        .get(&format!("/v1/payments/{payroll_id}?from=1&limit=2"))
        .expect("payment");
    assert_eq!(page["request"]["status"], "SETTLED");
    let shown: Vec<u64> = page["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["line"].as_u64())
        .collect();
    assert_eq!((shown, &page["next_from"]), (vec![1, 2], &Value::from(3)));
    let last = client
        .get(&format!("/v1/payments/{payroll_id}?from=4"))
        .expect("payment");
    assert_eq!(last["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["next_from"], Value::Null);

    // `xachain payment show`, and `xachain payment settle` refused to anyone but the payee
    // (the operator here), by name.
    let id = payroll_id.to_string();
    let out = run(
        &["payment", "show", &id, "--all", "--json", "--api", &api],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("payment show --json");
    assert_eq!(shown["lines"].as_array().map(Vec::len), Some(5), "{shown}");
    let out = run(
        &["payment", "show", &id, "--limit", "2", "--api", &api],
        &[],
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("SETTLED") && summary.contains("5 of 5 line(s) paid"),
        "{summary}"
    );
    assert!(summary.contains("--from 2"), "{summary}");
    let operator = dir.join("keys").join("operator.json");
    let milestone_1 = requests[1].0.id.to_string();
    let out = run(
        &[
            "payment",
            "settle",
            &milestone_1,
            "--json",
            "--api",
            &api,
            "--key",
        ],
        &[&operator],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PERMISSION_DENIED") && err.contains("body.sender"),
        "{err}"
    );

    // `xachain tender list`: JSON and the summary, filtered by status.
    let list = |extra: &[&str]| -> Value {
        let mut args = vec!["tender", "list", "--json", "--api", &api];
        args.extend_from_slice(extra);
        let out = run(&args, &[]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("tender list --json")
    };
    let listed = list(&[]);
    assert_eq!(listed["tenders"][0]["id"], t.id, "{listed}");
    assert_eq!(listed["tenders"][0]["status"], "CONTRACTED", "{listed}");
    let listed = list(&["--status", "contracted"]);
    assert_eq!(listed["tenders"].as_array().map(Vec::len), Some(1));
    let listed = list(&["--status", "bidding"]);
    assert_eq!(listed["tenders"].as_array().map(Vec::len), Some(0));
    let out = run(&["tender", "list", "--api", &api], &[]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("#{}", t.id)) && summary.contains("CONTRACTED"),
        "{summary}"
    );
    let out = run(
        &["tender", "list", "--status", "x&limit=5", "--api", &api],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // The tender's complete history, exported from the live chain and verified offline.
    let tip = client
        .status()
        .ok()
        .and_then(|s| s["height"].as_u64())
        .expect("height");
    let tender_pkg_path = tmp.path().join("tender-history.json");
    let tender_pkg = export_history(&api, &tender_key(t.id), tip, &tender_pkg_path);
    let report = verify_ok(&tender_pkg_path, &genesis);
    let statements = report["statements"].to_string();
    assert!(statements.contains("has exactly"), "{statements}");
    // `verify` also says what each proven version of the record is.
    let records: Vec<&str> = report["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["record"].as_str())
        .collect();
    assert_eq!(records.len(), versions(&tender_pkg).len(), "{report}");
    assert!(records[0].contains("BIDDING"), "{records:?}");
    assert!(
        records
            .iter()
            .any(|r| r.contains("SUSPENDED, 4 bid(s), 1 objection(s) (1 open)")),
        "{records:?}"
    );
    assert!(
        records
            .last()
            .is_some_and(|r| r.contains("CONTRACTED") && r.contains("at 1090000 fen")),
        "{records:?}"
    );
    let history: Vec<(Hash, Tender)> = values(&tender_pkg);
    assert_eq!(
        runs(history.iter().map(|(_, t)| t.status)),
        vec![
            TenderStatus::Bidding,
            TenderStatus::Closed,
            TenderStatus::Evaluating,
            TenderStatus::Publicity,
            TenderStatus::Suspended,
            TenderStatus::Publicity,
            TenderStatus::Awarded,
            TenderStatus::Contracted,
        ]
    );
    assert_eq!(history.last().map(|(_, t)| t), Some(&t));

    // The validators opened the bids by themselves: every opening share on chain, and every
    // `open_share` transaction at all, was signed by a validator node's own account (written by
    // `init` as node-N/account.json; the demo and this test never hold those keys).
    let nodes: BTreeMap<Address, usize> = (0..4)
        .map(|i| {
            let key = xa_crypto::read_key_file(&dir.join(format!("node-{i}/account.json")))
                .expect("node account key");
            (address_of(&key.public_key()), i)
        })
        .collect();
    let published_at = versions(&tender_pkg)[0].height;
    let opened = &history[history
        .iter()
        .position(|(_, t)| t.status == TenderStatus::Evaluating)
        .expect("opened")];
    let posted = open_share_txs(&client, published_at, tip);
    assert!(!posted.is_empty(), "no open_share transaction on chain");
    for p in &posted {
        assert!(
            nodes.contains_key(&p.sender),
            "open_share {} by {}, not a validator node's account",
            p.hash,
            p.sender
        );
        // Posted once the opening time had come, never before; shares beyond the threshold
        // arrive after the opening and are accepted without effect (`share_unneeded`).
        assert!(p.time_ms >= t.opening_ms, "{p:?} before {}", t.opening_ms);
        assert!(
            p.status == "success" || ["INVALID_STATE", "ALREADY_EXISTS"].contains(&p.code.as_str()),
            "{p:?}"
        );
    }
    let succeeded: BTreeSet<usize> = posted
        .iter()
        .filter(|p| p.status == "success" && !p.events.iter().any(|k| k == "share_unneeded"))
        .map(|p| nodes[&p.sender])
        .collect();
    assert_eq!(succeeded.len(), opening.shares.len(), "{posted:?}");
    assert!(opening.shares.len() >= 3, "threshold 3 of 4: {opening:?}");
    assert!(
        posted
            .iter()
            .any(|p| p.status == "success" && p.hash == opened.0),
        "the opening transaction {} is not a node's open_share",
        opened.0
    );
    println!(
        "opened by the validators {} ms after the opening time",
        opening.opened_ms - t.opening_ms
    );
    assert!(
        opening.opened_ms < t.opening_ms + 30_000,
        "opened {} ms after the opening time",
        opening.opened_ms - t.opening_ms
    );
    // The shares record's own history names the same transactions.
    let shares_pkg_path = tmp.path().join("shares-history.json");
    let shares_pkg = export_history(&api, &shares_key(t.id), tip, &shares_pkg_path);
    verify_ok(&shares_pkg_path, &genesis);
    for v in versions(&shares_pkg) {
        assert!(
            posted
                .iter()
                .any(|p| p.status == "success" && p.hash == v.tx_hash),
            "share written by {} which is no node's open_share",
            v.tx_hash
        );
    }
    // Shares posted in the same block make one version (its last writer); the last version
    // holds exactly the shares the opening used.
    let shares: Vec<(Hash, Shares)> = values(&shares_pkg);
    assert!(!shares.is_empty() && shares.len() <= opening.shares.len());
    let last: Vec<u32> = shares
        .last()
        .map(|(_, s)| s.iter().map(|(i, _)| *i).collect())
        .unwrap_or_default();
    assert_eq!(last, opening.shares);

    // Tampering with the tender's history is caught: hiding the suspension by an objection…
    let mut hidden = tender_pkg.clone();
    if let Record::History(h) = &mut hidden.record {
        let at = history
            .iter()
            .position(|(_, t)| t.status == TenderStatus::Suspended)
            .expect("suspended version");
        h.versions.remove(at);
    }
    verify_tampered(
        &hidden,
        &tmp.path().join("t1.json"),
        &genesis,
        "a version removed",
    );
    // …or rewriting the award's price in the last version.
    let mut rewritten = tender_pkg.clone();
    if let Record::History(h) = &mut rewritten.record {
        let last = h.versions.last_mut().expect("a version");
        let mut v: Tender = decode(last.value.as_deref().expect("value")).expect("decode");
        if let Some(a) = v.award.as_mut() {
            a.price -= 1;
        }
        last.value = Some(encode(&v));
    }
    verify_tampered(
        &rewritten,
        &tmp.path().join("t2.json"),
        &genesis,
        "a version's value changed",
    );

    // The payroll request's history shows PARTIALLY_PAID before PAID, each bank posting by its
    // own transaction; verified offline, and tampering caught.
    let payroll_pkg_path = tmp.path().join("payroll-history.json");
    let payroll_pkg = export_history(&api, &request_key(payroll_id), tip, &payroll_pkg_path);
    verify_ok(&payroll_pkg_path, &genesis);
    let out = Command::new(BIN)
        .arg("verify")
        .arg(&payroll_pkg_path)
        .arg("--genesis")
        .arg(&genesis)
        .output()
        .expect("run verify");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        summary.contains("VERIFIED")
            && summary.contains(
                "PARTIALLY_PAID: 41000 fen, 4 of 5 line(s) paid (32700 fen), 1 failed and unpaid"
            )
            && summary.contains("PAID: 41000 fen, 5 of 5 line(s) paid (41000 fen), 0 failed")
            && summary.contains(&format!("SETTLED: 41000 fen, 5 of 5 line(s) paid (41000 fen), 0 failed and unpaid, settled by {winner}")),
        "{summary}"
    );
    let requests_history: Vec<(Hash, PaymentRequest)> = values(&payroll_pkg);
    assert_eq!(
        runs(requests_history.iter().map(|(_, r)| r.status)),
        vec![
            RequestStatus::Submitted,
            RequestStatus::Reviewed,
            RequestStatus::Approved,
            RequestStatus::PartiallyPaid,
            RequestStatus::Paid,
            RequestStatus::Settled,
        ]
    );
    // Request, review, approval, five postings, the retry and the settlement: ten writes, ten
    // transactions.
    assert_eq!(requests_history.len(), 10);
    let writers: BTreeSet<Hash> = requests_history.iter().map(|(h, _)| *h).collect();
    assert_eq!(writers.len(), 10);
    // The bank sends its postings at once, so they usually share blocks: each is still its own
    // version (one per transaction), several at one height.
    let heights: BTreeSet<u64> = versions(&payroll_pkg).iter().map(|v| v.height).collect();
    println!(
        "payroll request history: 10 versions in {} blocks",
        heights.len()
    );
    let mut forged = payroll_pkg.clone();
    if let Record::History(h) = &mut forged.record {
        // Claim the first posting's transaction wrote the retry's version too.
        let n = h.versions.len();
        h.versions[n - 1].tx_hash = h.versions[n - 2].tx_hash;
    }
    verify_tampered(
        &forged,
        &tmp.path().join("p1.json"),
        &genesis,
        "a version's transaction changed",
    );

    // The failed worker's own line: written by the request, the failed posting and the retry,
    // each version by its transaction; the auditor sees the failure, and hiding it is caught.
    let line_pkg_path = tmp.path().join("line-history.json");
    let line_pkg = export_history(
        &api,
        &line_key(payroll_id, failed_line),
        tip,
        &line_pkg_path,
    );
    let report = verify_ok(&line_pkg_path, &genesis);
    let records: Vec<&str> = report["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["record"].as_str())
        .collect();
    let bank_ref = format!("WAGE-{payroll_id}-{failed_line}");
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records[0].ends_with("awaiting the bank"), "{records:?}");
    assert!(
        records[1].ends_with(&format!("failed under {bank_ref}, unpaid")),
        "{records:?}"
    );
    assert!(
        records[2].ends_with(&format!("paid under {bank_ref} after failed {bank_ref}")),
        "{records:?}"
    );
    let line_history: Vec<(Hash, Transfer)> = values(&line_pkg);
    assert_eq!(
        line_history[0].0, requests_history[0].0,
        "written by the request"
    );
    assert_eq!(
        line_history.last().map(|(_, t)| t),
        lines.get(failed_line as usize)
    );
    let mut hidden = line_pkg.clone();
    if let Record::History(h) = &mut hidden.record {
        h.versions.remove(1);
    }
    verify_tampered(
        &hidden,
        &tmp.path().join("l1.json"),
        &genesis,
        "the failed attempt hidden",
    );

    // The contract's history: created, then credited by each milestone's payment, then debited
    // by the payroll.
    let contract_pkg_path = tmp.path().join("contract-history.json");
    let contract_pkg = export_history(&api, &contract_key(c.id), tip, &contract_pkg_path);
    verify_ok(&contract_pkg_path, &genesis);
    let contracts: Vec<(Hash, Contract)> = values(&contract_pkg);
    assert_eq!(contracts.first().map(|(_, c)| c.received), Some(0));
    assert_eq!(contracts.last().map(|(_, c)| c), Some(&c));
    assert!(
        contracts
            .windows(2)
            .all(|w| w[0].1.received <= w[1].1.received),
        "received never decreases"
    );
    // Dropping the latest version (hiding the payroll's debit) is caught too.
    let mut truncated = contract_pkg.clone();
    if let Record::History(h) = &mut truncated.record {
        h.versions.pop();
    }
    verify_tampered(
        &truncated,
        &tmp.path().join("c1.json"),
        &genesis,
        "the last version dropped",
    );
    println!("whole test took {:?}", started.elapsed());
}
