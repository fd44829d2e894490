//! The evidence package: one self-contained JSON file holding a record, its proofs, the headers
//! and certificates that anchor them, and the validator-set lineage from genesis.
//!
//! The format is specified in `docs/proofs.md`; [`FORMAT`] names its version. A package is
//! accepted only in its canonical form (the pretty JSON this crate writes), so that every bit of
//! it is covered by a check.

use crate::client::LightClient;
use crate::error::{ErrorKind, LightError, LightResult};
use serde::{Deserialize, Serialize};
use xa_storage::StateProof;
use xa_types::{
    Genesis, Hash, Header, Receipt, Transaction, decode, hexser, merkle,
    modules::{
        history::Version,
        notary::{NotaryRecord, record_key},
        validators::ValidatorSet,
    },
};

/// The format tag of this version of the package.
pub const FORMAT: &str = "xa-evidence/1";
/// Largest package accepted, in bytes.
pub const MAX_PACKAGE_BYTES: usize = 16 * 1024 * 1024;

/// A header and its finalization certificate (commonware codec bytes, hex in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertifiedHeader {
    /// The header.
    pub header: Header,
    /// The finalization certificate.
    #[serde(with = "hexser")]
    pub certificate: Vec<u8>,
}

/// A header proven by inclusion in the history root of a certified later header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedHeader {
    /// The header.
    pub header: Header,
    /// Height of the certified header whose history root includes it.
    pub anchor: u64,
    /// Inclusion of this header's hash as leaf `header.height` of `anchor` leaves.
    pub proof: merkle::InclusionProof,
}

/// A validator-set change: the set of `set.epoch`, proven against the certified last header of
/// the previous epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetChange {
    /// The last block of epoch `set.epoch - 1`, certified by that epoch's set.
    pub header: CertifiedHeader,
    /// The new set.
    pub set: ValidatorSet,
    /// State proof of `validators/set` = `set` against `header.state_root`.
    pub proof: StateProof,
}

/// A transaction's inclusion in a block, with its receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TxEvidence {
    /// Height of the block.
    pub height: u64,
    /// The transaction.
    pub transaction: Transaction,
    /// Its receipt.
    pub receipt: Receipt,
    /// Inclusion of the transaction hash under the header's `tx_root`.
    pub tx_proof: merkle::InclusionProof,
    /// Inclusion of the receipt under the header's `receipts_root`.
    pub receipt_proof: merkle::InclusionProof,
}

/// A state entry's value (or absence) after a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateEvidence {
    /// Height of the block.
    pub height: u64,
    /// The raw state key (hex in JSON).
    #[serde(with = "hexser")]
    pub state_key: Vec<u8>,
    /// The value, `null` for absence (hex in JSON).
    #[serde(with = "hexser::option")]
    pub value: Option<Vec<u8>>,
    /// The state proof against the header's `state_root`.
    pub proof: StateProof,
}

/// A key's complete history as of a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryEvidence {
    /// Height of the block the history is complete at.
    pub height: u64,
    /// The raw state key (hex in JSON).
    #[serde(with = "hexser")]
    pub state_key: Vec<u8>,
    /// Every version, oldest first.
    pub versions: Vec<Version>,
    /// State proof of the key's history head against the header's `state_root`.
    pub proof: StateProof,
}

/// Consistency between two heights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyEvidence {
    /// The older height.
    pub from: u64,
    /// The newer height.
    pub to: u64,
    /// The history-tree consistency proof from `from` to `to` blocks.
    pub proof: merkle::ConsistencyProof,
}

/// What a package proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A transaction and its receipt.
    Transaction(TxEvidence),
    /// A state entry.
    State(StateEvidence),
    /// A key's complete history.
    History(HistoryEvidence),
    /// A notarized document: the anchoring transaction and the record in state.
    Notary {
        /// The anchoring transaction.
        transaction: TxEvidence,
        /// The record `notary/record/<digest>` in state at the transaction's height.
        state: StateEvidence,
    },
    /// The chain at one height extends the chain at another.
    Consistency(ConsistencyEvidence),
}

/// An evidence package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// [`FORMAT`].
    pub format: String,
    /// The chain's genesis file (the verifier may insist on its own copy).
    pub genesis: Genesis,
    /// Validator-set changes from genesis on, in epoch order.
    pub lineage: Vec<SetChange>,
    /// Certified headers.
    pub headers: Vec<CertifiedHeader>,
    /// Headers proven through a certified header's history root.
    pub linked: Vec<LinkedHeader>,
    /// What is proven.
    pub record: Record,
}

