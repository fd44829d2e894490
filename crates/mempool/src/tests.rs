use super::*;
use std::collections::BTreeMap;
use xa_types::modules::accounts::{Account, AccountStatus, account_key};
use xa_types::{
    Call, ChainParams, Genesis, GenesisAccount, GenesisOrg, KeyPair, TxBody, address_of, decode,
    encode, modules::notary::AnchorArgs,
};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// An executor and committed state with two registered citizens (seeds 3 and 4).
fn setup() -> (Executor, KeyPair, State) {
    let key = KeyPair::from_seed(Suite::Ed25519, &[3; 32]).expect("key");
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let g = Genesis {
        chain_id: "t".into(),
        suite: Suite::Ed25519,
        genesis_time_ms: 0,
        validators: vec![],
        organizations: vec![GenesisOrg {
            id: "city".into(),
            name: "City".into(),
            founding: true,
        }],
        accounts: [("op", &key), ("other", &other)]
            .into_iter()
            .map(|(name, k)| GenesisAccount {
                name: name.into(),
                public_key: k.public_key(),
                org: "city".into(),
                roles: vec!["citizen".into()],
            })
            .collect(),
        params: ChainParams::default(),
        tender_threshold_trusted_dealer_devnet_only: None,
        tender_min_publicity_ms_devnet_only: None,
        tender_dkg_trusted_setup_devnet_only: None,
        state_layout: Some(2),
    };
    let state = xa_execution::Executor::genesis_writes(&g)
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    (Executor::new(&g), key, state)
}

/// Change the committed account of `key` in `state`.
fn edit(state: &mut State, key: &KeyPair, f: impl FnOnce(&mut Account)) {
    let k = account_key(&address_of(&key.public_key()));
    let mut a: Account = decode(&state[&k]).expect("account");
    f(&mut a);
    state.insert(k, encode(&a));
}

fn tx(key: &KeyPair, nonce: u64) -> Transaction {
    tx_expiring(key, nonce, 100)
}

