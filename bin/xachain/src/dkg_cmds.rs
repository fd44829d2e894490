//! `xachain dkg`: read the tender key's origin and its reshare rounds (`/v1/dkg`).

use crate::{ClientOpts, client_cmds::print};
use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;
use xa_client::Client;

/// `dkg` subcommands.
#[derive(Subcommand)]
pub enum DkgCmd {
    /// The tender key in force (source, round, quorum, players) and the open reshare round.
    Status,
    /// One reshare round: dealers, players, the logs it holds (or used), and its status.
    Round {
        /// Round number.
        round: u64,
    },
}

fn short(v: &Value) -> String {
    let s = v.as_str().unwrap_or("");
    s.get(..16)
        .map_or_else(|| s.to_string(), |p| format!("{p}…"))
}

fn print_round(r: &Value) {
    let rec = &r["record"];
    println!(
        "round {} ({}), resharing round {}: {} of {} dealers dealt, {} logs required, {} players, opened at height {}",
        rec["round"],
        rec["status"].as_str().unwrap_or("?"),
        rec["previous"],
        r["dealt_count"],
        rec["dealers"].as_array().map_or(0, Vec::len),
        rec["required"],
        rec["players"].as_array().map_or(0, Vec::len),
        rec["opened_height"],
    );
    for d in r["waiting_for"].as_array().into_iter().flatten() {
        println!("  waiting for dealer {}", short(d));
    }
    for l in r["logs"].as_array().into_iter().flatten() {
        println!(
            "  log of dealer {} ({} bytes)",
            short(&l["dealer"]),
            l["bytes"]
        );
    }
}

/// `dkg`.
pub fn dkg(cmd: DkgCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    match cmd {
        DkgCmd::Status => {
            let v = client.get("/v1/dkg")?;
            print(opts, &v, |v| {
                println!(
                    "tender key: {} (key round {}, {} shares)",
                    v["source"].as_str().unwrap_or("?"),
                    v["key_round"],
                    v["shares"]
                );
                if let Some(f) = v["in_force"].as_object() {
                    println!(
                        "in force: round {}, quorum {} of {}, group key {}",
                        f["round"],
                        f["quorum"],
                        f["players"].as_array().map_or(0, Vec::len),
                        short(&f["group_key"])
                    );
                }
                match v["open_round"].as_object() {
                    Some(_) => print_round(&v["open_round"]),
                    None => println!("no reshare round open"),
                }
            });
        }
        DkgCmd::Round { round } => {
            let v = client.get(&format!("/v1/dkg/rounds/{round}"))?;
            print(opts, &v, print_round);
        }
    }
    Ok(())
}