impl Package {
    /// The canonical file bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parse a package file, naming the broken part on failure. Never panics.
    pub fn parse(bytes: &[u8]) -> LightResult<Package> {
        if bytes.len() > MAX_PACKAGE_BYTES {
            return Err(LightError::new(
                ErrorKind::Malformed,
                "package",
                format!(
                    "{} bytes, more than the {MAX_PACKAGE_BYTES} allowed",
                    bytes.len()
                ),
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let package: Package = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let part = if path.is_empty() || path == "." {
                "package".to_string()
            } else {
                path
            };
            LightError::new(ErrorKind::Malformed, part, e.inner().to_string())
        })?;
        if package.format != FORMAT {
            return Err(LightError::new(
                ErrorKind::Malformed,
                "format",
                format!("'{}' is not a supported format ({FORMAT})", package.format),
            ));
        }
        Ok(package)
    }
}

/// What a verified package proves, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Chain id.
    pub chain_id: String,
    /// Suite name.
    pub suite: String,
    /// Genesis hash.
    pub genesis_hash: Hash,
    /// Epochs whose validator sets were proven, beyond epoch 0.
    pub epochs: Vec<u64>,
    /// Height the record is at.
    pub height: u64,
    /// Consensus time of that block, ms since the Unix epoch.
    pub time_ms: u64,
    /// Hash of that block.
    pub block_hash: Hash,
    /// Validators that finalized it (or its certified descendant).
    pub signers: Vec<String>,
    /// `None` if the block is certified directly, else the certified height that proves it.
    pub via: Option<u64>,
    /// What was proven, one statement per line.
    pub statements: Vec<String>,
    /// For a notary record: the record.
    pub notary: Option<NotaryRecord>,
}

/// Verify a package file offline. With `genesis`, the package's genesis must be that one;
/// without, the package's own genesis is trusted (print its hash so it can be compared).
pub fn verify_bytes(bytes: &[u8], genesis: Option<&Genesis>) -> LightResult<Report> {
    let package = Package::parse(bytes)?;
    let report = verify_package(&package, genesis)?;
    let canonical = package.to_bytes();
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if trimmed != &canonical[..canonical.len() - 1] {
        let at = trimmed
            .iter()
            .zip(&canonical)
            .position(|(a, b)| a != b)
            .unwrap_or(trimmed.len().min(canonical.len()));
        return Err(LightError::new(
            ErrorKind::Malformed,
            "package",
            format!("not in canonical form (first difference at byte {at})"),
        ));
    }
    Ok(report)
}

