//! Process-level test: the real binary's devnet, notary transactions over HTTP, a validator
//! killed with SIGKILL and restarted, and agreement of all four afterwards.

use serde_json::Value;
use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};
use xa_client::Client;

mod common;

use common::{BIN, Cleanup, anchor, height, spawn_node, wait_for};

#[test]
fn devnet_survives_kill_and_restart_and_all_agree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("devnet");
    let base = common::free_ports(20_000, 10);
    let (api_port, p2p_port) = (base, base + 5);
    let devnet = Command::new(BIN)
        .args(["devnet", "--dir"])
        .arg(&dir)
        .args([
            "--api-port",
            &api_port.to_string(),
            "--p2p-port",
            &p2p_port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devnet");
    let mut guard = Cleanup {
        children: vec![devnet],
        pid_files: (0..4)
            .map(|i| dir.join(format!("node-{i}/node.pid")))
            .collect(),
    };
    let clients: Vec<Client> = (0..4)
        .map(|i| Client::new(&format!("http://127.0.0.1:{}", api_port + i)))
        .collect();
    for c in &clients {
        wait_for(
            "every validator to finalize a block",
            Duration::from_secs(90),
            || height(c).filter(|h| *h >= 1),
        );
    }
    let key = wait_for("the operator key", Duration::from_secs(5), || {
        xa_crypto::read_key_file(&dir.join("keys/operator.json")).ok()
    });
    // Validators sharing a machine get different write-buffer sizes, so their stores do not all
    // flush at once; every node above started with its own.
    let memtables: std::collections::BTreeSet<u64> = (0..4)
        .map(|i| {
            let path = dir.join(format!("node-{i}/config.json"));
            let cfg: Value = serde_json::from_slice(&std::fs::read(&path).expect("config"))
                .expect("config JSON");
            cfg["storage"]["memtable_mib"]
                .as_u64()
                .expect("storage.memtable_mib")
        })
        .collect();
    assert_eq!(memtables.len(), 4, "{memtables:?}");

    // Notary transactions through different validators.
    let mut txs = Vec::new();
    for i in 0..8u32 {
        txs.push(anchor(&clients[i as usize % 4], &key, i));
    }

    // Kill validator 2 without warning; the other three keep finalizing.
    let pid = std::fs::read_to_string(dir.join("node-2/node.pid")).expect("pid");
    assert!(
        Command::new("kill")
            .args(["-9", pid.trim()])
            .status()
            .expect("kill")
            .success()
    );
    let before = height(&clients[0]).expect("height");
    for i in 8..16u32 {
        txs.push(anchor(&clients[[0, 1, 3][i as usize % 3]], &key, i));
    }
    wait_for(
        "progress without validator 2",
        Duration::from_secs(60),
        || height(&clients[0]).filter(|h| *h >= before + 3),
    );

    // Restart it on its data directory: it replays, backfills and reaches the tip.
    guard.children.push(spawn_node(&dir, 2));
    let target = height(&clients[0]).expect("height");
    wait_for("validator 2 to catch up", Duration::from_secs(90), || {
        height(&clients[2]).filter(|h| *h >= target)
    });
    txs.push(anchor(&clients[2], &key, 16));

    // All four agree on every block and state root, and hold every transaction.
    let tip = wait_for(
        "all validators at a common height",
        Duration::from_secs(60),
        || {
            let hs: Vec<u64> = clients.iter().filter_map(height).collect();
            (hs.len() == 4).then(|| hs.into_iter().min().unwrap_or(0))
        },
    );
    for h in 1..=tip {
        let blocks: Vec<Value> = clients
            .iter()
            .map(|c| c.block(&h.to_string()).expect("block"))
            .collect();
        for b in &blocks[1..] {
            assert_eq!(
                b["hash"], blocks[0]["hash"],
                "validators disagree at height {h}"
            );
            assert_eq!(b["header"]["state_root"], blocks[0]["header"]["state_root"]);
        }
    }
    for hash in &txs {
        let seen: Vec<Value> = clients
            .iter()
            .map(|c| {
                wait_for(
                    "transaction on every validator",
                    Duration::from_secs(30),
                    || {
                        c.transaction(hash)
                            .ok()
                            .filter(|t| t["status"] == "committed")
                    },
                )
            })
            .collect();
        for s in &seen[1..] {
            assert_eq!(s["block_height"], seen[0]["block_height"]);
        }
    }

    // Evidence: export a notary record from a validator of the real 4-validator devnet (real
    // simplex certificates) and verify it offline against the genesis file, with the document.
    let doc = tmp.path().join("doc-0.pdf");
    std::fs::write(&doc, "process test document 0").expect("write document");
    let digest = xa_types::Suite::Ed25519.hash(b"process test document 0");
    let package = tmp.path().join("evidence.json");
    let api = format!("http://127.0.0.1:{api_port}");
    // The record's block, or a descendant of it, must carry a certificate: wait for a few more.
    wait_for("a certified descendant", Duration::from_secs(60), || {
        let out = Command::new(BIN)
            .args([
                "evidence",
                "export",
                "--notary",
                &digest.to_string(),
                "--api",
                &api,
                "--out",
            ])
            .arg(&package)
            .output()
            .expect("run export");
        out.status.success().then_some(())
    });
    let run_verify = |document: &Path| {
        Command::new(BIN)
            .arg("verify")
            .arg(&package)
            .arg("--genesis")
            .arg(dir.join("genesis.json"))
            .arg("--document")
            .arg(document)
            .output()
            .expect("run verify")
    };
    let out = run_verify(&doc);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("VERIFIED") && text.contains(": consistent"),
        "{text}"
    );
    assert!(text.contains("doc-0.pdf"), "{text}");
    let other = tmp.path().join("other.pdf");
    std::fs::write(&other, "a different document").expect("write");
    let out = run_verify(&other);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("inconsistent"));
    let size = std::fs::metadata(&package).expect("package").len();
    println!("4-validator devnet notary evidence package: {size} bytes");
    assert!(size < 20 * 1024, "{size} bytes");
    // A flipped bit in the package: exit 1 with the broken part named.
    let mut bytes = std::fs::read(&package).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&package, &bytes).expect("write");
    let out = run_verify(&doc);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("verification failed"));

    // Bad input gets structured errors, never a crash.
    let bad = clients[0].post("/v1/transactions", &serde_json::json!({"body": 1}));
    assert_eq!(
        bad.err()
            .and_then(|e| e.code().map(String::from))
            .as_deref(),
        Some("MALFORMED_REQUEST")
    );
    let replay = clients[0].transaction(&txs[0]).expect("tx")["transaction"].clone();
    let replayed = clients[1].post("/v1/transactions", &replay);
    assert_eq!(
        replayed
            .err()
            .and_then(|e| e.code().map(String::from))
            .as_deref(),
        Some("STALE_NONCE")
    );

    // The load generator against the real devnet: every transaction it sent is committed, and
    // its per-window figures add up to its total.
    let apis: Vec<String> = (0..4)
        .map(|i| format!("http://127.0.0.1:{}", api_port + i))
        .collect();
    let mut bench = Command::new(BIN);
    bench.args([
        "bench",
        "--duration",
        "3",
        "--rate",
        "100",
        "--accounts",
        "20",
    ]);
    bench.args(["--batch", "10", "--window", "1", "--json", "--admin-key"]);
    bench.arg(dir.join("keys/operator.json"));
    for api in &apis {
        bench.args(["--api", api]);
    }
    let out = bench.output().expect("run bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("bench JSON report");
    // 300 pre-signed; a slow machine may reach the 3 s deadline before the last batch.
    let succeeded = report["succeeded"].as_u64().expect("succeeded");
    assert!((250..=300).contains(&succeeded), "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["retried"], 0, "{report}");
    let windows = report["windows"].as_array().expect("windows");
    assert!(!windows.is_empty(), "{report}");
    let per_window: u64 = windows
        .iter()
        .map(|w| w["committed"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(per_window, succeeded, "{report}");
    assert!(report["latency_s"]["p99"].as_f64().is_some_and(|p| p > 0.0));
}
