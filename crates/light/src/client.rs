//! The light client: trusted validator sets per epoch and trusted headers, grown only by
//! verified evidence.

use crate::error::{ErrorKind, LightError, LightResult};
use commonware_codec::{Decode as _, DecodeExt as _};
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::{ed25519, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_utils::ordered::Set;
use std::collections::BTreeMap;
use xa_storage::{HashAlgo, StateLayout, StateProof, verify_proof};
use xa_types::{
    Genesis, Hash, Header, Receipt, Suite, Transaction, encode, merkle,
    modules::{
        history::{self, HistoryHead, Version},
        validators::{self, ValidatorSet},
    },
};

/// The consensus finalization certificate type of every Xiong'an chain.
pub type Certificate = Finalization<Scheme, Digest>;

/// The state tree's hash for a suite (SHA-256 for Ed25519 chains, SM3 for SM2 chains).
pub fn hash_algo(suite: Suite) -> HashAlgo {
    match suite {
        Suite::Ed25519 => HashAlgo::Sha256,
        Suite::Sm2 => HashAlgo::Sm3,
    }
}

/// The state layout a genesis fixes (layout 1 when it names none: chains created before
/// layout 2).
pub fn state_layout(genesis: &Genesis) -> StateLayout {
    StateLayout::of_genesis(genesis.state_layout)
}

fn err(kind: ErrorKind, part: &str, reason: impl Into<String>) -> LightError {
    LightError::new(kind, part, reason)
}

/// A validator set prepared for certificate verification.
#[derive(Clone, Debug)]
struct TrustedSet {
    set: ValidatorSet,
    /// Consensus keys in consensus order (sorted), with the validator's name.
    participants: Set<ed25519::PublicKey>,
    names: BTreeMap<Vec<u8>, String>,
}

impl TrustedSet {
    fn new(set: ValidatorSet) -> Result<Self, String> {
        let mut keys = Vec::with_capacity(set.validators.len());
        let mut names = BTreeMap::new();
        for (i, v) in set.validators.iter().enumerate() {
            let key = ed25519::PublicKey::decode(v.consensus_key.clone())
                .map_err(|e| format!("validators[{i}].consensus_key: {e}"))?;
            names.insert(v.consensus_key.clone(), v.name.clone());
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("validators: empty set".into());
        }
        let participants =
            Set::try_from(keys).map_err(|_| "validators: duplicate consensus key".to_string())?;
        Ok(Self {
            set,
            participants,
            names,
        })
    }
}

/// A verified header and who certified it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedHeader {
    /// The header.
    pub header: Header,
    /// Its hash.
    pub hash: Hash,
    /// The validators whose signatures finalized it (names), or, for a header proven through a
    /// later header's history root, those of that later header.
    pub signers: Vec<String>,
    /// `None` if certified directly, else the height of the certified header that proves it.
    pub via: Option<u64>,
}

/// A light client of one chain: it starts from the genesis file and trusts only what it verified.
///
/// It does no I/O: callers feed it headers with certificates, validator-set changes and proofs
/// (from an evidence package, or fetched from a node), and it answers with typed errors naming
/// the broken part.
#[derive(Clone, Debug)]
pub struct LightClient {
    genesis: Genesis,
    genesis_hash: Hash,
    namespace: Vec<u8>,
    sets: BTreeMap<u64, TrustedSet>,
    headers: BTreeMap<u64, TrustedHeader>,
}

impl LightClient {
    /// A client trusting only `genesis` (and so epoch 0's validator set).
    pub fn new(genesis: &Genesis) -> LightResult<Self> {
        genesis
            .validate()
            .map_err(|e| err(ErrorKind::Malformed, "genesis", e))?;
        let set = TrustedSet::new(ValidatorSet {
            epoch: 0,
            validators: genesis.validators.clone(),
        })
        .map_err(|e| err(ErrorKind::Malformed, "genesis", e))?;
        Ok(Self {
            genesis_hash: genesis.hash(),
            namespace: genesis.consensus_namespace(),
            genesis: genesis.clone(),
            sets: BTreeMap::from([(0, set)]),
            headers: BTreeMap::new(),
        })
    }

    /// The genesis this client trusts.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The chain's suite.
    pub fn suite(&self) -> Suite {
        self.genesis.suite
    }

