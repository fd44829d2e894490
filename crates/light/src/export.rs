//! Build evidence packages from a node's committed data, read through [`EvidenceSource`].
//!
//! The light client itself does no I/O; this module only assembles what a node already has
//! (blocks, certificates, history subtrees, state proofs) into a [`Package`]. The node's
//! [`xa_storage::Store`] implements the source.

use crate::package::{
    CertifiedHeader, ConsistencyEvidence, FORMAT, HistoryEvidence, LinkedHeader, Package, Record,
    SetChange, StateEvidence, TxEvidence,
};
use xa_storage::{StateProof, Store};
use xa_types::{
    Block, Genesis, Hash, Receipt, decode, merkle,
    modules::{
        history::{self, HistoryHead, Version},
        notary::record_key,
        validators::{self, ValidatorSet},
    },
};

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The record does not exist (unknown transaction, unanchored digest, height not committed).
    #[error("not found: {0}")]
    NotFound(String),
    /// The node's data cannot support the proof (no certified height yet, missing data).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Reading the node's data failed.
    #[error("storage: {0}")]
    Storage(String),
}

type Result<T> = std::result::Result<T, ExportError>;

/// The versions one block wrote of one key, in block order: `(writing transaction, value)`,
/// `None` for a deletion.
pub type BlockVersions = Vec<(Hash, Option<Vec<u8>>)>;

/// What a node must provide to build evidence packages.
pub trait EvidenceSource {
    /// Height of the last committed block.
    fn latest(&self) -> Result<u64>;
    /// The committed block at `height`.
    fn block(&self, height: u64) -> Result<Option<Block>>;
    /// The finalization certificate stored at `height`, `None` when absent or empty (finalized
    /// through a descendant).
    fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>>;
    /// Root of the perfect subtree `(level, index)` of the block-hash history tree.
    fn history_node(&self, level: u32, index: u64) -> Result<Hash>;
    /// A state value with its proof at `height`.
    fn state_proof(&self, key: &[u8], height: u64) -> Result<(Option<Vec<u8>>, StateProof)>;
    /// A state value at `height`.
    fn state_get(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>>;
    /// Every version of `key` up to `height`: `(height, value)`, one per block that wrote it
    /// (the block's final value).
    fn versions(&self, key: &[u8], height: u64) -> Result<Vec<(u64, Option<Vec<u8>>)>>;
    /// The versions the block at `height` wrote of `key`, in block order: `(writing
    /// transaction, value)`; `None` when it stored none (it wrote the key at most once).
    fn block_versions(&self, key: &[u8], height: u64) -> Result<Option<BlockVersions>>;
    /// Where a transaction is: `(height, index)`.
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<(u64, u32)>>;
    /// A committed transaction's receipt.
    fn receipt(&self, tx_hash: &Hash) -> Result<Option<Receipt>>;
}

fn st(e: impl std::fmt::Display) -> ExportError {
    ExportError::Storage(e.to_string())
}

impl EvidenceSource for Store {
    fn latest(&self) -> Result<u64> {
        Ok(Store::latest(self).map_err(st)?.map_or(0, |l| l.0))
    }
    fn block(&self, height: u64) -> Result<Option<Block>> {
        match self.block_by_height(height).map_err(st)? {
            Some(b) => Ok(Some(decode(&b).map_err(st)?)),
            None => Ok(None),
        }
    }
    fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .finalization(height)
            .map_err(st)?
            .filter(|c| !c.is_empty()))
    }
    fn history_node(&self, level: u32, index: u64) -> Result<Hash> {
        self.require_history_node(level, index)
            .map(Hash)
            .map_err(st)
    }
    fn state_proof(&self, key: &[u8], height: u64) -> Result<(Option<Vec<u8>>, StateProof)> {
        self.get_with_proof(key, height).map_err(st)
    }
    fn state_get(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>> {
        self.get(key, height).map_err(st)
    }
    fn versions(&self, key: &[u8], height: u64) -> Result<Vec<(u64, Option<Vec<u8>>)>> {
        Store::versions(self, key, height).map_err(st)
    }
    fn block_versions(&self, key: &[u8], height: u64) -> Result<Option<BlockVersions>> {
        Ok(Store::block_versions(self, key, height)
            .map_err(st)?
            .map(|v| v.into_iter().map(|(t, v)| (Hash(t), v)).collect()))
    }
    fn tx_location(&self, tx_hash: &Hash) -> Result<Option<(u64, u32)>> {
        Store::tx_location(self, &tx_hash.0).map_err(st)
    }
    fn receipt(&self, tx_hash: &Hash) -> Result<Option<Receipt>> {
        match Store::receipt(self, &tx_hash.0).map_err(st)? {
            Some(b) => Ok(Some(decode(&b).map_err(st)?)),
            None => Ok(None),
        }
    }
}

