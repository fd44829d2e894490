//! `xachain bench`: a load generator with a Caliper-style report.
//!
//! Transactions are signed before the clock starts (by a pool of fresh accounts, each with its
//! own nonce sequence; an organization administrator, by default the devnet operator, first
//! registers them with the `citizen` role, since only registered accounts with a role may
//! anchor), then sent in batches to the given APIs round-robin, at a fixed rate or
//! as fast as accepted. Commit times come from polling committed blocks, so latency is
//! submit-to-finalized-and-executed, with the poll interval as resolution. A transaction
//! refused with `MEMPOOL_FULL` is sent again in its sender's next slot, before anything new, as
//! a client would; its latency counts from its first sending.

use anyhow::{Context, Result, bail};
use clap::Args;
use std::{
    collections::HashMap,
    io::Write as _,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use xa_client::Client;
use xa_types::{
    Call, Hash, KeyPair, Suite, Transaction, TxBody, address_of,
    modules::identity,
    modules::notary::{ANCHOR, AnchorArgs, MODULE},
};

/// Arguments of `xachain bench`.
#[derive(Args, Clone, Debug)]
pub struct BenchArgs {
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Target send rate in tx/s.
    #[arg(long, conflicts_with = "max")]
    pub rate: Option<u64>,
    /// Send as fast as the nodes accept (capped by what was pre-signed).
    #[arg(long)]
    pub max: bool,
    /// API URLs to spread the load over (default: the 4 devnet validators).
    #[arg(long)]
    pub api: Vec<String>,
    /// Number of sending accounts.
    #[arg(long, default_value_t = 2000)]
    pub accounts: usize,
    /// Transactions per HTTP request (`POST /v1/transactions/batch`; with 1, each goes alone to
    /// `POST /v1/transactions`, as most clients send them).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Sending threads per API, each waiting for its previous request: more than one lets
    /// requests overlap, as those of many independent clients do.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub senders: u64,
    /// Pre-signed transactions per second of duration in --max mode.
    #[arg(long, default_value_t = 25_000)]
    pub presign_rate: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also report committed tx/s and latency per window of this many seconds (by commit
    /// time), so a long run shows whether the chain keeps its pace as state grows; 0: none.
    #[arg(long, default_value_t = 0)]
    pub window: u64,
    /// Key file of an `org_admin` who registers the sending accounts (default: the devnet
    /// operator's).
    #[arg(long, default_value = "devnet/keys/operator.json")]
    pub admin_key: std::path::PathBuf,
    /// Organization the sending accounts are registered into (the admin's organization).
    #[arg(long, default_value = "committee")]
    pub org: String,
}

/// Register `keys` as `citizen`s of `org`, signed by `admin`, waiting until all are committed.
/// Batches stay within the mempool's nonce window.
fn register_accounts(
    client: &Client,
    chain_id: &str,
    admin: &KeyPair,
    org: &str,
    keys: &[KeyPair],
) -> Result<()> {
    let sender = address_of(&admin.public_key());
    let committed_nonce = |client: &Client| -> Result<u64> {
        let v = client
            .get(&format!("/v1/accounts/{sender}"))
            .context("reading the admin account")?;
        Ok(v["account"]["next_nonce"].as_u64().unwrap_or(0))
    };
    for chunk in keys.chunks(500) {
        let (_, height) = client.chain_info()?;
        let first = client.next_nonce(&sender)?;
        let txs: Vec<Transaction> = chunk
            .iter()
            .enumerate()
            .map(|(i, k)| {
                TxBody {
                    chain_id: chain_id.to_string(),
                    sender,
                    nonce: first + i as u64,
                    expiry_height: height + 1_000,
                    call: Call::new(
                        identity::MODULE,
                        identity::REGISTER_ACCOUNT,
                        &identity::RegisterAccountArgs {
                            org: org.to_string(),
                            name: format!("bench-{}", i),
                            public_key: k.public_key(),
                            id_digest: None,
                            roles: vec![identity::CITIZEN.to_string()],
                        },
                    ),
                }
                .sign(admin)
            })
            .collect();
        for r in client.submit_batch(&txs)? {
            if let Some(e) = r.get("error") {
                bail!("registering bench accounts: {e}");
            }
        }
        let target = first + chunk.len() as u64;
        let deadline = Instant::now() + Duration::from_secs(120);
        while committed_nonce(client)? < target {
            if Instant::now() > deadline {
                bail!("registering bench accounts: not committed within 120 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

struct Sent {
    at: HashMap<Hash, Instant>,
}

/// Committed throughput and latency per window of `window_s` seconds, by commit time.
///
/// `commits` holds (seconds since the start at which the commit was seen, latency in seconds).
/// Windows run from 0 to the last commit; an empty window reports zero throughput and no
/// latencies, so a stall shows as such rather than disappearing.
fn windows(commits: &[(f64, f64)], window_s: u64) -> Vec<serde_json::Value> {
    if window_s == 0 || commits.is_empty() {
        return Vec::new();
    }
    let w = window_s as f64;
    let last = commits.iter().map(|(at, _)| *at).fold(0.0, f64::max);
    let n = (last / w).floor() as usize + 1;
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); n];
    for (at, lat) in commits {
        per[((at / w).floor() as usize).min(n - 1)].push(*lat);
    }
    per.into_iter()
        .enumerate()
        .map(|(i, mut lat)| {
            lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            serde_json::json!({
                "from_s": i as f64 * w,
                "to_s": (i + 1) as f64 * w,
                "committed": lat.len(),
                "throughput_tps": lat.len() as f64 / w,
                "p50_s": (!lat.is_empty()).then(|| percentile(&lat, 0.50)),
                "p99_s": (!lat.is_empty()).then(|| percentile(&lat, 0.99)),
            })
        })
        .collect()
}

/// The refusal a client should retry (the mempool's back-pressure).
const MEMPOOL_FULL: &str = "MEMPOOL_FULL";

/// Pause before resending refused transactions when no rate paces the senders (`--max`).
const RETRY_BACKOFF: Duration = Duration::from_millis(20);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Run the benchmark.
pub fn run(args: &BenchArgs) -> Result<()> {
    let apis: Vec<String> = if args.api.is_empty() {
        (0..4)
            .map(|i| format!("http://127.0.0.1:{}", 8080 + i))
            .collect()
    } else {
        args.api.clone()
    };
    let clients: Vec<Client> = apis.iter().map(|a| Client::new(a)).collect();
    let status = clients[0]
        .status()
        .with_context(|| format!("reaching {}", apis[0]))?;
    let chain_id = status["chain_id"].as_str().unwrap_or_default().to_string();
    let suite: Suite = status["suite"]
        .as_str()
        .unwrap_or("ed25519")
        .parse()
        .map_err(|e| anyhow::anyhow!("unknown suite: {e}"))?;
    let total = match (args.rate, args.max) {
        (Some(r), _) => r * args.duration,
        (None, true) => args.presign_rate * args.duration,
        (None, false) => bail!("give --rate R or --max"),
    } as usize;
    if total == 0 {
        bail!("nothing to send");
    }

    // Pre-sign: accounts × nonces, interleaved so consecutive batches spread over accounts.
    eprintln!(
        "signing {total} notary transactions with {} accounts ({})…",
        args.accounts,
        suite.name()
    );
    let run_tag: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let accounts = args.accounts.max(1).min(total);
    let keys: Vec<KeyPair> = (0..accounts).map(|_| KeyPair::generate(suite)).collect();
    let admin = xa_crypto::read_key_file(&args.admin_key)
        .with_context(|| format!("reading the admin key {}", args.admin_key.display()))?;
    eprintln!(
        "registering {accounts} accounts in '{}' as {}…",
        args.org,
        address_of(&admin.public_key())
    );
    register_accounts(&clients[0], &chain_id, &admin, &args.org, &keys)?;
    let start_height = clients[0].chain_info()?.1;
    let per_account = total.div_ceil(accounts);
    let expiry = start_height + 100_000;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunks: Vec<Vec<Transaction>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let keys = &keys;
                let chain_id = &chain_id;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for i in (t..total).step_by(threads) {
                        let (a, nonce) = (i % accounts, (i / accounts) as u64);
                        let key = &keys[a];
                        let digest =
                            suite.hash_parts(&[&run_tag.to_le_bytes(), &(i as u64).to_le_bytes()]);
                        let body = TxBody {
                            chain_id: chain_id.clone(),
                            sender: address_of(&key.public_key()),
                            nonce,
                            expiry_height: expiry,
                            call: Call::new(
                                MODULE,
                                ANCHOR,
                                &AnchorArgs {
                                    digest,
                                    title: format!("bench-{i}"),
                                    file_size: i as u64,
                                    kind: "bench".into(),
                                },
                            ),
                        };
                        out.push((i, body.sign(key)));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, Transaction)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .chunks(args.batch.max(1))
            .map(|c| c.to_vec())
            .collect()
    });
    let _ = per_account;

    let sent = Arc::new(Mutex::new(Sent {
        at: HashMap::with_capacity(total),
    }));
    // (seconds since start when seen committed, latency), one per committed transaction.
    let committed: Arc<Mutex<Vec<(f64, f64)>>> = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failed = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    // Refusals with MEMPOOL_FULL ("retry later"), each sent again as a client would: moving on
    // to a sender's later nonces instead would leave them waiting behind the refused one.
    let retried = Arc::new(AtomicU64::new(0));
    let sent_count = Arc::new(AtomicU64::new(0));
    let done_sending = Arc::new(AtomicBool::new(false));
    // The validators' CPU time, so the report can say what a committed transaction cost them
    // (meaningful when the APIs are all the validators and nothing else loads them).
    let node_cpu = |clients: &[Client]| -> Option<f64> {
        clients
            .iter()
            .map(|c| c.process_cpu_seconds().ok().flatten())
            .sum()
    };
    let cpu_before = node_cpu(&clients);
    let start = Instant::now();

    // Watcher: follow committed blocks, match tx hashes to send times.
    let watcher = {
        let client = clients[0].clone();
        let sent = sent.clone();
        let committed = committed.clone();
        let failed = failed.clone();
        let done_sending = done_sending.clone();
        let sent_count = sent_count.clone();
        std::thread::spawn(move || {
            let mut next = start_height + 1;
            let mut idle_since: Option<Instant> = None;
            loop {
                let tip = client
                    .status()
                    .ok()
                    .and_then(|s| s["height"].as_u64())
                    .unwrap_or(next - 1);
                while next <= tip {
                    let Ok(b) = client.block(&next.to_string()) else {
                        break;
                    };
                    let now = Instant::now();
                    for h in b["transactions"].as_array().into_iter().flatten() {
                        let Some(hash) = h.as_str().and_then(|s| s.parse::<Hash>().ok()) else {
                            continue;
                        };
                        if let Some(t) = sent.lock().map(|mut s| s.at.remove(&hash)).ok().flatten()
                        {
                            committed
                                .lock()
                                .map(|mut c| {
                                    c.push((
                                        now.duration_since(start).as_secs_f64(),
                                        now.duration_since(t).as_secs_f64(),
                                    ))
                                })
                                .ok();
                        }
                    }
                    next += 1;
                }
                let done = done_sending.load(Ordering::Relaxed);
                let outstanding = sent.lock().map(|s| s.at.len()).unwrap_or(0);
                let ncommitted = committed.lock().map(|c| c.len()).unwrap_or(0) as u64;
                if ncommitted + failed.load(Ordering::Relaxed) >= sent_count.load(Ordering::Relaxed)
                    && done
                {
                    return;
                }
                if done && outstanding > 0 {
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(30) {
                        failed.fetch_add(outstanding as u64, Ordering::Relaxed);
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };

    // Senders: `--senders` threads per API; batches paced to the target rate over all of them.
    let batches = Arc::new(Mutex::new(chunks.into_iter()));
    let deadline = start + Duration::from_secs(args.duration);
    let threads = clients.len() * args.senders as usize;
    let interval = args
        .rate
        .map(|r| Duration::from_secs_f64(args.batch as f64 / r as f64 * threads as f64));
    let senders: Vec<_> = clients
        .iter()
        .flat_map(|c| std::iter::repeat_n(c.clone(), args.senders as usize))
        .map(|client| {
            let batches = batches.clone();
            let sent = sent.clone();
            let rejected = rejected.clone();
            let retried = retried.clone();
            let sent_count = sent_count.clone();
            std::thread::spawn(move || {
                let mut next_at = Instant::now();
                // Refused with MEMPOOL_FULL: sent again, before anything new, in the next slot.
                let mut retry: Vec<Transaction> = Vec::new();
                loop {
                    if Instant::now() >= deadline {
                        // Never admitted: those count as refused.
                        rejected.fetch_add(retry.len() as u64, Ordering::Relaxed);
                        if let Ok(mut s) = sent.lock() {
                            for tx in &retry {
                                s.at.remove(&tx.hash(suite));
                            }
                        }
                        return;
                    }
                    let batch = if retry.is_empty() {
                        let Some(batch) = batches.lock().ok().and_then(|mut b| b.next()) else {
                            return;
                        };
                        batch
                    } else {
                        if interval.is_none() {
                            std::thread::sleep(RETRY_BACKOFF);
                        }
                        std::mem::take(&mut retry)
                    };
                    if let Some(iv) = interval {
                        let now = Instant::now();
                        if next_at > now {
                            std::thread::sleep(next_at - now);
                        }
                        next_at += iv;
                    }
                    let t = Instant::now();
                    let hashes: Vec<Hash> = batch.iter().map(|tx| tx.hash(suite)).collect();
                    if let Ok(mut s) = sent.lock() {
                        // A resent transaction keeps its first send time: latency is what
                        // its client waited.
                        for h in &hashes {
                            s.at.entry(*h).or_insert(t);
                        }
                    }
                    let outcome = match batch.as_slice() {
                        // One transaction: the single-transaction endpoint, as clients use it.
                        [tx] => match client.submit(tx, false) {
                            Ok(_) => Ok(vec![serde_json::json!({})]),
                            Err(e) if e.code() == Some(MEMPOOL_FULL) => {
                                Ok(vec![serde_json::json!({"error": {"code": MEMPOOL_FULL}})])
                            }
                            Err(e) => Err(e),
                        },
                        _ => client.submit_batch(&batch),
                    };
                    match outcome {
                        Ok(results) => {
                            let mut ok = 0;
                            for ((r, h), tx) in results.iter().zip(&hashes).zip(&batch) {
                                if r["error"]["code"].as_str() == Some(MEMPOOL_FULL) {
                                    retried.fetch_add(1, Ordering::Relaxed);
                                    retry.push(tx.clone());
                                } else if r.get("error").is_some() {
                                    rejected.fetch_add(1, Ordering::Relaxed);
                                    if let Ok(mut s) = sent.lock() {
                                        s.at.remove(h);
                                    }
                                } else {
                                    ok += 1;
                                }
                            }
                            sent_count.fetch_add(ok, Ordering::Relaxed);
                        }
                        Err(_) => {
                            rejected.fetch_add(batch.len() as u64, Ordering::Relaxed);
                            if let Ok(mut s) = sent.lock() {
                                for h in &hashes {
                                    s.at.remove(h);
                                }
                            }
                        }
                    }
                }
            })
        })
        .collect();

    // Progress line until sending ends.
    while senders.iter().any(|h| !h.is_finished()) {
        let elapsed = start.elapsed().as_secs_f64();
        let done = committed.lock().map(|c| c.len()).unwrap_or(0);
        let frac = (elapsed / args.duration as f64).min(1.0);
        let bar = "#".repeat((frac * 30.0) as usize);
        eprint!(
            "\r[{bar:<30}] {elapsed:>5.1}s sent {:>8} committed {:>8} ({:>7.0} tx/s)",
            sent_count.load(Ordering::Relaxed),
            done,
            done as f64 / elapsed.max(0.001)
        );
        let _ = std::io::stderr().flush();
        std::thread::sleep(Duration::from_millis(250));
    }
    let send_elapsed = start.elapsed().as_secs_f64();
    for s in senders {
        let _ = s.join();
    }
    done_sending.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let total_elapsed = start.elapsed().as_secs_f64();
    let node_cpu_s = match (cpu_before, node_cpu(&clients)) {
        (Some(before), Some(after)) => Some(after - before),
        _ => None,
    };
    eprintln!();

    let commits = committed.lock().map(|c| c.clone()).unwrap_or_default();
    let windows = windows(&commits, args.window);
    let mut lat: Vec<f64> = commits.iter().map(|(_, l)| *l).collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let succ = lat.len() as u64;
    let fail = failed.load(Ordering::Relaxed) + rejected.load(Ordering::Relaxed);
    let sent_n = sent_count.load(Ordering::Relaxed) + rejected.load(Ordering::Relaxed);
    let avg = if lat.is_empty() {
        0.0
    } else {
        lat.iter().sum::<f64>() / lat.len() as f64
    };
    let report = serde_json::json!({
        "suite": suite.name(),
        "apis": apis,
        "succeeded": succ,
        "failed": fail,
        "send_rate_tps": sent_n as f64 / send_elapsed,
        "retried": retried.load(Ordering::Relaxed),
        "throughput_tps": succ as f64 / total_elapsed,
        "latency_s": {
            "min": lat.first().copied().unwrap_or(0.0),
            "avg": avg,
            "p50": percentile(&lat, 0.50),
            "p95": percentile(&lat, 0.95),
            "p99": percentile(&lat, 0.99),
            "max": lat.last().copied().unwrap_or(0.0),
        },
        "duration_s": total_elapsed,
        "node_cpu_s": node_cpu_s,
        "node_cpu_us_per_tx": node_cpu_s
            .filter(|_| succ > 0)
            .map(|cpu| cpu * 1e6 / succ as f64),
        "windows": windows,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "+------------+-----------+--------+-----------------+------------------+---------+---------+---------+---------+---------+---------+"
        );
        println!(
            "| Name       | Succ      | Fail   | Send Rate (TPS) | Throughput (TPS) | Min (s) | Avg (s) | p50 (s) | p95 (s) | p99 (s) | Max (s) |"
        );
        println!(
            "+------------+-----------+--------+-----------------+------------------+---------+---------+---------+---------+---------+---------+"
        );
        println!(
            "| notary-{:<4}| {:>9} | {:>6} | {:>15.1} | {:>16.1} | {:>7.3} | {:>7.3} | {:>7.3} | {:>7.3} | {:>7.3} | {:>7.3} |",
            suite.name().chars().take(4).collect::<String>(),
            succ,
            fail,
            report["send_rate_tps"].as_f64().unwrap_or(0.0),
            report["throughput_tps"].as_f64().unwrap_or(0.0),
            report["latency_s"]["min"].as_f64().unwrap_or(0.0),
            avg,
            report["latency_s"]["p50"].as_f64().unwrap_or(0.0),
            report["latency_s"]["p95"].as_f64().unwrap_or(0.0),
            report["latency_s"]["p99"].as_f64().unwrap_or(0.0),
            report["latency_s"]["max"].as_f64().unwrap_or(0.0),
        );
        println!(
            "+------------+-----------+--------+-----------------+------------------+---------+---------+---------+---------+---------+---------+"
        );
        if let (Some(cpu), Some(per_tx)) = (
            report["node_cpu_s"].as_f64(),
            report["node_cpu_us_per_tx"].as_f64(),
        ) {
            println!(
                "Validators' CPU time: {cpu:.1} s over {} APIs, {per_tx:.0} µs per committed transaction",
                apis.len()
            );
        }
        let retried = report["retried"].as_u64().unwrap_or(0);
        if retried > 0 {
            println!("Refused with MEMPOOL_FULL and sent again: {retried} times");
        }
        if !windows.is_empty() {
            println!("Per {} s window (by commit time):", args.window);
            println!("  from (s)   committed   tx/s      p50 (s)   p99 (s)");
            let secs = |v: &serde_json::Value| {
                v.as_f64()
                    .map_or_else(|| "-".to_string(), |x| format!("{x:.3}"))
            };
            for w in &windows {
                println!(
                    "  {:>8.0}   {:>9}   {:>7.0}   {:>7}   {:>7}",
                    w["from_s"].as_f64().unwrap_or(0.0),
                    w["committed"].as_u64().unwrap_or(0),
                    w["throughput_tps"].as_f64().unwrap_or(0.0),
                    secs(&w["p50_s"]),
                    secs(&w["p99_s"]),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_split_commits_by_commit_time_and_keep_empty_ones() {
        // Commits at 0.5 s and 1.5 s (latencies 0.2, 0.4), none in 10..20 s, one at 25 s.
        let w = windows(&[(0.5, 0.2), (1.5, 0.4), (25.0, 3.0)], 10);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0]["committed"], 2);
        assert_eq!(w[0]["throughput_tps"], 0.2);
        assert_eq!(w[0]["p99_s"], 0.4);
        assert_eq!(w[1]["committed"], 0);
        assert!(w[1]["p50_s"].is_null());
        assert_eq!(w[2]["from_s"], 20.0);
        assert_eq!(w[2]["p50_s"], 3.0);
        assert!(windows(&[(0.5, 0.2)], 0).is_empty());
        assert!(windows(&[], 10).is_empty());
    }
}