    /// The trusted validator set of `epoch`, if its lineage was verified.
    pub fn validator_set(&self, epoch: u64) -> Option<&ValidatorSet> {
        self.sets.get(&epoch).map(|t| &t.set)
    }

    /// The trusted header at `height`, if verified.
    pub fn header(&self, height: u64) -> Option<&TrustedHeader> {
        self.headers.get(&height)
    }

    fn epoch_length(&self) -> u64 {
        self.genesis.params.epoch_length
    }

    fn trusted(&self, height: u64, part: &str) -> LightResult<&TrustedHeader> {
        self.headers.get(&height).ok_or_else(|| {
            err(
                ErrorKind::Untrusted,
                part,
                format!("no verified header at height {height}"),
            )
        })
    }

    fn insert(&mut self, t: TrustedHeader) -> LightResult<()> {
        if let Some(old) = self.headers.get(&t.header.height) {
            if old.hash != t.hash {
                return Err(err(
                    ErrorKind::Mismatch,
                    "header",
                    format!(
                        "conflicts with the verified header {} at height {}",
                        old.hash, t.header.height
                    ),
                ));
            }
            return Ok(());
        }
        self.headers.insert(t.header.height, t);
        Ok(())
    }

    /// Verify `header` by its finalization `certificate` (the commonware codec bytes the node
    /// stores) under the trusted validator set of the header's epoch. Returns the signers' names.
    ///
    /// Checks: the header's epoch is the epoch of its height; that epoch's set is trusted; the
    /// certificate decodes for that set; it finalizes exactly this header (payload = header
    /// hash, same epoch, view and parent view); a quorum of the set signed it under this chain's
    /// consensus namespace.
    pub fn verify_certified(
        &mut self,
        header: &Header,
        certificate: &[u8],
    ) -> LightResult<Vec<String>> {
        let epoch = validators::epoch_of(header.height, self.epoch_length());
        if header.epoch != epoch {
            return Err(err(
                ErrorKind::Mismatch,
                "header.epoch",
                format!(
                    "{} but height {} is in epoch {epoch}",
                    header.epoch, header.height
                ),
            ));
        }
        if header.height == 0 {
            return Err(err(
                ErrorKind::Certificate,
                "header.height",
                "the genesis block has no certificate; prove it through a later header",
            ));
        }
        let set = self.sets.get(&epoch).ok_or_else(|| {
            err(
                ErrorKind::UnknownEpoch,
                "certificate",
                format!("no trusted validator set for epoch {epoch} (missing lineage)"),
            )
        })?;
        let cert = Certificate::decode_cfg(certificate.to_vec(), &set.participants.len()).map_err(
            |e| {
                err(
                    ErrorKind::Malformed,
                    "certificate",
                    format!(
                        "not a finalization certificate for {} validators: {e}",
                        set.participants.len()
                    ),
                )
            },
        )?;
        let hash = header.hash(self.suite());
        let p = &cert.proposal;
        if p.payload.0 != hash.0 {
            return Err(err(
                ErrorKind::Certificate,
                "certificate.proposal.payload",
                format!(
                    "finalizes block {}, not this header ({hash})",
                    Hash(p.payload.0)
                ),
            ));
        }
        if p.round.epoch().get() != header.epoch
            || p.round.view().get() != header.view
            || p.parent.get() != header.parent_view
        {
            return Err(err(
                ErrorKind::Certificate,
                "certificate.proposal.round",
                format!(
                    "epoch {} view {} parent {} does not match the header's epoch {} view {} parent view {}",
                    p.round.epoch().get(),
                    p.round.view().get(),
                    p.parent.get(),
                    header.epoch,
                    header.view,
                    header.parent_view
                ),
            ));
        }
        let scheme = Scheme::verifier(&self.namespace, set.participants.clone());
        let mut rng = commonware_utils::rng::sys_rng();
        if !cert.verify(&mut rng, &scheme, &Sequential) {
            return Err(err(
                ErrorKind::Certificate,
                "certificate.signatures",
                format!(
                    "do not verify as a quorum of the validator set of epoch {epoch} on this chain"
                ),
            ));
        }
        let signers: Vec<String> = cert
            .certificate
            .signers
            .iter()
            .filter_map(|i| {
                let key: &ed25519::PublicKey =
                    commonware_utils::ordered::Quorum::key(&set.participants, i)?;
                set.names.get(key.as_ref()).cloned()
            })
            .collect();
        self.insert(TrustedHeader {
            header: header.clone(),
            hash,
            signers: signers.clone(),
            via: None,
        })?;
        Ok(signers)
    }

