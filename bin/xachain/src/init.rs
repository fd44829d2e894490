//! `xachain init`: genesis, keys and per-validator configs for a new network.

use anyhow::{Context, Result, bail};
use clap::Args;
use commonware_codec::{DecodeExt, Encode};
use commonware_cryptography::Signer as _;
use std::path::{Path, PathBuf};
use xa_types::{
    ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator, KeyPair, Suite,
};

/// The devnet's organizations: id, name, founding. The operator belongs to `committee`.
pub const DEVNET_ORGS: &[(&str, &str, bool)] = &[
    ("committee", "City management committee", true),
    ("housing", "Housing bureau", true),
    ("forestry", "Forestry bureau", true),
    ("finance", "Finance bureau", true),
    ("bank-xiongan", "Bank of Xiong'an", false),
    ("contractor-a", "Contractor A", false),
];

/// Arguments of `xachain init`.
#[derive(Args, Clone, Debug)]
pub struct InitArgs {
    /// Number of validators.
    #[arg(long, default_value_t = 4)]
    pub validators: usize,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Cryptographic suite: ed25519 (Ed25519 + SHA-256) or sm2 (SM2 + SM3).
    #[arg(long = "crypto", default_value = "ed25519")]
    pub suite: Suite,
    /// Chain identifier.
    #[arg(long, default_value = "xachain-devnet")]
    pub chain_id: String,
    /// Host the validators listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// First p2p port (validator i listens on base + i).
    #[arg(long, default_value_t = 9000)]
    pub p2p_port: u16,
    /// First API port (validator i serves on base + i).
    #[arg(long, default_value_t = 8080)]
    pub api_port: u16,
    /// Heights per consensus epoch: validator-set changes take effect at epoch boundaries.
    #[arg(long, default_value_t = 100)]
    pub epoch_length: u64,
    /// Extra validator nodes that are not in genesis (`extra-*/`): each gets a key and a config
    /// (ports after the genesis validators'), and follows the chain until governance adds it to
    /// the validator set. `devnet` does not start them; run `xachain node --config
    /// <dir>/extra-0/config.json`.
    #[arg(long, default_value_t = 0)]
    pub extra_validators: usize,
    /// Devnet only: tenders' minimum publicity period in seconds instead of the legal 3 days
    /// (genesis `tender_min_publicity_ms_devnet_only`).
    #[arg(long)]
    pub tender_publicity_secs: Option<u64>,
    /// Make the tender key with the golden DKG's round 0 among fresh per-validator DKG keys
    /// (`node-N/dkg-key.json`) instead of the Feldman–Desmedt trusted dealer, so that it is
    /// reshared on chain whenever the validator set changes. Still a **devnet trusted setup**:
    /// this process runs every validator's dealing and sees every share. Costs tens of seconds
    /// of CPU per validator (eVRF proofs). Extra validators get DKG keys and node accounts too.
    #[arg(long)]
    pub dkg: bool,
}