/// How far back from the tip to look for a certified height.
const MAX_ANCHOR_SEARCH: u64 = 10_000;

/// Assembles one package: collects the headers it needs and adds the lineage at the end.
struct Builder<'a, S: EvidenceSource + ?Sized> {
    src: &'a S,
    genesis: &'a Genesis,
    headers: Vec<CertifiedHeader>,
    linked: Vec<LinkedHeader>,
}

impl<'a, S: EvidenceSource + ?Sized> Builder<'a, S> {
    fn new(src: &'a S, genesis: &'a Genesis) -> Self {
        Self {
            src,
            genesis,
            headers: Vec::new(),
            linked: Vec::new(),
        }
    }

    fn block(&self, height: u64) -> Result<Block> {
        self.src
            .block(height)?
            .ok_or_else(|| ExportError::NotFound(format!("no block at height {height}")))
    }

    fn certify(&mut self, height: u64, certificate: Vec<u8>) -> Result<()> {
        if self.headers.iter().any(|h| h.header.height == height) {
            return Ok(());
        }
        let header = self.block(height)?.header;
        self.headers.push(CertifiedHeader {
            header,
            certificate,
        });
        Ok(())
    }

    /// Make the header at `height` verifiable: by its own certificate, or through the history
    /// root of the nearest later certified header.
    fn prove_header(&mut self, height: u64) -> Result<()> {
        let latest = self.src.latest()?;
        if height > latest {
            return Err(ExportError::NotFound(format!(
                "height {height} is not committed"
            )));
        }
        if height > 0
            && let Some(c) = self.src.certificate(height)?
        {
            return self.certify(height, c);
        }
        for anchor in height + 1..=latest.min(height.saturating_add(MAX_ANCHOR_SEARCH)) {
            if let Some(c) = self.src.certificate(anchor)? {
                self.certify(anchor, c)?;
                if self.linked.iter().any(|l| l.header.height == height) {
                    return Ok(());
                }
                let proof = merkle::prove_with(self.genesis.suite, height, anchor, &mut |l, i| {
                    self.src.history_node(l, i)
                })?
                .ok_or_else(|| ExportError::Unavailable("history proof out of range".into()))?;
                let header = self.block(height)?.header;
                self.linked.push(LinkedHeader {
                    header,
                    anchor,
                    proof,
                });
                return Ok(());
            }
        }
        Err(ExportError::Unavailable(format!(
            "no certified block at or after height {height} yet"
        )))
    }

    /// The latest height with a certificate.
    fn latest_certified(&self) -> Result<u64> {
        let latest = self.src.latest()?;
        for h in (1..=latest).rev().take(MAX_ANCHOR_SEARCH as usize) {
            if self.src.certificate(h)?.is_some() {
                return Ok(h);
            }
        }
        Err(ExportError::Unavailable("no certified block yet".into()))
    }

    fn state(&mut self, key: &[u8], height: u64) -> Result<StateEvidence> {
        let (value, proof) = self.src.state_proof(key, height)?;
        Ok(StateEvidence {
            height,
            state_key: key.to_vec(),
            value,
            proof,
        })
    }