    /// Verify `header` through the history root of the verified header at `anchor`: `proof`
    /// proves its hash is leaf `header.height` of the tree over blocks `0 .. anchor`.
    pub fn verify_linked(
        &mut self,
        header: &Header,
        anchor: u64,
        proof: &merkle::InclusionProof,
    ) -> LightResult<()> {
        let a = self.trusted(anchor, "anchor")?.clone();
        if proof.size != anchor || proof.index != header.height {
            return Err(err(
                ErrorKind::Mismatch,
                "proof",
                format!(
                    "proves leaf {} of {} but the header is at height {} and the anchor at {anchor}",
                    proof.index, proof.size, header.height
                ),
            ));
        }
        if header.height == 0 && header.parent != self.genesis_hash {
            return Err(err(
                ErrorKind::Mismatch,
                "header.parent",
                "the genesis block's parent must be the genesis file's hash",
            ));
        }
        let hash = header.hash(self.suite());
        if !merkle::verify(self.suite(), &a.header.history_root, &hash, proof) {
            return Err(err(
                ErrorKind::Proof,
                "proof",
                format!(
                    "header {hash} is not block {} under the history root of height {anchor}",
                    header.height
                ),
            ));
        }
        self.insert(TrustedHeader {
            header: header.clone(),
            hash,
            signers: a.signers.clone(),
            via: Some(anchor),
        })
    }

    /// Trust `set` as the validator set of the epoch after `height`, proven by a state proof of
    /// `validators/set` against the verified header at `height`, which must be the last height
    /// of its epoch. Returns the epoch it governs. (The set's own `epoch` field names the epoch
    /// it was decided for; an unchanged set keeps its older number.)
    pub fn verify_set_change(
        &mut self,
        height: u64,
        set: &ValidatorSet,
        proof: &StateProof,
    ) -> LightResult<u64> {
        let l = self.epoch_length();
        if !validators::is_last_in_epoch(height, l) {
            return Err(err(
                ErrorKind::Mismatch,
                "header.height",
                format!("{height} is not the last height of an epoch"),
            ));
        }
        let epoch = validators::epoch_of(height, l) + 1;
        if set.epoch > epoch {
            return Err(err(
                ErrorKind::Mismatch,
                "set.epoch",
                format!("{} is after the epoch {epoch} it would govern", set.epoch),
            ));
        }
        let root = self.trusted(height, "header")?.header.state_root;
        verify_proof(
            hash_algo(self.suite()),
            state_layout(&self.genesis),
            &root.0,
            validators::SET_KEY,
            Some(&encode(set)),
            proof,
        )
        .map_err(|e| err(ErrorKind::Proof, "proof", e.to_string()))?;
        let trusted =
            TrustedSet::new(set.clone()).map_err(|e| err(ErrorKind::Malformed, "set", e))?;
        self.sets.insert(epoch, trusted);
        Ok(epoch)
    }

