//! Process-level test of validator set changes by governance: four validators become five, then
//! one of the original four is removed, while transactions keep flowing. Real processes, real
//! sockets, the real CLI for the proposals.

mod common;

use common::{BIN, Cleanup, cli, height, spawn_config, spawn_node, wait_for};
use serde_json::Value;
use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use xa_client::Client;
use xa_types::{
    Call, KeyPair, Suite,
    modules::notary::{ANCHOR, AnchorArgs, MODULE},
};

const EPOCH_LENGTH: u64 = 10;

fn status(c: &Client) -> Option<Value> {
    c.status().ok()
}

/// Anchor documents from the finance bureau's admin until `stop`, round-robin over `apis`;
/// returns how many committed.
fn load(apis: Vec<String>, key: KeyPair, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut committed = 0u64;
        let mut i = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let client = Client::new(&apis[i % apis.len()]);
            i += 1;
            let digest = Suite::Ed25519.hash(format!("load {i}").as_bytes());
            let call = Call::new(
                MODULE,
                ANCHOR,
                &AnchorArgs {
                    digest,
                    title: format!("load-{i}.pdf"),
                    file_size: i as u64,
                    kind: "load".into(),
                },
            );
            // A validator that is down or behind may refuse; the next one is asked.
            let Ok(tx) = client.build(&key, call, 100) else {
                continue;
            };
            if let Ok(r) = client.submit(&tx, true)
                && r["receipt"]["status"] == "success"
            {
                committed += 1;
            }
        }
        committed
    })
}