    fn tx(&mut self, tx_hash: &Hash) -> Result<TxEvidence> {
        let (height, index) = self
            .src
            .tx_location(tx_hash)?
            .ok_or_else(|| ExportError::NotFound(format!("no committed transaction {tx_hash}")))?;
        let block = self.block(height)?;
        let suite = self.genesis.suite;
        let hashes = block.tx_hashes(suite);
        let mut receipts = Vec::with_capacity(hashes.len());
        for h in &hashes {
            receipts.push(
                self.src
                    .receipt(h)?
                    .ok_or_else(|| ExportError::Unavailable(format!("receipt of {h} missing")))?,
            );
        }
        let i = index as usize;
        let transaction = block
            .txs
            .get(i)
            .cloned()
            .ok_or_else(|| ExportError::Unavailable("transaction index out of range".into()))?;
        let leaves: Vec<Hash> = receipts.iter().map(|r| r.leaf_hash(suite)).collect();
        let tx_proof = merkle::prove(suite, &hashes, i)
            .ok_or_else(|| ExportError::Unavailable("tx proof".into()))?;
        let receipt_proof = merkle::prove(suite, &leaves, i)
            .ok_or_else(|| ExportError::Unavailable("receipt proof".into()))?;
        self.prove_header(height)?;
        Ok(TxEvidence {
            height,
            transaction,
            receipt: receipts.swap_remove(i),
            tx_proof,
            receipt_proof,
        })
    }

    /// Add the validator-set lineage every certified header needs, and assemble.
    fn finish(mut self, record: Record) -> Result<Package> {
        let l = self.genesis.params.epoch_length;
        let top = self
            .headers
            .iter()
            .map(|h| h.header.height)
            .max()
            .unwrap_or(0);
        let mut lineage = Vec::new();
        for epoch in 1..=validators::epoch_of(top, l) {
            let at = validators::last_height_of(epoch - 1, l)
                .ok_or_else(|| ExportError::Unavailable("epoch overflow".into()))?;
            let certificate = self.src.certificate(at)?.ok_or_else(|| {
                ExportError::Unavailable(format!("no certificate for the epoch boundary at {at}"))
            })?;
            let header = self.block(at)?.header;
            let (value, proof) = self.src.state_proof(validators::SET_KEY, at)?;
            let set: ValidatorSet = value
                .as_deref()
                .map(decode)
                .transpose()
                .map_err(st)?
                .ok_or_else(|| ExportError::Unavailable(format!("no validator set at {at}")))?;
            lineage.push(SetChange {
                header: CertifiedHeader {
                    header,
                    certificate,
                },
                set,
                proof,
            });
        }
        self.headers.sort_by_key(|h| h.header.height);
        self.linked.sort_by_key(|h| h.header.height);
        Ok(Package {
            format: FORMAT.to_string(),
            genesis: self.genesis.clone(),
            lineage,
            headers: self.headers,
            linked: self.linked,
            record,
        })
    }
}

/// A package proving a committed transaction and its receipt.
pub fn transaction<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    tx_hash: &Hash,
) -> Result<Package> {
    let mut b = Builder::new(src, genesis);
    let t = b.tx(tx_hash)?;
    b.finish(Record::Transaction(t))
}

/// A package proving a state entry's value or absence at `height` (default: the latest
/// certified height).
pub fn state<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    key: &[u8],
    height: Option<u64>,
) -> Result<Package> {
    let mut b = Builder::new(src, genesis);
    let height = match height {
        Some(h) => h,
        None => b.latest_certified()?,
    };
    b.prove_header(height)?;
    let s = b.state(key, height)?;
    b.finish(Record::State(s))
}

