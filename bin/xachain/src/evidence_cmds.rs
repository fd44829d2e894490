//! `xachain evidence export` and `xachain verify`: evidence packages out of a node, and their
//! offline verification against the genesis file.

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args};
use std::path::PathBuf;
use xa_client::Client;
use xa_light::{Package, Record, verify_bytes};
use xa_types::{
    Genesis, decode,
    modules::{
        payment::{Contract, PaymentRequest, RequestRecordKey, Transfer, parse_request_record_key},
        tender::Tender,
    },
};

/// What one version of a tender, contract, payment request or transfer line record says, in a
/// line; `None` for other keys or a value that does not decode as the record its key names.
fn describe(state_key: &[u8], value: Option<&[u8]>) -> Option<String> {
    let key = std::str::from_utf8(state_key).ok()?;
    let Some(value) = value else {
        return Some("deleted".into());
    };
    if let Some(id) = key.strip_prefix("tender/t/")
        && id.len() == 20
        && id.bytes().all(|b| b.is_ascii_digit())
    {
        let t: Tender = decode(value).ok()?;
        let award = t
            .award
            .map(|a| format!(", awarded to {} at {} fen", a.winner, a.price))
            .unwrap_or_default();
        return Some(format!(
            "tender {} {}, {} bid(s), {} objection(s) ({} open){award}",
            t.id,
            t.status.as_str(),
            t.bidders.len(),
            t.objections,
            t.open_objections
        ));
    }
    if key.starts_with("payment/contract/") {
        let c: Contract = decode(value).ok()?;
        return Some(format!(
            "contract {} {}: received {} of {} fen, wages paid {}",
            c.id,
            status_name(&c.status),
            c.received,
            c.amount,
            c.paid_wage_out
        ));
    }
    match parse_request_record_key(state_key) {
        Some(RequestRecordKey::Request(id)) => {
            let r: PaymentRequest = decode(value).ok().filter(|r: &PaymentRequest| r.id == id)?;
            let settled = r
                .settled_by
                .map(|by| format!(", settled by {by}"))
                .unwrap_or_default();
            return Some(format!(
                "payment request {} {}: {} fen, {} of {} line(s) paid ({} fen), {} failed and unpaid{settled}",
                r.id,
                r.status.as_str(),
                r.amount,
                r.lines_paid,
                r.lines,
                r.amount_paid,
                r.lines_failed
            ));
        }
        Some(RequestRecordKey::Line(id, n)) => {
            let t: Transfer = decode(value)
                .ok()
                .filter(|t: &Transfer| (t.request, t.line) == (id, n))?;
            let account = if t.account.is_empty() {
                String::new()
            } else {
                format!(" (account {})", t.account)
            };
            let state = match (&t.bank_ref, t.failed_refs.as_slice()) {
                (Some(paid), []) => format!("paid under {paid}"),
                (Some(paid), failed) => {
                    format!("paid under {paid} after failed {}", failed.join(", "))
                }
                (None, []) => "awaiting the bank".to_string(),
                (None, failed) => format!("failed under {}, unpaid", failed.join(", ")),
            };
            return Some(format!(
                "payment request {id} line {n}: {} fen {} -> {}{account}, {state}",
                t.amount, t.from, t.to
            ));
        }
        None => {}
    }
    None
}

/// A status enum's stable (serde) name, e.g. `IN_PROGRESS`.
fn status_name(status: &impl serde::Serialize) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}

/// `xachain evidence export`: write an evidence package for one record.
///
/// `--history` and `--height` conflict with the other record kinds explicitly: clap counts a
/// `requires` as met when another member of the `what` group is given.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["tx", "state", "notary", "consistency"])))]
pub struct ExportArgs {
    /// A committed transaction, by hash.
    #[arg(long)]
    tx: Option<String>,
    /// A state entry, as MODULE/KEY (e.g. notary/<digest>, accounts/<address>, validators/set).
    /// (`--key` is accepted too, as before; elsewhere `--key` names a key file.)
    #[arg(long, value_name = "MODULE/KEY", alias = "key")]
    state: Option<String>,
    /// With --state: the key's complete history instead of its value.
    #[arg(long, requires = "state", conflicts_with_all = ["tx", "notary", "consistency"])]
    history: bool,
    /// With --state: at this height (default: the latest certified height).
    #[arg(long, requires = "state", conflicts_with_all = ["tx", "notary", "consistency"])]
    height: Option<u64>,
    /// A notarized document, by its id (the document digest).
    #[arg(long)]
    notary: Option<String>,
    /// Consistency between two heights, as FROM..TO.
    #[arg(long)]
    consistency: Option<String>,
    /// Where to write the package.
    #[arg(long)]
    out: PathBuf,
    /// API base URL of the node to export from (`--node` is accepted too, as before).
    #[arg(
        long,
        alias = "node",
        default_value = "http://127.0.0.1:8080",
        env = "XACHAIN_API"
    )]
    api: String,
}

