use super::*;
use xa_types::{
    Call, ChainParams, GenesisAccount, GenesisOrg, KeyPair, TxBody, TxSignature,
    modules::accounts::AccountStatus,
    modules::governance::{
        self as gov, Proposal, ProposalAction, ProposalIdArgs, ProposalStatus, ProposeArgs,
        proposal_key,
    },
    modules::identity::{self as ident, *},
    modules::notary::{AnchorArgs, NotaryRecord, record_key},
    policy::policy_key,
};

fn key(suite: Suite, seed: u8) -> KeyPair {
    KeyPair::from_seed(suite, &[seed; 32]).expect("key")
}

fn gacct(name: &str, k: &KeyPair, org: &str, roles: &[&str]) -> GenesisAccount {
    GenesisAccount {
        name: name.into(),
        public_key: k.public_key(),
        org: org.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    }
}

fn org(id: &str, founding: bool) -> GenesisOrg {
    GenesisOrg {
        id: id.into(),
        name: format!("{id} name"),
        founding,
    }
}

/// The one-account genesis the notary tests use: an operator with `chain_admin` + `org_admin`.
fn genesis(suite: Suite, key: &KeyPair) -> Genesis {
    Genesis {
        chain_id: "test".into(),
        suite,
        genesis_time_ms: 0,
        validators: vec![],
        organizations: vec![org("committee", true)],
        accounts: vec![gacct(
            "operator",
            key,
            "committee",
            &["chain_admin", "org_admin"],
        )],
        params: ChainParams::default(),
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    }
}

fn anchor(key: &KeyPair, nonce: u64, digest: u8) -> Transaction {
    anchor_as(address_of(&key.public_key()), key, nonce, digest)
}

fn anchor_call(digest: u8) -> Call {
    Call::new(
        "notary",
        "anchor",
        &AnchorArgs {
            digest: Hash([digest; 32]),
            title: "doc".into(),
            file_size: 1,
            kind: "contract".into(),
        },
    )
}

fn anchor_as(sender: Address, key: &KeyPair, nonce: u64, digest: u8) -> Transaction {
    TxBody {
        chain_id: "test".into(),
        sender,
        nonce,
        expiry_height: 1_000,
        call: anchor_call(digest),
    }
    .sign(key)
}