/// The layout `init` writes.
pub struct Layout {
    /// Per-validator config files.
    pub configs: Vec<PathBuf>,
    /// API URLs, in validator order.
    pub apis: Vec<String>,
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// Read an existing layout from `dir` (configs named node-*/config.json).
pub fn layout(dir: &Path) -> Result<Layout> {
    let mut configs = Vec::new();
    for i in 0.. {
        let p = dir.join(format!("node-{i}")).join("config.json");
        if !p.exists() {
            break;
        }
        configs.push(p);
    }
    if configs.is_empty() {
        bail!(
            "{}: no node-*/config.json (run `xachain init`)",
            dir.display()
        );
    }
    let mut apis = Vec::new();
    for c in &configs {
        let cfg = xa_node::NodeConfig::load(c)?;
        apis.push(format!("http://{}", cfg.api_listen));
    }
    Ok(Layout { configs, apis })
}

/// Write a new network into `args.out`; refuses to overwrite an existing genesis.
pub fn run(args: &InitArgs) -> Result<Layout> {
    if args.validators == 0 || args.validators > 100 {
        bail!("--validators: must be between 1 and 100");
    }
    if args.extra_validators > 100 {
        bail!("--extra-validators: must be at most 100");
    }
    if args.epoch_length < 2 {
        bail!("--epoch-length: must be at least 2");
    }
    let out = &args.out;
    if out.join("genesis.json").exists() {
        bail!(
            "{}: already holds a genesis.json; choose another --out",
            out.display()
        );
    }
    std::fs::create_dir_all(out.join("keys"))
        .with_context(|| format!("creating {}", out.display()))?;
    let mut validators = Vec::new();
    for i in 0..args.validators {
        let dir = out.join(format!("node-{i}"));
        validators.push(validator_key(&dir, format!("validator-{i}"), args, i)?);
    }
    // The city management committee's operator administers the chain; each other organization
    // gets one administrator, whose key file is keys/<org>-admin.json.
    let operator = KeyPair::generate(args.suite);
    xa_crypto::write_key_file(&out.join("keys").join("operator.json"), &operator)?;
    let mut organizations = Vec::new();
    let mut accounts = vec![GenesisAccount {
        name: "operator".into(),
        public_key: operator.public_key(),
        org: "committee".into(),
        roles: vec!["chain_admin".into(), "org_admin".into()],
    }];
    for (id, name, founding) in DEVNET_ORGS {
        organizations.push(GenesisOrg {
            id: id.to_string(),
            name: name.to_string(),
            founding: *founding,
        });
        if *id == "committee" {
            continue;
        }
        let admin = KeyPair::generate(args.suite);
        xa_crypto::write_key_file(&out.join("keys").join(format!("{id}-admin.json")), &admin)?;
        accounts.push(GenesisAccount {
            name: format!("{id} administrator"),
            public_key: admin.public_key(),
            org: id.to_string(),
            roles: vec!["org_admin".into()],
        });
    }
    let genesis_time_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // The tender module's threshold key. Without `--dkg`: trusted dealer, devnet only (this
    // process sees every share). With it: golden round 0 among the validators' DKG keys, run
    // here (a devnet trusted setup too), whose output lets the chain reshare the key.
    let total = args.validators + if args.dkg { args.extra_validators } else { 0 };
    let dkg_keys: Vec<xa_execution::reshare::DkgKey> = if args.dkg {
        (0..total)
            .map(|_| xa_execution::reshare::DkgKey::from_seed(xa_crypto::random_seed()))
            .collect()
    } else {
        Vec::new()
    };
    let (threshold, shares, dkg_genesis) = if args.dkg {
        let (output, shares) = xa_execution::reshare::round_zero_trusted_setup_devnet_only(
            &args.chain_id,
            &dkg_keys[..args.validators],
            xa_crypto::random_seed(),
        )
        .map_err(|e| anyhow::anyhow!("golden DKG round 0: {e}"))?;
        let keys = validators
            .iter()
            .zip(&dkg_keys)
            .map(|(v, k)| xa_types::modules::dkg::RegisterKeyArgs {
                consensus_key: v.consensus_key.clone(),
                dkg_key: k.public(),
            })
            .collect();
        let genesis = xa_types::modules::dkg::DkgGenesis {
            output: output.output,
            keys,
        };
        (output.key, shares, Some(genesis))
    } else {
        let (threshold, shares) = xa_execution::sealing::deal_trusted_dealer_devnet_only(
            xa_crypto::random_seed(),
            args.validators as u32,
        )
        .map_err(|e| anyhow::anyhow!("dealing the tender threshold key: {e}"))?;
        (threshold, shares, None)
    };
    let dealer = if args.dkg {
        "golden DKG round 0, devnet trusted setup"
    } else {
        "trusted dealer, devnet only"
    };
    for (i, share) in shares.iter().enumerate() {
        let dir = out.join(format!("node-{i}"));
        write_tender_share(&dir, share, dealer)?;
    }
    for i in 0..total {
        let dir = if i < args.validators {
            out.join(format!("node-{i}"))
        } else {
            out.join(format!("extra-{}", i - args.validators))
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // The account the node signs its own transactions (opening shares, dealings) with.
        let account = KeyPair::generate(args.suite);
        xa_crypto::write_key_file(&dir.join(ACCOUNT_KEY_FILE), &account)?;
        let name = if i < args.validators {
            format!("validator-{i} node")
        } else {
            format!("extra-{} node", i - args.validators)
        };
        accounts.push(GenesisAccount {
            name,
            public_key: account.public_key(),
            org: "committee".into(),
            roles: vec!["validator".into()],
        });
        if let Some(k) = dkg_keys.get(i) {
            xa_node::dkg_participant::write_dkg_key_file(&dir.join(DKG_KEY_FILE), k)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let genesis = Genesis {
        chain_id: args.chain_id.clone(),
        suite: args.suite,
        genesis_time_ms,
        validators,
        organizations,
        accounts,
        params: ChainParams {
            epoch_length: args.epoch_length,
            ..ChainParams::default()
        },
        tender_threshold_trusted_dealer_devnet_only: Some(threshold),
        tender_min_publicity_ms_devnet_only: args
            .tender_publicity_secs
            .map(|s| s.saturating_mul(1000)),
        tender_dkg_trusted_setup_devnet_only: dkg_genesis,
        state_layout: Some(2),
    };
    genesis
        .validate()
        .map_err(|e| anyhow::anyhow!("genesis: {e}"))?;
    write_json(&out.join("genesis.json"), &genesis)?;
    let mut configs = Vec::new();
    let mut apis = Vec::new();
    for i in 0..args.validators {
        let dir = out.join(format!("node-{i}"));
        let api = format!("{}:{}", args.host, args.api_port as usize + i);
        let cfg = xa_node::NodeConfig {
            name: format!("validator-{i}"),
            genesis: PathBuf::from("../genesis.json"),
            validator_key: PathBuf::from("validator.json"),
            data_dir: PathBuf::from("data"),
            p2p_listen: genesis.validators[i].p2p_address.clone(),
            api_listen: api.clone(),
            tender_share: Some(PathBuf::from(TENDER_SHARE_FILE)),
            account_key: Some(PathBuf::from(ACCOUNT_KEY_FILE)),
            dkg_key: args.dkg.then(|| PathBuf::from(DKG_KEY_FILE)),
            mempool: Default::default(),
            consensus: Default::default(),
            storage: xa_node::StorageSettings::staggered(i),
        };
        let path = dir.join("config.json");
        write_json(&path, &cfg)?;
        configs.push(path);
        apis.push(format!("http://{api}"));
    }
    for j in 0..args.extra_validators {
        let i = args.validators + j;
        let dir = out.join(format!("extra-{j}"));
        let name = format!("extra-{j}");
        let info = validator_key(&dir, name.clone(), args, i)?;
        // The entry governance puts into a validator set to add this node.
        write_json(&dir.join("validator-info.json"), &info)?;
        let cfg = xa_node::NodeConfig {
            name,
            genesis: PathBuf::from("../genesis.json"),
            validator_key: PathBuf::from("validator.json"),
            data_dir: PathBuf::from("data"),
            p2p_listen: info.p2p_address.clone(),
            api_listen: format!("{}:{}", args.host, args.api_port as usize + i),
            tender_share: None,
            account_key: args.dkg.then(|| PathBuf::from(ACCOUNT_KEY_FILE)),
            dkg_key: args.dkg.then(|| PathBuf::from(DKG_KEY_FILE)),
            mempool: Default::default(),
            consensus: Default::default(),
            storage: xa_node::StorageSettings::staggered(i),
        };
        write_json(&dir.join("config.json"), &cfg)?;
    }
    Ok(Layout { configs, apis })
}

/// File name of the key of a validator node's own account.
pub const ACCOUNT_KEY_FILE: &str = "account.json";

/// File name of a validator's DKG (eVRF) key (`init --dkg`).
pub const DKG_KEY_FILE: &str = "dkg-key.json";

/// File name of a validator's tender opening share in its key directory.
pub const TENDER_SHARE_FILE: &str = "tender-share.json";

/// A validator's share of the tender threshold key, as written by `init`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct TenderShareFile {
    /// Who made it: "trusted dealer, devnet only" or "golden DKG round 0, devnet trusted
    /// setup".
    pub dealer: String,
    /// The share's index.
    pub index: u32,
    /// The secret share, commonware codec bytes, hex.
    pub share: String,
}

/// Write validator `i`'s share (mode 0600) into `dir`.
fn write_tender_share(dir: &Path, share: &[u8], dealer: &str) -> Result<()> {
    let path = dir.join(TENDER_SHARE_FILE);
    let file = TenderShareFile {
        dealer: dealer.into(),
        index: xa_execution::sealing::share_index(share)
            .map_err(|e| anyhow::anyhow!("share: {e}"))?,
        share: hex::encode(share),
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        f.write_all(text.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Create `dir` with a new consensus key file and return the node's validator-set entry (p2p
/// port `p2p_port + index`).
fn validator_key(
    dir: &Path,
    name: String,
    args: &InitArgs,
    index: usize,
) -> Result<GenesisValidator> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Consensus keys are Ed25519 whatever the chain's suite (Commonware simplex signs with it).
    let key = KeyPair::generate(Suite::Ed25519);
    let secret = key.secret_bytes();
    let consensus = commonware_cryptography::ed25519::PrivateKey::decode(secret.clone())
        .context("deriving the consensus key")?;
    let public = consensus.public_key().encode().to_vec();
    xa_crypto::write_key_file(&dir.join("validator.json"), &key)?;
    Ok(GenesisValidator {
        name,
        consensus_key: public,
        p2p_address: format!("{}:{}", args.host, args.p2p_port as usize + index),
    })
}
