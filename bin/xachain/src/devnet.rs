//! `xachain devnet`: a local network of validators, each its own process on 127.0.0.1.

use crate::init::{self, InitArgs};
use anyhow::{Context, Result};
use clap::Args;
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use xa_types::Suite;

/// Arguments of `xachain devnet`.
#[derive(Args, Clone, Debug)]
pub struct DevnetArgs {
    /// Number of validators (first run only).
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Directory holding the devnet (created on first run, resumed after).
    #[arg(long, default_value = "devnet")]
    pub dir: PathBuf,
    /// Cryptographic suite for a new devnet: ed25519 or sm2.
    #[arg(long = "crypto", default_value = "ed25519")]
    pub suite: Suite,
    /// First API port.
    #[arg(long, default_value_t = 8080)]
    pub api_port: u16,
    /// First p2p port.
    #[arg(long, default_value_t = 9000)]
    pub p2p_port: u16,
    /// Heights per epoch for a new devnet.
    #[arg(long, default_value_t = 100)]
    pub epoch_length: u64,
    /// Extra validator nodes, not in genesis, for a new devnet (`<dir>/extra-*`); not started
    /// here: run `xachain node --config <dir>/extra-0/config.json`.
    #[arg(long, default_value_t = 0)]
    pub extra_validators: usize,
    /// Devnet only: tenders' minimum publicity period in seconds instead of the legal 3 days,
    /// so `xachain demo tender` can run to the award (written into genesis, visible to all).
    #[arg(long)]
    pub tender_publicity_secs: Option<u64>,
    /// For a new devnet: make the tender key with the golden DKG (devnet trusted setup), so it
    /// is reshared on chain when the validator set changes (see `xachain init --dkg`).
    #[arg(long)]
    pub dkg: bool,
}

struct Node {
    child: Child,
    name: String,
    log: PathBuf,
    exited: bool,
}

/// Start the devnet and supervise it until Ctrl-C.
pub fn run(args: &DevnetArgs) -> Result<()> {
    let layout = if args.dir.join("genesis.json").exists() {
        let path = args.dir.join("genesis.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Err(e) = serde_json::from_str::<xa_types::Genesis>(&text) {
            anyhow::bail!(
                "{}: not a genesis this version can run ({e}); it was probably written by an older \
                 version: move {} away (or pass --dir) to start a new devnet",
                path.display(),
                args.dir.display()
            );
        }
        println!("Resuming the devnet in {}", args.dir.display());
        init::layout(&args.dir)?
    } else {
        println!(
            "Initialising a {}-validator {} devnet in {}",
            args.validators,
            args.suite.name(),
            args.dir.display()
        );
        init::run(&InitArgs {
            validators: args.validators,
            out: args.dir.clone(),
            suite: args.suite,
            chain_id: "xachain-devnet".into(),
            host: "127.0.0.1".into(),
            p2p_port: args.p2p_port,
            api_port: args.api_port,
            epoch_length: args.epoch_length,
            extra_validators: args.extra_validators,
            tender_publicity_secs: args.tender_publicity_secs,
            dkg: args.dkg,
        })?
    };
    let exe = std::env::current_exe().context("locating the xachain binary")?;
    let mut nodes = Vec::new();
    for (i, config) in layout.configs.iter().enumerate() {
        let dir = config.parent().map(PathBuf::from).unwrap_or_default();
        let log = dir.join("node.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        let child = Command::new(&exe)
            .arg("node")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .with_context(|| format!("starting validator {i}"))?;
        std::fs::write(dir.join("node.pid"), child.id().to_string())?;
        nodes.push(Node {
            child,
            name: format!("validator-{i}"),
            log,
            exited: false,
        });
    }
    println!();
    println!("  {:<13} {:<24} {:<8} log", "validator", "API", "pid");
    for (node, api) in nodes.iter().zip(&layout.apis) {
        println!(
            "  {:<13} {:<24} {:<8} {}",
            node.name,
            api,
            node.child.id(),
            node.log.display()
        );
    }
    println!();
    println!(
        "Operator key: {}",
        args.dir.join("keys/operator.json").display()
    );
    for j in 0.. {
        let config = args.dir.join(format!("extra-{j}")).join("config.json");
        if !config.exists() {
            break;
        }
        println!(
            "Extra validator (not in genesis, not started): xachain node --config {}",
            config.display()
        );
    }
    println!("Try: xachain status · xachain notary anchor README.md · xachain bench --duration 10");
    println!("Ctrl-C stops every validator; the next run resumes from disk.");
    wait_ready(&layout.apis[0], Duration::from_secs(60));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tick.tick() => {
                    for node in nodes.iter_mut().filter(|n| !n.exited) {
                        if let Ok(Some(status)) = node.child.try_wait() {
                            // Keep the rest running; running devnet again restarts it.
                            eprintln!("{} exited ({status}); see {}", node.name, node.log.display());
                            node.exited = true;
                        }
                    }
                }
            }
        }
    });
    println!("\nStopping validators…");
    for node in nodes.iter_mut() {
        let _ = node.child.kill();
        let _ = node.child.wait();
    }
    Ok(())
}

fn wait_ready(api: &str, timeout: Duration) {
    let client = xa_client::Client::new(api);
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(s) = client.status()
            && s["height"].as_u64().unwrap_or(0) > 0
        {
            println!("Network is finalizing blocks (height {}).", s["height"]);
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    eprintln!("warning: no block finalized within {timeout:?}; check the node logs");
}