fn tx_expiring(key: &KeyPair, nonce: u64, expiry_height: u64) -> Transaction {
    TxBody {
        chain_id: "t".into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height,
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
    let (ex, key, st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    let mut forged = tx(&key, 2);
    forged.signatures[0].signature.0[0] ^= 1;
    let r = pool.submit(
        &ex,
        vec![tx(&key, 0), tx(&key, 0), forged, tx(&key, 1)],
        0,
        &st,
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
    let mut st = st;
    edit(&mut st, &key, |a| a.next_nonce = 5);
    let r = pool.submit(&ex, vec![tx(&key, 3)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::StaleNonce)]);
}

#[test]
fn nonce_window_and_capacity_give_back_pressure() {
    let (ex, key, st) = setup();
    let pool = Mempool::new(
        Config {
            max_txs: 2,
            max_bytes: usize::MAX,
            max_nonce_ahead: 10,
        },
        Suite::Ed25519,
    );
    let r = pool.submit(&ex, vec![tx(&key, 11)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::NonceTooHigh)]);
    let r = pool.submit(&ex, vec![tx(&key, 0), tx(&key, 1), tx(&key, 2)], 0, &st);
    assert_eq!(codes(&r), vec![None, None, Some(ErrorCode::MempoolFull)]);
}

#[test]
fn select_orders_nonces_and_skips_excluded() {
    let (ex, key, st) = setup();
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // Arrives out of order: 1 before 0.
    pool.submit(&ex, vec![tx(&key, 1), tx(&other, 0), tx(&key, 0)], 0, &st);
    let picked: Vec<(Address, u64)> = pool
        .select(10, &HashSet::new(), &mut |_| Some(0))
        .iter()
        .map(|(_, t)| (t.body.sender, t.body.nonce))
        .collect();
    let a = address_of(&key.public_key());
    let b = address_of(&other.public_key());
    assert_eq!(picked, vec![(a, 0), (a, 1), (b, 0)]);
    // Nonce 0 of `a` is in an ancestor: the parent state's next nonce for `a` is 1.
    let skip: HashSet<Hash> = [tx(&key, 0).hash(Suite::Ed25519)].into_iter().collect();
    let mut after_ancestor = |s: &Address| Some(if *s == a { 1 } else { 0 });
    assert_eq!(pool.select(10, &skip, &mut after_ancestor).len(), 2);
    // An excluded transaction where the sender's run would start stops that sender.
    assert_eq!(pool.select(10, &skip, &mut |_| Some(0)).len(), 1);
    assert_eq!(pool.select(1, &HashSet::new(), &mut |_| Some(0)).len(), 1);
}

#[test]
fn select_skips_transactions_behind_a_gap() {
    let (ex, key, st) = setup();
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // `key` queues nonces 5..=9 first (0..=4 never arrive), then `other` queues 0 and 1.
    let gapped: Vec<_> = (5..10).map(|n| tx(&key, n)).collect();
    let r = pool.submit(&ex, gapped, 0, &st);
    assert!(r.iter().all(Result::is_ok));
    let r = pool.submit(&ex, vec![tx(&other, 0), tx(&other, 1)], 0, &st);
    assert!(r.iter().all(Result::is_ok));
    let a = address_of(&key.public_key());
    let b = address_of(&other.public_key());
    let pick = |next: &mut dyn FnMut(&Address) -> Option<u64>, max| -> Vec<(Address, u64)> {
        pool.select(max, &HashSet::new(), next)
            .iter()
            .map(|(_, t)| (t.body.sender, t.body.nonce))
            .collect()
    };
    // The gapped sender takes no place, even in a proposal of two.
    assert_eq!(pick(&mut |_| Some(0), 2), vec![(b, 0), (b, 1)]);
    assert_eq!(pool.len(), 7, "gapped transactions stay pending");
    // A sender the state does not know contributes nothing.
    assert_eq!(pick(&mut |s| (*s == a).then_some(0), 10), vec![]);
    // Once the state reaches nonce 5 (0..=4 committed elsewhere), they go first, in order.
    assert_eq!(
        pick(&mut |s| Some(if *s == a { 5 } else { 0 }), 10),
        vec![(a, 5), (a, 6), (a, 7), (a, 8), (a, 9), (b, 0), (b, 1)]
    );
    // A hole in the middle stops the run there.
    pool.remove(&[(a, 7)]);
    assert_eq!(
        pick(&mut |s| Some(if *s == a { 5 } else { 0 }), 10),
        vec![(a, 5), (a, 6), (b, 0), (b, 1)]
    );
}

#[test]
fn prune_and_remove_free_space() {
    let (ex, key, st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    pool.submit(&ex, vec![tx(&key, 0), tx(&key, 1), tx(&key, 2)], 0, &st);
    let sender = address_of(&key.public_key());
    pool.prune_sender(&sender, 2);
    assert_eq!(pool.len(), 1);
    assert!(pool.is_verified(&tx(&key, 2)));
    pool.remove(&[(sender, 2)]);
    assert!(pool.is_empty());
}

#[test]
fn wrong_chain_and_unknown_module_are_refused() {
    let (ex, key, st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    let mut b = tx(&key, 0).body;
    b.chain_id = "other".into();
    let mut c = tx(&key, 0).body;
    c.call.module = "nope".into();
    let r = pool.submit(&ex, vec![b.sign(&key), c.sign(&key)], 0, &st);
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
    let (ex, key, st) = setup();
    let squatter = KeyPair::from_seed(Suite::Ed25519, &[9; 32]).expect("key");
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // A valid signature by a key that is not the sender's: refused, nonce stays free.
    let forged = tx(&key, 0).body.sign(&squatter);
    let r = pool.submit(&ex, vec![forged], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::BadSignature)]);
    // Another registered account's key is not the sender's either.
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let forged = tx(&key, 0).body.sign(&other);
    let r = pool.submit(&ex, vec![forged, tx(&key, 0)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::BadSignature), None]);
}