    /// Check that `tx` with `receipt` is transaction `tx_proof.index` of the verified block at
    /// `height`, and `receipt` its receipt.
    pub fn verify_transaction(
        &self,
        height: u64,
        tx: &Transaction,
        receipt: &Receipt,
        tx_proof: &merkle::InclusionProof,
        receipt_proof: &merkle::InclusionProof,
    ) -> LightResult<()> {
        let suite = self.suite();
        let h = &self.trusted(height, "height")?.header;
        let tx_hash = tx.hash(suite);
        // The tx hash covers the body only: the signatures are checked here, as validators did.
        let body = tx.body.signing_bytes();
        if tx.signatures.is_empty() {
            return Err(err(ErrorKind::Mismatch, "transaction.signatures", "none"));
        }
        for (i, s) in tx.signatures.iter().enumerate() {
            if s.public_key.suite() != suite
                || xa_crypto::verify(&s.public_key, &body, &s.signature).is_err()
            {
                return Err(err(
                    ErrorKind::Proof,
                    &format!("transaction.signatures[{i}]"),
                    "does not verify over the transaction body",
                ));
            }
        }
        if receipt.tx_hash != tx_hash {
            return Err(err(
                ErrorKind::Mismatch,
                "receipt.tx_hash",
                format!(
                    "{} is not the transaction's hash {tx_hash}",
                    receipt.tx_hash
                ),
            ));
        }
        if receipt.height != height || u64::from(receipt.index) != tx_proof.index {
            return Err(err(
                ErrorKind::Mismatch,
                "receipt.index",
                "height or position differ from the proof's",
            ));
        }
        if tx_proof.size != u64::from(h.tx_count) || receipt_proof.index != tx_proof.index {
            return Err(err(
                ErrorKind::Mismatch,
                "tx_proof",
                "size or index differ from the block's",
            ));
        }
        if !merkle::verify(suite, &h.tx_root, &tx_hash, tx_proof) {
            return Err(err(
                ErrorKind::Proof,
                "tx_proof",
                format!("transaction {tx_hash} is not under the block's tx_root"),
            ));
        }
        if !merkle::verify(
            suite,
            &h.receipts_root,
            &receipt.leaf_hash(suite),
            receipt_proof,
        ) {
            return Err(err(
                ErrorKind::Proof,
                "receipt_proof",
                "the receipt is not under the block's receipts_root",
            ));
        }
        Ok(())
    }

    /// Check that state `key` holds `value` (`None`: is absent) after the verified block at `height`.
    pub fn verify_state(
        &self,
        height: u64,
        key: &[u8],
        value: Option<&[u8]>,
        proof: &StateProof,
    ) -> LightResult<()> {
        let root = self.trusted(height, "height")?.header.state_root;
        verify_proof(
            hash_algo(self.suite()),
            state_layout(&self.genesis),
            &root.0,
            key,
            value,
            proof,
        )
        .map_err(|e| err(ErrorKind::Proof, "proof", e.to_string()))
    }

    /// Check that `versions` (oldest first; several at one height in the block's transaction
    /// order) is the complete history of `key` as of the verified block at `height`: their hash
    /// chain must end in the history head proven by `proof`.
    pub fn verify_history(
        &self,
        height: u64,
        key: &[u8],
        versions: &[Version],
        proof: &StateProof,
    ) -> LightResult<HistoryHead> {
        if !history::is_tracked(key) {
            return Err(err(
                ErrorKind::Mismatch,
                "state_key",
                "the chain keeps no history for this key",
            ));
        }
        for (i, w) in versions.windows(2).enumerate() {
            if w[1].height < w[0].height {
                return Err(err(
                    ErrorKind::Mismatch,
                    &format!("versions[{}].height", i + 1),
                    "versions must be in increasing height order",
                ));
            }
        }
        if let Some(last) = versions.last()
            && last.height > height
        {
            return Err(err(
                ErrorKind::Mismatch,
                "versions",
                format!("a version at {} is after height {height}", last.height),
            ));
        }
        let head = HistoryHead::of(self.suite(), versions);
        let value = (!versions.is_empty()).then(|| encode(&head));
        self.verify_state(height, &history::head_key(key), value.as_deref(), proof)
            .map_err(|e| {
                LightError::new(
                    e.kind,
                    "proof",
                    format!(
                        "the {} versions do not hash to the history head proven at height {height} (a version is missing, extra, altered or out of order): {}",
                        versions.len(),
                        e.reason
                    ),
                )
            })?;
        Ok(head)
    }

    /// Check that the chain at verified height `h2` extends the one at verified height `h1`:
    /// the history tree of `h1` blocks is a prefix of that of `h2` blocks.
    pub fn verify_consistency(
        &self,
        h1: u64,
        h2: u64,
        proof: &merkle::ConsistencyProof,
    ) -> LightResult<()> {
        let a = &self.trusted(h1, "from")?.header;
        let b = &self.trusted(h2, "to")?.header;
        if proof.size1 != h1 || proof.size2 != h2 {
            return Err(err(
                ErrorKind::Mismatch,
                "proof",
                format!(
                    "is from {} to {} blocks, not {h1} to {h2}",
                    proof.size1, proof.size2
                ),
            ));
        }
        if !merkle::verify_consistency(self.suite(), &a.history_root, &b.history_root, proof) {
            return Err(err(
                ErrorKind::Proof,
                "proof",
                format!("the chain at height {h2} does not extend the chain at height {h1}"),
            ));
        }
        Ok(())
    }
}
