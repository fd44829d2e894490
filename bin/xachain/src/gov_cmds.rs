//! Identity and governance commands: `org`, `account`, `role`, `policy`, `proposal`, `validator`.
//!
//! Reads go to the REST API; writes are transactions signed with `--key` for the account that
//! key belongs to (found in the chain's key index, so a rotated account keeps working).

use crate::{ClientOpts, client_cmds::load_key, client_cmds::print};
use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;
use xa_client::Client;
use xa_types::{
    Address, Call, Hash, KeyPair, PublicKey,
    modules::{
        governance::{self, ProposalAction, ProposalIdArgs, ProposeArgs},
        identity::{
            self, AddKeyArgs, FreezeArgs, NewAccount, RegisterAccountArgs, RetireKeyArgs,
            RevokeKeyArgs, RoleArgs, UnfreezeArgs,
        },
        validators::ValidatorInfo,
    },
    policy::Policy,
};

/// How long a new proposal stays open unless `--expires-in-hours` says otherwise.
const DEFAULT_PROPOSAL_HOURS: u64 = 72;

/// `xachain org ...`
#[derive(Subcommand)]
pub enum OrgCmd {
    /// List organizations.
    List,
    /// Show one organization.
    Show {
        /// Organization id.
        id: String,
    },
    /// Propose a new organization with its first administrator (a governance proposal).
    ProposeAdd {
        /// Id: 1 to 32 characters of [a-z0-9-].
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Make it a founding organization (founding organizations govern the chain).
        #[arg(long)]
        founding: bool,
        /// The administrator's display name.
        #[arg(long)]
        admin_name: String,
        /// The administrator's public key (suite:hex, as `xachain keys new` prints).
        #[arg(long)]
        admin_key: PublicKey,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
    /// Propose removing an organization (a governance proposal).
    ProposeRemove {
        /// Organization id.
        id: String,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
}

/// `xachain account ...`
#[derive(Subcommand)]
pub enum AccountCmd {
    /// Show an account (its personal data too when you `--login` as someone allowed to read it).
    Show {
        /// Address.
        address: Address,
    },
    /// Which account `--key` signs for, with its organization and roles.
    Whoami,
    /// Register an account in an organization (needs org_admin of that organization).
    Register {
        /// Organization id.
        #[arg(long)]
        org: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The account's first key (suite:hex).
        #[arg(long)]
        public_key: PublicKey,
        /// Identity document: its digest (never the document) is stored as private data.
        #[arg(long, conflicts_with = "id_digest")]
        id_document: Option<PathBuf>,
        /// Digest of the identity document, computed elsewhere (hex).
        #[arg(long)]
        id_digest: Option<Hash>,
        /// Roles within the organization (repeat for several).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Add a key to your account (rotation step 1); the new key file proves possession.
    AddKey {
        /// Key file of the new key.
        #[arg(long)]
        new_key: PathBuf,
    },
    /// Retire one of your keys (rotation step 2); the last key cannot be retired.
    RetireKey {
        /// The key to retire (suite:hex).
        #[arg(long)]
        public_key: PublicKey,
    },
    /// Revoke a lost or compromised key of an account (org_admin of its organization).
    RevokeKey {
        /// The account.
        #[arg(long)]
        account: Address,
        /// The key (suite:hex).
        #[arg(long)]
        public_key: PublicKey,
    },
    /// Freeze an account: it can do nothing until unfrozen.
    Freeze {
        /// The account.
        #[arg(long)]
        account: Address,
        /// Why (recorded on chain).
        #[arg(long)]
        reason: String,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// The account.
        #[arg(long)]
        account: Address,
    },
}

/// `xachain role ...`
#[derive(Subcommand)]
pub enum RoleCmd {
    /// Every role that can be granted: built-in ones and those modules declare.
    List,
    /// Grant a role within the account's organization (org_admin of that organization).
    Grant {
        /// The account.
        #[arg(long)]
        account: Address,
        /// The role, e.g. notary_officer, auditor.
        #[arg(long)]
        role: String,
    },
    /// Revoke a role.
    Revoke {
        /// The account.
        #[arg(long)]
        account: Address,
        /// The role.
        #[arg(long)]
        role: String,
    },
}

/// `xachain policy ...`
#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Every call of every module with the policy in force.
    List,
    /// The policy of one call.
    Show {
        /// Module, e.g. notary.
        module: String,
        /// Method, e.g. anchor.
        method: String,
    },
    /// Propose a new policy for a call (a governance proposal), e.g.
    /// "2 of org_admin @ founding, distinct orgs".
    ProposeSet {
        /// Module.
        module: String,
        /// Method.
        method: String,
        /// The policy in its text form.
        policy: String,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
}

/// `xachain proposal ...`
#[derive(Subcommand)]
pub enum ProposalCmd {
    /// List proposals, newest first.
    List {
        /// Only this status: open, executed, expired, cancelled.
        #[arg(long)]
        status: Option<String>,
    },
    /// Show a proposal with its approvals and the policy it needs.
    Show {
        /// Proposal id.
        id: u64,
    },
    /// Create a proposal from an action written as JSON (see `/v1/openapi.json`), e.g.
    /// '{"set_param":{"name":"max_block_txs","value":5000}}'.
    Create {
        /// The action as JSON, or @FILE to read it from a file.
        action: String,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
    /// Approve a proposal; it executes in this transaction if the approvals now meet its policy.
    Approve {
        /// Proposal id.
        id: u64,
    },
    /// Cancel your own open proposal.
    Cancel {
        /// Proposal id.
        id: u64,
    },
}

/// `xachain validator ...`
#[derive(Subcommand)]
pub enum ValidatorCmd {
    /// The validator set in force, and one pending for the next epoch.
    List,
    /// Propose adding a validator; it joins at the next epoch boundary after execution.
    ProposeAdd {
        /// Display name (the operating organization).
        #[arg(long)]
        name: String,
        /// Its Ed25519 consensus public key (hex, as in genesis.json or `xachain init`).
        #[arg(long)]
        consensus_key: String,
        /// The address other validators dial, host:port.
        #[arg(long)]
        p2p_address: String,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
    /// Register a validator's DKG key (`chain_admin`), so the tender key is reshared to a set
    /// that includes it (chains made with `init --dkg`).
    RegisterDkgKey {
        /// Its consensus public key (hex).
        #[arg(long)]
        consensus_key: String,
        /// Its DKG key file (`dkg-key.json`); only the public key is read out and sent.
        #[arg(long)]
        dkg_key_file: std::path::PathBuf,
    },
    /// Propose removing a validator; it stops counting at the next epoch boundary.
    ProposeRemove {
        /// Its consensus public key (hex).
        #[arg(long)]
        consensus_key: String,
        /// Hours until the proposal expires.
        #[arg(long, default_value_t = DEFAULT_PROPOSAL_HOURS)]
        expires_in_hours: u64,
    },
}

/// A client, logged in with `--key` when `--login` asks for it.
fn client(opts: &ClientOpts) -> Result<Client> {
    let mut client = Client::new(&opts.api);
    if opts.login {
        let key = load_key(opts)?;
        let me = client.sender_of(&key)?;
        client
            .login(&key, &me)
            .context("logging in with --key (is it an active key of a registered account?)")?;
    }
    Ok(client)
}

/// Sign `call` with `--key`, submit it, wait for the commit and report the receipt. A call that
/// committed but failed (e.g. PERMISSION_DENIED) is an error with its code.
pub fn send(opts: &ClientOpts, call: Call) -> Result<Value> {
    let client = Client::new(&opts.api);
    let key = load_key(opts)?;
    send_with(opts, &client, &key, call)
}

fn send_with(opts: &ClientOpts, client: &Client, key: &KeyPair, call: Call) -> Result<Value> {
    let tx = client.build(key, call, 100)?;
    if let Some(path) = &opts.save_tx {
        crate::client_cmds::write_tx(path, &tx)?;
        println!(
            "saved to {} (not submitted); co-signers run `xachain tx cosign {}`",
            path.display(),
            path.display()
        );
        return Ok(Value::Null);
    }
    submit_and_report(opts, client, &tx)
}

/// Submit `tx`, wait for its commit and print the receipt; a committed but failed call is an
/// error with its code.
pub fn submit_and_report(
    opts: &ClientOpts,
    client: &Client,
    tx: &xa_types::Transaction,
) -> Result<Value> {
    let result = client.submit(tx, true)?;
    print(opts, &result, |v| {
        let r = &v["receipt"];
        println!("transaction: {}", v["hash"].as_str().unwrap_or(""));
        println!("height:      {}", r["height"]);
        println!("status:      {}", r["status"].as_str().unwrap_or(""));
        if let Some(events) = r["events"].as_array() {
            for e in events {
                let attrs: Vec<String> = e["attributes"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|p| {
                                format!(
                                    "{}={}",
                                    p[0].as_str().unwrap_or(""),
                                    p[1].as_str().unwrap_or("")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                println!(
                    "event:       {}.{} {}",
                    e["module"].as_str().unwrap_or(""),
                    e["kind"].as_str().unwrap_or(""),
                    attrs.join(" ")
                );
            }
        }
    });
    if result["receipt"]["status"] == "failed" {
        bail!(
            "{}: {}",
            result["receipt"]["code"].as_str().unwrap_or("FAILED"),
            result["receipt"]["message"].as_str().unwrap_or("")
        );
    }
    Ok(result)
}

/// Consensus time `hours` after the committed tip.
fn expiry(opts: &ClientOpts, hours: u64) -> Result<u64> {
    let status = Client::new(&opts.api).status()?;
    let now = status["time_ms"]
        .as_u64()
        .ok_or_else(|| anyhow!("the node's status has no time_ms"))?;
    Ok(now.saturating_add(hours.saturating_mul(3_600_000)))
}

fn propose(opts: &ClientOpts, action: ProposalAction, hours: u64) -> Result<()> {
    let expires_at_ms = expiry(opts, hours)?;
    let call = Call::new(
        governance::MODULE,
        governance::PROPOSE,
        &ProposeArgs {
            action,
            expires_at_ms,
        },
    );
    send(opts, call)?;
    Ok(())
}

fn consensus_key(hex_text: &str) -> Result<Vec<u8>> {
    let bytes = hex::decode(hex_text.trim())
        .map_err(|_| anyhow!("--consensus-key: '{hex_text}' is not hex"))?;
    if bytes.len() != 32 {
        bail!("--consensus-key: must be 32 bytes (64 hex characters)");
    }
    Ok(bytes)
}

fn show_lines(opts: &ClientOpts, v: &Value, pairs: &[(&str, &Value)]) {
    print(opts, v, |_| {
        for (name, value) in pairs {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => other.to_string(),
            };
            println!("{:<12} {text}", format!("{name}:"));
        }
    });
}

/// `org`.
pub fn org(cmd: OrgCmd, opts: &ClientOpts) -> Result<()> {
    match cmd {
        OrgCmd::List => {
            let v = client(opts)?.get("/v1/orgs")?;
            print(opts, &v, |v| {
                for o in v["organizations"].as_array().into_iter().flatten() {
                    println!(
                        "{:<16} {:<9} {:<8} {}",
                        o["id"].as_str().unwrap_or(""),
                        if o["founding"] == true {
                            "founding"
                        } else {
                            ""
                        },
                        o["status"].as_str().unwrap_or(""),
                        o["name"].as_str().unwrap_or("")
                    );
                }
            });
        }
        OrgCmd::Show { id } => {
            let v = client(opts)?.get(&format!("/v1/orgs/{id}"))?;
            let o = &v["organization"];
            show_lines(
                opts,
                &v,
                &[
                    ("id", &o["id"]),
                    ("name", &o["name"]),
                    ("founding", &o["founding"]),
                    ("status", &o["status"]),
                ],
            );
        }
        OrgCmd::ProposeAdd {
            id,
            name,
            founding,
            admin_name,
            admin_key,
            expires_in_hours,
        } => propose(
            opts,
            ProposalAction::AddOrg {
                id,
                name,
                founding,
                admins: vec![NewAccount {
                    name: admin_name,
                    public_key: admin_key,
                    roles: vec![identity::ORG_ADMIN.to_string()],
                }],
            },
            expires_in_hours,
        )?,
        OrgCmd::ProposeRemove {
            id,
            expires_in_hours,
        } => propose(opts, ProposalAction::RemoveOrg { id }, expires_in_hours)?,
    }
    Ok(())
}

fn print_account(opts: &ClientOpts, v: &Value) {
    print(opts, v, |v| {
        let a = &v["account"];
        println!("address:      {}", v["address"].as_str().unwrap_or(""));
        println!("name:         {}", a["name"].as_str().unwrap_or(""));
        println!("organization: {}", a["org"].as_str().unwrap_or(""));
        println!("roles:        {}", a["roles"]);
        println!("status:       {}", a["status"].as_str().unwrap_or(""));
        println!("keys:         {}", a["keys"]);
        println!("revoked keys: {}", a["revoked_keys"]);
        println!("next nonce:   {}", a["next_nonce"]);
        if let Some(p) = v.get("personal") {
            println!("id digest:    {}", p["id_digest"].as_str().unwrap_or("-"));
        }
    });
}

/// `account`.
pub fn account(cmd: AccountCmd, opts: &ClientOpts) -> Result<()> {
    let call = match cmd {
        AccountCmd::Show { address } => {
            let v = client(opts)?.get(&format!("/v1/accounts/{address}"))?;
            print_account(opts, &v);
            return Ok(());
        }
        AccountCmd::Whoami => {
            let key = load_key(opts)?;
            let c = client(opts)?;
            let me = c.sender_of(&key)?;
            let v = c.get(&format!("/v1/accounts/{me}"))?;
            print_account(opts, &v);
            return Ok(());
        }
        AccountCmd::Register {
            org,
            name,
            public_key,
            id_document,
            id_digest,
            roles,
        } => {
            let id_digest = match id_document {
                Some(path) => {
                    let suite = Client::new(&opts.api).status()?["suite"]
                        .as_str()
                        .unwrap_or("ed25519")
                        .parse::<xa_types::Suite>()
                        .map_err(|e| anyhow!("node reported an unknown suite: {e}"))?;
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Some(suite.hash(&bytes))
                }
                None => id_digest,
            };
            Call::new(
                identity::MODULE,
                identity::REGISTER_ACCOUNT,
                &RegisterAccountArgs {
                    org,
                    name,
                    public_key,
                    id_digest,
                    roles,
                },
            )
        }
        AccountCmd::AddKey { new_key } => {
            let key = load_key(opts)?;
            let new = xa_crypto::read_key_file(&new_key)
                .with_context(|| format!("reading the new key {}", new_key.display()))?;
            let client = Client::new(&opts.api);
            let me = client.sender_of(&key)?;
            let (chain_id, _) = client.chain_info()?;
            let possession = new.sign(&identity::key_possession_message(
                &chain_id,
                &me,
                &new.public_key(),
            ));
            let call = Call::new(
                identity::MODULE,
                identity::ADD_KEY,
                &AddKeyArgs {
                    new_key: new.public_key(),
                    possession,
                },
            );
            send_with(opts, &client, &key, call)?;
            return Ok(());
        }
        AccountCmd::RetireKey { public_key } => Call::new(
            identity::MODULE,
            identity::RETIRE_KEY,
            &RetireKeyArgs { key: public_key },
        ),
        AccountCmd::RevokeKey {
            account,
            public_key,
        } => Call::new(
            identity::MODULE,
            identity::REVOKE_KEY,
            &RevokeKeyArgs {
                account,
                key: public_key,
            },
        ),
        AccountCmd::Freeze { account, reason } => Call::new(
            identity::MODULE,
            identity::FREEZE,
            &FreezeArgs { account, reason },
        ),
        AccountCmd::Unfreeze { account } => Call::new(
            identity::MODULE,
            identity::UNFREEZE,
            &UnfreezeArgs { account },
        ),
    };
    send(opts, call)?;
    Ok(())
}

/// `role`.
pub fn role(cmd: RoleCmd, opts: &ClientOpts) -> Result<()> {
    let (method, account, role) = match cmd {
        RoleCmd::List => {
            let v = client(opts)?.get("/v1/roles")?;
            print(opts, &v, |v| {
                for r in v["roles"].as_array().into_iter().flatten() {
                    println!(
                        "{:<20} {}",
                        r["role"].as_str().unwrap_or(""),
                        r["declared_by"].as_str().unwrap_or("")
                    );
                }
            });
            return Ok(());
        }
        RoleCmd::Grant { account, role } => (identity::GRANT_ROLE, account, role),
        RoleCmd::Revoke { account, role } => (identity::REVOKE_ROLE, account, role),
    };
    send(
        opts,
        Call::new(identity::MODULE, method, &RoleArgs { account, role }),
    )?;
    Ok(())
}

/// `policy`.
pub fn policy(cmd: PolicyCmd, opts: &ClientOpts) -> Result<()> {
    match cmd {
        PolicyCmd::List => {
            let v = client(opts)?.get("/v1/policies")?;
            print(opts, &v, |v| {
                for p in v["policies"].as_array().into_iter().flatten() {
                    println!(
                        "{:<32} {:<8} {}",
                        format!(
                            "{}.{}",
                            p["module"].as_str().unwrap_or(""),
                            p["method"].as_str().unwrap_or("")
                        ),
                        p["source"].as_str().unwrap_or(""),
                        p["text"].as_str().unwrap_or("")
                    );
                }
            });
        }
        PolicyCmd::Show { module, method } => {
            let v = client(opts)?.get(&format!("/v1/policies/{module}/{method}"))?;
            show_lines(
                opts,
                &v,
                &[
                    ("call", &Value::String(format!("{module}.{method}"))),
                    ("policy", &v["text"]),
                    ("source", &v["source"]),
                ],
            );
        }
        PolicyCmd::ProposeSet {
            module,
            method,
            policy,
            expires_in_hours,
        } => {
            let parsed: Policy = policy
                .parse()
                .map_err(|e: xa_types::TxError| anyhow!("policy: {}", e.message))?;
            propose(
                opts,
                ProposalAction::SetPolicy {
                    module,
                    method,
                    policy: parsed,
                },
                expires_in_hours,
            )?;
        }
    }
    Ok(())
}

/// `proposal`.
pub fn proposal(cmd: ProposalCmd, opts: &ClientOpts) -> Result<()> {
    match cmd {
        ProposalCmd::List { status } => {
            let path = match status {
                Some(s) => format!("/v1/proposals?status={s}"),
                None => "/v1/proposals".into(),
            };
            let v = client(opts)?.get(&path)?;
            print(opts, &v, |v| {
                for p in v["proposals"].as_array().into_iter().flatten() {
                    let kind = p["action"]
                        .as_object()
                        .and_then(|o| o.keys().next().cloned())
                        .unwrap_or_else(|| p["action"].to_string());
                    println!(
                        "#{:<5} {:<9} {:<18} approvals {}",
                        p["id"],
                        p["status"].as_str().unwrap_or(""),
                        kind,
                        p["approvals"].as_array().map(|a| a.len()).unwrap_or(0)
                    );
                }
            });
        }
        ProposalCmd::Show { id } => {
            let v = client(opts)?.get(&format!("/v1/proposals/{id}"))?;
            let p = &v["proposal"];
            show_lines(
                opts,
                &v,
                &[
                    ("id", &p["id"]),
                    ("status", &p["status"]),
                    ("action", &p["action"]),
                    ("proposer", &p["proposer"]),
                    ("approvals", &p["approvals"]),
                    ("needs", &v["policy"]),
                    ("expires_ms", &p["expires_at_ms"]),
                    ("executed_at", &p["executed_height"]),
                ],
            );
        }
        ProposalCmd::Create {
            action,
            expires_in_hours,
        } => {
            let text = match action.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("reading the action from {path}"))?,
                None => action,
            };
            let action: ProposalAction =
                serde_json::from_str(&text).context("action: not a valid proposal action")?;
            propose(opts, action, expires_in_hours)?;
        }
        ProposalCmd::Approve { id } => {
            send(
                opts,
                Call::new(
                    governance::MODULE,
                    governance::APPROVE,
                    &ProposalIdArgs { id },
                ),
            )?;
        }
        ProposalCmd::Cancel { id } => {
            send(
                opts,
                Call::new(
                    governance::MODULE,
                    governance::CANCEL,
                    &ProposalIdArgs { id },
                ),
            )?;
        }
    }
    Ok(())
}

/// `validator`.
pub fn validator(cmd: ValidatorCmd, opts: &ClientOpts) -> Result<()> {
    match cmd {
        ValidatorCmd::List => {
            let v = client(opts)?.get("/v1/validators")?;
            print(opts, &v, |v| {
                println!(
                    "height {} epoch {} (epoch length {})",
                    v["height"], v["epoch"], v["epoch_length"]
                );
                let list = |set: &Value| {
                    for val in set["validators"].as_array().into_iter().flatten() {
                        println!(
                            "  {:<16} {} {}",
                            val["name"].as_str().unwrap_or(""),
                            val["consensus_key"].as_str().unwrap_or(""),
                            val["p2p_address"].as_str().unwrap_or("")
                        );
                    }
                };
                println!("in force (epoch {}):", v["current"]["epoch"]);
                list(&v["current"]);
                if !v["pending"].is_null() {
                    println!(
                        "pending, in force after height {}:",
                        v["pending_takes_effect_after_height"]
                    );
                    list(&v["pending"]);
                }
            });
        }
        ValidatorCmd::ProposeAdd {
            name,
            consensus_key: key,
            p2p_address,
            expires_in_hours,
        } => propose(
            opts,
            ProposalAction::AddValidator {
                validator: ValidatorInfo {
                    name,
                    consensus_key: consensus_key(&key)?,
                    p2p_address,
                },
            },
            expires_in_hours,
        )?,
        ValidatorCmd::RegisterDkgKey {
            consensus_key: key,
            dkg_key_file,
        } => {
            let dkg_key = xa_node::dkg_participant::read_dkg_key_file(&dkg_key_file)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let call = Call::new(
                xa_types::modules::dkg::MODULE,
                xa_types::modules::dkg::REGISTER_KEY,
                &xa_types::modules::dkg::RegisterKeyArgs {
                    consensus_key: consensus_key(&key)?,
                    dkg_key: dkg_key.public(),
                },
            );
            let receipt = send(opts, call)?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
        }
        ValidatorCmd::ProposeRemove {
            consensus_key: key,
            expires_in_hours,
        } => propose(
            opts,
            ProposalAction::RemoveValidator {
                consensus_key: consensus_key(&key)?,
            },
            expires_in_hours,
        )?,
    }
    Ok(())
}