#[test]
fn unknown_frozen_and_revoked_senders_take_no_space() {
    let (ex, key, mut st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    let stranger = KeyPair::from_seed(Suite::Ed25519, &[9; 32]).expect("key");
    let r = pool.submit(&ex, vec![tx(&stranger, 0)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::UnknownAccount)]);
    edit(&mut st, &key, |a| a.status = AccountStatus::Frozen);
    let r = pool.submit(&ex, vec![tx(&key, 0)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::AccountFrozen)]);
    let new = KeyPair::from_seed(Suite::Ed25519, &[5; 32]).expect("key");
    edit(&mut st, &key, |a| {
        a.status = AccountStatus::Active;
        a.revoked_keys = std::mem::replace(&mut a.keys, vec![new.public_key()]);
    });
    let r = pool.submit(&ex, vec![tx(&key, 0)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::KeyRevoked)]);
    assert!(pool.is_empty());
}

#[test]
fn expired_transactions_are_refused_on_arrival() {
    let (ex, key, st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // tx() expires at height 100.
    let r = pool.submit(&ex, vec![tx(&key, 0)], 101, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::Expired)]);
    let r = pool.submit(&ex, vec![tx(&key, 0)], 100, &st);
    assert_eq!(codes(&r), vec![None]);
}

#[test]
fn expired_transactions_are_dropped_even_behind_a_gap() {
    let (ex, key, st) = setup();
    let pool = Mempool::new(Config::default(), Suite::Ed25519);
    // Nonce 0 is usable; 3 and 4 wait behind a gap. Expiries 20, 10 and 30.
    let r = pool.submit(
        &ex,
        vec![
            tx_expiring(&key, 0, 20),
            tx_expiring(&key, 3, 10),
            tx_expiring(&key, 4, 30),
        ],
        0,
        &st,
    );
    assert!(r.iter().all(Result::is_ok));
    // Height 10 may still include expiry 10.
    assert_eq!(pool.prune_expired(10), 0);
    assert_eq!(pool.prune_expired(11), 1);
    assert!(!pool.is_verified(&tx_expiring(&key, 3, 10)));
    assert_eq!(pool.prune_expired(25), 1);
    assert_eq!(pool.len(), 1);
    assert!(pool.is_verified(&tx_expiring(&key, 4, 30)));
    // Removing by other paths keeps the expiry index in step: nothing is dropped twice.
    let sender = address_of(&key.public_key());
    pool.remove(&[(sender, 4)]);
    assert_eq!(pool.prune_expired(100), 0);
    assert!(pool.is_empty());
}

/// A pool of `max_txs` with a nonce window of 100.
fn small_pool(max_txs: usize) -> Mempool {
    Mempool::new(
        Config {
            max_txs,
            max_bytes: usize::MAX,
            max_nonce_ahead: 100,
        },
        Suite::Ed25519,
    )
}

#[test]
fn a_ready_transaction_takes_the_place_of_the_newest_gapped_one() {
    let (ex, key, st) = setup();
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let (a, b) = (
        address_of(&key.public_key()),
        address_of(&other.public_key()),
    );
    let pool = small_pool(4);
    // `key` 0 is ready; 2, 3 wait behind the missing 1; `other` 5 waits behind 0..=4.
    let r = pool.submit(
        &ex,
        vec![tx(&key, 0), tx(&key, 2), tx(&key, 3), tx(&other, 5)],
        0,
        &st,
    );
    assert!(r.iter().all(Result::is_ok));
    assert_eq!((pool.len(), pool.gapped_len()), (4, 3));
    // Full: a gapped arrival cannot displace anything, and its refusal names the missing nonce.
    let r = pool.submit(&ex, vec![tx(&other, 7)], 0, &st);
    let err = r[0].as_ref().expect_err("full");
    assert_eq!(err.code, ErrorCode::MempoolFull);
    assert!(err.message.contains("missing nonce 0"), "{}", err.message);
    // `other` 0 is ready: it takes the newest gapped transaction's place (`other` 5).
    let r = pool.submit(&ex, vec![tx(&other, 0)], 0, &st);
    assert!(r[0].is_ok(), "{r:?}");
    assert_eq!((pool.len(), pool.gapped_len(), pool.evicted()), (4, 2, 1));
    assert!(!pool.is_verified(&tx(&other, 5)));
    // `key` 1 is ready too: the newest gapped (`key` 3) makes its place, and 2, which it no
    // longer waits behind, is ready with it.
    let r = pool.submit(&ex, vec![tx(&key, 1)], 0, &st);
    assert!(r[0].is_ok(), "{r:?}");
    assert_eq!((pool.len(), pool.gapped_len(), pool.evicted()), (4, 0, 2));
    let picked: Vec<(Address, u64)> = pool
        .select(10, &HashSet::new(), &mut |_| Some(0))
        .iter()
        .map(|(_, t)| (t.body.sender, t.body.nonce))
        .collect();
    assert_eq!(picked, vec![(a, 0), (a, 1), (a, 2), (b, 0)]);
    // Full of ready transactions: a ready arrival is refused, and nothing is dropped.
    let r = pool.submit(&ex, vec![tx(&other, 1)], 0, &st);
    assert_eq!(codes(&r), vec![Some(ErrorCode::MempoolFull)]);
    assert_eq!((pool.len(), pool.evicted()), (4, 2));
}

