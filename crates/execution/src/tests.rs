use super::*;
use xa_types::{
    Call, ChainParams, GenesisAccount, KeyPair, TxBody,
    modules::notary::{AnchorArgs, NotaryRecord, record_key},
};

fn genesis(suite: Suite, key: &KeyPair) -> Genesis {
    Genesis {
        chain_id: "test".into(),
        suite,
        genesis_time_ms: 0,
        validators: vec![],
        accounts: vec![GenesisAccount {
            name: "operator".into(),
            public_key: key.public_key(),
        }],
        params: ChainParams::default(),
    }
}

fn anchor(key: &KeyPair, nonce: u64, digest: u8) -> Transaction {
    TxBody {
        chain_id: "test".into(),
        sender: address_of(&key.public_key()),
        nonce,
        expiry_height: 10,
        call: Call::new(
            "notary",
            "anchor",
            &AnchorArgs {
                digest: Hash([digest; 32]),
                title: "doc".into(),
                file_size: 1,
                kind: "contract".into(),
            },
        ),
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
    ];
    for (tx, code) in cases {
        match ex.execute_block(&s, AT, std::slice::from_ref(&tx), Mode::Verify) {
            Err(ExecutionError::Invalid { index: 0, error }) => assert_eq!(error.code, code),
            other => panic!("expected {code:?}, got {other:?}"),
        }
        let out = ex
            .execute_block(&s, AT, std::slice::from_ref(&tx), Mode::Build)
            .expect("build");
        assert!(out.receipts.is_empty() && out.writes.is_empty());
        assert_eq!(out.excluded[0].1.code, code);
    }
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
fn new_account_is_created_on_first_transaction() {
    let key = KeyPair::from_seed(Suite::Sm2, &[5; 32]).expect("key");
    let founder = KeyPair::from_seed(Suite::Sm2, &[6; 32]).expect("key");
    let g = genesis(Suite::Sm2, &founder);
    let ex = Executor::new(&g);
    let out = ex
        .execute_block(&state(&g), AT, &[anchor(&key, 0, 1)], Mode::Verify)
        .expect("executes");
    assert_eq!(out.receipts[0].status, TxStatus::Success);
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
    genesis.validators = (0..4u8)
        .map(|i| xa_types::GenesisValidator {
            name: format!("v{i}"),
            consensus_key: vec![i; 32],
            p2p_address: format!("127.0.0.1:{}", 9000 + i as u16),
        })
        .collect();
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
}