/// The complete history of `key` up to `height` (versions oldest first, in block order within a
/// block), read from the history head's versions: a block that appended one link is one
/// version (the head's transaction, the state's value at that height); a block that appended
/// `n > 1` (`n` transactions wrote the key) has its `n` versions stored beside it
/// ([`EvidenceSource::block_versions`]).
pub fn versions_of<S: EvidenceSource + ?Sized>(
    src: &S,
    key: &[u8],
    height: u64,
) -> Result<Vec<Version>> {
    let mut out = Vec::new();
    let mut count = 0u64;
    for (h, head) in src.versions(&history::head_key(key), height)? {
        let Some(head) = head else { continue };
        let head: HistoryHead = decode(&head).map_err(st)?;
        let appended = head.count.checked_sub(count).ok_or_else(|| {
            ExportError::Storage(format!(
                "history head of the key shrank from {count} to {} versions at height {h}",
                head.count
            ))
        })?;
        count = head.count;
        if appended == 1 {
            out.push(Version {
                height: h,
                tx_hash: head.tx_hash,
                value: src.state_get(key, h)?,
            });
            continue;
        }
        let block = src.block_versions(key, h)?.unwrap_or_default();
        if block.len() as u64 != appended {
            return Err(ExportError::Unavailable(format!(
                "block {h} appended {appended} versions of the key but the node holds {}",
                block.len()
            )));
        }
        out.extend(block.into_iter().map(|(tx_hash, value)| Version {
            height: h,
            tx_hash,
            value,
        }));
    }
    Ok(out)
}

/// A package proving the complete history of a key up to `height` (default: the latest
/// certified height).
pub fn history<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    key: &[u8],
    height: Option<u64>,
) -> Result<Package> {
    if !history::is_tracked(key) {
        return Err(ExportError::NotFound(
            "the chain keeps no history for this key".into(),
        ));
    }
    let mut b = Builder::new(src, genesis);
    let height = match height {
        Some(h) => h,
        None => b.latest_certified()?,
    };
    b.prove_header(height)?;
    let versions = versions_of(src, key, height)?;
    let (_, proof) = src.state_proof(&history::head_key(key), height)?;
    b.finish(Record::History(HistoryEvidence {
        height,
        state_key: key.to_vec(),
        versions,
        proof,
    }))
}

/// A package proving a notarized document: its anchoring transaction and its record.
pub fn notary<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    digest: &Hash,
) -> Result<Package> {
    let key = record_key(digest);
    let latest = src.latest()?;
    let bytes = src
        .state_get(&key, latest)?
        .ok_or_else(|| ExportError::NotFound(format!("digest {digest} is not anchored")))?;
    let rec: xa_types::modules::notary::NotaryRecord = decode(&bytes).map_err(st)?;
    let mut b = Builder::new(src, genesis);
    let transaction = b.tx(&rec.tx_hash)?;
    let state = b.state(&key, rec.height)?;
    b.finish(Record::Notary { transaction, state })
}

/// A package proving that the chain at height `to` extends the chain at height `from`.
pub fn consistency<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    from: u64,
    to: u64,
) -> Result<Package> {
    let mut b = Builder::new(src, genesis);
    b.prove_header(from)?;
    b.prove_header(to)?;
    let proof = merkle::prove_consistency_with(genesis.suite, from, to, &mut |l, i| {
        src.history_node(l, i)
    })?
    .ok_or_else(|| ExportError::NotFound(format!("height {from} is after {to}")))?;
    b.finish(Record::Consistency(ConsistencyEvidence { from, to, proof }))
}

/// A package proving the header at `height`: a consistency proof from `height` to the latest
/// certified height at or above it, so both headers are verified (the older one through the
/// newer one's history root when it has no certificate of its own).
pub fn header<S: EvidenceSource + ?Sized>(
    src: &S,
    genesis: &Genesis,
    height: u64,
) -> Result<Package> {
    let anchor = Builder::new(src, genesis).latest_certified()?;
    if anchor < height {
        return Err(ExportError::Unavailable(format!(
            "no certified block at or after height {height} yet"
        )));
    }
    consistency(src, genesis, height, anchor)
}
