//! Client commands: keys, notary, tx, block, status.

use crate::ClientOpts;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use serde_json::Value;
use std::path::{Path, PathBuf};
use xa_client::Client;
use xa_types::{
    Call, Hash, KeyPair, Suite, address_of,
    modules::notary::{ANCHOR, AnchorArgs, MODULE},
};

/// `xachain keys ...`
#[derive(Subcommand)]
pub enum KeysCmd {
    /// Generate a new account key file (the secret is written to the file, never printed).
    New {
        /// Where to write the key file.
        #[arg(long)]
        out: PathBuf,
        /// Suite of the key: ed25519 or sm2 (must match the chain's).
        #[arg(long = "crypto", default_value = "ed25519")]
        suite: Suite,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `xachain notary ...`
#[derive(Subcommand)]
pub enum NotaryCmd {
    /// Anchor a file's digest on the chain and wait until it is committed.
    Anchor {
        /// The document.
        file: PathBuf,
        /// Title (default: the file name).
        #[arg(long)]
        title: Option<String>,
        /// Kind of document.
        #[arg(long, default_value = "document")]
        kind: String,
    },
    /// Show a notarized record by its id (the document digest).
    Get {
        /// Record id (hex digest).
        id: String,
    },
}

/// `xachain tx ...`
#[derive(Subcommand)]
pub enum TxCmd {
    /// Show a transaction's status, block and receipt.
    Get {
        /// Transaction hash.
        hash: String,
    },
    /// Add your signature (--key) to a transaction saved with `--save-tx`: a multi-signature
    /// transaction whose co-signers' authority counts toward the call's policy.
    Cosign {
        /// The transaction file (JSON); signed in place.
        file: PathBuf,
    },
    /// Submit a transaction file and wait until it is committed.
    Submit {
        /// The transaction file (JSON).
        file: PathBuf,
    },
}

/// `xachain block ...`
#[derive(Subcommand)]
pub enum BlockCmd {
    /// Show a block by height, or `latest`.
    Get {
        /// Height or `latest`.
        id: String,
    },
}

/// The default key: the devnet operator's.
pub fn default_key_path() -> PathBuf {
    PathBuf::from("devnet").join("keys").join("operator.json")
}

/// The signing key: `--key`, else the devnet operator's.
pub fn load_key(opts: &ClientOpts) -> Result<KeyPair> {
    let path = opts.key.clone().unwrap_or_else(default_key_path);
    xa_crypto::read_key_file(&path).with_context(|| {
        format!(
            "reading the signing key {} (pass --key, or start the devnet first)",
            path.display()
        )
    })
}

/// Print `v` as JSON with `--json`, else the summary.
pub fn print(opts: &ClientOpts, v: &Value, summary: impl FnOnce(&Value)) {
    if opts.json {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    } else {
        summary(v);
    }
}

/// `keys`.
pub fn keys(cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::New { out, suite, json } => {
            if out.exists() {
                bail!(
                    "{}: already exists; refusing to overwrite a key",
                    out.display()
                );
            }
            let key = KeyPair::generate(suite);
            xa_crypto::write_key_file(&out, &key)?;
            let address = address_of(&key.public_key());
            if json {
                println!(
                    "{}",
                    serde_json::json!({"file": out, "public_key": key.public_key(), "address": address})
                );
            } else {
                println!("wrote {}", out.display());
                println!("public key: {}", key.public_key());
                println!("address:    {address}");
            }
        }
    }
    Ok(())
}

/// Digest a file with the chain's suite, streaming.
fn digest_file(suite: Suite, path: &Path) -> Result<(Hash, u64)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((suite.hash(&bytes), bytes.len() as u64))
}

/// `notary`.
pub fn notary(cmd: NotaryCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    match cmd {
        NotaryCmd::Anchor { file, title, kind } => {
            let key = load_key(opts)?;
            let status = client.status()?;
            let suite: Suite = status["suite"]
                .as_str()
                .unwrap_or("ed25519")
                .parse()
                .map_err(|e| anyhow::anyhow!("node reported an unknown suite: {e}"))?;
            let (digest, file_size) = digest_file(suite, &file)?;
            let title = title.unwrap_or_else(|| {
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "document".into())
            });
            let call = Call::new(
                MODULE,
                ANCHOR,
                &AnchorArgs {
                    digest,
                    title,
                    file_size,
                    kind,
                },
            );
            let tx = client.build(&key, call, 100)?;
            let result = client.submit(&tx, true)?;
            print(opts, &result, |v| {
                let r = &v["receipt"];
                println!("id (digest): {digest}");
                println!("transaction: {}", v["hash"].as_str().unwrap_or(""));
                println!("status:      {}", r["status"].as_str().unwrap_or(""));
                if r["status"] == "failed" {
                    println!(
                        "error:       {}: {}",
                        r["code"].as_str().unwrap_or(""),
                        r["message"].as_str().unwrap_or("")
                    );
                }
                println!("height:      {}", r["height"]);
            });
            if result["receipt"]["status"] == "failed" {
                bail!("the transaction was committed but its call failed");
            }
        }
        NotaryCmd::Get { id } => {
            let v = client.get(&format!("/v1/notary/{id}"))?;
            print(opts, &v, |v| {
                let r = &v["record"];
                println!("id (digest): {}", r["digest"].as_str().unwrap_or(""));
                println!("title:       {}", r["title"].as_str().unwrap_or(""));
                println!("kind:        {}", r["kind"].as_str().unwrap_or(""));
                println!("file size:   {} bytes", r["file_size"]);
                println!("submitter:   {}", r["submitter"].as_str().unwrap_or(""));
                println!("signers:     {}", r["signers"]);
                println!("height:      {}", r["height"]);
                println!("block:       {}", v["block_hash"].as_str().unwrap_or(""));
                println!("time (ms):   {}", r["time_ms"]);
                println!("transaction: {}", r["tx_hash"].as_str().unwrap_or(""));
            });
        }
    }
    Ok(())
}

