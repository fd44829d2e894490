//! A synthetic chain for tests: real state (xa-storage), real headers with history roots, and
//! finalization certificates signed with real Ed25519 keys through commonware's simplex scheme
//! (the types the node's engine uses), with validator-set changes at epoch boundaries.

use commonware_codec::Encode as _;
use commonware_consensus::{
    simplex::{
        scheme::ed25519::Scheme,
        types::{Finalization, Finalize, Proposal},
    },
    types::{Epoch, Round, View},
};
use commonware_cryptography::{Signer as _, ed25519, sha256::Digest};
use commonware_parallel::Sequential;
use commonware_utils::{iter::NonEmpty, ordered::Set};
use std::collections::BTreeMap;
use std::sync::Arc;
use xa_storage::{BlockCommit, Store};
use xa_types::{
    Block, Call, ChainParams, Genesis, GenesisAccount, GenesisValidator, Hash, Header, KeyPair,
    Receipt, Suite, Transaction, TxBody, TxStatus, address_of, encode, merkle,
    modules::{
        history::{self, HistoryHead},
        notary::{AnchorArgs, NotaryRecord, record_key},
        validators::{self, ValidatorSet},
    },
};

pub fn keys(seeds: std::ops::Range<u64>) -> (Vec<ed25519::PrivateKey>, Vec<GenesisValidator>) {
    let keys: Vec<ed25519::PrivateKey> = seeds.map(ed25519::PrivateKey::from_seed).collect();
    let vals = keys
        .iter()
        .enumerate()
        .map(|(i, k)| GenesisValidator {
            name: format!("validator-{}", hex::encode(&k.public_key().as_ref()[..2])),
            consensus_key: k.public_key().as_ref().to_vec(),
            p2p_address: format!("127.0.0.1:{}", 9000 + i),
        })
        .collect();
    (keys, vals)
}

pub struct TestChain {
    pub suite: Suite,
    pub genesis: Genesis,
    pub store: Store,
    _dir: tempfile::TempDir,
    /// Signing keys per epoch.
    pub keys: BTreeMap<u64, Vec<ed25519::PrivateKey>>,
    next: Option<(Vec<ed25519::PrivateKey>, Vec<GenesisValidator>)>,
    frontier: merkle::Frontier,
    prev: Hash,
    pub account: KeyPair,
    nonce: u64,
}