/// Fetch the package from the node and write it in canonical form.
pub fn export(args: &ExportArgs) -> Result<()> {
    let path = if let Some(tx) = &args.tx {
        format!("/v1/evidence/tx/{tx}")
    } else if let Some(d) = &args.notary {
        format!("/v1/evidence/notary/{d}")
    } else if let Some(k) = &args.state {
        let (module, key) = k
            .split_once('/')
            .context("--state: expected MODULE/KEY, e.g. notary/<digest>")?;
        let mut q = vec![];
        if args.history {
            q.push("history=true".to_string());
        }
        if let Some(h) = args.height {
            q.push(format!("height={h}"));
        }
        format!("/v1/evidence/state/{module}/{key}?{}", q.join("&"))
    } else if let Some(c) = &args.consistency {
        let (from, to) = c
            .split_once("..")
            .context("--consistency: expected FROM..TO")?;
        format!("/v1/evidence/consistency?from={from}&to={to}")
    } else {
        bail!("one of --tx, --state, --notary or --consistency is required");
    };
    let value = Client::new(&args.api).get(&path)?;
    let package: Package =
        serde_json::from_value(value).context("the node answered with something not a package")?;
    let bytes = package.to_bytes();
    std::fs::write(&args.out, &bytes).with_context(|| format!("write {}", args.out.display()))?;
    println!(
        "wrote {} ({} bytes, {} certified headers, {} epoch changes)",
        args.out.display(),
        bytes.len(),
        package.headers.len(),
        package.lineage.len()
    );
    Ok(())
}

/// `xachain verify`: check an evidence package offline.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The package file.
    file: PathBuf,
    /// The chain's genesis file; without it the package's own genesis is trusted (compare the
    /// printed genesis hash with a published one).
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// A document to compare with a notary record: its digest is recomputed with the chain's
    /// hash and reported "consistent" or "inconsistent".
    #[arg(long)]
    document: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Verify; `Err` (exit status 1) with the broken part named when anything fails, exit status 2
