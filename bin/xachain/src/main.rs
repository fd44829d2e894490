//! `xachain`: run a validator, a local devnet, or talk to a node as a client.

mod bench;
mod client_cmds;
mod demo;
mod devnet;
mod dkg_cmds;
mod evidence_cmds;
mod gov_cmds;
mod init;
mod tender_cmds;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// mimalloc instead of the system allocator: a node allocates and frees millions of small
/// objects per second (transactions, tree nodes, storage keys) from many threads, and glibc's
/// malloc spent about a sixth of a node's time doing it (`cargo bench -p xa-node --bench
/// pipeline`: 12% less time per transaction with mimalloc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the C header of the pinned `libmimalloc-sys` 0.1.49 (mimalloc v3,
/// `include/mimalloc.h`); the crate exports no name for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep freed memory in the node process instead of returning it to the OS (mimalloc's
/// `purge_delay = -1`), unless the operator set `MIMALLOC_PURGE_DELAY` explicitly.
///
/// A loaded node frees a whole fjall memtable (64 MiB) every few seconds and allocates the next
/// one; with the default delay (1 s in this version) mimalloc hands those pages back and the
/// kernel zeroes them again on the next fault (about 5 page faults per transaction across a
/// devnet). Measured on the 4-validator devnet at 3,000 tx/s (`xachain bench`, fresh devnets,
/// back to back): 514 and 520 µs of validator CPU per transaction against 527–545 µs with
/// purging, page faults per transaction 5 → 0. The cost is that a node's resident memory stays
/// at its peak.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` only stores an integer option; mimalloc reads it on its
        // purge path and accepts -1 ("never purge") for this option.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// Xiong'an Chain (雄安链): a permissioned BFT blockchain for city government records.
