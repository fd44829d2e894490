use super::*;
use xa_types::modules::accounts::Account;
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, KeyPair, TxBody, address_of,
    modules::notary::AnchorArgs,
};

fn setup() -> (Executor, KeyPair) {
    let key = KeyPair::from_seed(Suite::Ed25519, &[3; 32]).expect("key");
    let g = Genesis {
        chain_id: "t".into(),
        suite: Suite::Ed25519,
        genesis_time_ms: 0,
        validators: vec![],
        accounts: vec![GenesisAccount {
            name: "op".into(),
            public_key: key.public_key(),
        }],
        params: ChainParams::default(),
    };
    (Executor::new(&g), key)
}

fn tx(key: &KeyPair, nonce: u64) -> Transaction {
    TxBody {
        chain_id: "t".into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 100,
        call: Call::new(
            "notary",
            "anchor",
            &AnchorArgs {
                digest: Hash([nonce as u8; 32]),
                title: "x".into(),
                file_size: 1,
                kind: "k".into(),
            },
        ),
    }
    .sign(key)
}

fn codes(r: &[Result<Hash, TxError>]) -> Vec<Option<ErrorCode>> {
    r.iter().map(|r| r.as_ref().err().map(|e| e.code)).collect()
}

#[test]
fn admits_valid_and_rejects_duplicates_bad_signatures_and_stale_nonces() {
    let (ex, key) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    let mut forged = tx(&key, 2);
    forged.signatures[0].signature.0[0] ^= 1;
    let r = pool.submit(
        &ex,
        vec![tx(&key, 0), tx(&key, 0), forged, tx(&key, 1)],
        0,
        |_| Account::default(),
    );
    assert_eq!(
        codes(&r),
        vec![
            None,
            Some(ErrorCode::DuplicateTransaction),
            Some(ErrorCode::BadSignature),
            None
        ]
    );
    assert_eq!(pool.len(), 2);
    // A sender whose committed nonce is 5 cannot queue nonce 3.
    let r = pool.submit(&ex, vec![tx(&key, 3)], 0, |_| Account {
        next_nonce: 5,
        keys: vec![],
        name: String::new(),
    });
    assert_eq!(codes(&r), vec![Some(ErrorCode::StaleNonce)]);
}

#[test]
fn nonce_window_and_capacity_give_back_pressure() {
    let (ex, key) = setup();
    let pool = Mempool::new(
        Config {
            max_txs: 2,
            max_bytes: usize::MAX,
            max_nonce_ahead: 10,
        },
        Suite::Ed25519,
    );
    let r = pool.submit(&ex, vec![tx(&key, 11)], 0, |_| Account::default());
    assert_eq!(codes(&r), vec![Some(ErrorCode::NonceTooHigh)]);
    let r = pool.submit(&ex, vec![tx(&key, 0), tx(&key, 1), tx(&key, 2)], 0, |_| {
        Account::default()
    });
    assert_eq!(codes(&r), vec![None, None, Some(ErrorCode::MempoolFull)]);
}

#[test]
fn select_orders_nonces_and_skips_excluded() {
    let (ex, key) = setup();
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // Arrives out of order: 1 before 0.
    pool.submit(
        &ex,
        vec![tx(&key, 1), tx(&other, 0), tx(&key, 0)],
        0,
        |_| Account::default(),
    );
    let picked: Vec<(Address, u64)> = pool
        .select(10, &HashSet::new())
        .iter()
        .map(|(_, t)| (t.body.sender, t.body.nonce))
        .collect();
    let a = address_of(&key.public_key());
    let b = address_of(&other.public_key());
    assert_eq!(picked, vec![(a, 0), (a, 1), (b, 0)]);
    let skip: HashSet<Hash> = [tx(&key, 0).hash(Suite::Ed25519)].into_iter().collect();
    assert_eq!(pool.select(10, &skip).len(), 2);
    assert_eq!(pool.select(1, &HashSet::new()).len(), 1);
}

#[test]
fn prune_and_remove_free_space() {
    let (ex, key) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    pool.submit(&ex, vec![tx(&key, 0), tx(&key, 1), tx(&key, 2)], 0, |_| {
        Account::default()
    });
    let sender = address_of(&key.public_key());
    pool.prune_sender(&sender, 2);
    assert_eq!(pool.len(), 1);
    assert!(pool.is_verified(&tx(&key, 2)));
    pool.remove(&[(sender, 2)]);
    assert!(pool.is_empty());
}

#[test]
fn wrong_chain_and_unknown_module_are_refused() {
    let (ex, key) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    let mut b = tx(&key, 0).body;
    b.chain_id = "other".into();
    let mut c = tx(&key, 0).body;
    c.call.module = "nope".into();
    let r = pool.submit(&ex, vec![b.sign(&key), c.sign(&key)], 0, |_| {
        Account::default()
    });
    assert_eq!(
        codes(&r),
        vec![
            Some(ErrorCode::WrongChainId),
            Some(ErrorCode::UnknownModule)
        ]
    );
}

#[test]
fn only_the_senders_keys_may_queue_its_nonces() {
    let (ex, key) = setup();
    let squatter = KeyPair::from_seed(Suite::Ed25519, &[9; 32]).expect("key");
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // A valid signature by a key that is not the sender's: refused, nonce stays free.
    let forged = tx(&key, 0).body.sign(&squatter);
    let r = pool.submit(&ex, vec![forged], 0, |_| Account::default());
    assert_eq!(codes(&r), vec![Some(ErrorCode::BadSignature)]);
    // An existing account: only its registered keys.
    let registered = Account {
        next_nonce: 0,
        keys: vec![key.public_key()],
        name: String::new(),
    };
    let forged = tx(&key, 0).body.sign(&squatter);
    let r = pool.submit(&ex, vec![forged, tx(&key, 0)], 0, |_| registered.clone());
    assert_eq!(codes(&r), vec![Some(ErrorCode::BadSignature), None]);
}

#[test]
fn expired_transactions_are_refused_on_arrival() {
    let (ex, key) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // tx() expires at height 100.
    let r = pool.submit(&ex, vec![tx(&key, 0)], 101, |_| Account::default());
    assert_eq!(codes(&r), vec![Some(ErrorCode::Expired)]);
    let r = pool.submit(&ex, vec![tx(&key, 0)], 100, |_| Account::default());
    assert_eq!(codes(&r), vec![None]);
}