#[test]
fn validators_join_and_leave_by_governance_under_load() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("net");
    let base = common::free_ports(20_000, 10);
    let (api_port, p2p_port) = (base, base + 5);
    let init = Command::new(BIN)
        .args(["init", "--out"])
        .arg(&dir)
        .args(["--validators", "4", "--extra-validators", "1"])
        .args(["--epoch-length", &EPOCH_LENGTH.to_string()])
        .args(["--api-port", &api_port.to_string()])
        .args(["--p2p-port", &p2p_port.to_string()])
        .output()
        .expect("init");
    assert!(init.status.success(), "{init:?}");

    let mut guard = Cleanup {
        children: (0..4).map(|i| spawn_node(&dir, i)).collect(),
        pid_files: vec![],
    };
    let apis: Vec<String> = (0..5)
        .map(|i| format!("http://127.0.0.1:{}", api_port + i))
        .collect();
    let clients: Vec<Client> = apis.iter().map(|a| Client::new(a)).collect();
    for c in &clients[..4] {
        wait_for(
            "the genesis validators to finalize",
            Duration::from_secs(90),
            || height(c).filter(|h| *h >= 1),
        );
    }
    let keys = dir.join("keys");
    let operator = keys.join("operator.json");
    let housing = keys.join("housing-admin.json");
    let finance = xa_crypto::read_key_file(&keys.join("finance-admin.json")).expect("key");
    let stop = Arc::new(AtomicBool::new(false));
    let loader = load(apis[..4].to_vec(), finance, stop.clone());

    // 4 → 5: the committee proposes the extra node, the housing bureau approves; it executes.
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("extra-0/validator-info.json")).expect("info"),
    )
    .expect("json");
    let new_key = info["consensus_key"].as_str().expect("key").to_string();
    cli(
        &apis[0],
        &operator,
        &[
            "validator",
            "propose-add",
            "--name",
            "extra-0",
            "--consensus-key",
            &new_key,
            "--p2p-address",
            info["p2p_address"].as_str().expect("address"),
        ],
    );
    let out = cli(&apis[1], &housing, &["proposal", "approve", "1"]);
    assert!(out.contains("validator_added"), "{out}");
    guard.children.push(spawn_config(&dir.join("extra-0")));
    wait_for(
        "the new validator to vote",
        Duration::from_secs(180),
        || status(&clients[4]).filter(|s| s["consensus"]["voting"] == true),
    );
    let s = status(&clients[0]).expect("status");
    assert_eq!(s["validators"].as_array().expect("set").len(), 5, "{s}");

    // Its votes count: with validator 3 down, four of five remain, exactly a quorum.
    let _ = guard.children[3].kill();
    let _ = guard.children[3].wait();
    let h = height(&clients[0]).expect("height");
    wait_for(
        "finality with validator 3 down (needs the new node's votes)",
        Duration::from_secs(90),
        || height(&clients[0]).filter(|x| *x >= h + 2 * EPOCH_LENGTH),
    );
    guard.children[3] = spawn_node(&dir, 3);

    // 5 → 4: remove validator 0.
    let genesis: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("genesis.json")).expect("genesis"))
            .expect("json");
    let key0 = genesis["validators"][0]["consensus_key"]
        .as_str()
        .expect("key")
        .to_string();
    cli(
        &apis[1],
        &operator,
        &["validator", "propose-remove", "--consensus-key", &key0],
    );
    let out = cli(&apis[2], &housing, &["proposal", "approve", "2"]);
    assert!(out.contains("validator_removed"), "{out}");
    let removed_at = wait_for(
        "validator 0 to stop voting",
        Duration::from_secs(120),
        || {
            status(&clients[0])
                .filter(|s| s["consensus"]["voting"] == false)
                .and_then(|s| s["height"].as_u64())
        },
    );
    // Validator 1 may commit the boundary a moment after validator 0 stopped voting.
    let s = wait_for(
        "validator 1 to see the 4-validator set",
        Duration::from_secs(60),
        || status(&clients[1]).filter(|s| s["height"].as_u64() >= Some(removed_at)),
    );
    assert_eq!(s["validators"].as_array().expect("set").len(), 4, "{s}");
    assert!(
        !s.to_string().contains(&key0),
        "validator 0 is still in the set: {s}"
    );
    let h = height(&clients[1]).expect("height");
    wait_for("finality by the new four", Duration::from_secs(90), || {
        height(&clients[1]).filter(|x| *x >= h + 2 * EPOCH_LENGTH)
    });

    stop.store(true, Ordering::Relaxed);
    let committed = loader.join().expect("load thread");
    assert!(
        committed >= 10,
        "only {committed} load transactions committed"
    );

    // A record anchored after both changes is proven offline from the genesis file alone: the
    // package carries the validator-set lineage (each change certified by the set before it).
    let doc = tmp.path().join("after-changes.pdf");
    std::fs::write(&doc, "anchored after 4 -> 5 -> 4").expect("write");
    cli(
        &apis[1],
        &operator,
        &["notary", "anchor", doc.to_str().expect("utf-8 path")],
    );
    let digest = Suite::Ed25519.hash(b"anchored after 4 -> 5 -> 4");
    let package = tmp.path().join("evidence.json");
    wait_for("a certified package", Duration::from_secs(60), || {
        Command::new(BIN)
            .args(["evidence", "export", "--notary", &digest.to_string()])
            .args(["--api", &apis[1], "--out"])
            .arg(&package)
            .output()
            .ok()
            .filter(|o| o.status.success())
    });
    let out = Command::new(BIN)
        .arg("verify")
        .arg(&package)
        .arg("--genesis")
        .arg(dir.join("genesis.json"))
        .arg("--document")
        .arg(&doc)
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.contains(": consistent"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The validators of the final set agree on every block and state root.
    let finals = &clients[1..5];
    let tip = wait_for(
        "the final set at a common height",
        Duration::from_secs(90),
        || {
            let hs: Vec<u64> = finals.iter().filter_map(height).collect();
            let min = hs.iter().copied().min().unwrap_or(0);
            (hs.len() == finals.len() && min > removed_at).then_some(min)
        },
    );
    assert!(tip > removed_at);
    for h in 1..=tip {
        let blocks: Vec<Value> = finals
            .iter()
            .map(|c| c.block(&h.to_string()).expect("block"))
            .collect();
        for b in &blocks[1..] {
            assert_eq!(b["hash"], blocks[0]["hash"], "disagreement at height {h}");
            assert_eq!(b["header"]["state_root"], blocks[0]["header"]["state_root"]);
        }
    }
}