/// when the package verifies but the document is inconsistent with it.
pub fn verify(args: &VerifyArgs) -> Result<()> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("read {}", args.file.display()))?;
    let genesis: Option<Genesis> = match &args.genesis {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            Some(serde_json::from_str(&text).with_context(|| format!("{}", p.display()))?)
        }
        None => None,
    };
    let report = verify_bytes(&bytes, genesis.as_ref())
        .map_err(|e| anyhow::anyhow!("verification failed: {e}"))?;
    let package = Package::parse(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let suite = package.genesis.suite;
    let document = match &args.document {
        None => None,
        Some(p) => {
            let Record::Notary { .. } = &package.record else {
                bail!("--document: the package does not prove a notary record");
            };
            let data = std::fs::read(p).with_context(|| format!("read {}", p.display()))?;
            let digest = suite.hash(&data);
            let claimed = report.notary.as_ref().map(|r| r.digest);
            Some((digest, Some(digest) == claimed))
        }
    };
    // A tender's, contract's or payment request's history, version by version, in words.
    let records: Vec<serde_json::Value> = match &package.record {
        Record::History(h) => h
            .versions
            .iter()
            .filter_map(|v| {
                describe(&h.state_key, v.value.as_deref()).map(|what| {
                    serde_json::json!({"height": v.height, "tx_hash": v.tx_hash, "record": what})
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "records": records,
                "verified": true,
                "chain_id": report.chain_id,
                "suite": report.suite,
                "genesis_hash": report.genesis_hash,
                "genesis_source": if genesis.is_some() { "given" } else { "package" },
                "height": report.height,
                "time_ms": report.time_ms,
                "block_hash": report.block_hash,
                "signers": report.signers,
                "finalized_via": report.via,
                "epochs": report.epochs,
                "statements": report.statements,
                "notary": report.notary,
                "document": document.map(|(d, ok)| serde_json::json!({"digest": d, "consistent": ok})),
            })
        );
    } else {
        println!("VERIFIED");
        println!(
            "chain:      {} ({}), genesis {}{}",
            report.chain_id,
            report.suite,
            report.genesis_hash,
            if genesis.is_some() {
                " (matches --genesis)"
            } else {
                " (from the package: compare it with the published genesis)"
            }
        );
        println!(
            "block:      height {} hash {} at {}",
            report.height,
            report.block_hash,
            xa_api::certificate::utc(report.time_ms)
        );
        println!(
            "finalized:  by {}{}",
            report.signers.join(", "),
            report
                .via
                .map(|a| format!(" (through the certificate of block {a})"))
                .unwrap_or_default()
        );
        if !report.epochs.is_empty() {
            println!(
                "lineage:    validator sets of epochs {:?} proven from genesis",
                report.epochs
            );
        }
        if let Some(r) = &report.notary {
            println!(
                "who:        account {} (keys {:?})",
                r.submitter,
                r.signers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            );
            println!(
                "what:       '{}' ({} bytes, kind '{}'), digest {}",
                r.title, r.file_size, r.kind, r.digest
            );
            println!(
                "when:       {} (block {})",
                xa_api::certificate::utc(r.time_ms),
                r.height
            );
        }
        for s in &report.statements {
            println!("proven:     {s}");
        }
        for r in &records {
            // Several transactions of one block may each leave a version: name the writer.
            println!(
                "record:     at height {} by transaction {}: {}",
                r["height"],
                r["tx_hash"].as_str().unwrap_or_default(),
                r["record"].as_str().unwrap_or_default()
            );
        }
        if let Some((d, ok)) = document {
            println!(
                "document:   digest {d}: {}",
                if ok { "consistent" } else { "inconsistent" }
            );
        }
    }
    if matches!(document, Some((_, false))) {
        std::process::exit(2);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::describe;
    use xa_types::{
        Hash, encode,
        modules::{
            payment::{RequestKind, RequestStatus, Transfer, line_key, request_key},
            tender::{TenderStatus, tender_key},
        },
    };

    #[test]
    fn describes_known_records_and_nothing_else() {
        let tender = xa_types::modules::tender::Tender {
            id: 7,
            title: "lot".into(),
            documents_digest: Hash([1; 32]),
            owner: Hash([2; 32]),
            agency: Hash([3; 32]),
            agency_org: "agency".into(),
            deadline_ms: 1,
            opening_ms: 2,
            min_bidders: 3,
            experts: vec![],
            supervisor_org: "sup".into(),
            status: TenderStatus::Suspended,
            bidders: vec![Hash([4; 32]), Hash([5; 32]), Hash([6; 32])],
            published_ms: 0,
            candidate: None,
            publicity: None,
            objections: 2,
            open_objections: 1,
            suspended_since_ms: Some(5),
            award: None,
        };
        let bytes = encode(&tender);
        assert_eq!(
            describe(&tender_key(7), Some(&bytes)).as_deref(),
            Some("tender 7 SUSPENDED, 3 bid(s), 2 objection(s) (1 open)")
        );
        assert_eq!(describe(&tender_key(7), None).as_deref(), Some("deleted"));
        // A value that is not the record its key names, keys of other records under the
        // tender's prefix, other modules' keys and non-UTF-8 keys: nothing is claimed.
        assert_eq!(describe(&tender_key(7), Some(b"garbage")), None);
        assert_eq!(describe(&request_key(7), Some(&bytes)), None);
        let opening = [tender_key(7), b"/opening".to_vec()].concat();
        assert_eq!(describe(&opening, Some(&bytes)), None);
        assert_eq!(describe(b"notary/x", Some(&bytes)), None);
        assert_eq!(describe(&[0xff, 0xfe], Some(&bytes)), None);
        let request = xa_types::modules::payment::PaymentRequest {
            id: 3,
            contract: 1,
            kind: RequestKind::Material,
            amount: 500,
            evidence: Hash([9; 32]),
            status: RequestStatus::Rejected,
            requester: Hash([4; 32]),
            reviewed_by: None,
            approved_by: None,
            lines: 1,
            lines_paid: 0,
            lines_failed: 0,
            amount_paid: 0,
            created_ms: 0,
            settled_by: None,
            settled_ms: None,
        };
        assert_eq!(
            describe(&request_key(3), Some(&encode(&request))).as_deref(),
            Some(
                "payment request 3 REJECTED: 500 fen, 0 of 1 line(s) paid (0 fen), 0 failed and unpaid"
            )
        );
        let settled = xa_types::modules::payment::PaymentRequest {
            status: RequestStatus::Settled,
            lines_paid: 1,
            amount_paid: 500,
            settled_by: Some(Hash([0xAB; 32])),
            settled_ms: Some(9),
            ..request.clone()
        };
        let text = describe(&request_key(3), Some(&encode(&settled))).expect("described");
        assert!(
            text.starts_with("payment request 3 SETTLED: 500 fen, 1 of 1 line(s) paid (500 fen)")
                && text.ends_with(&format!("settled by {}", Hash([0xAB; 32]))),
            "{text}"
        );
        // A request's record under another request's key is not claimed.
        assert_eq!(describe(&request_key(4), Some(&encode(&request))), None);
        let mut line = Transfer {
            request: 3,
            line: 2,
            from: Hash([4; 32]),
            to: Hash([5; 32]),
            account: "6222-1".into(),
            amount: 80,
            bank_ref: None,
            failed_refs: vec![],
            paid_ms: None,
        };
        let said = |t: &Transfer| describe(&line_key(3, 2), Some(&encode(t))).expect("described");
        let (from, to) = (Hash([4; 32]), Hash([5; 32]));
        assert_eq!(
            said(&line),
            format!(
                "payment request 3 line 2: 80 fen {from} -> {to} (account 6222-1), awaiting the bank"
            )
        );
        line.failed_refs.push("W-2".into());
        assert!(said(&line).ends_with("failed under W-2, unpaid"));
        line.bank_ref = Some("W-2b".into());
        assert!(said(&line).ends_with("paid under W-2b after failed W-2"));
        // A line record under another line's key, or a summary under a line key: nothing.
        assert_eq!(describe(&line_key(3, 1), Some(&encode(&line))), None);
        assert_eq!(describe(&line_key(3, 0), Some(&encode(&request))), None);
        assert_eq!(describe(&request_key(3), Some(&encode(&line))), None);
    }
}