impl TestChain {
    pub fn new(suite: Suite, epoch_length: u64) -> Self {
        let (k, vals) = keys(0..4);
        let account = KeyPair::from_seed(suite, &[9u8; 32]).expect("key");
        let genesis = Genesis {
            chain_id: format!("xa-light-{}", suite.name()),
            suite,
            genesis_time_ms: 1_700_000_000_000,
            validators: vals.clone(),
            organizations: vec![xa_types::GenesisOrg {
                id: "committee".into(),
                name: "City management committee".into(),
                founding: true,
            }],
            accounts: vec![GenesisAccount {
                name: "clerk".into(),
                public_key: account.public_key(),
                org: "committee".into(),
                roles: vec!["citizen".into()],
            }],
            params: ChainParams {
                epoch_length,
                ..ChainParams::default()
            },
            tender_threshold_trusted_dealer_devnet_only: None,
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: None,
            state_layout: Some(2),
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), xa_light::hash_algo(suite)).expect("store");
        let mut chain = Self {
            suite,
            genesis,
            store,
            _dir: dir,
            keys: BTreeMap::from([(0, k)]),
            next: None,
            frontier: merkle::Frontier::default(),
            prev: Hash::default(),
            account,
            nonce: 0,
        };
        let set = ValidatorSet {
            epoch: 0,
            validators: vals,
        };
        chain.commit(
            vec![],
            vec![(
                validators::SET_KEY.to_vec(),
                Some(encode(&set)),
                Hash::default(),
            )],
            None,
        );
        chain
    }

    pub fn height(&self) -> u64 {
        self.store.latest().expect("latest").map_or(0, |l| l.0)
    }

    pub fn header(&self, height: u64) -> Header {
        let b: Block =
            xa_types::decode(&self.store.block_by_height(height).unwrap().unwrap()).expect("block");
        b.header
    }

    /// Governance decided a new set: it takes effect at the next epoch boundary.
    pub fn change_set(&mut self, seeds: std::ops::Range<u64>) {
        self.next = Some(keys(seeds));
    }

    /// A finalization certificate for `header` signed by `signers` out of `participants`.
    pub fn certificate(
        &self,
        header: &Header,
        participants: &[ed25519::PrivateKey],
        signers: usize,
    ) -> Vec<u8> {
        let ns = self.genesis.consensus_namespace();
        let set = Set::try_from(
            participants
                .iter()
                .map(|k| k.public_key())
                .collect::<Vec<_>>(),
        )
        .expect("distinct");
        let schemes: Vec<Scheme> = participants
            .iter()
            .map(|k| Scheme::signer(&ns, set.clone(), k.clone()).expect("member"))
            .collect();
        let proposal = Proposal::new(
            Round::new(Epoch::new(header.epoch), View::new(header.view)),
            View::new(header.parent_view),
            Digest(header.hash(self.suite).0),
        );
        let votes: Vec<Finalize<Scheme, Digest>> = schemes[..signers]
            .iter()
            .map(|s| Finalize::sign(s, proposal.clone()).expect("sign"))
            .collect();
        let f = Finalization::from_finalizes(
            &schemes[0],
            NonEmpty::try_new(votes.iter()).expect("votes"),
            &Sequential,
        )
        .expect("quorum");
        f.encode().to_vec()
    }

    /// Commit one block with `txs` and state `writes` `(key, value, writer tx)` in block order
    /// (a key may be written by several transactions: each write is one version of its history,
    /// and the state keeps the last); certify it with 3 of the epoch's 4 validators unless
    /// `certify` is `Some(false)`.
    pub fn commit(
        &mut self,
        txs: Vec<Transaction>,
        writes: Vec<(Vec<u8>, Option<Vec<u8>>, Hash)>,
        certify: Option<bool>,
    ) -> u64 {
        let suite = self.suite;
        let l = self.genesis.params.epoch_length;
        let height = if self.store.latest().unwrap().is_none() {
            0
        } else {
            self.height() + 1
        };
        let epoch = validators::epoch_of(height, l);
        let mut w: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        // Each tracked key's versions in this block, in block order (as the node's executor
        // reports them).
        let mut versions: BTreeMap<Vec<u8>, xa_light::export::BlockVersions> = BTreeMap::new();
        for (k, v, t) in writes {
            if history::is_tracked(&k) {
                versions.entry(k.clone()).or_default().push((t, v.clone()));
            }
            w.insert(k, v);
        }
        if validators::is_last_in_epoch(height, l) {
            let (k, vals) = match self.next.take() {
                Some((k, vals)) => {
                    let set = ValidatorSet {
                        epoch: epoch + 1,
                        validators: vals.clone(),
                    };
                    w.insert(validators::SET_KEY.to_vec(), Some(encode(&set)));
                    versions
                        .entry(validators::SET_KEY.to_vec())
                        .or_default()
                        .push((Hash::default(), Some(encode(&set))));
                    (k, vals)
                }
                None => (self.keys[&epoch].clone(), vec![]),
            };
            let _ = vals;
            self.keys.insert(epoch + 1, k);
        }
        let mut key_versions = Vec::new();
        for (k, vs) in versions {
            let hk = history::head_key(&k);
            let mut head: HistoryHead = self
                .store
                .get_latest(&hk)
                .unwrap()
                .map(|b| xa_types::decode(&b).unwrap())
                .unwrap_or_default();
            for (t, v) in &vs {
                head = head.next(suite, height, *t, v.as_deref());
            }
            w.insert(hk, Some(encode(&head)));
            if vs.len() > 1 {
                key_versions.push((k, vs.into_iter().map(|(t, v)| (t.0, v)).collect()));
            }
        }
        let state = Arc::new(self.store.prepare(&[], w, height).expect("prepare"));
        let hashes: Vec<Hash> = txs.iter().map(|t| t.hash(suite)).collect();
        let receipts: Vec<Receipt> = hashes
            .iter()
            .enumerate()
            .map(|(i, h)| Receipt {
                tx_hash: *h,
                height,
                index: i as u32,
                status: TxStatus::Success,
                code: String::new(),
                message: String::new(),
                events: vec![],
            })
            .collect();
        let header = Header {
            height,
            parent: if height == 0 {
                self.genesis.hash()
            } else {
                self.prev
            },
            epoch,
            view: height * 2 + 1,
            parent_view: height * 2,
            proposer: self.keys[&epoch][0].public_key().as_ref().to_vec(),
            time_ms: self.genesis.genesis_time_ms + height * 500,
            tx_count: txs.len() as u32,
            tx_root: merkle::root(suite, &hashes),
            receipts_root: Receipt::root(suite, &receipts),
            state_root: Hash(state.root),
            history_root: self.frontier.root(suite),
        };
        let finalization = if height > 0 && certify != Some(false) {
            self.certificate(&header, &self.keys[&epoch], 3)
        } else {
            vec![]
        };
        let hash = header.hash(suite);
        self.store
            .commit_block(BlockCommit {
                height,
                block_hash: hash.0,
                block: encode(&Block { header, txs }),
                finalization,
                state,
                txs: hashes
                    .iter()
                    .zip(&receipts)
                    .map(|(h, r)| (h.0, encode(r)))
                    .collect(),
                indexes: vec![],
                key_versions,
            })
            .expect("commit");
        self.frontier.push(suite, &hash);
        self.prev = hash;
        height
    }

    /// A signed notary transaction and the record it writes.
    pub fn anchor_tx(&mut self, title: &str) -> (Transaction, Hash) {
        let digest = self.suite.hash(title.as_bytes());
        let body = TxBody {
            chain_id: self.genesis.chain_id.clone(),
            sender: address_of(&self.account.public_key()),
            nonce: self.nonce,
            expiry_height: 1_000_000,
            call: Call::new(
                "notary",
                "anchor",
                &AnchorArgs {
                    digest,
                    title: title.into(),
                    file_size: 1234,
                    kind: "contract".into(),
                },
            ),
        };
        self.nonce += 1;
        (body.sign(&self.account), digest)
    }

    /// Anchor a document in its own block; returns (digest, tx hash, height).
    pub fn anchor(&mut self, title: &str, certify: Option<bool>) -> (Hash, Hash, u64) {
        let (tx, digest) = self.anchor_tx(title);
        let tx_hash = tx.hash(self.suite);
        let height = self.height() + 1;
        let record = NotaryRecord {
            digest,
            title: title.into(),
            file_size: 1234,
            kind: "contract".into(),
            submitter: tx.body.sender,
            signers: vec![self.account.public_key()],
            height,
            time_ms: self.genesis.genesis_time_ms + height * 500,
            tx_hash,
        };
        self.commit(
            vec![tx],
            vec![(record_key(&digest), Some(encode(&record)), tx_hash)],
            certify,
        );
        (digest, tx_hash, height)
    }

    /// Write a raw tracked value in its own block (by a transaction with hash `writer`).
    pub fn write(&mut self, key: &[u8], value: Option<&[u8]>, writer: Hash) -> u64 {
        self.commit(
            vec![],
            vec![(key.to_vec(), value.map(<[u8]>::to_vec), writer)],
            None,
        )
    }

    /// Write a raw tracked value several times in one block, once per transaction `writer`
    /// (block order).
    pub fn write_many(&mut self, key: &[u8], writes: &[(Option<&[u8]>, Hash)]) -> u64 {
        self.commit(
            vec![],
            writes
                .iter()
                .map(|(v, t)| (key.to_vec(), v.map(<[u8]>::to_vec), *t))
                .collect(),
            None,
        )
    }

    /// Empty blocks.
    pub fn empty(&mut self, n: u64) {
        for _ in 0..n {
            self.commit(vec![], vec![], None);
        }
    }
}
