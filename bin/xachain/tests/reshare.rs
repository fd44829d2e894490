//! Process-level test of resharing the tender key (issue #5): on a devnet made with `init
//! --dkg`, bids are sealed, governance adds a fifth validator and its DKG key is registered
//! while bidding runs; the nodes deal, finish and play by themselves, every node stores its new
//! share, and at the deadline the tender opens with the new 4-of-5 key's shares. Real
//! processes, real sockets, the real CLI. Slow (golden DKG proofs: minutes of CPU).

mod common;

use common::{BIN, Cleanup, cli, height, spawn_config, spawn_node, wait_for};
use serde_json::Value;
use std::{
    process::{Command, Stdio},
    time::Duration,
};
use xa_client::Client;

#[test]
fn bids_sealed_before_a_set_change_open_with_the_reshared_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("net");
    let base = common::free_ports(20_000, 10);
    let (api_port, p2p_port) = (base, base + 5);
    let init = Command::new(BIN)
        .args(["init", "--dkg", "--out"])
        .arg(&dir)
        .args(["--validators", "4", "--extra-validators", "1"])
        .args(["--epoch-length", "20", "--tender-publicity-secs", "5"])
        .args(["--api-port", &api_port.to_string()])
        .args(["--p2p-port", &p2p_port.to_string()])
        .output()
        .expect("init");
    assert!(init.status.success(), "{init:?}");

    let mut guard = Cleanup {
        children: (0..4).map(|i| spawn_node(&dir, i)).collect(),
        pid_files: vec![],
    };
    guard.children.push(spawn_config(&dir.join("extra-0")));
    let api = format!("http://127.0.0.1:{api_port}");
    let client = Client::new(&api);
    wait_for(
        "the genesis validators to finalize",
        Duration::from_secs(120),
        || height(&client).filter(|h| *h >= 1),
    );

    // The demo publishes a tender and seals its bids under the genesis key, then waits for
    // the deadline.
    let demo_log = dir.join("demo.log");
    let demo = Command::new(BIN)
        .args(["demo", "tender", "--dir"])
        .arg(&dir)
        .args(["--bidding-secs", "240", "--api", &api])
        .stdout(std::fs::File::create(&demo_log).expect("log"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("demo");
    guard.children.push(demo);
    wait_for("the bids to be sealed", Duration::from_secs(120), || {
        std::fs::read_to_string(&demo_log)
            .ok()
            .filter(|s| s.contains("== close and open"))
    });

    // Governance adds the extra node; the administrator registers its DKG key.
    let keys = dir.join("keys");
    let operator = keys.join("operator.json");
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("extra-0/validator-info.json")).expect("info"),
    )
    .expect("json");
    let new_key = info["consensus_key"].as_str().expect("key").to_string();
    cli(
        &api,
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
    let out = cli(
        &api,
        &keys.join("housing-admin.json"),
        &["proposal", "approve", "1"],
    );
    assert!(out.contains("validator_added"), "{out}");
    let out = cli(
        &api,
        &operator,
        &[
            "validator",
            "register-dkg-key",
            "--consensus-key",
            &new_key,
            "--dkg-key-file",
            dir.join("extra-0/dkg-key.json").to_str().expect("path"),
        ],
    );
    assert!(out.contains("round_opened"), "{out}");
    let dkg = |args: &[&str]| -> Value {
        serde_json::from_str(&cli(
            &api,
            &operator,
            &[&["dkg"], args, &["--json"]].concat(),
        ))
        .expect("json")
    };
    let v = dkg(&["status"]);
    assert_eq!(
        v["source"], "golden_round_zero_trusted_setup_devnet_only",
        "{v}"
    );
    assert_eq!(v["open_round"]["record"]["round"], 1, "{v}");
    assert_eq!(
        v["open_round"]["record"]["dealers"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    assert_eq!(
        v["open_round"]["record"]["players"]
            .as_array()
            .map(Vec::len),
        Some(5)
    );

    // Every node, the newcomer included, stores its share of round 1.
    let share = |node: &str| {
        dir.join(node)
            .join("data/tender-shares")
            .join(format!("share-{:020}.hex", 1))
    };
    for node in ["node-0", "node-1", "node-2", "node-3", "extra-0"] {
        wait_for(
            &format!("{node} to store its reshared share"),
            Duration::from_secs(600),
            || share(node).exists().then_some(()),
        );
    }

    // The round is done, and the reshared key (same group key, 4 of 5) is in force.
    let v = dkg(&["status"]);
    assert_eq!(v["source"], "golden_reshare", "{v}");
    assert_eq!(
        (v["key_round"].as_u64(), v["shares"].as_u64()),
        (Some(1), Some(5)),
        "{v}"
    );
    assert_eq!(v["in_force"]["quorum"], 4, "{v}");
    assert!(v["open_round"].is_null(), "{v}");
    let r = dkg(&["round", "1"]);
    assert_eq!(r["record"]["status"], "Done", "{r}");
    assert!(r["logs"].as_array().is_some_and(|l| l.len() >= 3), "{r}");

    // At the deadline the bids open, with the shares of the new 4-of-5 key.
    let demo = guard.children.last_mut().expect("demo");
    let status = wait_for("the demo to finish", Duration::from_secs(600), || {
        demo.try_wait().ok().flatten()
    });
    let log = std::fs::read_to_string(&demo_log).expect("log");
    assert!(status.success(), "{log}");
    let opened = log
        .lines()
        .find(|l| l.starts_with("opened by shares"))
        .expect("opened");
    let shares = opened
        .split(['[', ']'])
        .nth(1)
        .expect("share list")
        .split(',')
        .count();
    assert_eq!(shares, 4, "opened under the reshared 4-of-5 key: {opened}");
    assert!(log.contains("awarded to"), "{log}");
}
