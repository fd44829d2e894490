//! Shared harness of the process-level tests: spawning nodes, cleaning up, polling.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use xa_client::Client;
use xa_types::{
    Call, Hash, KeyPair,
    modules::notary::{ANCHOR, AnchorArgs, MODULE},
};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_xachain");

/// Run the CLI against `api`; returns stdout, failing the test on a non-zero exit.
pub fn cli(api: &str, key: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .args(["--api", api, "--key"])
        .arg(key)
        .output()
        .expect("run xachain");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "xachain {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Kills every process it holds (and the devnet's validators) when dropped.
pub struct Cleanup {
    /// Processes to kill.
    pub children: Vec<Child>,
    /// Pid files of processes to kill.
    pub pid_files: Vec<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for f in &self.pid_files {
            if let Ok(pid) = std::fs::read_to_string(f) {
                let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            }
        }
    }
}

/// Poll `f` every 100 ms until it gives a value, failing after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The node's committed height.
pub fn height(c: &Client) -> Option<u64> {
    c.status().ok().and_then(|s| s["height"].as_u64())
}

/// Anchor document `i` with nonce `i` and wait for its commit.
pub fn anchor(client: &Client, key: &KeyPair, i: u32) -> Hash {
    let digest = xa_types::Suite::Ed25519.hash(format!("process test document {i}").as_bytes());
    let call = Call::new(
        MODULE,
        ANCHOR,
        &AnchorArgs {
            digest,
            title: format!("doc-{i}.pdf"),
            file_size: 100 + i as u64,
            kind: "test".into(),
        },
    );
    // The test keeps the nonce itself: validators may lag one another by a block.
    let tx = client
        .build_with_nonce(key, call, 1_000, i as u64)
        .expect("build transaction");
    let r: Value = client.submit(&tx, true).expect("submit and wait");
    assert_eq!(r["status"], "committed", "{r}");
    assert_eq!(r["receipt"]["status"], "success", "{r}");
    r["hash"].as_str().expect("hash").parse().expect("hash hex")
}

/// Start validator `i` of the network in `dir`.
pub fn spawn_node(dir: &Path, i: usize) -> Child {
    spawn_config(&dir.join(format!("node-{i}")))
}

/// Start the node whose `config.json` is in `node_dir`; it logs to `node.log` there.
pub fn spawn_config(node_dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(node_dir.join("node.log"))
        .expect("log");
    Command::new(BIN)
        .args(["node", "--config"])
        .arg(node_dir.join("config.json"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn node")
}

/// Where Linux starts handing out ephemeral ports (`net.ipv4.ip_local_port_range`): a port
/// above it that is free now may be taken by any outgoing connection (the tests' own HTTP
/// polling, the nodes' dials) before the node binds it, so test networks stay below.
const EPHEMERAL_START: u16 = 32_768;

/// A first port `base` such that `base..base + span` are all free on 127.0.0.1 now, searched
/// from `start` up to [`EPHEMERAL_START`] in steps of `span` (offset by this process's id, so
/// concurrent test binaries start their search in different places).
pub fn free_ports(start: u16, span: u16) -> u16 {
    let slots = EPHEMERAL_START.saturating_sub(start) / span;
    let first = (std::process::id() % u32::from(slots.max(1))) as u16;
    for k in 0..slots {
        let base = start + ((first + k) % slots) * span;
        let free =
            (base..base + span).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no {span} consecutive free ports above {start}");
}

/// Start `xachain devnet` in `dir` (API ports from `api_port`, p2p from `p2p_port`, plus
/// `extra` arguments) and wait until every one of its four validators has finalized a block.
/// The guard kills the devnet and its validators.
pub fn start_devnet(dir: &Path, api_port: u16, p2p_port: u16, extra: &[&str]) -> Cleanup {
    let devnet = Command::new(BIN)
        .args(["devnet", "--dir"])
        .arg(dir)
        .args(["--api-port", &api_port.to_string()])
        .args(["--p2p-port", &p2p_port.to_string()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devnet");
    let guard = Cleanup {
        children: vec![devnet],
        pid_files: (0..4)
            .map(|i| dir.join(format!("node-{i}/node.pid")))
            .collect(),
    };
    for i in 0..4 {
        let c = Client::new(&format!("http://127.0.0.1:{}", api_port + i));
        wait_for(
            "every validator to finalize a block",
            Duration::from_secs(120),
            || height(&c).filter(|h| *h >= 1),
        );
    }
    guard
}