fn state(genesis: &Genesis) -> BTreeMap<Vec<u8>, Vec<u8>> {
    Executor::genesis_writes(genesis)
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

const AT: BlockContext = BlockContext {
    height: 1,
    time_ms: 1_000,
};

#[test]
fn anchors_a_document_and_records_block_time_and_signer() {
    for suite in [Suite::Ed25519, Suite::Sm2] {
        let key = KeyPair::from_seed(suite, &[1; 32]).expect("key");
        let g = genesis(suite, &key);
        let ex = Executor::new(&g);
        let tx = anchor(&key, 0, 9);
        let out = ex
            .execute_block(&state(&g), AT, std::slice::from_ref(&tx), Mode::Verify)
            .expect("executes");
        assert_eq!(out.receipts.len(), 1);
        assert_eq!(out.receipts[0].status, TxStatus::Success);
        assert_eq!(out.receipts[0].events[0].kind, "anchored");
        let rec: NotaryRecord = decode(
            out.writes[&record_key(&Hash([9; 32]))]
                .as_ref()
                .expect("written"),
        )
        .expect("record");
        assert_eq!(rec.height, 1);
        assert_eq!(rec.time_ms, 1_000);
        assert_eq!(rec.signers, vec![key.public_key()]);
        assert_eq!(rec.tx_hash, tx.hash(suite));
    }
}

#[test]
fn second_anchor_of_same_digest_fails_but_consumes_nonce() {
    let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
    let g = genesis(Suite::Ed25519, &key);
    let ex = Executor::new(&g);
    let txs = vec![anchor(&key, 0, 9), anchor(&key, 1, 9)];
    let out = ex
        .execute_block(&state(&g), AT, &txs, Mode::Verify)
        .expect("executes");
    assert_eq!(out.receipts[1].status, TxStatus::Failed);
    assert_eq!(out.receipts[1].code, "ALREADY_EXISTS");
    let acct: Account = decode(
        out.writes[&account_key(&address_of(&key.public_key()))]
            .as_ref()
            .expect("acct"),
    )
    .expect("account");
    assert_eq!(acct.next_nonce, 2);
}

#[test]
fn bad_nonce_expiry_and_foreign_key_are_refused() {
    let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
    let other = KeyPair::from_seed(Suite::Ed25519, &[2; 32]).expect("key");
    let g = genesis(Suite::Ed25519, &key);
    let ex = Executor::new(&g);
    let s = state(&g);
    let cases: Vec<(Transaction, ErrorCode)> = vec![
        (anchor(&key, 1, 1), ErrorCode::NonceTooHigh),
        (
            {
                let mut b = anchor(&key, 0, 1).body;
                b.expiry_height = 0;
                b.sign(&key)
            },
            ErrorCode::Expired,
        ),
        (
            {
                let b = anchor(&key, 0, 1).body;
                b.sign(&other)
            },
            ErrorCode::BadSignature,
        ),
        (
            {
                let mut b = anchor(&key, 0, 1).body;
                b.chain_id = "other".into();
                b.sign(&key)
            },
            ErrorCode::WrongChainId,
        ),
        (
            {
                let mut b = anchor(&key, 0, 1).body;
                b.call.module = "nope".into();
                b.sign(&key)
            },
            ErrorCode::UnknownModule,
        ),
        (
            {
                let mut b = anchor(&key, 0, 1).body;
                b.call.args = vec![1, 2, 3];
                b.sign(&key)
            },
            ErrorCode::InvalidArgument,
        ),
        // An unregistered key sending for itself: no implicit accounts any more.
        (anchor(&other, 0, 1), ErrorCode::UnknownAccount),
    ];
    for (tx, code) in cases {
        assert_excluded(&ex, &s, &tx, code);
    }
}

/// `tx` invalidates a block in Verify mode and is left out in Build mode with `code`.
fn assert_excluded(
    ex: &Executor,
    s: &BTreeMap<Vec<u8>, Vec<u8>>,
    tx: &Transaction,
    code: ErrorCode,
) {
    let at = BlockContext {
        height: 1,
        time_ms: 1_000,
    };
    match ex.execute_block(s, at, std::slice::from_ref(tx), Mode::Verify) {
        Err(ExecutionError::Invalid { index: 0, error }) => assert_eq!(error.code, code, "{error}"),
        other => panic!("expected {code:?}, got {other:?}"),
    }
    let out = ex
        .execute_block(s, at, std::slice::from_ref(tx), Mode::Build)
        .expect("build");
    assert!(out.receipts.is_empty() && out.writes.is_empty());
    assert_eq!(out.excluded[0].1.code, code);
}

#[test]
fn replay_in_same_block_is_refused() {
    let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
    let g = genesis(Suite::Ed25519, &key);
    let ex = Executor::new(&g);
    let tx = anchor(&key, 0, 3);
    let out = ex
        .execute_block(&state(&g), AT, &[tx.clone(), tx], Mode::Build)
        .expect("build");
    assert_eq!(out.included, vec![0]);
    assert_eq!(out.excluded[0].1.code, ErrorCode::StaleNonce);
}

#[test]
fn execution_is_deterministic() {
    let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
    let g = genesis(Suite::Ed25519, &key);
    let ex = Executor::new(&g);
    let txs: Vec<_> = (0..50).map(|i| anchor(&key, i, i as u8)).collect();
    let a = ex
        .execute_block(&state(&g), AT, &txs, Mode::Verify)
        .expect("a");
    let b = ex
        .execute_block(&state(&g), AT, &txs, Mode::Verify)
        .expect("b");
    assert_eq!(a.writes, b.writes);
    assert_eq!(
        Receipt::root(Suite::Ed25519, &a.receipts),
        Receipt::root(Suite::Ed25519, &b.receipts)
    );
}

#[test]
fn next_validator_set_takes_effect_at_the_epoch_boundary() {
    use xa_types::modules::validators::{NEXT_KEY, SET_KEY, ValidatorSet};
    let key = KeyPair::from_seed(Suite::Ed25519, &[1; 32]).expect("key");
    let mut genesis = genesis(Suite::Ed25519, &key);
    genesis.params.epoch_length = 10;
    genesis.validators = validators(4);
    let exec = Executor::new(&genesis);
    let mut state = state(&genesis);
    let set0: ValidatorSet = decode(&state[SET_KEY]).expect("set");
    assert_eq!(set0.epoch, 0);
    assert_eq!(set0.validators, genesis.validators);
    let mut next = set0.clone();
    next.validators.pop();
    state.insert(NEXT_KEY.to_vec(), encode(&next));
    // Not the last height of epoch 0: nothing moves.
    let out = exec
        .execute_block(
            &state,
            BlockContext {
                height: 8,
                time_ms: 1,
            },
            &[],
            Mode::Verify,
        )
        .expect("execute");
    assert!(out.writes.is_empty());
    // Height 9 ends epoch 0: the next set governs epoch 1.
    let out = exec
        .execute_block(
            &state,
            BlockContext {
                height: 9,
                time_ms: 1,
            },
            &[],
            Mode::Verify,
        )
        .expect("execute");
    let set1: ValidatorSet =
        decode(out.writes[SET_KEY].as_ref().expect("set written")).expect("decode");
    assert_eq!(set1.epoch, 1);
    assert_eq!(set1.validators, next.validators);
    assert_eq!(out.writes[NEXT_KEY], None);
    // The set's new version is the chain's own write (zero hash); `validators/next` is untracked.
    assert_eq!(
        out.versions,
        vec![KeyVersion {
            key: SET_KEY.to_vec(),
            tx_hash: Hash::default(),
            value: out.writes[SET_KEY].clone(),
        }]
    );
}

fn validators(n: u8) -> Vec<xa_types::GenesisValidator> {
    (0..n)
        .map(|i| xa_types::GenesisValidator {
            name: format!("v{i}"),
            consensus_key: KeyPair::from_seed(Suite::Ed25519, &[i; 32])
                .expect("seed")
                .public_key()
                .as_bytes()
                .to_vec(),
            p2p_address: format!("127.0.0.1:{}", 9000 + i as u16),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Identity, permissions and governance on a small city: three founding bureaus and a bank.

/// Seeds of the fixture's accounts.
const OP: u8 = 10; // committee: chain_admin + org_admin
const HOUSING: u8 = 11; // housing: org_admin
const FORESTRY: u8 = 12; // forestry: org_admin
const CITIZEN: u8 = 13; // housing: citizen
const NOROLE: u8 = 14; // housing: no role
const BANK: u8 = 15; // bank-x (not founding): org_admin + bank

struct City {
    suite: Suite,
    ex: Executor,
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    height: u64,
    time_ms: u64,
}

impl City {
    fn new(suite: Suite) -> Self {
        let g = Genesis {
            chain_id: "test".into(),
            suite,
            genesis_time_ms: 0,
            validators: validators(2),
            organizations: vec![
                org("committee", true),
                org("housing", true),
                org("forestry", true),
                org("bank-x", false),
            ],
            accounts: vec![
                gacct(
                    "op",
                    &key(suite, OP),
                    "committee",
                    &["chain_admin", "org_admin"],
                ),
                gacct(
                    "housing admin",
                    &key(suite, HOUSING),
                    "housing",
                    &["org_admin"],
                ),
                gacct(
                    "forestry admin",
                    &key(suite, FORESTRY),
                    "forestry",
                    &["org_admin"],
                ),
                gacct("zhang san", &key(suite, CITIZEN), "housing", &["citizen"]),
                gacct("nobody", &key(suite, NOROLE), "housing", &[]),
                gacct(
                    "bank admin",
                    &key(suite, BANK),
                    "bank-x",
                    &["org_admin", "bank"],
                ),
            ],
            params: ChainParams::default(),
            tender_threshold_trusted_dealer_devnet_only: None,
            tender_min_publicity_ms_devnet_only: None,
            tender_dkg_trusted_setup_devnet_only: None,
            state_layout: Some(2),
        };
        g.validate().expect("valid genesis");
        Self {
            suite,
            ex: Executor::new(&g),
            state: state(&g),
            height: 0,
            time_ms: 1_000,
        }
    }

    fn key(&self, seed: u8) -> KeyPair {
        key(self.suite, seed)
    }

    fn addr(&self, seed: u8) -> Address {
        address_of(&self.key(seed).public_key())
    }

    fn account(&self, address: &Address) -> Account {
        decode(&self.state[&account_key(address)]).expect("account")
    }

    /// A transaction from `sender` signed by `keys`, at the sender's next nonce.
    fn tx(&self, sender: Address, keys: &[&KeyPair], call: Call) -> Transaction {
        let nonce = self
            .state
            .get(&account_key(&sender))
            .and_then(|b| decode::<Account>(b).ok())
            .map(|a| a.next_nonce)
            .unwrap_or(0);
        let body = TxBody {
            chain_id: "test".into(),
            sender,
            nonce,
            expiry_height: 1_000,
            call,
        };
        let bytes = body.signing_bytes();
        let signatures = keys
            .iter()
            .map(|k| TxSignature {
                public_key: k.public_key(),
                signature: k.sign(&bytes),
            })
            .collect();
        Transaction { body, signatures }
    }

    /// A transaction from the account of `seed`, signed by its first key.
    fn tx_by(&self, seed: u8, call: Call) -> Transaction {
        let k = self.key(seed);
        self.tx(address_of(&k.public_key()), &[&k], call)
    }

    fn context(&self) -> BlockContext {
        BlockContext {
            height: self.height + 1,
            time_ms: self.time_ms,
        }
    }

    /// Execute one transaction in its own block (which must be valid) and apply it.
    fn run(&mut self, tx: Transaction) -> (Receipt, Writes) {
        let out = self
            .ex
            .execute_block(
                &self.state,
                self.context(),
                std::slice::from_ref(&tx),
                Mode::Verify,
            )
            .unwrap_or_else(|e| panic!("block invalid: {e}"));
        self.height += 1;
        self.time_ms += 1_000;
        for (k, v) in &out.writes {
            match v {
                Some(v) => self.state.insert(k.clone(), v.clone()),
                None => self.state.remove(k),
            };
        }
        (out.receipts[0].clone(), out.writes)
    }

    /// Execute and expect success.
    fn ok(&mut self, tx: Transaction) -> Receipt {
        let (r, _) = self.run(tx);
        assert_eq!(r.status, TxStatus::Success, "{}: {}", r.code, r.message);
        r
    }

    /// Execute and expect a failed receipt with `code` that changed nothing but the sender's
    /// nonce (plus `kept`, keys a failure records on purpose).
    fn fails(&mut self, tx: Transaction, code: ErrorCode, kept: &[Vec<u8>]) -> Receipt {
        let sender = tx.body.sender;
        let mut before = self.account(&sender);
        let (r, writes) = self.run(tx);
        assert_eq!(r.status, TxStatus::Failed);
        assert_eq!(r.code, code.as_str(), "{}", r.message);
        assert!(r.events.is_empty());
        let mut expected: Vec<Vec<u8>> = vec![account_key(&sender)];
        expected.extend(kept.iter().cloned());
        expected.sort();
        assert_eq!(writes.keys().cloned().collect::<Vec<_>>(), expected);
        before.next_nonce += 1;
        assert_eq!(self.account(&sender), before, "only the nonce may change");
        r
    }

    /// Expect the transaction to be refused at sender level (excluded / block invalid).
    fn refused(&self, tx: &Transaction, code: ErrorCode) {
        let at = self.context();
        match self
            .ex
            .execute_block(&self.state, at, std::slice::from_ref(tx), Mode::Verify)
        {
            Err(ExecutionError::Invalid { index: 0, error }) => {
                assert_eq!(error.code, code, "{error}")
            }
            other => panic!("expected {code:?}, got {other:?}"),
        }
        let out = self
            .ex
            .execute_block(&self.state, at, std::slice::from_ref(tx), Mode::Build)
            .expect("build");
        assert!(out.receipts.is_empty() && out.writes.is_empty());
        assert_eq!(out.excluded[0].1.code, code);
    }

    fn proposal(&self, id: u64) -> Proposal {
        decode(&self.state[&proposal_key(id)]).expect("proposal")
    }

    fn org(&self, id: &str) -> Option<Org> {
        self.state
            .get(&org_key(id))
            .map(|b| decode(b).expect("org"))
    }
}

fn register(org: &str, new: &KeyPair, roles: &[&str]) -> Call {
    Call::new(
        ident::MODULE,
        REGISTER_ACCOUNT,
        &RegisterAccountArgs {
            org: org.into(),
            name: "new".into(),
            public_key: new.public_key(),
            id_digest: Some(Hash([7; 32])),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        },
    )
}

fn freeze(account: Address) -> Call {
    Call::new(
        ident::MODULE,
        FREEZE,
        &FreezeArgs {
            account,
            reason: "lost ID card".into(),
        },
    )
}

fn role_call(method: &str, account: Address, role: &str) -> Call {
    Call::new(
        ident::MODULE,
        method,
        &RoleArgs {
            account,
            role: role.into(),
        },
    )
}

fn add_key(account: Address, new: &KeyPair) -> Call {
    let possession = new.sign(&key_possession_message("test", &account, &new.public_key()));
    Call::new(
        ident::MODULE,
        ADD_KEY,
        &AddKeyArgs {
            new_key: new.public_key(),
            possession,
        },
    )
}

fn propose(action: ProposalAction, expires_at_ms: u64) -> Call {
    Call::new(
        gov::MODULE,
        gov::PROPOSE,
        &ProposeArgs {
            action,
            expires_at_ms,
        },
    )
}

fn approve(id: u64) -> Call {
    Call::new(gov::MODULE, gov::APPROVE, &ProposalIdArgs { id })
}

#[test]
fn genesis_writes_orgs_accounts_roles_and_key_index() {
    let city = City::new(Suite::Ed25519);
    let op = city.account(&city.addr(OP));
    assert_eq!(op.org, "committee");
    assert_eq!(op.roles, vec!["chain_admin", "org_admin"]);
    assert_eq!(op.status, AccountStatus::Active);
    assert!(city.org("housing").expect("housing").founding);
    assert!(!city.org("bank-x").expect("bank").founding);
    let owner = policy::key_owner(&city.state, &city.key(CITIZEN).public_key()).expect("read");
    assert_eq!(owner, Some(city.addr(CITIZEN)));
    let params: ChainParams = decode(&city.state[PARAMS_KEY]).expect("params");
    assert_eq!(params, ChainParams::default());
}

#[test]
fn notary_needs_a_role() {
    let mut city = City::new(Suite::Ed25519);
    let r = city.fails(
        city.tx_by(NOROLE, anchor_call(1)),
        ErrorCode::PermissionDenied,
        &[],
    );
    assert!(r.message.contains("1 of any role @ any"), "{}", r.message);
    city.ok(city.tx_by(CITIZEN, anchor_call(1)));
}

#[test]
fn register_account_needs_org_admin_of_that_org() {
    let mut city = City::new(Suite::Sm2);
    let new = city.key(50);
    // Without the role.
    let r = city.fails(
        city.tx_by(CITIZEN, register("housing", &new, &["citizen"])),
        ErrorCode::PermissionDenied,
        &[],
    );
    assert!(r.message.contains("org_admin @ own") && r.message.contains("own = housing"));
    // From the wrong organization: forestry's admin registering into housing.
    city.fails(
        city.tx_by(FORESTRY, register("housing", &new, &["citizen"])),
        ErrorCode::PermissionDenied,
        &[],
    );
    // A chain_admin is not an org_admin of housing either.
    city.fails(
        city.tx_by(OP, register("housing", &new, &["citizen"])),
        ErrorCode::PermissionDenied,
        &[],
    );
    // Granting chain_admin needs a chain_admin or governance.
    city.fails(
        city.tx_by(HOUSING, register("housing", &new, &["chain_admin"])),
        ErrorCode::PermissionDenied,
        &[],
    );
    let r = city.ok(city.tx_by(HOUSING, register("housing", &new, &["citizen"])));
    assert_eq!(r.events[0].kind, "account_registered");
    let a = city.account(&address_of(&new.public_key()));
    assert_eq!((a.org.as_str(), a.next_nonce), ("housing", 0));
    assert_eq!(a.roles, vec!["citizen"]);
    let pd: PersonalData =
        decode(&city.state[&personal_key(&address_of(&new.public_key()))]).expect("pd");
    assert_eq!(pd.id_digest, Hash([7; 32]));
    // The same key cannot register twice.
    city.fails(
        city.tx_by(HOUSING, register("housing", &new, &[])),
        ErrorCode::AlreadyExists,
        &[],
    );
    // The new account can act at once.
    city.ok(city.tx_by(50, anchor_call(3)));
}

#[test]
fn frozen_accounts_can_do_nothing() {
    let mut city = City::new(Suite::Ed25519);
    let citizen = city.addr(CITIZEN);
    // Another organization's admin may not freeze.
    city.fails(
        city.tx_by(FORESTRY, freeze(citizen)),
        ErrorCode::PermissionDenied,
        &[],
    );
    let r = city.ok(city.tx_by(HOUSING, freeze(citizen)));
    assert_eq!(r.events[0].kind, "account_frozen");
    city.refused(
        &city.tx_by(CITIZEN, anchor_call(1)),
        ErrorCode::AccountFrozen,
    );
    // Not even unfreeze itself.
    let unfreeze = Call::new(ident::MODULE, UNFREEZE, &UnfreezeArgs { account: citizen });
    city.refused(
        &city.tx_by(CITIZEN, unfreeze.clone()),
        ErrorCode::AccountFrozen,
    );
    // A frozen co-signer makes the transaction invalid too.
    let tx = city.tx(
        city.addr(HOUSING),
        &[&city.key(HOUSING), &city.key(CITIZEN)],
        anchor_call(2),
    );
    city.refused(&tx, ErrorCode::AccountFrozen);
    // A chain_admin of any organization may unfreeze.
    city.ok(city.tx_by(OP, unfreeze));
    city.ok(city.tx_by(CITIZEN, anchor_call(1)));
}

#[test]
fn revoked_key_is_refused() {
    let mut city = City::new(Suite::Ed25519);
    let citizen = city.addr(CITIZEN);
    let old = city.key(CITIZEN);
    let new = city.key(60);
    city.ok(city.tx(citizen, &[&old], add_key(citizen, &new)));
    // The organization's admin revokes the lost key.
    let revoke = Call::new(
        ident::MODULE,
        REVOKE_KEY,
        &RevokeKeyArgs {
            account: citizen,
            key: old.public_key(),
        },
    );
    city.fails(
        city.tx_by(FORESTRY, revoke.clone()),
        ErrorCode::PermissionDenied,
        &[],
    );
    let r = city.ok(city.tx_by(HOUSING, revoke));
    assert_eq!(r.events[0].kind, "key_revoked");
    city.refused(
        &city.tx(citizen, &[&old], anchor_call(1)),
        ErrorCode::KeyRevoked,
    );
    // The key can never register another account.
    city.fails(
        city.tx_by(HOUSING, register("housing", &old, &[])),
        ErrorCode::AlreadyExists,
        &[],
    );
    city.ok(city.tx(citizen, &[&new], anchor_call(1)));
}

#[test]
fn key_rotation_keeps_address_history_and_roles() {
    for suite in [Suite::Ed25519, Suite::Sm2] {
        let mut city = City::new(suite);
        let citizen = city.addr(CITIZEN);
        let old = city.key(CITIZEN);
        let new = city.key(61);
        city.ok(city.tx(citizen, &[&old], anchor_call(1)));
        // A possession proof for another account does not verify.
        let forged = add_key(city.addr(HOUSING), &new);
        city.fails(
            city.tx(citizen, &[&old], forged),
            ErrorCode::BadSignature,
            &[],
        );
        // Retiring the only key is refused.
        let retire = |k: &KeyPair| {
            Call::new(
                ident::MODULE,
                RETIRE_KEY,
                &RetireKeyArgs {
                    key: k.public_key(),
                },
            )
        };
        city.fails(
            city.tx(citizen, &[&old], retire(&old)),
            ErrorCode::InvalidArgument,
            &[],
        );
        let r = city.ok(city.tx(citizen, &[&old], add_key(citizen, &new)));
        assert_eq!(r.events[0].kind, "key_added");
        let r = city.ok(city.tx(citizen, &[&new], retire(&old)));
        assert_eq!(r.events[0].kind, "key_retired");
        let a = city.account(&citizen);
        assert_eq!(a.keys, vec![new.public_key()]);
        assert_eq!(a.revoked_keys, vec![old.public_key()]);
        assert_eq!(a.roles, vec!["citizen"]);
        assert_eq!(a.next_nonce, 5);
        // The rotated-out key is refused; the new one acts for the same address.
        city.refused(
            &city.tx(citizen, &[&old], anchor_call(2)),
            ErrorCode::KeyRevoked,
        );
        city.ok(city.tx(citizen, &[&new], anchor_call(2)));
        // History is still there, under the same address.
        let rec: NotaryRecord = decode(&city.state[&record_key(&Hash([1; 32]))]).expect("rec");
        assert_eq!(rec.submitter, citizen);
        let rec: NotaryRecord = decode(&city.state[&record_key(&Hash([2; 32]))]).expect("rec");
        assert_eq!(rec.submitter, citizen);
        assert_eq!(rec.signers, vec![new.public_key()]);
        // The key index follows the key.
        assert_eq!(
            policy::key_owner(&city.state, &new.public_key()).expect("read"),
            Some(citizen)
        );
    }
}

#[test]
fn roles_are_granted_within_the_org_and_chain_admin_only_by_chain_admin() {
    let mut city = City::new(Suite::Ed25519);
    let norole = city.addr(NOROLE);
    city.fails(
        city.tx_by(BANK, role_call(GRANT_ROLE, norole, "citizen")),
        ErrorCode::PermissionDenied,
        &[],
    );
    city.fails(
        city.tx_by(HOUSING, role_call(GRANT_ROLE, norole, "chain_admin")),
        ErrorCode::PermissionDenied,
        &[],
    );
    // Only built-in roles and roles a module declares exist: a typo is refused.
    let r = city.fails(
        city.tx_by(HOUSING, role_call(GRANT_ROLE, norole, "notary_oficer")),
        ErrorCode::InvalidArgument,
        &[],
    );
    assert!(r.message.contains("notary_officer"), "{}", r.message);
    city.ok(city.tx_by(HOUSING, role_call(GRANT_ROLE, norole, "notary_officer")));
    let r = city.ok(city.tx_by(HOUSING, role_call(GRANT_ROLE, norole, "citizen")));
    assert_eq!(r.events[0].kind, "role_granted");
    city.ok(city.tx_by(NOROLE, anchor_call(5)));
    city.ok(city.tx_by(HOUSING, role_call(REVOKE_ROLE, norole, "citizen")));
    city.ok(city.tx_by(HOUSING, role_call(REVOKE_ROLE, norole, "notary_officer")));
    city.fails(
        city.tx_by(NOROLE, anchor_call(6)),
        ErrorCode::PermissionDenied,
        &[],
    );
}

#[test]
fn policy_thresholds_count_co_signers() {
    let mut city = City::new(Suite::Ed25519);
    let policy: Policy = "2 of any role @ any, distinct orgs"
        .parse()
        .expect("policy");
    city.state
        .insert(policy_key("notary", "anchor"), encode(&policy));
    // Too few approvals: one signer.
    let r = city.fails(
        city.tx_by(CITIZEN, anchor_call(1)),
        ErrorCode::PermissionDenied,
        &[],
    );
    assert!(r.message.contains("has 1 of 2"), "{}", r.message);
    // Two signers of the same organization do not make two organizations.
    let tx = city.tx(
        city.addr(CITIZEN),
        &[&city.key(CITIZEN), &city.key(HOUSING)],
        anchor_call(1),
    );
    city.fails(tx, ErrorCode::PermissionDenied, &[]);
    // The same account signing twice counts once.
    let tx = city.tx(
        city.addr(CITIZEN),
        &[&city.key(CITIZEN), &city.key(CITIZEN)],
        anchor_call(1),
    );
    city.fails(tx, ErrorCode::PermissionDenied, &[]);
    let tx = city.tx(
        city.addr(CITIZEN),
        &[&city.key(CITIZEN), &city.key(BANK)],
        anchor_call(1),
    );
    city.ok(tx);
    // A transaction the sender did not sign is refused.
    let tx = city.tx(city.addr(CITIZEN), &[&city.key(BANK)], anchor_call(2));
    city.refused(&tx, ErrorCode::BadSignature);
}

fn add_org_action(city: &City) -> ProposalAction {
    ProposalAction::AddOrg {
        id: "water".into(),
        name: "Water bureau".into(),
        founding: false,
        admins: vec![NewAccount {
            name: "water admin".into(),
            public_key: city.key(70).public_key(),
            roles: vec!["org_admin".into()],
        }],
    }
}

#[test]
fn proposal_executes_once_with_enough_distinct_founding_approvals() {
    let mut city = City::new(Suite::Ed25519);
    // Non-founding organizations and non-admins cannot propose.
    city.fails(
        city.tx_by(BANK, propose(add_org_action(&city), 60_000)),
        ErrorCode::PermissionDenied,
        &[],
    );
    city.fails(
        city.tx_by(CITIZEN, propose(add_org_action(&city), 60_000)),
        ErrorCode::PermissionDenied,
        &[],
    );
    let r = city.ok(city.tx_by(HOUSING, propose(add_org_action(&city), 60_000)));
    assert_eq!(r.events[0].kind, "proposal_created");
    let p = city.proposal(1);
    assert_eq!(p.status, ProposalStatus::Open);
    assert_eq!(p.approvals, vec![city.addr(HOUSING)]);
    assert!(city.org("water").is_none(), "one approval is too few");
    // Approving twice.
    city.fails(
        city.tx_by(HOUSING, approve(1)),
        ErrorCode::AlreadyApproved,
        &[],
    );
    // An approval that could never count is refused, not recorded.
    city.fails(
        city.tx_by(BANK, approve(1)),
        ErrorCode::PermissionDenied,
        &[],
    );
    city.fails(
        city.tx_by(NOROLE, approve(1)),
        ErrorCode::PermissionDenied,
        &[],
    );
    city.fails(city.tx_by(OP, approve(99)), ErrorCode::NotFound, &[]);
    assert_eq!(city.proposal(1).approvals.len(), 1);
    // The second founding organization's admin: executes.
    let r = city.ok(city.tx_by(FORESTRY, approve(1)));
    let kinds: Vec<&str> = r.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "proposal_approved",
            "org_added",
            "account_registered",
            "proposal_executed"
        ]
    );
    let p = city.proposal(1);
    assert_eq!(p.status, ProposalStatus::Executed);
    assert_eq!(p.executed_height, Some(city.height));
    assert_eq!(p.tx_hashes.len(), 2);
    assert_eq!(city.org("water").expect("org").status, OrgStatus::Active);
    let admin = city.account(&city.addr(70));
    assert_eq!(
        (admin.org.as_str(), admin.roles.clone()),
        ("water", vec!["org_admin".to_string()])
    );
    // Cannot execute twice.
    city.fails(city.tx_by(OP, approve(1)), ErrorCode::ProposalClosed, &[]);
    // The new admin administers its organization.
    city.ok(city.tx_by(70, register("water", &city.key(71), &["company"])));
}

#[test]
fn proposal_cannot_be_approved_after_it_expires() {
    let mut city = City::new(Suite::Ed25519);
    let expires = city.time_ms + 1_500;
    city.ok(city.tx_by(HOUSING, propose(add_org_action(&city), expires)));
    city.time_ms = expires + 1;
    city.fails(
        city.tx_by(FORESTRY, approve(1)),
        ErrorCode::ProposalExpired,
        &[proposal_key(1)],
    );
    assert_eq!(city.proposal(1).status, ProposalStatus::Expired);
    assert!(city.org("water").is_none());
    city.fails(city.tx_by(OP, approve(1)), ErrorCode::ProposalExpired, &[]);
    // Expiry in the past at creation is refused.
    city.fails(
        city.tx_by(HOUSING, propose(add_org_action(&city), city.time_ms)),
        ErrorCode::InvalidArgument,
        &[],
    );
}

#[test]
fn cancelled_proposal_is_closed() {
    let mut city = City::new(Suite::Ed25519);
    city.ok(city.tx_by(HOUSING, propose(add_org_action(&city), 60_000)));
    let cancel = Call::new(gov::MODULE, gov::CANCEL, &ProposalIdArgs { id: 1 });
    city.fails(
        city.tx_by(FORESTRY, cancel.clone()),
        ErrorCode::PermissionDenied,
        &[],
    );
    city.ok(city.tx_by(HOUSING, cancel));
    city.fails(
        city.tx_by(FORESTRY, approve(1)),
        ErrorCode::ProposalClosed,
        &[],
    );
}

#[test]
fn governance_changes_validators_policies_params_and_runs_calls() {
    use xa_types::modules::validators::{NEXT_KEY, ValidatorSet};
    let mut city = City::new(Suite::Ed25519);
    let mut id = 0;
    fn pass(city: &mut City, id: &mut u64, action: ProposalAction) {
        *id += 1;
        city.ok(city.tx_by(HOUSING, propose(action, 60_000)));
        city.ok(city.tx_by(FORESTRY, approve(*id)));
        assert_eq!(city.proposal(*id).status, ProposalStatus::Executed);
    }
    let new_validator = validators(3).pop().expect("v");
    pass(
        &mut city,
        &mut id,
        ProposalAction::AddValidator {
            validator: new_validator.clone(),
        },
    );
    let next: ValidatorSet = decode(&city.state[NEXT_KEY]).expect("next");
    assert_eq!(next.validators.len(), 3);
    // A duplicate fails the executing approval; nothing is recorded.
    city.ok(city.tx_by(
        HOUSING,
        propose(
            ProposalAction::AddValidator {
                validator: new_validator,
            },
            60_000,
        ),
    ));
    id += 1;
    city.fails(
        city.tx_by(FORESTRY, approve(id)),
        ErrorCode::AlreadyExists,
        &[],
    );
    assert_eq!(city.proposal(id).status, ProposalStatus::Open);
    pass(
        &mut city,
        &mut id,
        ProposalAction::RemoveValidator {
            consensus_key: validators(1)[0].consensus_key.clone(),
        },
    );
    let next: ValidatorSet = decode(&city.state[NEXT_KEY]).expect("next");
    assert_eq!(next.validators.len(), 2);
    city.ok(city.tx_by(
        HOUSING,
        propose(
            ProposalAction::RemoveValidator {
                consensus_key: vec![9; 32],
            },
            60_000,
        ),
    ));
    id += 1;
    city.fails(city.tx_by(FORESTRY, approve(id)), ErrorCode::NotFound, &[]);

    // Policy: notary needs a notary officer now.
    let officer: Policy = "1 of notary_officer @ any".parse().expect("policy");
    pass(
        &mut city,
        &mut id,
        ProposalAction::SetPolicy {
            module: "notary".into(),
            method: "anchor".into(),
            policy: officer.clone(),
        },
    );
    assert_eq!(
        city.ex
            .policy_of(&city.state, "notary", "anchor")
            .expect("p"),
        officer
    );
    city.fails(
        city.tx_by(CITIZEN, anchor_call(1)),
        ErrorCode::PermissionDenied,
        &[],
    );

    pass(
        &mut city,
        &mut id,
        ProposalAction::SetParam {
            name: "max_block_txs".into(),
            value: 500,
        },
    );
    let params: ChainParams = decode(&city.state[PARAMS_KEY]).expect("params");
    assert_eq!(params.max_block_txs, 500);

    // A wrapped call runs with the approvers as authorizers: granting chain_admin by governance.
    let grant = role_call(GRANT_ROLE, city.addr(HOUSING), "chain_admin");
    city.fails(
        city.tx_by(HOUSING, grant.clone()),
        ErrorCode::PermissionDenied,
        &[],
    );
    id += 1;
    city.ok(city.tx_by(HOUSING, propose(ProposalAction::Call(grant), 60_000)));
    assert_eq!(
        city.proposal(id).status,
        ProposalStatus::Executed,
        "1 of org_admin @ own"
    );
    assert!(city.account(&city.addr(HOUSING)).has_role("chain_admin"));
    // Private calls cannot go through proposals.
    city.fails(
        city.tx_by(
            HOUSING,
            propose(
                ProposalAction::Call(register("housing", &city.key(80), &[])),
                60_000,
            ),
        ),
        ErrorCode::InvalidArgument,
        &[],
    );
}

#[test]
fn single_founding_org_governs_alone() {
    let op = key(Suite::Ed25519, 1);
    let g = genesis(Suite::Ed25519, &op);
    let ex = Executor::new(&g);
    let s = state(&g);
    let body = TxBody {
        chain_id: "test".into(),
        sender: address_of(&op.public_key()),
        nonce: 0,
        expiry_height: 10,
        call: propose(
            ProposalAction::SetParam {
                name: "max_block_txs".into(),
                value: 7,
            },
            5_000,
        ),
    };
    let out = ex
        .execute_block(&s, AT, &[body.clone().sign(&op)], Mode::Verify)
        .expect("exec");
    assert_eq!(
        out.receipts[0].status,
        TxStatus::Success,
        "{}",
        out.receipts[0].message
    );
    let p: Proposal = decode(out.writes[&proposal_key(1)].as_ref().expect("p")).expect("p");
    assert_eq!(p.status, ProposalStatus::Executed);
}

#[test]
fn personal_data_is_readable_only_by_owner_org_admins_chain_admin_and_auditor() {
    let mut city = City::new(Suite::Ed25519);
    let new = city.key(90);
    city.ok(city.tx_by(HOUSING, register("housing", &new, &["citizen"])));
    let subject = address_of(&new.public_key());
    let pk = personal_key(&subject);
    let can = |who: Option<Address>| {
        city.ex
            .can_read(&city.state, who.as_ref(), &pk)
            .expect("read")
    };
    assert!(can(Some(subject)));
    assert!(can(Some(city.addr(HOUSING))));
    assert!(can(Some(city.addr(OP))));
    assert!(!can(Some(city.addr(FORESTRY))));
    assert!(!can(Some(city.addr(CITIZEN))));
    assert!(!can(None));
    // Everything else is public.
    assert!(
        city.ex
            .can_read(&city.state, None, &account_key(&subject))
            .expect("read")
    );
    let call = register("housing", &new, &["citizen"]);
    let see = |who: Option<Address>| {
        city.ex
            .can_see_call(&city.state, who.as_ref(), &call)
            .expect("see")
    };
    assert!(see(Some(city.addr(HOUSING))));
    assert!(!see(Some(city.addr(FORESTRY))));
    assert!(!see(None));
    assert!(
        city.ex
            .can_see_call(&city.state, None, &anchor_call(1))
            .expect("see")
    );
    city.ok(city.tx_by(
        HOUSING,
        role_call(GRANT_ROLE, city.addr(CITIZEN), "auditor"),
    ));
    assert!(
        city.ex
            .can_read(&city.state, Some(&city.addr(CITIZEN)), &pk)
            .expect("read")
    );
}

#[test]
fn a_validator_key_consensus_cannot_use_is_refused_before_the_pool() {
    let city = City::new(Suite::Ed25519);
    // The first repeated-byte pattern that is not an Ed25519 point.
    let bad = (0..=255u8)
        .map(|b| vec![b; 32])
        .find(|k| PublicKey::from_bytes(Suite::Ed25519, k).is_err())
        .expect("some 32-byte strings are not curve points");
    let mut validator = validators(1).pop().expect("v");
    validator.consensus_key = bad;
    let tx = city.tx_by(
        HOUSING,
        propose(ProposalAction::AddValidator { validator }, 60_000),
    );
    let err = city.ex.check_stateless(&tx).expect_err("refused");
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("consensus_key"), "{}", err.message);
}