#[derive(Parser)]
#[command(name = "xachain", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options shared by every client command.
#[derive(Args, Clone, Debug)]
pub struct ClientOpts {
    /// API base URL of the node to talk to.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:8080",
        env = "XACHAIN_API"
    )]
    pub api: String,
    /// Account key file used to sign (default: the devnet operator key).
    #[arg(long, global = true, env = "XACHAIN_KEY")]
    pub key: Option<PathBuf>,
    /// Print JSON instead of a summary.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log in with --key before reading, to see private data that account may read.
    #[arg(long, global = true)]
    pub login: bool,
    /// Write the signed transaction to this file instead of submitting it, for co-signers
    /// (`xachain tx cosign`, then `xachain tx submit`).
    #[arg(long, global = true)]
    pub save_tx: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write genesis, keys and one config per validator.
    Init(init::InitArgs),
    /// Run one validator.
    Node {
        /// The validator's config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Start (initialising on first run) a local network of validators as separate processes.
    Devnet(devnet::DevnetArgs),
    /// Account keys.
    Keys {
        #[command(subcommand)]
        cmd: client_cmds::KeysCmd,
    },
    /// Notarize documents (存证).
    Notary {
        #[command(subcommand)]
        cmd: client_cmds::NotaryCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Transactions.
    Tx {
        #[command(subcommand)]
        cmd: client_cmds::TxCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Blocks.
    Block {
        #[command(subcommand)]
        cmd: client_cmds::BlockCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Chain and node status.
    Status {
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Organizations (join and leave by governance).
    Org {
        #[command(subcommand)]
        cmd: gov_cmds::OrgCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Accounts: register, rotate and revoke keys, freeze.
    Account {
        #[command(subcommand)]
        cmd: gov_cmds::AccountCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Roles within an organization.
    Role {
        #[command(subcommand)]
        cmd: gov_cmds::RoleCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Who may call what: policies on every module call.
    Policy {
        #[command(subcommand)]
        cmd: gov_cmds::PolicyCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Governance proposals: create, approve, show, list.
    Proposal {
        #[command(subcommand)]
        cmd: gov_cmds::ProposalCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// The validator set and proposals to change it.
    Validator {
        #[command(subcommand)]
        cmd: gov_cmds::ValidatorCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// The tender key: its origin and its reshare rounds.
    Dkg {
        #[command(subcommand)]
        cmd: dkg_cmds::DkgCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Sealed-bid tendering (招投标): publish, bid, close, open, score, publicize, award.
    Tender {
        #[command(subcommand)]
        cmd: tender_cmds::TenderCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Construction contracts: from an award, subcontracts, milestone acceptance.
    Contract {
        #[command(subcommand)]
        cmd: tender_cmds::ContractCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Payment requests, payrolls and bank transfers (penetrating payment).
    Payment {
        #[command(subcommand)]
        cmd: tender_cmds::PaymentCmd,
        #[command(flatten)]
        opts: ClientOpts,
    },
    /// Runnable scenarios against a running devnet.
    Demo {
        #[command(subcommand)]
        cmd: demo::DemoCmd,
    },
    /// Load generator: many signed notary transactions, with a Caliper-style report.
    Bench(bench::BenchArgs),
    /// Evidence packages: records with their proofs, headers, certificates and set lineage.
    Evidence {
        #[command(subcommand)]
        cmd: EvidenceCmd,
    },
    /// Verify an evidence package offline, against the genesis file.
    Verify(evidence_cmds::VerifyArgs),
}

#[derive(Subcommand)]
enum EvidenceCmd {
    /// Export an evidence package from a node.
    Export(evidence_cmds::ExportArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Init(args) => init::run(&args).map(|_| ()),
        Cmd::Node { config } => run_node(&config),
        Cmd::Devnet(args) => devnet::run(&args),
        Cmd::Keys { cmd } => client_cmds::keys(cmd),
        Cmd::Notary { cmd, opts } => client_cmds::notary(cmd, &opts),
        Cmd::Tx { cmd, opts } => client_cmds::tx(cmd, &opts),
        Cmd::Block { cmd, opts } => client_cmds::block(cmd, &opts),
        Cmd::Status { opts } => client_cmds::status(&opts),
        Cmd::Org { cmd, opts } => gov_cmds::org(cmd, &opts),
        Cmd::Account { cmd, opts } => gov_cmds::account(cmd, &opts),
        Cmd::Role { cmd, opts } => gov_cmds::role(cmd, &opts),
        Cmd::Policy { cmd, opts } => gov_cmds::policy(cmd, &opts),
        Cmd::Proposal { cmd, opts } => gov_cmds::proposal(cmd, &opts),
        Cmd::Validator { cmd, opts } => gov_cmds::validator(cmd, &opts),
        Cmd::Dkg { cmd, opts } => dkg_cmds::dkg(cmd, &opts),
        Cmd::Tender { cmd, opts } => tender_cmds::tender(cmd, &opts),
        Cmd::Contract { cmd, opts } => tender_cmds::contract(cmd, &opts),
        Cmd::Payment { cmd, opts } => tender_cmds::payment(cmd, &opts),
        Cmd::Demo { cmd } => demo::run(cmd),
        Cmd::Bench(args) => bench::run(&args),
        Cmd::Evidence {
            cmd: EvidenceCmd::Export(args),
        } => evidence_cmds::export(&args),
        Cmd::Verify(args) => evidence_cmds::verify(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", error_chain(&e));
        std::process::exit(1);
    }
}

/// The error and its causes, `": "`-separated like anyhow's `{:#}`, without a cause that the
/// message before it already ends with: many error types (ours, fjall's, std's wrappers) both
/// print their source and return it from `source()`, which printed the OS reason twice.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn run_node(config: &std::path::Path) -> Result<()> {
    keep_freed_memory();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,commonware=warn,fjall=warn,lsm_tree=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cfg = xa_node::NodeConfig::load(config)?;
    let name = cfg.name.clone();
    let api: xa_node::service::ApiServer = Box::new(move |chain, addr, metrics| {
        Box::pin(async move { xa_api::serve(chain, addr, name, metrics).await })
    });
    xa_node::service::run(cfg, api)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cause the message already quotes is printed once; contexts and distinct causes are
    /// all kept.
    #[test]
    fn error_chain_prints_each_cause_once() {
        /// Prints its source and returns it, as `#[error("…: {source}")]` types do.
        #[derive(Debug)]
        struct Quoting {
            source: std::io::Error,
        }
        impl std::fmt::Display for Quoting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "i/o error on key.json: {}", self.source)
            }
        }
        impl std::error::Error for Quoting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Quoting { source: io() }).context("reading the signing key");
        assert_eq!(
            error_chain(&e),
            "reading the signing key: i/o error on key.json: no such file"
        );
        let e = anyhow::Error::new(io()).context("opening the store");
        assert_eq!(error_chain(&e), "opening the store: no such file");
    }

    /// The index names the purge delay: its default in the pinned version is 1,000 ms
    /// (`src/options.c`), and setting it is read back. Guards against a mimalloc upgrade that
    /// renumbers the options.
    #[test]
    fn purge_delay_option_index_names_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading and writing integer options has no other effect.
        let default = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc's purge_delay default is 1,000 ms");
        keep_freed_memory();
        let set = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(set, -1);
    }

    /// `evidence export` names the node with `--api` and the state entry with `--state`, like
    /// every other client command; the spellings it had before (`--node`, `--key`) still parse
    /// to the same request, and `--history` needs a state entry.
    #[test]
    fn evidence_export_takes_api_and_state_and_the_old_spellings() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(
                ["xachain", "evidence", "export"]
                    .iter()
                    .chain(args)
                    .copied(),
            )
            .map(|cli| match cli.cmd {
                Cmd::Evidence {
                    cmd: EvidenceCmd::Export(args),
                } => format!("{args:?}"),
                _ => "another command".to_string(),
            })
        };
        let new = parse(&[
            "--state",
            "validators/set",
            "--history",
            "--api",
            "http://n:1",
            "--out",
            "p.json",
        ])
        .expect("new spellings parse");
        let old = parse(&[
            "--key",
            "validators/set",
            "--history",
            "--node",
            "http://n:1",
            "--out",
            "p.json",
        ])
        .expect("old spellings parse");
        assert_eq!(new, old);
        assert!(new.contains("state: Some(\"validators/set\")"), "{new}");
        assert!(new.contains("api: \"http://n:1\""), "{new}");
        let err =
            parse(&["--tx", "ab", "--history", "--out", "p.json"]).expect_err("history alone");
        assert!(err.to_string().contains("--history"), "{err}");
        assert!(err.to_string().contains("--tx"), "{err}");
        let err = parse(&["--height", "3", "--out", "p.json"]).expect_err("height alone");
        assert!(err.to_string().contains("--state"), "{err}");
    }
}