#[test]
fn commits_and_removals_move_transactions_between_ready_and_gapped() {
    let (ex, key, st) = setup();
    let a = address_of(&key.public_key());
    let pool = small_pool(100);
    let r = pool.submit(
        &ex,
        (0..3).chain(5..7).map(|n| tx(&key, n)).collect(),
        0,
        &st,
    );
    assert!(r.iter().all(Result::is_ok));
    assert_eq!(pool.gapped_len(), 2, "5 and 6 wait behind 3");
    // A block from another validator carried 0..=4 (3 and 4 never reached this pool): after
    // the commit, 5 and 6 are ready.
    pool.prune_sender(&a, 5);
    assert_eq!((pool.len(), pool.gapped_len()), (2, 0));
    // Dropping 5 (say, found invalid) leaves 6 behind a hole.
    pool.remove(&[(a, 5)]);
    assert_eq!((pool.len(), pool.gapped_len()), (1, 1));
    // A commit that does not reach the hole changes nothing; the hole's nonce makes 6 ready.
    pool.prune_sender(&a, 5);
    assert_eq!(pool.gapped_len(), 1);
    let mut st = st;
    edit(&mut st, &key, |acc| acc.next_nonce = 5);
    let r = pool.submit(&ex, vec![tx(&key, 5)], 0, &st);
    assert!(r[0].is_ok(), "{r:?}");
    assert_eq!((pool.len(), pool.gapped_len()), (2, 0));
    // Expiry of a ready transaction in the middle of a run gaps what follows it.
    let r = pool.submit(&ex, vec![tx_expiring(&key, 7, 3), tx(&key, 8)], 0, &st);
    assert!(r.iter().all(Result::is_ok));
    assert_eq!(pool.gapped_len(), 0);
    assert_eq!(pool.prune_expired(4), 1);
    assert_eq!((pool.len(), pool.gapped_len()), (3, 1));
}

#[test]
fn a_full_pool_of_gapped_transactions_does_not_stop_ready_ones() {
    // The wedge seen under sustained overload: every place taken by transactions behind
    // missing nonces. Each sender's missing nonce still gets in, and then its run is ready.
    let (ex, key, st) = setup();
    let other = KeyPair::from_seed(Suite::Ed25519, &[4; 32]).expect("key");
    let pool = small_pool(20);
    let gapped: Vec<_> = (1..11)
        .map(|n| tx(&key, n))
        .chain((1..11).map(|n| tx(&other, n)))
        .collect();
    assert!(pool.submit(&ex, gapped, 0, &st).iter().all(Result::is_ok));
    assert_eq!((pool.len(), pool.gapped_len()), (20, 20));
    assert!(
        pool.select(100, &HashSet::new(), &mut |_| Some(0))
            .is_empty()
    );
    let r = pool.submit(&ex, vec![tx(&key, 0), tx(&other, 0)], 0, &st);
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    assert_eq!(pool.len(), 20);
    // The newest gapped (`other` 10, then 9) made room; everything left is ready.
    assert_eq!(pool.gapped_len(), 0);
    assert_eq!(
        pool.select(100, &HashSet::new(), &mut |_| Some(0)).len(),
        20
    );
}
