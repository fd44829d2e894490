//! `xachain bench`: a load generator with a Caliper-style report.
//!
//! Transactions are signed before the clock starts (by a pool of fresh accounts, each with its
//! own nonce sequence; an organization administrator, by default the devnet operator, first
//! registers them with the `citizen` role, since only registered accounts with a role may
//! anchor), then sent in batches to the given APIs round-robin, at a fixed rate or
//! as fast as accepted. Commit times come from polling committed blocks, so latency is
//! submit-to-finalized-and-executed, with the poll interval as resolution.

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
    let committed: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failed = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
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
                                .map(|mut c| c.push(now.duration_since(t).as_secs_f64()))
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
            let sent_count = sent_count.clone();
            std::thread::spawn(move || {
                let mut next_at = Instant::now();
                loop {
                    if Instant::now() >= deadline {
                        return;
                    }
                    let Some(batch) = batches.lock().ok().and_then(|mut b| b.next()) else {
                        return;
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
                        for h in &hashes {
                            s.at.insert(*h, t);
                        }
                    }
                    let outcome = match batch.as_slice() {
                        // One transaction: the single-transaction endpoint, as clients use it.
                        [tx] => client
                            .submit(tx, false)
                            .map(|_| vec![serde_json::json!({})]),
                        _ => client.submit_batch(&batch),
                    };
                    match outcome {
                        Ok(results) => {
                            let mut ok = 0;
                            for (r, h) in results.iter().zip(&hashes) {
                                if r.get("error").is_some() {
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

    let mut lat = committed.lock().map(|c| c.clone()).unwrap_or_default();
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
    }
    Ok(())
}