/// `tx`.
pub fn tx(cmd: TxCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    let hash = match cmd {
        TxCmd::Get { hash } => hash,
        TxCmd::Cosign { file } => {
            let mut tx = read_tx(&file)?;
            let key = load_key(opts)?;
            tx.cosign(&key);
            write_tx(&file, &tx)?;
            println!(
                "{}: {} signature(s); submit with `xachain tx submit {}`",
                file.display(),
                tx.signatures.len(),
                file.display()
            );
            return Ok(());
        }
        TxCmd::Submit { file } => {
            let tx = read_tx(&file)?;
            crate::gov_cmds::submit_and_report(opts, &client, &tx)?;
            return Ok(());
        }
    };
    let v = client.get(&format!("/v1/transactions/{hash}"))?;
    print(opts, &v, |v| {
        println!("hash:   {}", v["hash"].as_str().unwrap_or(""));
        println!("status: {}", v["status"].as_str().unwrap_or(""));
        if v["status"] == "committed" {
            println!(
                "block:  {} ({})",
                v["block_height"],
                v["block_hash"].as_str().unwrap_or("")
            );
            println!(
                "result: {} {}",
                v["receipt"]["status"].as_str().unwrap_or(""),
                v["receipt"]["code"].as_str().unwrap_or("")
            );
        }
    });
    Ok(())
}

/// Read a transaction saved as JSON.
pub fn read_tx(path: &Path) -> Result<xa_types::Transaction> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a transaction (JSON)", path.display()))
}

/// Save a transaction as JSON.
pub fn write_tx(path: &Path, tx: &xa_types::Transaction) -> Result<()> {
    let text = serde_json::to_string_pretty(tx)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// `block`.
pub fn block(cmd: BlockCmd, opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    let BlockCmd::Get { id } = cmd;
    let v = client.block(&id)?;
    print(opts, &v, |v| {
        let h = &v["header"];
        println!("height:       {}", h["height"]);
        println!("hash:         {}", v["hash"].as_str().unwrap_or(""));
        println!("parent:       {}", h["parent"].as_str().unwrap_or(""));
        println!("time (ms):    {}", h["time_ms"]);
        println!("proposer:     {}", h["proposer"].as_str().unwrap_or(""));
        println!("transactions: {}", h["tx_count"]);
        println!("tx root:      {}", h["tx_root"].as_str().unwrap_or(""));
        println!("state root:   {}", h["state_root"].as_str().unwrap_or(""));
        println!(
            "finalized:    {}",
            if v["finalization"].is_string() {
                "yes (certificate stored)"
            } else {
                "yes (by a descendant's certificate)"
            }
        );
    });
    Ok(())
}

/// `status`.
pub fn status(opts: &ClientOpts) -> Result<()> {
    let client = Client::new(&opts.api);
    let v = client.status()?;
    print(opts, &v, |v| {
        println!("node:       {}", v["node"].as_str().unwrap_or(""));
        println!(
            "chain:      {} ({})",
            v["chain_id"].as_str().unwrap_or(""),
            v["suite"].as_str().unwrap_or("")
        );
        println!("height:     {}", v["height"]);
        println!("block:      {}", v["block_hash"].as_str().unwrap_or(""));
        println!("state root: {}", v["state_root"].as_str().unwrap_or(""));
        println!(
            "validators: {}",
            v["validators"].as_array().map(|a| a.len()).unwrap_or(0)
        );
        println!(
            "epoch:      {} ({})",
            v["consensus"]["epoch"],
            if v["consensus"]["voting"] == true {
                "this node votes"
            } else {
                "this node follows without voting"
            }
        );
        println!("mempool:    {}", v["mempool_size"]);
    });
    Ok(())
}