/// Verify a parsed package.
pub fn verify_package(package: &Package, genesis: Option<&Genesis>) -> LightResult<Report> {
    if let Some(g) = genesis
        && g.hash() != package.genesis.hash()
    {
        return Err(LightError::new(
            ErrorKind::Mismatch,
            "genesis",
            format!(
                "the package is for genesis {}, not the given genesis {}",
                package.genesis.hash(),
                g.hash()
            ),
        ));
    }
    let mut client = LightClient::new(&package.genesis).map_err(|e| e.within("genesis"))?;
    let mut epochs = Vec::new();
    for (i, change) in package.lineage.iter().enumerate() {
        let at = format!("lineage[{i}]");
        client
            .verify_certified(&change.header.header, &change.header.certificate)
            .map_err(|e| e.within(&format!("{at}.header")))?;
        let epoch = client
            .verify_set_change(change.header.header.height, &change.set, &change.proof)
            .map_err(|e| e.within(&at))?;
        epochs.push(epoch);
    }
    for (i, h) in package.headers.iter().enumerate() {
        client
            .verify_certified(&h.header, &h.certificate)
            .map_err(|e| e.within(&format!("headers[{i}]")))?;
    }
    for (i, l) in package.linked.iter().enumerate() {
        client
            .verify_linked(&l.header, l.anchor, &l.proof)
            .map_err(|e| e.within(&format!("linked[{i}]")))?;
    }
    let g = &package.genesis;
    let mut statements = Vec::new();
    let mut notary = None;
    let suite = g.suite;
    let height = match &package.record {
        Record::Transaction(t) => {
            verify_tx(&client, t).map_err(|e| e.within("record"))?;
            statements.push(tx_statement(t, suite));
            t.height
        }
        Record::State(s) => {
            verify_state(&client, s).map_err(|e| e.within("record"))?;
            statements.push(format!(
                "state key {} {} after block {}",
                display_key(&s.state_key),
                match &s.value {
                    Some(v) => format!("holds {} bytes (hash {})", v.len(), suite.hash(v)),
                    None => "is absent".to_string(),
                },
                s.height
            ));
            s.height
        }
        Record::History(h) => {
            let head = client
                .verify_history(h.height, &h.state_key, &h.versions, &h.proof)
                .map_err(|e| e.within("record"))?;
            statements.push(format!(
                "state key {} has exactly {} versions up to block {}",
                display_key(&h.state_key),
                head.count,
                h.height
            ));
            for v in &h.versions {
                statements.push(format!(
                    "  at height {} by transaction {}: {}",
                    v.height,
                    v.tx_hash,
                    match &v.value {
                        Some(b) => format!("value of {} bytes (hash {})", b.len(), suite.hash(b)),
                        None => "deleted".into(),
                    }
                ));
            }
            h.height
        }
        Record::Notary { transaction, state } => {
            verify_tx(&client, transaction).map_err(|e| e.within("record.transaction"))?;
            verify_state(&client, state).map_err(|e| e.within("record.state"))?;
            let bytes = state.value.as_deref().ok_or_else(|| {
                LightError::new(
                    ErrorKind::Mismatch,
                    "record.state.value",
                    "no notary record",
                )
            })?;
            let rec: NotaryRecord = decode(bytes).map_err(|e| {
                LightError::new(ErrorKind::Malformed, "record.state.value", e.to_string())
            })?;
            if state.state_key != record_key(&rec.digest) {
                return Err(LightError::new(
                    ErrorKind::Mismatch,
                    "record.state.state_key",
                    "is not the record key of the record's digest",
                ));
            }
            let tx_hash = transaction.transaction.hash(suite);
            if rec.tx_hash != tx_hash
                || rec.height != transaction.height
                || state.height != transaction.height
            {
                return Err(LightError::new(
                    ErrorKind::Mismatch,
                    "record.state.value",
                    "the record does not name this transaction and height",
                ));
            }
            statements.push(tx_statement(transaction, suite));
            statements.push(format!(
                "document {} ('{}', {} bytes, kind '{}') was anchored by account {}",
                rec.digest, rec.title, rec.file_size, rec.kind, rec.submitter
            ));
            notary = Some(rec);
            transaction.height
        }
        Record::Consistency(c) => {
            client
                .verify_consistency(c.from, c.to, &c.proof)
                .map_err(|e| e.within("record"))?;
            statements.push(format!(
                "the chain at height {} extends the chain at height {}",
                c.to, c.from
            ));
            c.to
        }
    };
    let t = client.header(height).ok_or_else(|| {
        LightError::new(ErrorKind::Untrusted, "record.height", "no verified header")
    })?;
    Ok(Report {
        chain_id: g.chain_id.clone(),
        suite: g.suite.name().to_string(),
        genesis_hash: g.hash(),
        epochs,
        height,
        time_ms: t.header.time_ms,
        block_hash: t.hash,
        signers: t.signers.clone(),
        via: t.via,
        statements,
        notary,
    })
}

fn verify_tx(client: &LightClient, t: &TxEvidence) -> LightResult<()> {
    client.verify_transaction(
        t.height,
        &t.transaction,
        &t.receipt,
        &t.tx_proof,
        &t.receipt_proof,
    )
}

fn verify_state(client: &LightClient, s: &StateEvidence) -> LightResult<()> {
    client.verify_state(s.height, &s.state_key, s.value.as_deref(), &s.proof)
}

fn tx_statement(t: &TxEvidence, suite: xa_types::Suite) -> String {
    let b = &t.transaction.body;
    format!(
        "transaction {} ({}.{}, sender {}, nonce {}) is #{} of block {} with status {:?}{}",
        t.transaction.hash(suite),
        b.call.module,
        b.call.method,
        b.sender,
        b.nonce,
        t.receipt.index,
        t.height,
        t.receipt.status,
        if t.receipt.code.is_empty() {
            String::new()
        } else {
            format!(" ({})", t.receipt.code)
        }
    )
}

/// A state key for display: its printable prefix, then the rest in hex.
pub fn display_key(key: &[u8]) -> String {
    let cut = key
        .iter()
        .position(|b| !(b.is_ascii_graphic()))
        .unwrap_or(key.len());
    format!(
        "{}{}",
        String::from_utf8_lossy(&key[..cut]),
        hex::encode(&key[cut..])
    )
}
